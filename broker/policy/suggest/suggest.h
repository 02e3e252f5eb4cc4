#pragma once
// `airlock policy suggest`'s engine: from the requests a unit made (its audit records, as
// Evidence), the narrowest rules that would have allowed them. Pure and deterministic: the same
// evidence, in any order, gives the same rules in the same order with the same ids.
//
// fs.*: one rule per operation, open modes (fs.open) and path. A path stays exact unless
//   - it lies beneath a directory the run itself made (an fs.mkdir seen): then the rule is
//     "<the parent of the topmost such directory>/**", since a rule's root must exist when the
//     policy loads (broker/caps/fs_roots.h); or
//   - more than `collapse` distinct paths of one directory were used with the same operation and
//     modes: then "<directory>/*".
//   A glob is only made when it stays within `learnPaths` (when given); otherwise the exact
//   paths are kept. Evidence outside learnPaths is dropped, never suggested.
// net.connect: one rule per host (as the worker asked for it) with the ports used; one per Unix
//   socket path.
// syscalls: SuggestedSyscalls; a never-granted syscall, or one no group or single entry can
//   name, is never suggested.

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

// One brokered request the unit made. `decision` is the record's: "allow", "learn" or "deny".
struct Evidence {
  Operation operation = Operation::FS_OPEN;
  std::string path;        // fs.*: the path (fs.rename gives one Evidence per path)
  OpenModes modes;         // fs.open only
  std::string host;        // net.connect over TCP: the host as asked, and the port
  uint16_t port = 0;
  std::string unixPath;    // net.connect to a Unix socket
  std::string syscall;     // a syscall the unit ran (learned) or was refused: `operation` unused
  uint64_t seq = 0;        // the record's audit seq
  bool alreadyAllowed = false;  // the record's decision was "allow"
};

struct EvidenceSpan {
  uint64_t count = 0;
  uint64_t firstSeq = std::numeric_limits<uint64_t>::max();
  uint64_t lastSeq = 0;
  uint64_t alreadyAllowed = 0;  // of `count`, allowed by the rules in force then

  void add(const Evidence& e);
  void merge(const EvidenceSpan& other);
};

struct SuggestedRule {
  Rule rule;              // an allow rule; `where` empty
  EvidenceSpan evidence;
  std::string why;        // why a glob rather than exact paths; empty for an exact rule
  std::string danger;     // dangerousAllowance(rule): it needs a justification; empty if none
};

// A [sandbox] syscalls entry: the narrowest non-default group listing syscalls seen (the fewest
// syscalls, a non-dangerous one first), or the syscall itself when no group lists it.
struct SuggestedSyscalls {
  std::string entry;              // group or syscall name, as `syscalls = [...]` takes it
  std::vector<std::string> seen;  // the syscalls of the evidence it covers, sorted
  EvidenceSpan evidence;
  std::string danger;             // the group's danger: [sandbox] then needs a justification
};

struct SuggestOptions {
  size_t collapse = 8;  // more than this many paths of one directory: a "<dir>/*" rule
  std::vector<PathPattern> learnPaths;  // not empty: the bounds suggestions stay within
};

struct Suggestion {
  std::vector<SuggestedRule> rules;  // fs.* rules by operation (table order), then net.connect
  std::vector<SuggestedSyscalls> syscalls;  // by entry name; never a never-granted syscall
  uint64_t outsideLearnPaths = 0;    // evidence dropped for lying outside options.learnPaths
};

Suggestion suggestRules(std::vector<Evidence> evidence, const SuggestOptions& options);

// Whether a suggested rule can name `path` exactly (a valid request path with no character a
// pattern reads as a wildcard); evidence of any other path is left out of a suggestion.
bool suggestionCanName(const std::string& path);

}  // namespace airlock::policy
