#pragma once
// UNSAFE: the token that lets a broker discard its audit records. It exists only to measure what
// the audit costs a brokered call (airlock-bench runs airlockd-unsafe-audit-off beside airlockd).
//
// What is lost: every record. Decisions are still made and enforced, but none is recorded, no
// checkpoint is signed and nothing can be verified afterwards. The token can only be made by
// linking the CMake target airlock_unsafe_audit_off, which only bench/ links; airlockd has no
// option that reaches it.

namespace airlock::audit {

class UnsafeAuditOff {
 private:
  UnsafeAuditOff() = default;
  friend UnsafeAuditOff unsafeAuditOffForBenchmarks();
};

// Defined in unsafe_audit_off.cc, compiled only into airlock_unsafe_audit_off.
UnsafeAuditOff unsafeAuditOffForBenchmarks();

}  // namespace airlock::audit
