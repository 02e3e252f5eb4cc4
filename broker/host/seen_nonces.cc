#include "broker/host/seen_nonces.h"

namespace airlock::broker {

bool SeenNonces::insert(const rpc::AuthNonce& nonce) {
  if (!seen_.insert(nonce).second) return false;
  order_.push_back(nonce);
  if (order_.size() > CAPACITY) {
    seen_.erase(order_.front());
    order_.pop_front();
  }
  return true;
}

}  // namespace airlock::broker
