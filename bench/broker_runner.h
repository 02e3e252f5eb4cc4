#pragma once
// A real airlockd for the benchmarks: a temporary directory with a generated policy, the broker
// started with fork+exec, and an authenticated host session to it.

#include <sys/types.h>

#include <kj/async-io.h>

#include <airlock/capnp/host.capnp.h>
#include <capnp/rpc-twoparty.h>

#include <map>
#include <string>

#include "audit/signing_key.h"
#include "sdk/host/handshake.h"

namespace airlock::bench {

// How fast the units' workers may send brokered requests. UNLIMITED (the most the policy allows)
// for the figures that time the requests themselves; POLICY_DEFAULT for the noisy neighbour, which
// measures what the default pace protects.
enum class RequestPace { UNLIMITED, POLICY_DEFAULT };

// The policy of one bench unit `name` running airlock-bench-worker: `instances` workers, fs.open
// and fs.stat of `files`, any method from the caller "bench", and `moreSettings` after its [unit]
// keys (see BrokerRunner).
std::string benchUnitPolicy(const std::string& name, int instances, const std::string& files,
                            RequestPace pace, const std::string& moreSettings);

class BrokerRunner {
 public:
  // Starts `airlockd` (the program's name in `binDir`) with `units` units named bench0.. (or
  // "bench" when units == 1) of `instances` workers each, running airlock-bench-worker.
  BrokerRunner(const std::string& binDir, int units, int instances,
               const std::string& airlockdName = "airlockd",
               RequestPace pace = RequestPace::UNLIMITED,
               const std::map<std::string, std::string>& moreUnitSettings = {},
               const std::map<std::string, std::string>& morePolicies = {});
  // `moreUnitSettings`: TOML to add after a unit's [unit] keys, by unit name: more keys (e.g. a
  // flow limit) and then, if need be, more [[rule]] tables. `morePolicies`: whole policy files
  // of other units, by file name (e.g. a Python worker's unit).
  ~BrokerRunner();

  pid_t pid() const { return pid_; }
  const std::string& filesDir() const { return files_; }  // granted for fs.open (read)
  long rssKiB() const;                                       // VmRSS of airlockd
  // For more connections (airlock::Client::connect), e.g. one per load-generating thread.
  const std::string& socketPath() const { return socket_; }
  std::string clientKeyFile() const { return dir_ + "/bench.key"; }
  std::string brokerPublicKeyFile() const { return dir_ + "/broker.pub"; }

  // Connects and authenticates; returns the unit's capability. One connection per runner.
  rpc::Unit::Client connect(kj::AsyncIoContext& io, const std::string& unit);

 private:
  std::string dir_, files_, socket_;
  pid_t pid_ = -1;
  kj::Own<kj::AsyncIoStream> stream_;
  kj::Own<capnp::TwoPartyClient> rpc_;
  kj::Maybe<rpc::Session::Client> session_;
  audit::PublicKey brokerPublicKey_;
  ClientIdentity identity_;
};

}  // namespace airlock::bench
