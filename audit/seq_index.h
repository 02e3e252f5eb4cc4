#pragma once
// Where each seq first appeared in the files being verified, so that a repeated seq (an inserted
// record) is told apart from a seq going backwards (reordered records) and a gap's missing seqs
// can be counted.
//
// Every real log's seqs are dense, so they live in a vector indexed from the first seq seen
// (8 bytes a record, no allocation per record); a seq far outside that range (a doctored line)
// goes to a hash table, so memory stays at most about twice the records seen.
//
// Single-threaded.

#include <kj/common.h>

#include <cstdint>
#include <unordered_map>
#include <vector>

namespace airlock::audit {

class SeqIndex {
 public:
  // Records that `seq` appeared at `position` (any number > 0 the caller chooses, e.g. a line)
  // unless it appeared before; returns the earlier position if it did.
  kj::Maybe<uint64_t> add(uint64_t seq, uint64_t position);
  kj::Maybe<uint64_t> positionOf(uint64_t seq) const;
  std::vector<uint64_t> sortedSeqs() const;  // every seq added once, ascending

 private:
  bool fitsDense(uint64_t seq) const;

  bool started_ = false;
  uint64_t base_ = 0;                  // the first seq added
  uint64_t count_ = 0;                 // distinct seqs added
  std::vector<uint64_t> dense_;        // [seq - base_]: position, 0 if absent
  std::unordered_map<uint64_t, uint64_t> sparse_;
};

}  // namespace airlock::audit
