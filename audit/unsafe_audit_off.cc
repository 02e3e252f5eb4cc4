#include "audit/unsafe_audit_off.h"

namespace airlock::audit {

UnsafeAuditOff unsafeAuditOffForBenchmarks() { return UnsafeAuditOff(); }

}  // namespace airlock::audit
