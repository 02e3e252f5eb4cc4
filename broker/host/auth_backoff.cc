#include "broker/host/auth_backoff.h"

#include <kj/debug.h>

namespace airlock::broker {

AuthBackoff::Attempt::~Attempt() {
  if (owner_ == nullptr) return;
  auto it = owner_->uids_.find(uid_);
  KJ_ASSERT(it != owner_->uids_.end() && it->second.pending > 0);
  --it->second.pending;
  owner_->forgetIfIdle(uid_);
}

kj::Maybe<AuthBackoff::Attempt> AuthBackoff::begin(uid_t uid) {
  PerUid& entry = uids_[uid];
  if (entry.pending >= MAX_PENDING_PER_UID) return nullptr;
  ++entry.pending;
  return Attempt(*this, uid);
}

kj::Duration AuthBackoff::delayFor(uid_t uid) const {
  uint32_t count = failures(uid);
  if (count < FREE_FAILURES) return 0 * kj::MILLISECONDS;
  uint32_t doublings = count - FREE_FAILURES;
  kj::Duration delay = BASE_DELAY;
  for (uint32_t i = 0; i < doublings && delay < MAX_DELAY; ++i) delay = delay * 2;
  return delay < MAX_DELAY ? delay : MAX_DELAY;
}

uint32_t AuthBackoff::failed(uid_t uid) {
  PerUid& entry = uids_[uid];
  if (entry.failures < UINT32_MAX) ++entry.failures;
  return entry.failures;
}

void AuthBackoff::succeeded(uid_t uid) {
  auto it = uids_.find(uid);
  if (it == uids_.end()) return;
  it->second.failures = 0;
  forgetIfIdle(uid);
}

uint32_t AuthBackoff::failures(uid_t uid) const {
  auto it = uids_.find(uid);
  return it == uids_.end() ? 0 : it->second.failures;
}

void AuthBackoff::forgetIfIdle(uid_t uid) {
  auto it = uids_.find(uid);
  if (it != uids_.end() && it->second.failures == 0 && it->second.pending == 0) uids_.erase(it);
}

}  // namespace airlock::broker
