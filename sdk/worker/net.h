#pragma once
// Worker-internal: the SDK side of net.connect (the broker side is broker/caps/net.cc).

#include <kj/async.h>

#include <airlock/capnp/worker.capnp.h>

#include "sdk/worker/worker.h"

namespace airlock::_ {

class BrokeredNet final : public Net {
 public:
  BrokeredNet(rpc::Net::Client net, kj::WaitScope& waitScope)
      : net_(kj::mv(net)), waitScope_(waitScope) {}

  ConnectedSocket connect(const std::string& host, uint16_t port) override;
  ConnectedSocket connectUnix(const std::string& path) override;

 private:
  rpc::Net::Client net_;
  kj::WaitScope& waitScope_;
};

}  // namespace airlock::_
