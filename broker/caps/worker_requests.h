#pragma once
// The table of what a worker may ask the broker: one row per method of every capability the
// broker hands a worker with a call (capnp/worker.capnp). The membrane every such capability
// passes (request_pacer.h) looks each request up here first: a method with no row is refused and
// recorded (unknown.method) before any handler sees it, and the handlers name their audit
// records by their row. A new worker-facing method is one row here, one handler, one SDK stub.
// WorkerRequestsTest checks the table against the schema both ways.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

#include <airlock/capnp/worker.capnp.h>

#include "broker/policy/model/policy.h"

namespace airlock::broker {

struct WorkerRequest {
  uint64_t interfaceId;   // the capability's interface, as the worker calls it
  uint16_t methodId;      // the method's ordinal in that interface
  std::string_view name;  // "Fs.open": interface and method, for messages
  std::string_view event;  // the audit event of the request's record: "fs.open"
  std::optional<policy::Operation> decidedBy;
  // The rules that decide it (an fs.createTemp is decided by fs.open rules); none for a request
  // no rule can allow (fs.mknod) or that needs none (Log.log, bounded by its rate instead).
};

namespace requests {
inline constexpr uint64_t FS = capnp::typeId<rpc::Fs>();
inline constexpr uint64_t NET = capnp::typeId<rpc::Net>();
inline constexpr WorkerRequest FS_OPEN{FS, 0, "Fs.open", "fs.open", policy::Operation::FS_OPEN};
inline constexpr WorkerRequest FS_STAT{FS, 1, "Fs.stat", "fs.stat", policy::Operation::FS_STAT};
inline constexpr WorkerRequest FS_LIST{FS, 2, "Fs.list", "fs.list", policy::Operation::FS_LIST};
inline constexpr WorkerRequest FS_MKDIR{FS, 3, "Fs.mkdir", "fs.mkdir",
                                        policy::Operation::FS_MKDIR};
inline constexpr WorkerRequest FS_UNLINK{FS, 4, "Fs.unlink", "fs.unlink",
                                         policy::Operation::FS_UNLINK};
inline constexpr WorkerRequest FS_RENAME{FS, 5, "Fs.rename", "fs.rename",
                                         policy::Operation::FS_RENAME};
inline constexpr WorkerRequest FS_CREATE_TEMP{FS, 6, "Fs.createTemp", "fs.create_temp",
                                              policy::Operation::FS_OPEN};
inline constexpr WorkerRequest FS_SYMLINK{FS, 7, "Fs.symlink", "fs.symlink",
                                          policy::Operation::FS_SYMLINK};
inline constexpr WorkerRequest FS_MKNOD{FS, 8, "Fs.mknod", "fs.mknod", std::nullopt};
inline constexpr WorkerRequest NET_CONNECT{NET, 0, "Net.connect", "net.connect",
                                           policy::Operation::NET_CONNECT};
inline constexpr WorkerRequest NET_CONNECT_UNIX{NET, 1, "Net.connectUnix", "net.connect",
                                                policy::Operation::NET_CONNECT};
inline constexpr WorkerRequest SECRETS_GET{capnp::typeId<rpc::Secrets>(), 0, "Secrets.get",
                                           "secrets.get", policy::Operation::SECRETS_GET};
inline constexpr WorkerRequest UNITS_INVOKE{capnp::typeId<rpc::Units>(), 0, "Units.invoke",
                                            "invoke", policy::Operation::INVOKE};
inline constexpr WorkerRequest LOG_LOG{capnp::typeId<rpc::Log>(), 0, "Log.log", "log",
                                       std::nullopt};
}  // namespace requests

inline constexpr std::array<const WorkerRequest*, 14> WORKER_REQUESTS = {
    &requests::FS_OPEN,     &requests::FS_STAT,          &requests::FS_LIST,
    &requests::FS_MKDIR,    &requests::FS_UNLINK,        &requests::FS_RENAME,
    &requests::FS_CREATE_TEMP, &requests::FS_SYMLINK,    &requests::FS_MKNOD,
    &requests::NET_CONNECT, &requests::NET_CONNECT_UNIX, &requests::SECRETS_GET,
    &requests::UNITS_INVOKE, &requests::LOG_LOG};

// The row of `interfaceId`.`methodId`; null if a worker may not call it (no such row): the
// membrane then refuses and records it. Pure; any thread.
const WorkerRequest* findWorkerRequest(uint64_t interfaceId, uint16_t methodId);

// The row deciding by `op` for a one-path fs request (fs.stat, fs.list, fs.mkdir, fs.unlink).
const WorkerRequest& fsPathRequest(policy::Operation op);

}  // namespace airlock::broker
