#include "sdk/worker/net.h"

#include <kj/debug.h>

#include "sdk/worker/brokered_fs.h"

namespace airlock::_ {

namespace {

ConnectedSocket fromResult(rpc::ConnectResult::Reader result, kj::WaitScope& waitScope) {
  switch (result.which()) {
    case rpc::ConnectResult::SOCKET: return fileFrom(result.getSocket(), waitScope);
    case rpc::ConnectResult::DENIED: return ConnectedSocket::denied(result.getDenied());
    case rpc::ConnectResult::FAILED: return ConnectedSocket::failed(result.getFailed());
  }
  return ConnectedSocket::failed("unknown answer from broker");
}

}  // namespace

ConnectedSocket BrokeredNet::connect(const std::string& host, uint16_t port) {
  auto request = net_.connectRequest();
  request.setHost(host);
  request.setPort(port);
  auto response = request.send().wait(waitScope_);
  return fromResult(response.getResult(), waitScope_);
}

ConnectedSocket BrokeredNet::connectUnix(const std::string& path) {
  auto request = net_.connectUnixRequest();
  request.setPath(path);
  auto response = request.send().wait(waitScope_);
  return fromResult(response.getResult(), waitScope_);
}

}  // namespace airlock::_
