#pragma once
// The extractor's untrusted part: libarchive reading an archive from an fd, each entry written
// only through brokered fs calls. Deliberately naive about names: an entry's path is used as the
// archive gives it (a relative one joined to the output directory, an absolute one as is), with
// no cleaning of `..`; the broker's policy is what keeps the entries inside the output directory.

#include <string>

#include "sdk/worker/fs.h"

namespace extractor {

struct Extraction {
  bool readable = true;  // false: the archive is broken; `error` says how
  std::string error;
  std::string report;    // one line per entry, then a summary line
};

// Reads the archive open on `archiveFd` and recreates its entries under `outputDir` through `fs`.
Extraction extractArchive(airlock::Fs& fs, int archiveFd, const std::string& outputDir);

}  // namespace extractor
