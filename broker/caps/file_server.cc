#include "broker/caps/file_server.h"

#include "broker/caps/unknown_method.h"

namespace airlock::broker {

capnp::Capability::Server::DispatchCallResult FileServer::dispatchCall(
    uint64_t interfaceId, uint16_t methodId,
    capnp::CallContext<capnp::AnyPointer, capnp::AnyPointer> context) {
  auto schema = capnp::Schema::from<rpc::File>();
  if (offersMethod(schema, interfaceId, methodId)) {
    return rpc::File::Server::dispatchCall(interfaceId, methodId, context);
  }
  return {kj::Promise<void>(refuseUnknownMethod(scope_->audit, scope_->record(""), schema,
                                                interfaceId, methodId)),
          false};
}

}  // namespace airlock::broker
