#include "broker/calls/typed_send.h"

#include <capnp/capability.h>
#include <capnp/serialize.h>

namespace airlock::broker {

kj::Maybe<kj::Array<capnp::word>> copyWithoutCapabilities(capnp::AnyPointer::Reader reader) {
  capnp::MallocMessageBuilder copy;
  capnp::BuilderCapabilityTable capabilities;
  capabilities.imbue(copy.getRoot<capnp::AnyPointer>()).set(reader);
  if (capabilities.getTable().size() != 0) return nullptr;
  return capnp::messageToFlatArray(copy);
}

kj::Promise<Outcome> sendTyped(capnp::Request<rpc::Worker::BindParams, rpc::Worker::BindResults> bind,
                               const TypedRequest& typed, pid_t pid) {
  auto bound = bind.send();
  capnp::FlatArrayMessageReader params(typed.params);
  auto request = bound.getTyped().typelessRequest(typed.interfaceId, typed.methodId, nullptr);
  request.set(params.getRoot<capnp::AnyPointer>());
  return request.send()
      .then([pid](capnp::Response<capnp::AnyPointer>&& response) -> kj::Promise<Outcome> {
        KJ_IF_MAYBE(results, copyWithoutCapabilities(response)) {
          auto outcome = Outcome::success("", pid);
          outcome.typedResults = std::make_shared<const kj::Array<capnp::word>>(kj::mv(*results));
          return kj::mv(outcome);
        }
        return Outcome::failure(rpc::ErrorKind::WORKER_FAILED,
                                "the worker's results hold a capability; none may cross to the "
                                "host", pid);
      }, [pid](kj::Exception&& e) -> kj::Promise<Outcome> {
        if (e.getType() == kj::Exception::Type::DISCONNECTED) return kj::mv(e);
        return Outcome::failure(rpc::ErrorKind::WORKER_FAILED,
                                "method threw: " + std::string(e.getDescription().cStr()), pid);
      })
      .attach(kj::mv(bound));
}

}  // namespace airlock::broker
