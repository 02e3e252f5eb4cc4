#pragma once
// `airlock audit export --format ocsf`: each record as an event of the Open Cybersecurity Schema
// Framework, version OCSF_VERSION, for the SIEMs that read it:
//   API Activity (class_uid 6003, category_uid 6)        call, call.admitted, invoke, auth,
//                                                        admin, policy.reload, secrets.get and
//                                                        every record not listed below
//   File System Activity (class_uid 1001, category 1)    fs.* (and their .admitted records)
//   Network Activity (class_uid 4001, category 4)        net.connect, net.connect.admitted
//   Process Activity (class_uid 1007, category 1)        worker.spawn, worker.exit,
//                                                        syscall.refused
// Every event keeps the chain: metadata.sequence is the record's seq, metadata.uid the BLAKE2b
// of its line (the next record's "prev"), and unmapped.airlock holds seq, prev, hash, event and
// the decision fields, so an exported event is traced back to the signed log line by line.
// metadata.correlation_uid is the call_id. docs/audit.md lists the mapping field by field.
//
// Pure function of one record; callable from any thread.

#include <nlohmann/json.hpp>

#include "audit/record_reader.h"

namespace airlock::audit {

inline constexpr char OCSF_VERSION[] = "1.3.0";

nlohmann::ordered_json toOcsf(const LoggedRecord& record);

}  // namespace airlock::audit
