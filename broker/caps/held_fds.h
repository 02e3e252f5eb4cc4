#pragma once
// The descriptors one worker holds through the File capabilities it was given (fs.open,
// fs.createTemp, net.connect, secrets.get) and has not released. A FileServer keeps its fd open
// until the worker drops the capability — Cap'n Proto cannot tell when the fd it sent was
// received — so a worker that keeps every File would hold airlockd's descriptors without bound,
// across calls, until airlockd hits EMFILE and can neither accept a host nor open a file for any
// unit (measured: 1,500 more airlockd fds per call of a worker that kept them). One budget per
// worker process, dropped with it; past it, a request that would pass one more descriptor fails.
//
// Event-loop thread only.

#include <kj/refcount.h>

#include <cstddef>
#include <string>

#include "broker/policy/model/refusal.h"

namespace airlock::broker {

// A worker may hold this many brokered descriptors at once: far more than a worker working on a
// few files at a time needs, and a small share of airlockd's own limit (1024 by default) even
// with several workers at it.
inline constexpr size_t MAX_FDS_HELD_PER_WORKER = 128;

class HeldFds final : public kj::Refcounted {
 public:
  explicit HeldFds(size_t limit = MAX_FDS_HELD_PER_WORKER) : limit_(limit) {}

  // Passes if one more descriptor may be passed; else says why not, for the worker and the
  // record.
  policy::Refusal refusal() const;

  void take() { ++held_; }  // a FileServer, for its lifetime
  void give() { --held_; }
  size_t held() const { return held_; }

 private:
  const size_t limit_;
  size_t held_ = 0;
};

}  // namespace airlock::broker
