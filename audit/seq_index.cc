#include "audit/seq_index.h"

#include <kj/debug.h>

#include <algorithm>

namespace airlock::audit {

namespace _ {
// Slack beyond twice the seqs seen that the dense vector may grow by: small gaps (deleted
// records) stay dense, a seq of 10^18 in a doctored line does not allocate.
constexpr uint64_t DENSE_SLACK = 4096;
}  // namespace _

bool SeqIndex::fitsDense(uint64_t seq) const {
  return seq >= base_ && seq - base_ < 2 * count_ + _::DENSE_SLACK;
}

kj::Maybe<uint64_t> SeqIndex::positionOf(uint64_t seq) const {
  if (!started_) return nullptr;
  if (seq >= base_ && seq - base_ < dense_.size() && dense_[seq - base_] != 0) {
    return dense_[seq - base_];
  }
  auto found = sparse_.find(seq);
  if (found != sparse_.end()) return found->second;
  return nullptr;
}

kj::Maybe<uint64_t> SeqIndex::add(uint64_t seq, uint64_t position) {
  KJ_REQUIRE(position > 0, "positions start at 1");
  if (!started_) {
    started_ = true;
    base_ = seq;
  }
  KJ_IF_MAYBE(earlier, positionOf(seq)) { return *earlier; }
  ++count_;
  if (fitsDense(seq)) {
    if (seq - base_ >= dense_.size()) dense_.resize(seq - base_ + 1, 0);
    dense_[seq - base_] = position;
  } else {
    sparse_.emplace(seq, position);
  }
  return nullptr;
}

std::vector<uint64_t> SeqIndex::sortedSeqs() const {
  std::vector<uint64_t> seqs;
  seqs.reserve(count_);
  for (uint64_t i = 0; i < dense_.size(); ++i) {
    if (dense_[i] != 0) seqs.push_back(base_ + i);
  }
  for (auto& [seq, position] : sparse_) seqs.push_back(seq);
  if (!sparse_.empty()) std::sort(seqs.begin(), seqs.end());
  return seqs;
}

}  // namespace airlock::audit
