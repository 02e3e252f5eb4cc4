#include "sdk/c/status.h"

#include <cstdlib>
#include <string_view>

#include "sdk/c/airlock.h"

namespace airlock::c_abi {
namespace {

struct StatusRow {
  int status;
  CallErrorKind kind;   // the C++ SDK's kind, for statuses airlockd gives
  const char* name;     // airlock_status_name; for airlockd's, what both sides print
};

// Every status, once. airlockd's kinds take the C++ SDK's names (callErrorKindName) so a
// message reads the same from every language.
constexpr StatusRow STATUSES[] = {
    {AIRLOCK_OK, CallErrorKind::NONE, "ok"},
    {AIRLOCK_DENIED, CallErrorKind::DENIED, "denied"},
    {AIRLOCK_UNIT_CRASHED, CallErrorKind::UNIT_CRASHED, "unit crashed"},
    {AIRLOCK_TIMED_OUT, CallErrorKind::TIMED_OUT, "timed out"},
    {AIRLOCK_BAD_REQUEST, CallErrorKind::BAD_REQUEST, "bad request"},
    {AIRLOCK_UNIT_UNAVAILABLE, CallErrorKind::UNIT_UNAVAILABLE, "unit unavailable"},
    {AIRLOCK_NO_SUCH_METHOD, CallErrorKind::NO_SUCH_METHOD, "no such method"},
    {AIRLOCK_WORKER_FAILED, CallErrorKind::WORKER_FAILED, "worker failed"},
    {AIRLOCK_NO_SUCH_UNIT, CallErrorKind::NO_SUCH_UNIT, "no such unit"},
    {AIRLOCK_BROKER_ERROR, CallErrorKind::INTERNAL, "broker error"},
    {AIRLOCK_DISCONNECTED, CallErrorKind::DISCONNECTED, "disconnected"},
    {AIRLOCK_BUSY, CallErrorKind::BUSY, "busy"},
    {AIRLOCK_CONNECT_FAILED, CallErrorKind::NONE, "connect failed"},
    {AIRLOCK_INVALID_ARGUMENT, CallErrorKind::NONE, "invalid argument"},
    {AIRLOCK_WRONG_THREAD, CallErrorKind::NONE, "wrong thread"},
    {AIRLOCK_LIBRARY_ERROR, CallErrorKind::NONE, "library error"},
    {AIRLOCK_NO_ANSWER, CallErrorKind::NONE, "no answer"},
};

}  // namespace

int statusOf(CallErrorKind kind) {
  for (const auto& row : STATUSES) {
    if (row.kind == kind && row.status < AIRLOCK_CONNECT_FAILED) return row.status;
  }
  return AIRLOCK_BROKER_ERROR;  // a kind newer than this table: still a failure, never OK
}

int statusOfTypedFailure(const kj::Exception& exception) {
  if (exception.getType() == kj::Exception::Type::DISCONNECTED) return AIRLOCK_DISCONNECTED;
  std::string_view text = exception.getDescription().cStr();
  constexpr std::string_view REMOTE = "remote exception: ";
  if (text.substr(0, REMOTE.size()) == REMOTE) text.remove_prefix(REMOTE.size());
  auto startsWithKind = [&text](std::string_view name) {
    return text.size() > name.size() + 1 && text.substr(0, name.size()) == name &&
           text.substr(name.size(), 2) == ": ";
  };
  for (const auto& row : STATUSES) {
    if (row.status != AIRLOCK_OK && row.status < AIRLOCK_CONNECT_FAILED &&
        startsWithKind(row.name)) {
      return row.status;
    }
  }
  return AIRLOCK_BROKER_ERROR;  // includes airlockd's own "internal: " (broker/calls/dispatch.cc)
}

}  // namespace airlock::c_abi

// Here rather than in host.cc: every library made of the C ABI (libairlock, the Python workers'
// libairlock-python-worker.so) answers it, so each can be checked by what loads it.
extern "C" int airlock_abi_version(void) { return AIRLOCK_ABI_VERSION; }

extern "C" void airlock_string_free(char* text) { std::free(text); }

extern "C" const char* airlock_status_name(int status) {
  for (const auto& row : airlock::c_abi::STATUSES) {
    if (row.status == status) return row.name;
  }
  return "unknown status";
}
