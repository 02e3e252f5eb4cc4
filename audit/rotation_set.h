#pragma once
// The files of a rotated audit log, read only at their ends: which file each one continues
// (its first record, CONTINUED_EVENT in chain.h) and where each one ends (its last whole line's
// seq and hash). From these the verifier finds the order the files chain in, a file missing from
// the set, and files given out of order, before it walks their records.
//
// Reads the files only; callable from any thread.

#include <kj/common.h>

#include <cstdint>
#include <string>
#include <vector>

namespace airlock::audit {

// What a file's first record says about the file before it.
struct Continuation {
  std::string fromFile;  // the name the file before it was rotated to
  uint64_t fromSeq = 0;  // that file's last seq
  std::string fromHash;  // that file's last line's hash
};

struct SetFileEnds {
  kj::Maybe<Continuation> continues;  // null: the file starts a log (or its first line is bad)
  bool hasLastLine = false;           // false for an empty or unreadable file
  uint64_t lastSeq = 0;
  std::string lastHash;               // of its last whole line
};

// The files airlockd has written for the log `path`: every rotated `path.<20 digits>` oldest
// first, then `path` itself (whether or not it exists). What `path.* path` means in a shell.
std::vector<std::string> listRotationSet(const std::string& path);

// The ends of the file at `path`; a file that cannot be read has neither (the walk says why).
SetFileEnds readFileEnds(const std::string& path);

struct SetOrder {
  std::vector<size_t> walk;                       // indices of the files in the order they chain
  std::vector<kj::Maybe<size_t>> predecessor;     // per file: the file it continues, if given
};

// The order the files chain in: each file right after the file its first record names (matched
// by that file's last seq and hash, not by name: files may be copied and renamed), and files
// whose predecessor is not in the set starting a new run, in the order given.
SetOrder orderBySuccession(const std::vector<SetFileEnds>& files);

}  // namespace airlock::audit
