// The worker functions of airlock_worker.h: a C callback registered as a method of the C++
// worker SDK (sdk/worker/worker.h), and the per-call requests it may make, each inside
// guarded() so nothing thrown reaches the C caller.

#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "sdk/c/airlock_worker.h"
#include "sdk/c/boundary.h"
#include "sdk/c/worker/worker_handles.h"


namespace airlock::c_abi {
namespace {

Reply serveByCallback(Call& call, airlock_worker_method_fn method, void* context) {
  airlock_worker_call handle{call, std::nullopt};
  method(&handle, context);
  if (!handle.reply) return Reply::error("the method gave no answer");
  return std::move(*handle.reply);
}

LogLevel logLevelOf(int level) {
  switch (level) {
    case 0: return LogLevel::DEBUG;
    case 1: return LogLevel::INFO;
    case 2: return LogLevel::WARN;
    default: return LogLevel::ERROR;
  }
}

OpenFlags openFlagsOf(unsigned flags) {
  OpenFlags result;
  for (Open flag : {Open::READ, Open::WRITE, Open::CREATE, Open::TRUNCATE, Open::APPEND,
                    Open::EXCLUSIVE}) {
    if (flags & static_cast<unsigned>(flag)) result = result | flag;
  }
  return result;
}

constexpr unsigned ALL_OPEN_FLAGS = AIRLOCK_OPEN_READ | AIRLOCK_OPEN_WRITE | AIRLOCK_OPEN_CREATE |
                                    AIRLOCK_OPEN_TRUNCATE | AIRLOCK_OPEN_APPEND |
                                    AIRLOCK_OPEN_EXCLUSIVE;

}  // namespace
}  // namespace airlock::c_abi

using airlock::c_abi::guarded;

extern "C" {

airlock_worker* airlock_worker_new(int argc, char** argv) {
  airlock_worker* worker = nullptr;
  (void)guarded(
      [&]() {
        worker = new airlock_worker{airlock::Worker(argc, argv)};
        return AIRLOCK_OK;
      },
      [](int, std::string message) { fprintf(stderr, "airlock_worker_new: %s\n", message.c_str()); });
  return worker;
}

void airlock_worker_free(airlock_worker* worker) { delete worker; }

int airlock_worker_method(airlock_worker* worker, const char* name,
                          airlock_worker_method_fn method, void* context) {
  if (worker == nullptr || name == nullptr || method == nullptr) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        worker->worker.method(name, [method, context](airlock::Call& call) {
          return airlock::c_abi::serveByCallback(call, method, context);
        });
        return AIRLOCK_OK;
      },
      [](int, std::string) {});
}

int airlock_worker_serve(airlock_worker* worker) {
  if (worker == nullptr) return 1;
  int exitStatus = 1;
  (void)guarded(
      [&]() {
        exitStatus = worker->worker.serve();
        return AIRLOCK_OK;
      },
      [](int, std::string message) {
        fprintf(stderr, "airlock_worker_serve: %s\n", message.c_str());
      });
  return exitStatus;
}

int airlock_worker_pull(airlock_worker* worker, const char* name) {
  if (worker == nullptr || name == nullptr) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        worker->worker.pulled(name);
        return AIRLOCK_OK;
      },
      [](int, std::string) {});
}

int airlock_worker_next(airlock_worker* worker, airlock_worker_call** call_out) {
  if (call_out != nullptr) *call_out = nullptr;
  if (worker == nullptr || call_out == nullptr) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        auto pulled = worker->worker.next();
        if (pulled == nullptr) return AIRLOCK_OK;  // the channel closed: serving is over
        airlock::Call& call = pulled->call();
        *call_out = new airlock_worker_call{call, std::nullopt, std::move(pulled)};
        return AIRLOCK_OK;
      },
      [](int, std::string message) {
        fprintf(stderr, "airlock_worker_next: %s\n", message.c_str());
      });
}

void airlock_worker_call_done(airlock_worker_call* call) {
  if (call == nullptr || call->pulled == nullptr) return;
  (void)guarded(
      [&]() {
        if (call->reply) call->pulled->answer(std::move(*call->reply));
        delete call;  // unanswered, the pulled call fails as it dies
        return AIRLOCK_OK;
      },
      [](int, std::string message) {
        fprintf(stderr, "airlock_worker_call_done: %s\n", message.c_str());
      });
}

const char* airlock_worker_call_method(const airlock_worker_call* call) {
  return call == nullptr ? "" : call->call.method().c_str();
}

const void* airlock_worker_call_payload(const airlock_worker_call* call, size_t* size_out) {
  std::string_view payload = call == nullptr ? std::string_view() : call->call.payload();
  if (size_out != nullptr) *size_out = payload.size();
  return payload.empty() ? "" : payload.data();
}

int airlock_worker_call_reply(airlock_worker_call* call, const void* data, size_t size) {
  if (call == nullptr || (data == nullptr && size > 0)) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        call->reply = airlock::Reply::ok(
            size == 0 ? std::string() : std::string(static_cast<const char*>(data), size));
        return AIRLOCK_OK;
      },
      [](int, std::string) {});
}

int airlock_worker_call_fail(airlock_worker_call* call, const char* message) {
  if (call == nullptr) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        call->reply = airlock::Reply::error(message == nullptr ? "" : message);
        return AIRLOCK_OK;
      },
      [](int, std::string) {});
}

int airlock_worker_fs_open(airlock_worker_call* call, const char* path, size_t path_size,
                           unsigned flags, int* fd_out, char** message_out) {
  if (message_out != nullptr) *message_out = nullptr;
  auto fail = airlock::c_abi::messageInto(message_out);
  if (fd_out == nullptr || call == nullptr || (path == nullptr && path_size > 0) ||
      (flags & ~airlock::c_abi::ALL_OPEN_FLAGS) != 0) {
    if (fd_out != nullptr) *fd_out = -1;
    fail(0, "airlock_worker_fs_open: NULL call, path or fd_out, or an unknown flag");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  *fd_out = -1;
  return guarded(
      [&]() {
        auto opened = call->call.fs().open(std::string(path, path_size),
                                           airlock::c_abi::openFlagsOf(flags));
        return airlock::c_abi::handOver(opened, fd_out, message_out);
      },
      fail);
}

int airlock_worker_log(airlock_worker_call* call, int level, const char* message, size_t size) {
  if (call == nullptr || (message == nullptr && size > 0)) return AIRLOCK_INVALID_ARGUMENT;
  return guarded(
      [&]() {
        call->call.log(airlock::c_abi::logLevelOf(level),
                       std::string_view(size == 0 ? "" : message, size));
        return AIRLOCK_OK;
      },
      [](int, std::string) {});
}

}  // extern "C"
