// The host functions of airlock.h: each checks its arguments, then does what the C++ host SDK
// (sdk/host/client.h) does, inside guarded() so nothing thrown reaches the C caller.

#include <capnp/any.h>
#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/debug.h>

#include <chrono>
#include <cstring>
#include <memory>
#include <vector>

#include "sdk/c/boundary.h"
#include "sdk/c/handles.h"
#include "sdk/c/status.h"

namespace airlock::c_abi {
namespace {

std::string bytes(const void* data, size_t size) {
  return size == 0 ? std::string() : std::string(static_cast<const char*>(data), size);
}

// Answers a call function: a new reply in *replyOut whatever happens (but out of memory), with
// `body` filling it in; a throw from `body` becomes a reply saying so.
template <typename Body>
int answer(airlock_reply** replyOut, Body&& body) {
  *replyOut = nullptr;
  return guarded(
      [&]() {
        auto reply = std::make_unique<airlock_reply>();
        body(*reply);
        int status = reply->status;
        *replyOut = reply.release();
        return status;
      },
      [&](int status, std::string message) {
        *replyOut = newFailure(status, std::move(message));
      });
}

// The checks every call function shares before anything is sent. Returns AIRLOCK_OK, or the
// refusal with *replyOut set to a reply saying why (when there is a replyOut to set).
int checkCall(airlock_client* client, const char* unit, airlock_reply** replyOut,
              bool bytesPresent) {
  if (replyOut == nullptr) return AIRLOCK_INVALID_ARGUMENT;
  *replyOut = nullptr;
  const char* problem = nullptr;
  int status = AIRLOCK_INVALID_ARGUMENT;
  if (client == nullptr) {
    problem = "no client (NULL)";
  } else if (unit == nullptr) {
    problem = "no unit name (NULL)";
  } else if (!bytesPresent) {
    problem = "a NULL buffer with a size above 0";
  } else if (client->owner != std::this_thread::get_id()) {
    problem = "this client was connected on another thread; a client is used only on its own";
    status = AIRLOCK_WRONG_THREAD;
  }
  if (problem == nullptr) return AIRLOCK_OK;
  *replyOut = newFailure(status, problem);
  return status;
}

void readResults(airlock_reply& reply, capnp::AnyPointer::Reader results) {
  capnp::MallocMessageBuilder message;
  message.getRoot<capnp::AnyPointer>().set(results);
  auto words = capnp::messageToFlatArray(message);
  auto flat = words.asBytes();
  reply.data.assign(reinterpret_cast<const char*>(flat.begin()), flat.size());
  reply.described = "ok";
}

}  // namespace
}  // namespace airlock::c_abi

using airlock::c_abi::answer;
using airlock::c_abi::checkCall;

extern "C" {

int airlock_connect(const char* socket_path, const char* client_key_file,
                    const char* broker_key_file, airlock_client** client_out, char** error_out) {
  if (error_out != nullptr) *error_out = nullptr;
  auto fail = [error_out](int, std::string message) {
    if (error_out != nullptr) *error_out = strdup(message.c_str());  // NULL if out of memory
  };
  if (client_out == nullptr || socket_path == nullptr || client_key_file == nullptr ||
      broker_key_file == nullptr) {
    fail(0, "airlock_connect: socket_path, client_key_file, broker_key_file and client_out "
            "must not be NULL");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  *client_out = nullptr;
  return airlock::c_abi::guarded(
      [&]() {
        auto client = airlock::Client::connect(socket_path, client_key_file, broker_key_file);
        *client_out = new airlock_client{std::move(client), std::this_thread::get_id()};
        return AIRLOCK_OK;
      },
      fail, AIRLOCK_CONNECT_FAILED);
}

void airlock_client_free(airlock_client* client) {
  if (client == nullptr) return;
  // On another thread the client's event loop is not this thread's: destroying it here would
  // break the thread that owns it, so it is leaked instead (the header says so).
  if (client->owner != std::this_thread::get_id()) return;
  try {
    delete client;
  } catch (...) {
    // ~Client may throw (kj's noexcept(false)); the connection is gone either way.
  }
}

int airlock_call(airlock_client* client, const char* unit, const char* method,
                 const void* payload, size_t payload_size, uint32_t timeout_ms,
                 airlock_reply** reply_out) {
  int checked = checkCall(client, unit, reply_out, payload != nullptr || payload_size == 0);
  if (checked != AIRLOCK_OK) return checked;
  if (method == nullptr) {
    *reply_out = airlock::c_abi::newFailure(AIRLOCK_INVALID_ARGUMENT, "no method name (NULL)");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  return answer(reply_out, [&](airlock_reply& reply) {
    auto outcome = client->client.unit(unit).call(method, airlock::c_abi::bytes(payload, payload_size),
                                                  std::chrono::milliseconds(timeout_ms));
    airlock::c_abi::fill(reply, outcome);
  });
}

int airlock_call_granted(airlock_client* client, const char* unit, const char* method,
                         const void* payload, size_t payload_size, const airlock_grant* grants,
                         size_t grant_count, uint32_t timeout_ms, airlock_reply** reply_out) {
  int checked = checkCall(client, unit, reply_out,
                          (payload != nullptr || payload_size == 0) &&
                              (grants != nullptr || grant_count == 0));
  if (checked != AIRLOCK_OK) return checked;
  std::string refused = method == nullptr ? "no method name (NULL)" : "";
  std::vector<airlock::Grant> handed;
  for (size_t i = 0; refused.empty() && i < grant_count; ++i) {
    const airlock_grant& grant = grants[i];
    if (grant.path == nullptr || grant.modes == 0 || (grant.modes & ~0x1fu) != 0) {
      refused = "grant #" + std::to_string(i) + ": a NULL path, or no or unknown modes";
      break;
    }
    airlock::Grant copied{grant.path, {}, grant.fd};
    for (unsigned bit = 1; bit <= AIRLOCK_GRANT_APPEND; bit <<= 1) {
      if (grant.modes & bit) copied.modes.push_back(static_cast<airlock::GrantMode>(bit));
    }
    handed.push_back(std::move(copied));
  }
  if (!refused.empty()) {
    *reply_out = airlock::c_abi::newFailure(AIRLOCK_INVALID_ARGUMENT, refused);
    return AIRLOCK_INVALID_ARGUMENT;
  }
  return answer(reply_out, [&](airlock_reply& reply) {
    auto outcome =
        client->client.unit(unit).call(method, airlock::c_abi::bytes(payload, payload_size),
                                       handed, std::chrono::milliseconds(timeout_ms));
    airlock::c_abi::fill(reply, outcome);
  });
}

int airlock_run(airlock_client* client, const char* unit, const char* const* argv, size_t argc,
                const void* input, size_t input_size, uint32_t timeout_ms,
                airlock_reply** reply_out) {
  int checked = checkCall(client, unit, reply_out,
                          (input != nullptr || input_size == 0) && (argv != nullptr || argc == 0));
  if (checked != AIRLOCK_OK) return checked;
  for (size_t i = 0; i < argc; ++i) {
    if (argv[i] == nullptr) {
      *reply_out = airlock::c_abi::newFailure(AIRLOCK_INVALID_ARGUMENT, "a NULL in argv");
      return AIRLOCK_INVALID_ARGUMENT;
    }
  }
  return answer(reply_out, [&](airlock_reply& reply) {
    std::vector<std::string> args(argv, argv + argc);
    auto ran = client->client.unit(unit).run(args, airlock::c_abi::bytes(input, input_size),
                                             std::chrono::milliseconds(timeout_ms));
    airlock::c_abi::fill(reply, ran.call);
    reply.exitStatus = ran.status;
    reply.signal = ran.signal;
    reply.out = std::move(ran.out);
    reply.err = std::move(ran.err);
    reply.outputCut = ran.outputCut;
    reply.refusedSyscall = std::move(ran.refusedSyscall);
  });
}

int airlock_call_typed(airlock_client* client, const char* unit, uint64_t interface_id,
                       uint16_t method_id, const void* params, size_t params_size,
                       airlock_reply** reply_out) {
  int checked = checkCall(client, unit, reply_out, params != nullptr || params_size == 0);
  if (checked != AIRLOCK_OK) return checked;
  if (params_size % sizeof(capnp::word) != 0) {
    *reply_out = airlock::c_abi::newFailure(
        AIRLOCK_INVALID_ARGUMENT, "params is not a Cap'n Proto message: its size is not a "
                                  "whole number of 8-byte words");
    return AIRLOCK_INVALID_ARGUMENT;
  }
  return answer(reply_out, [&](airlock_reply& reply) {
    auto request = client->client.unit(unit).typedCapability().typelessRequest(
        interface_id, method_id, nullptr);
    if (params_size > 0) {
      // Copied to word-aligned memory: FlatArrayMessageReader reads words in place.
      auto words = kj::heapArray<capnp::word>(params_size / sizeof(capnp::word));
      memcpy(words.begin(), params, params_size);
      KJ_IF_MAYBE(malformed, kj::runCatchingExceptions([&]() {
        capnp::FlatArrayMessageReader message(words);
        request.set(message.getRoot<capnp::AnyPointer>());  // a deep copy: checks every pointer
      })) {
        reply.status = AIRLOCK_INVALID_ARGUMENT;
        reply.message = std::string("params is not a Cap'n Proto message: ") +
                        malformed->getDescription().cStr();
        reply.described = std::string("invalid argument: ") + reply.message;
        return;
      }
    }
    KJ_IF_MAYBE(failure, kj::runCatchingExceptions([&]() {
      airlock::c_abi::readResults(reply, request.send().wait(client->client.waitScope()));
    })) {
      reply.status = airlock::c_abi::statusOfTypedFailure(*failure);
      reply.message = failure->getDescription().cStr();
      reply.described = reply.message;
    }
  });
}

}  // extern "C"
