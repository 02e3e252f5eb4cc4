#pragma once
// A call to a method the broker does not offer: an ordinal past an interface's last method, or
// another interface's id on a capability. Cap'n Proto's generated dispatch would answer it
// "unimplemented" with no trace; every capability a host or a worker can reach instead refuses it
// with a deny record (rule default-deny), so a probe of the broker's surface is on record like any
// other refused request. Event-loop thread only.

#include <capnp/capability.h>
#include <capnp/schema.h>

#include <cstdint>
#include <string>

#include "audit/audit_log.h"

namespace airlock::broker {

bool offersMethod(capnp::InterfaceSchema schema, uint64_t interfaceId, uint16_t methodId);
// Whether `interfaceId`.`methodId` is a method of `schema` or of one of its superclasses.

// Fills `record` (event, who and which call already set by the caller's context) as the refusal
// of `interfaceId`.`methodId` on a `schema` capability, appends it, and returns the exception the
// caller gets (UNIMPLEMENTED). The call is refused whether or not the log takes the record.
kj::Exception refuseUnknownMethod(audit::AuditLog& audit, audit::AuditRecord record,
                                  capnp::InterfaceSchema schema, uint64_t interfaceId,
                                  uint16_t methodId);

// The event of such a record.
inline constexpr char UNKNOWN_METHOD_EVENT[] = "unknown.method";

}  // namespace airlock::broker
