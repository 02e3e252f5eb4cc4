#include "examples/extractor/extract.h"

#include <archive.h>
#include <archive_entry.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <vector>

namespace extractor {
namespace {

constexpr size_t BLOCK_BYTES = 64 * 1024;
constexpr size_t MAX_NAME_IN_REPORT = 256;

enum class Outcome { EXTRACTED, REFUSED, FAILED };

struct EntryResult {
  Outcome outcome;
  std::string detail;
};

struct ArchiveFree {
  void operator()(archive* reader) const { archive_read_free(reader); }
};

// Names come from the archive: control and non-ASCII bytes are shown as \xNN so that no entry can
// forge a line of the report.
std::string escaped(std::string_view text) {
  std::string out;
  for (unsigned char c : text.substr(0, MAX_NAME_IN_REPORT)) {
    if (c < 0x20 || c >= 0x7f || c == '\\') {
      char hex[5];
      snprintf(hex, sizeof(hex), "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (text.size() > MAX_NAME_IN_REPORT) out += "...";
  return out;
}

// The naive join: a relative name goes under the output directory, an absolute one is used as is.
// Only spellings that mean the same path are dropped ("./" in front, "/" at the end of a
// directory); `..` and absolute names are left for the broker to judge.
std::string targetPath(const std::string& outputDir, std::string name) {
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  while (name.rfind("./", 0) == 0) name.erase(0, 2);
  if (!name.empty() && name[0] == '/') return name;
  return outputDir + "/" + name;
}

EntryResult fromStatus(const airlock::FsStatus& status, std::string done) {
  if (status.ok()) return {Outcome::EXTRACTED, kj::mv(done)};
  return {status.wasDenied() ? Outcome::REFUSED : Outcome::FAILED, status.message()};
}

EntryResult fromOpen(const airlock::OpenedFile& file) {
  return {file.wasDenied() ? Outcome::REFUSED : Outcome::FAILED, file.message()};
}

std::string errnoText(const char* what, int error) {
  return std::string(what) + ": " + strerrorname_np(error) + " (" + strerror(error) + ")";
}

bool writeAll(int fd, const char* data, size_t size, int& error) {
  while (size > 0) {
    ssize_t n = write(fd, data, size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error = errno;
      return false;
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

class Extractor {
 public:
  Extractor(airlock::Fs& fs, archive* reader, const std::string& outputDir)
      : fs_(fs), reader_(reader), outputDir_(outputDir), buffer_(BLOCK_BYTES) {}

  // Recreates one entry. Sets `broken_` if the archive's data cannot be read.
  EntryResult entry(archive_entry* entry, const std::string& path) {
    if (const char* linked = archive_entry_hardlink(entry)) return hardlink(linked, path);
    switch (archive_entry_filetype(entry)) {
      case AE_IFDIR: return fromStatus(fs_.mkdir(path), "directory made");
      case AE_IFREG: return regular(path);
      case AE_IFLNK: {
        const char* target = archive_entry_symlink(entry);
        return fromStatus(fs_.symlink(target ? target : "", path), "link made");
      }
      case AE_IFCHR: return special(path, airlock::SpecialFile::CHARACTER_DEVICE);
      case AE_IFBLK: return special(path, airlock::SpecialFile::BLOCK_DEVICE);
      case AE_IFIFO: return special(path, airlock::SpecialFile::FIFO);
      case AE_IFSOCK: return special(path, airlock::SpecialFile::SOCKET);
      default: return {Outcome::FAILED, "unknown entry type"};
    }
  }

  bool broken() const { return broken_; }

 private:
  EntryResult regular(const std::string& path) {
    auto file = fs_.open(path, airlock::OpenFlags::createExclusive());
    if (!file.ok()) return fromOpen(file);
    // A write past the unit's file_size_mib fails with EFBIG (the worker is PID 1 of its
    // namespace, so the kernel's SIGXFSZ is not delivered): the entry is reported as failed.
    uint64_t total = 0;
    for (;;) {
      la_ssize_t n = archive_read_data(reader_, buffer_.data(), buffer_.size());
      if (n == 0) break;
      if (n < 0) {
        broken_ = true;
        return {Outcome::FAILED, std::string("archive data: ") + archive_error_string(reader_)};
      }
      int error = 0;
      if (!writeAll(file.fd(), buffer_.data(), static_cast<size_t>(n), error)) {
        return {Outcome::FAILED, errnoText("write", error)};
      }
      total += static_cast<uint64_t>(n);
    }
    return {Outcome::EXTRACTED, std::to_string(total) + " bytes"};
  }

  // A hard link becomes a copy of the entry it names, read back through the broker: the worker
  // can link nothing, and the source must pass the policy like any other path.
  EntryResult hardlink(const std::string& linked, const std::string& path) {
    auto source = fs_.open(targetPath(outputDir_, linked), airlock::OpenFlags::readOnly());
    if (!source.ok()) return fromOpen(source);
    auto copy = fs_.open(path, airlock::OpenFlags::createExclusive());
    if (!copy.ok()) return fromOpen(copy);
    uint64_t total = 0;
    for (;;) {
      ssize_t n = read(source.fd(), buffer_.data(), buffer_.size());
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return {Outcome::FAILED, errnoText("read", errno)};
      if (n == 0) break;
      int error = 0;
      if (!writeAll(copy.fd(), buffer_.data(), static_cast<size_t>(n), error)) {
        return {Outcome::FAILED, errnoText("write", error)};
      }
      total += static_cast<uint64_t>(n);
    }
    return {Outcome::EXTRACTED, "copied " + std::to_string(total) + " bytes"};
  }

  EntryResult special(const std::string& path, airlock::SpecialFile kind) {
    return fromStatus(fs_.mknod(path, kind), "node made");
  }

  airlock::Fs& fs_;
  archive* reader_;
  const std::string& outputDir_;
  std::vector<char> buffer_;
  bool broken_ = false;
};

const char* kindName(archive_entry* entry) {
  if (archive_entry_hardlink(entry)) return "hardlink";
  switch (archive_entry_filetype(entry)) {
    case AE_IFDIR: return "dir";
    case AE_IFREG: return "file";
    case AE_IFLNK: return "symlink";
    case AE_IFCHR: return "chardev";
    case AE_IFBLK: return "blockdev";
    case AE_IFIFO: return "fifo";
    case AE_IFSOCK: return "socket";
    default: return "other";
  }
}

std::string describe(archive_entry* entry, const char* name) {
  std::string text = std::string(kindName(entry)) + " " + escaped(name);
  if (const char* linked = archive_entry_hardlink(entry)) {
    text += " => " + escaped(linked);
  } else if (archive_entry_filetype(entry) == AE_IFLNK && archive_entry_symlink(entry)) {
    text += " -> " + escaped(archive_entry_symlink(entry));
  }
  return text;
}

}  // namespace

Extraction extractArchive(airlock::Fs& fs, int archiveFd, const std::string& outputDir) {
  Extraction result;
  std::unique_ptr<archive, ArchiveFree> reader(archive_read_new());
  // Only the decompressors built into libarchive: the "all" set would also try external
  // programs (lrzip, lzop, ...), which a worker cannot start.
  archive_read_support_filter_gzip(reader.get());
  archive_read_support_filter_bzip2(reader.get());
  archive_read_support_filter_xz(reader.get());
  archive_read_support_filter_zstd(reader.get());
  archive_read_support_format_all(reader.get());
  if (archive_read_open_fd(reader.get(), archiveFd, BLOCK_BYTES) != ARCHIVE_OK) {
    result.readable = false;
    result.error = archive_error_string(reader.get());
    return result;
  }
  Extractor extractor(fs, reader.get(), outputDir);
  unsigned counts[3] = {0, 0, 0};
  for (;;) {
    archive_entry* entry = nullptr;
    int status = archive_read_next_header(reader.get(), &entry);
    if (status == ARCHIVE_EOF) break;
    if (status < ARCHIVE_WARN) {
      result.readable = false;
      result.error = archive_error_string(reader.get());
      break;
    }
    const char* name = archive_entry_pathname(entry);
    EntryResult outcome = name ? extractor.entry(entry, targetPath(outputDir, name))
                               : EntryResult{Outcome::FAILED, "the entry has no readable name"};
    static const char* const WORDS[] = {"extracted", "refused", "failed"};
    result.report += std::string(WORDS[static_cast<int>(outcome.outcome)]) + " " +
                     describe(entry, name ? name : "") + ": " + outcome.detail + "\n";
    ++counts[static_cast<int>(outcome.outcome)];
    if (extractor.broken()) {
      result.readable = false;
      result.error = archive_error_string(reader.get());
      break;
    }
  }
  result.report += std::to_string(counts[0] + counts[1] + counts[2]) + " entries: " +
                   std::to_string(counts[0]) + " extracted, " + std::to_string(counts[1]) +
                   " refused, " + std::to_string(counts[2]) + " failed\n";
  return result;
}

}  // namespace extractor
