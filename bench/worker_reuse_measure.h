#pragma once
// What [unit] worker_reuse = "never" costs a call: the same no-op call to two units of one
// airlockd, one under "any" and one under "never" (a fresh worker per call, its replacement
// started once the call is answered), alternating one call each; first with calls arriving slower
// than the pool refills, then back to back; then the "any" unit's calls while the "never" unit
// is called back to back from another connection, its workers starting all the while.

#include <kj/async-io.h>

#include <string>
#include <vector>

#include "bench/samples.h"

namespace airlock::bench {

// `bin`: where airlockd and airlock-bench-worker are; `n`: calls per figure (capped: the spaced
// rows wait REFILL_GAP_MS between calls).
std::vector<Figure> workerReuseFigures(const std::string& bin, kj::AsyncIoContext& io, int n);

}  // namespace airlock::bench
