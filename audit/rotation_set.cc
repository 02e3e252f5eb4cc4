#include "audit/rotation_set.h"

#include <fcntl.h>
#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kj/debug.h>
#include <kj/io.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "audit/chain.h"
#include "audit/json_fields.h"

namespace airlock::audit {

namespace _ {

// Reads bytes [offset, offset + length) of `fd`; shorter at the end of the file.
std::string readAt(int fd, uint64_t offset, uint64_t length) {
  std::string bytes(length, '\0');
  ssize_t n = pread(fd, bytes.data(), length, offset);
  bytes.resize(n > 0 ? n : 0);
  return bytes;
}

// The first line (without '\n'), or empty if the file has no whole line.
std::string firstLine(int fd, uint64_t size) {
  for (uint64_t length = 4096;; length *= 2) {
    uint64_t wanted = std::min(length, size);
    std::string head = readAt(fd, 0, wanted);
    auto newline = head.find('\n');
    if (newline != std::string::npos) return head.substr(0, newline);
    if (head.size() >= size || head.size() < wanted) return "";  // all of it, or a read fell short
  }
}

// The last whole line (without '\n'), before a partial last line if there is one.
std::string lastWholeLine(int fd, uint64_t size) {
  for (uint64_t length = 4096;; length *= 2) {
    uint64_t start = size > length ? size - length : 0;
    std::string tail = readAt(fd, start, size - start);
    if (tail.size() < size - start) return "";  // a read error, or the file shrank meanwhile
    auto end = tail.rfind('\n');
    if (end == std::string::npos) {
      if (start == 0) return "";
      continue;
    }
    auto before = end == 0 ? std::string::npos : tail.rfind('\n', end - 1);
    if (before != std::string::npos) return tail.substr(before + 1, end - before - 1);
    if (start == 0) return tail.substr(0, end);
  }
}

kj::Maybe<Continuation> continuationIn(const std::string& line) {
  auto j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (stringField(j, "event") != CONTINUED_EVENT || !j.contains("args")) return nullptr;
  auto& args = j["args"];
  if (!args.is_object() || !args.contains("from_file") || !args["from_file"].is_string() ||
      !hasUnsignedField(args, "from_seq") || !args.contains("from_hash") ||
      !args["from_hash"].is_string()) {
    return nullptr;
  }
  // Built field by field: returned brace-initialised, GCC 12 at -O3 (Release) warns that the
  // Maybe's strings may be used uninitialised, a false positive that -Werror makes fatal.
  Continuation continuation;
  continuation.fromFile = args["from_file"].get<std::string>();
  continuation.fromSeq = args["from_seq"].get<uint64_t>();
  continuation.fromHash = args["from_hash"].get<std::string>();
  return kj::mv(continuation);
}

}  // namespace _

std::vector<std::string> listRotationSet(const std::string& path) {
  std::vector<std::string> files;
  glob_t found;
  // GLOB_NOSORT off: glob sorts, and the zero-padded seqs make that sort the rotation order.
  if (glob((path + ".[0-9]*").c_str(), GLOB_NOESCAPE, nullptr, &found) == 0) {
    for (size_t i = 0; i < found.gl_pathc; ++i) files.push_back(found.gl_pathv[i]);
  }
  globfree(&found);
  files.push_back(path);
  return files;
}

SetFileEnds readFileEnds(const std::string& path) {
  SetFileEnds ends;
  // O_NONBLOCK: a FIFO given as a log must not hold the verifier up here; it is refused by name
  // when the walk opens it (whyNotALogFile).
  int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (raw < 0) return ends;
  kj::AutoCloseFd fd(raw);
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) return ends;
  ends.continues = _::continuationIn(_::firstLine(fd.get(), st.st_size));
  std::string last = _::lastWholeLine(fd.get(), st.st_size);
  auto j = nlohmann::json::parse(last, nullptr, /*allow_exceptions=*/false);
  if (hasUnsignedField(j, "seq")) {
    ends.hasLastLine = true;
    ends.lastSeq = j["seq"].get<uint64_t>();
    ends.lastHash = lineHashHex(last);
  }
  return ends;
}

SetOrder orderBySuccession(const std::vector<SetFileEnds>& files) {
  SetOrder order;
  order.predecessor.resize(files.size());
  std::vector<kj::Maybe<size_t>> successor(files.size());
  for (size_t i = 0; i < files.size(); ++i) {
    KJ_IF_MAYBE(continuation, files[i].continues) {
      for (size_t j = 0; j < files.size(); ++j) {
        if (j == i || !files[j].hasLastLine || files[j].lastSeq != continuation->fromSeq ||
            files[j].lastHash != continuation->fromHash || successor[j] != nullptr) {
          continue;
        }
        order.predecessor[i] = j;
        successor[j] = i;
        break;
      }
    }
  }
  std::vector<bool> walked(files.size(), false);
  auto walkFrom = [&](size_t first) {
    for (kj::Maybe<size_t> next = first; next != nullptr;) {
      size_t at = KJ_ASSERT_NONNULL(next);
      if (walked[at]) break;
      walked[at] = true;
      order.walk.push_back(at);
      next = successor[at];
    }
  };
  for (size_t i = 0; i < files.size(); ++i) {
    if (order.predecessor[i] == nullptr) walkFrom(i);
  }
  for (size_t i = 0; i < files.size(); ++i) walkFrom(i);  // a cycle: only by a hash collision
  return order;
}

}  // namespace airlock::audit
