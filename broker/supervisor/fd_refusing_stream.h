#pragma once
// The broker's end of a worker channel: passes fds out, never takes any in.
//
// Cap'n Proto 0.9.2 drops the fds a side *sends* when that side's own maxFdsPerMessage is 0, so
// the broker must run its RPC with a limit >= 1 to hand out opened files. This wrapper makes the
// limit one-way: every read asks the kernel for no fds, so fds a hostile worker attaches are
// closed by the kernel on receipt and never enter the broker's fd table.
//
// It also holds the worker to an UnreadBudget: a worker that floods the broker while reading none
// of its answers has its channel ended.

#include <kj/async-io.h>
#include <kj/io.h>

#include <string>

#include "broker/supervisor/unread_budget.h"

namespace airlock::broker {

class FdRefusingStream final : public kj::AsyncCapabilityStream {
 public:
  // `peer` names the worker in errors ("unit probe worker pid 12").
  FdRefusingStream(kj::Own<kj::AsyncCapabilityStream> inner, std::string peer)
      : inner_(kj::mv(inner)), budget_(kj::mv(peer)) {}

  kj::Promise<size_t> tryRead(void* buffer, size_t minBytes, size_t maxBytes) override;
  kj::Promise<ReadResult> tryReadWithFds(void* buffer, size_t minBytes, size_t maxBytes,
                                         kj::AutoCloseFd* fdBuffer, size_t maxFds) override;
  kj::Promise<ReadResult> tryReadWithStreams(void* buffer, size_t minBytes, size_t maxBytes,
                                             kj::Own<kj::AsyncCapabilityStream>* streamBuffer,
                                             size_t maxStreams) override;

  kj::Promise<void> write(const void* buffer, size_t size) override;
  kj::Promise<void> write(kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> pieces) override;
  kj::Promise<void> writeWithFds(kj::ArrayPtr<const kj::byte> data,
                                 kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
                                 kj::ArrayPtr<const int> fds) override;
  kj::Promise<void> writeWithStreams(kj::ArrayPtr<const kj::byte> data,
                                     kj::ArrayPtr<const kj::ArrayPtr<const kj::byte>> moreData,
                                     kj::Array<kj::Own<kj::AsyncCapabilityStream>> streams) override;
  kj::Promise<void> whenWriteDisconnected() override;
  void shutdownWrite() override;
  void abortRead() override;

 private:
  kj::Own<kj::AsyncCapabilityStream> inner_;
  UnreadBudget budget_;
};

}  // namespace airlock::broker
