#pragma once
// What the audit log tells an observer (airlockd's metrics, broker/metrics/) about its work: each
// record it wrote, each line's bytes, each record it refused, each fdatasync and how long it
// took. The log works the same with no observer; with none, none of this is measured.
//
// Threading: recorded(), lineWritten() and refused() are called on the log's thread (the
// broker's event loop), after the line is in the file or the record was refused. synced() is
// called on whichever thread ran the fdatasync: the event loop, or the group-commit thread
// (group_commit.h) — implementations must make it thread-safe. The observer must outlive the
// log (and so its group-commit thread).

#include <chrono>

namespace airlock::audit {

struct AuditRecord;

class AuditObserver {
 public:
  virtual ~AuditObserver() noexcept(false) = default;
  virtual void recorded(const AuditRecord& record) = 0;  // in the file, seq and chain assigned
  virtual void lineWritten(size_t bytes) = 0;  // every line: records, checkpoints, continuations
  virtual void refused(const AuditRecord& record) = 0;  // append() returned false for it
  virtual void synced(std::chrono::nanoseconds took, bool ok) = 0;  // one fdatasync of the log
};

}  // namespace airlock::audit
