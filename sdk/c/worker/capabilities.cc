// The per-call capabilities of airlock_worker.h besides fs.open: secrets.get, net.connect and
// invoke, each the C++ worker SDK's request (sdk/worker/worker.h) inside guarded().

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

// `bytes` as a new malloc'd buffer with a NUL after them (not counted), for the C caller.
char* bufferOf(const std::string& bytes) {
  auto* copy = static_cast<char*>(malloc(bytes.size() + 1));
  if (copy == nullptr) throw std::bad_alloc();
  memcpy(copy, bytes.data(), bytes.size());
  copy[bytes.size()] = '\0';
  return copy;
}

int statusOf(airlock::InvokeResult::Kind kind) {
  switch (kind) {
    case airlock::InvokeResult::Kind::OK: return AIRLOCK_OK;
    case airlock::InvokeResult::Kind::ERROR: return AIRLOCK_WORKER_FAILED;
    case airlock::InvokeResult::Kind::DENIED: return AIRLOCK_DENIED;
    case airlock::InvokeResult::Kind::FAILED: return AIRLOCK_NO_ANSWER;
  }
  return AIRLOCK_NO_ANSWER;  // a kind newer than this switch: still never OK
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
      [&]() -> int {
        auto secret = call->call.secrets().get(name);  // zeroes its own copy when it dies
        if (!secret.ok()) {
          messageInto(message_out)(0, secret.message());
          return secret.wasDenied() ? AIRLOCK_DENIED : AIRLOCK_WORKER_FAILED;
        }
        *value_out = bufferOf(secret.value());
        *size_out = secret.value().size();
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

int airlock_worker_invoke(airlock_worker_call* call, const char* unit, const char* method,
                          const void* payload, size_t payload_size, char** answer_out,
                          size_t* answer_size_out, char** message_out) {
  if (message_out != nullptr) *message_out = nullptr;
  if (answer_out != nullptr) *answer_out = nullptr;
  if (answer_size_out != nullptr) *answer_size_out = 0;
  if (call == nullptr || unit == nullptr || method == nullptr || answer_out == nullptr ||
      answer_size_out == nullptr || (payload == nullptr && payload_size > 0)) {
    messageInto(message_out)(0, "airlock_worker_invoke: a NULL argument");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  return guarded(
      [&]() -> int {
        auto result = call->call.units().invoke(
            unit, method,
            std::string_view(payload_size == 0 ? "" : static_cast<const char*>(payload),
                             payload_size));
        int status = statusOf(result.kind());
        if (status != AIRLOCK_OK) {
          messageInto(message_out)(0, result.message());
          return status;
        }
        *answer_out = bufferOf(result.payload());
        *answer_size_out = result.payload().size();
        return AIRLOCK_OK;
      },
      messageInto(message_out));
}

}  // extern "C"
