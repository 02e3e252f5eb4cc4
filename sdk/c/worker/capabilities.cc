// The per-call capabilities of airlock_worker.h besides fs.open: secrets.get and net.connect,
// each the C++ worker SDK's request (sdk/worker/worker.h) inside guarded().

#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "sdk/c/boundary.h"
#include "sdk/c/worker/worker_handles.h"

using airlock::c_abi::guarded;
using airlock::c_abi::messageInto;

namespace {

// The checks every fd-answering request shares; sets the outputs to "nothing yet".
bool readyForFd(airlock_worker_call* call, const char* what, int* fdOut, char** messageOut) {
  if (messageOut != nullptr) *messageOut = nullptr;
  if (fdOut != nullptr) *fdOut = -1;
  if (call != nullptr && what != nullptr && fdOut != nullptr) return true;
  messageInto(messageOut)(0, "NULL call, name or fd_out");
  return false;
}

}  // namespace

extern "C" {

int airlock_worker_secret_get(airlock_worker_call* call, const char* name, char** value_out,
                              size_t* size_out, char** message_out) {
  if (message_out != nullptr) *message_out = nullptr;
  if (value_out != nullptr) *value_out = nullptr;
  if (size_out != nullptr) *size_out = 0;
  if (call == nullptr || name == nullptr || value_out == nullptr || size_out == nullptr) {
    messageInto(message_out)(0, "airlock_worker_secret_get: NULL call, name, value_out or size_out");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  return guarded(
      [&]() {
        auto secret = call->call.secrets().get(name);  // zeroes its own copy when it dies
        if (!secret.ok()) {
          messageInto(message_out)(0, secret.message());
          return secret.wasDenied() ? AIRLOCK_DENIED : AIRLOCK_WORKER_FAILED;
        }
        const std::string& value = secret.value();
        auto* copy = static_cast<char*>(malloc(value.size() + 1));
        if (copy == nullptr) throw std::bad_alloc();
        memcpy(copy, value.data(), value.size());
        copy[value.size()] = '\0';
        *value_out = copy;
        *size_out = value.size();
        return AIRLOCK_OK;
      },
      messageInto(message_out));
}

void airlock_secret_free(char* value, size_t size) {
  if (value == nullptr) return;
  explicit_bzero(value, size);  // not optimised away, unlike a memset before free
  free(value);
}

int airlock_worker_net_connect(airlock_worker_call* call, const char* host, uint16_t port,
                               int* fd_out, char** message_out) {
  if (!readyForFd(call, host, fd_out, message_out)) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        auto connected = call->call.net().connect(host, port);
        return airlock::c_abi::handOver(connected, fd_out, message_out);
      },
      messageInto(message_out));
}

int airlock_worker_net_connect_unix(airlock_worker_call* call, const char* path, int* fd_out,
                                    char** message_out) {
  if (!readyForFd(call, path, fd_out, message_out)) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        auto connected = call->call.net().connectUnix(path);
        return airlock::c_abi::handOver(connected, fd_out, message_out);
      },
      messageInto(message_out));
}

}  // extern "C"
