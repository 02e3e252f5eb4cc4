#pragma once
// Limits on failed host authentications, per connecting uid (SO_PEERCRED): after
// FREE_FAILURES consecutive failures every new handshake from that uid waits an exponentially
// growing delay before it is answered, and at most MAX_PENDING_PER_UID handshakes of one uid are
// in flight at once, so opening connections in parallel does not get around the delay.
//
// Keys are 256-bit Ed25519: guessing one is not the threat. The limit keeps a misbehaving or
// hostile local process from flooding the audit log and the broker's CPU (each attempt costs a
// signature), and makes a spray of attempts stand out. A success resets the uid's count: its
// process proved it holds a registered key.
//
// Event-loop thread only. Owned by airlockd's main(); outlives every connection.

#include <sys/types.h>

#include <kj/time.h>

#include <cstdint>
#include <map>

namespace airlock::broker {

class AuthBackoff {
 public:
  static constexpr uint32_t FREE_FAILURES = 3;
  static constexpr kj::Duration BASE_DELAY = 100 * kj::MILLISECONDS;
  static constexpr kj::Duration MAX_DELAY = 10 * kj::SECONDS;
  static constexpr uint32_t MAX_PENDING_PER_UID = 4;

  // One handshake in flight: holds a slot of its uid until destroyed.
  class Attempt {
   public:
    Attempt(AuthBackoff& owner, uid_t uid) : owner_(&owner), uid_(uid) {}
    Attempt(Attempt&& other) noexcept : owner_(other.owner_), uid_(other.uid_) {
      other.owner_ = nullptr;
    }
    Attempt(const Attempt&) = delete;
    Attempt& operator=(Attempt&&) = delete;
    ~Attempt();

   private:
    AuthBackoff* owner_;
    uid_t uid_;
  };

  // A slot for a new handshake of `uid`, or null when MAX_PENDING_PER_UID are in flight.
  kj::Maybe<Attempt> begin(uid_t uid);
  // How long to wait before answering `uid`'s next handshake: zero for the first FREE_FAILURES
  // consecutive failures, then BASE_DELAY doubling per failure, at most MAX_DELAY.
  kj::Duration delayFor(uid_t uid) const;
  uint32_t failed(uid_t uid);  // returns the uid's consecutive failures, this one included
  void succeeded(uid_t uid);
  uint32_t failures(uid_t uid) const;

 private:
  struct PerUid {
    uint32_t failures = 0;
    uint32_t pending = 0;
  };
  void forgetIfIdle(uid_t uid);
  std::map<uid_t, PerUid> uids_;  // only uids with failures or handshakes in flight
};

}  // namespace airlock::broker
