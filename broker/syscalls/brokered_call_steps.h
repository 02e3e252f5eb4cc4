#pragma once
// The steps every kind of brokered call shares (brokered_call.h), as templates: included only by
// the files defining BrokeredCall's kinds (brokered_call.cc, brokered_changes.cc).

#include <cstdio>
#include <string>

#include "broker/caps/call_scope.h"
#include "broker/syscalls/brokered_call.h"

namespace airlock::broker::syscalls {

namespace _ {

inline constexpr char NOT_FOLLOWED[] = "ELOOP: a symlink beneath a granted root is never followed";

// A mode as records show it: "0644".
inline std::string octalMode(uint64_t mode) {
  char text[16];
  snprintf(text, sizeof(text), "%04llo", static_cast<unsigned long long>(mode & 07777));
  return text;
}

inline policy::Decision refusedByDefault(std::string reason) {
  return policy::Decision{policy::Verdict::DENY, std::string(policy::DEFAULT_DENY_RULE_ID),
                          std::move(reason), nullptr};
}

}  // namespace _

template <typename Succeed>
void BrokeredCall::conclude(audit::AuditRecord& record, const policy::Decision& decision,
                            int error, const std::string& failure, const char* result,
                            Outcome outcome, Succeed&& succeed) {
  if (!decision.allowed()) {
    (void)finish(record, decision, "");  // refused either way; a lost record changes nothing
    answerError(EACCES);
  } else if (error != 0) {
    (void)finish(record, decision, failure);
    answerError(error);
  } else if (!finish(record, decision, result) && outcome == Outcome::PASSED_ON_RECORD) {
    answerError(EIO);  // nothing reaches the program unrecorded
  } else {
    // A change already made was admitted on record before it: it is answered as it is.
    succeed();
  }
}

template <typename Act, typename Succeed>
void BrokeredCall::onePath(int dirfdArg, int pathArg, const Ask& ask,
                           nlohmann::ordered_json extraArgs,
                           const char* result, Outcome outcome, Act&& act, Succeed&& succeed) {
  std::string path;
  if (place(dirfdArg, pathArg, path, ask.inView) == Placed::ANSWERED) return;
  ++broker_.brokered_;
  auto rec = record(ask.event.data(), path);
  if (extraArgs.is_object()) rec.args.update(extraArgs);
  policy::Decision decision = decidePath(ask, path);
  Acted acted;
  if (decision.allowed()) {
    KJ_IF_MAYBE(parent, parentFor(decision, path, acted.error, acted.failure)) {
      act(*parent, rec, decision, acted);
      if (acted.unrecorded) return;  // answered EIO: the log refused the admission
    }
  }
  conclude(rec, decision, acted.error, acted.failure, result, outcome,
           [&]() { succeed(acted.error); });
}

}  // namespace airlock::broker::syscalls
