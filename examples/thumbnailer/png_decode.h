#pragma once
// The untrusted library's job, in one call: decode a PNG with libpng and summarise it.
// Runs inside the sandbox; it sees only the fd the broker passed.

#include <string>
#include <string_view>

namespace thumbnailer {

struct Thumbnail {
  bool ok = false;
  std::string error;       // libpng's message when !ok
  unsigned width = 0, height = 0;
  std::string art;         // a small grey-scale thumbnail drawn with characters, one row per line
  unsigned long digest = 0;  // FNV-1a of the decoded grey pixels
};

// Reads the PNG from `fd` (not closed). `columns` is the thumbnail's width in characters.
Thumbnail decodePng(int fd, unsigned columns);

// The same for a PNG already in memory (the typed interface's `decode`).
Thumbnail decodePngBytes(std::string_view png, unsigned columns);

}  // namespace thumbnailer
