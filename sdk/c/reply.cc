// The airlock_reply accessors of airlock.h: plain reads of what the call functions stored.

#include <cstdlib>

#include "sdk/c/handles.h"
#include "sdk/c/status.h"

namespace airlock::c_abi {

airlock_reply* newFailure(int status, std::string message) {
  auto* reply = new (std::nothrow) airlock_reply;
  if (reply == nullptr) return nullptr;
  reply->status = status;
  reply->described = std::string(airlock_status_name(status)) + ": " + message;
  reply->message = std::move(message);
  return reply;
}

void fill(airlock_reply& reply, const CallOutcome& outcome) {
  reply.status = statusOf(outcome.errorKind());
  if (outcome.ok()) {
    reply.data = outcome.payload();
  } else {
    reply.message = outcome.message();
    reply.rule = outcome.ruleId();
  }
  reply.described = outcome.describe();
}

}  // namespace airlock::c_abi

namespace {

const void* bytesOf(const std::string& bytes, size_t* sizeOut) {
  if (sizeOut != nullptr) *sizeOut = bytes.size();
  return bytes.data();  // never NULL, even when empty
}

const void* noBytes(size_t* sizeOut) {
  if (sizeOut != nullptr) *sizeOut = 0;
  return "";
}

}  // namespace

extern "C" {

void airlock_reply_free(airlock_reply* reply) { delete reply; }

int airlock_reply_status(const airlock_reply* reply) {
  return reply == nullptr ? AIRLOCK_INVALID_ARGUMENT : reply->status;
}

const void* airlock_reply_data(const airlock_reply* reply, size_t* size_out) {
  if (reply == nullptr) return noBytes(size_out);
  return bytesOf(reply->data, size_out);
}

const char* airlock_reply_message(const airlock_reply* reply) {
  return reply == nullptr ? "" : reply->message.c_str();
}

const char* airlock_reply_rule(const airlock_reply* reply) {
  return reply == nullptr ? "" : reply->rule.c_str();
}

const char* airlock_reply_describe(const airlock_reply* reply) {
  return reply == nullptr ? "" : reply->described.c_str();
}

int airlock_reply_exit_status(const airlock_reply* reply) {
  return reply == nullptr ? 0 : reply->exitStatus;
}

int airlock_reply_signal(const airlock_reply* reply) {
  return reply == nullptr ? 0 : reply->signal;
}

const void* airlock_reply_stdout(const airlock_reply* reply, size_t* size_out) {
  if (reply == nullptr) return noBytes(size_out);
  return bytesOf(reply->out, size_out);
}

const void* airlock_reply_stderr(const airlock_reply* reply, size_t* size_out) {
  if (reply == nullptr) return noBytes(size_out);
  return bytesOf(reply->err, size_out);
}

int airlock_reply_output_cut(const airlock_reply* reply) {
  return reply != nullptr && reply->outputCut ? 1 : 0;
}

const char* airlock_reply_refused_syscall(const airlock_reply* reply) {
  return reply == nullptr ? "" : reply->refusedSyscall.c_str();
}

}  // extern "C"
