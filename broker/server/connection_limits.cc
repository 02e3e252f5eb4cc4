#include "broker/server/connection_limits.h"

#include <algorithm>

namespace airlock::broker {

size_t hostConnectionCap(size_t openFilesLimit) {
  return std::max<size_t>(1, std::min(MAX_HOST_CONNECTIONS, openFilesLimit / 4));
}

class ConnectionLimits::ConnectionPlace final : public HeldPlace {
 public:
  explicit ConnectionPlace(ConnectionLimits& limits) : limits_(limits) { ++limits_.connections_; }
  ~ConnectionPlace() { --limits_.connections_; }
  KJ_DISALLOW_COPY(ConnectionPlace);

 private:
  ConnectionLimits& limits_;
};

class ConnectionLimits::UnauthenticatedPlace final : public HeldPlace {
 public:
  UnauthenticatedPlace(ConnectionLimits& limits, uid_t uid) : limits_(limits), uid_(uid) {
    ++limits_.unauthenticated_;
    ++limits_.unauthenticatedByUid_[uid_];
  }
  ~UnauthenticatedPlace() {
    --limits_.unauthenticated_;
    auto found = limits_.unauthenticatedByUid_.find(uid_);
    if (--found->second == 0) limits_.unauthenticatedByUid_.erase(found);
  }
  KJ_DISALLOW_COPY(UnauthenticatedPlace);

 private:
  ConnectionLimits& limits_;
  uid_t uid_;
};

std::optional<ConnectionLimits::Refusal> ConnectionLimits::refusal(uid_t uid) const {
  if (connections_ >= maxConnections_) {
    return Refusal{"broker.max_host_connections",
                   std::to_string(connections_) + " host connections open, the most airlockd "
                   "holds (" + std::to_string(maxConnections_) + ")"};
  }
  if (unauthenticated_ >= MAX_UNAUTHENTICATED_CONNECTIONS) {
    return Refusal{"broker.max_unauthenticated_connections",
                   std::to_string(unauthenticated_) + " connections not yet authenticated, the "
                   "most airlockd holds (" + std::to_string(MAX_UNAUTHENTICATED_CONNECTIONS) +
                   ")"};
  }
  auto found = unauthenticatedByUid_.find(uid);
  size_t ofUid = found == unauthenticatedByUid_.end() ? 0 : found->second;
  if (ofUid >= MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID) {
    return Refusal{"broker.max_unauthenticated_connections_per_uid",
                   std::to_string(ofUid) + " connections of uid " + std::to_string(uid) +
                   " not yet authenticated, the most airlockd holds for one uid (" +
                   std::to_string(MAX_UNAUTHENTICATED_CONNECTIONS_PER_UID) + ")"};
  }
  return std::nullopt;
}

ConnectionLimits::Places ConnectionLimits::take(uid_t uid) {
  return Places{kj::heap<ConnectionPlace>(*this), kj::heap<UnauthenticatedPlace>(*this, uid)};
}

}  // namespace airlock::broker
