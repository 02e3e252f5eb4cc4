#pragma once
// The client nonces of the most recent host handshakes, to refuse a hello that repeats one.
//
// A client draws 32 random bytes per handshake, so a repeat is a replayed (captured) hello, not
// chance. Refusing it is detection, not the protection itself: the broker's own fresh nonce
// already makes an old answer useless. Bounded: the oldest nonce is forgotten after CAPACITY
// newer ones. Event-loop thread only.

#include <deque>
#include <set>

#include "capnp/host_auth.h"

namespace airlock::broker {

class SeenNonces {
 public:
  static constexpr size_t CAPACITY = 16384;  // ~1.5 MB at most

  // False if `nonce` was seen among the last CAPACITY; otherwise remembers it.
  bool insert(const rpc::AuthNonce& nonce);

 private:
  std::set<rpc::AuthNonce> seen_;
  std::deque<rpc::AuthNonce> order_;  // oldest first
};

}  // namespace airlock::broker
