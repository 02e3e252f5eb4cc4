#include "broker/supervisor/unread_budget.h"

#include <kj/debug.h>
#include <spdlog/spdlog.h>

namespace airlock::broker {

kj::Promise<void> UnreadBudget::track(kj::Promise<void> write) {
  ++writesPending_;
  return write.then(
      [this]() {
        --writesPending_;
        readWhilePending_ = 0;
        readsWhilePending_ = 0;
      },
      [this](kj::Exception&& e) {
        --writesPending_;
        kj::throwFatalException(kj::mv(e));
      });
}

size_t UnreadBudget::onRead(size_t bytes, kj::AsyncIoStream& stream) {
  if (writesPending_ == 0) return bytes;
  readWhilePending_ += bytes;
  ++readsWhilePending_;
  if (readWhilePending_ <= MAX_BYTES_READ_WHILE_PEER_NOT_READING &&
      readsWhilePending_ <= MAX_READS_WHILE_PEER_NOT_READING) {
    return bytes;
  }
  spdlog::warn("{} sent {} bytes in {} reads while it reads nothing the broker sends it; "
               "closing its connection so its unread answers cannot fill the broker's memory",
               peer_, readWhilePending_, readsWhilePending_);
  stream.shutdownWrite();
  stream.abortRead();  // on a Unix socket the peer's next send then fails with EPIPE
  KJ_FAIL_REQUIRE("peer keeps sending while it reads nothing the broker sends it", peer_,
                  readWhilePending_);
}

}  // namespace airlock::broker
