#pragma once
// A host connection's stream, held to an UnreadBudget (broker/supervisor/unread_budget.h): a
// client that floods airlockd with requests while reading none of its answers has its
// connection ended instead of growing the broker's memory. Before authenticating too: the
// bootstrap Gateway answers requests, so an unauthenticated peer could otherwise do it.
//
// Broker-side, event-loop thread only.

#include <kj/async-io.h>

#include <string>

#include "broker/server/forwarding_stream.h"
#include "broker/supervisor/unread_budget.h"

namespace airlock::broker {

class BudgetedStream final : public ForwardingStream {
 public:
  // `peer` names the connection in errors ("host uid 1000 pid 42").
  BudgetedStream(kj::Own<kj::AsyncCapabilityStream> inner, std::string peer)
      : ForwardingStream(kj::mv(inner)), budget_(kj::mv(peer)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override;
  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;

 private:
  UnreadBudget budget_;
};

}  // namespace airlock::broker
