// libFuzzer target: the input is an audit log, fed line by line to the chain check of
// `airlock audit tail --verify` (audit/chain_follower.h), and verified as `airlock audit verify`
// does a live log (requireClosed false). It must never crash, hang or throw, and the two must
// agree on what is intact: a log the verifier passes, starting at seq 1 from the zero hash, has
// no line the follower refuses.

#include <sys/mman.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "audit/chain.h"
#include "audit/chain_follower.h"
#include "audit/verifier.h"
#include "fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace airlock::audit;
  std::string_view input(reinterpret_cast<const char*>(data), size);

  ChainFollower follower(nullptr);
  std::string findings;
  for (size_t at = 0; at < input.size();) {
    size_t newline = input.find('\n', at);
    if (newline == std::string_view::npos) break;  // tail --verify never sees a partial line
    std::string finding = follower.next(input.substr(at, newline - at));
    if (!finding.empty()) findings += finding + "\n";
    at = newline + 1;
  }

  int raw;
  KJ_SYSCALL(raw = memfd_create("chain-fuzz", MFD_CLOEXEC));
  kj::AutoCloseFd fd(raw);
  for (size_t written = 0; written < input.size();) {
    ssize_t n;
    KJ_SYSCALL(n = write(fd.get(), input.data() + written, input.size() - written));
    written += static_cast<size_t>(n);
  }
  VerifyOptions options;
  options.logPaths = {"/proc/self/fd/" + std::to_string(fd.get())};
  options.requireClosed = false;
  options.hashing = LineHashing::INLINE;
  VerifyReport report = verifyLog(options);
  bool fromStart = input.rfind("{\"seq\":1,", 0) == 0 &&
                   input.find("\"prev\":\"" + ZERO_HASH_HEX + "\"") != std::string_view::npos;
  airlock::fuzz::fuzzCheck(!report.ok() || !fromStart || findings.empty(),
                           "a log verify passes breaks no chain tail --verify follows",
                           findings + std::string(input.substr(0, 2000)));
  return 0;
}
