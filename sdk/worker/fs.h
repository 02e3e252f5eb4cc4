#pragma once
// The worker SDK's file access: every call is a request to airlockd, which checks it against the
// unit's fs.* rules, acts beneath the granted directory (never following a symlink), writes one
// audit record and answers. Included by worker.h; the broker's end is broker/caps/fs.cc.
//
// Each answer is ok, denied (the policy refused: the message names the deciding rule) or failed
// (allowed, but the file system said no: the message has the errno name).

#include <kj/io.h>

#include <cstdint>
#include <string>
#include <vector>

namespace airlock {

// How to open a file through the broker, by name: `airlock::Open::WRITE | airlock::Open::CREATE`
// rather than a row of positional bools that reads the same whichever is set.
enum class Open : uint8_t {
  READ = 1,
  WRITE = 2,
  CREATE = 4,
  TRUNCATE = 8,
  APPEND = 16,
  EXCLUSIVE = 32,  // with CREATE: fail (EEXIST) if the path exists, even as a symlink
};

class OpenFlags {
 public:
  constexpr OpenFlags() = default;
  constexpr OpenFlags(Open flag) : bits_(static_cast<uint8_t>(flag)) {}  // NOLINT: implicit
  constexpr bool has(Open flag) const { return bits_ & static_cast<uint8_t>(flag); }
  constexpr OpenFlags operator|(OpenFlags other) const { return OpenFlags(bits_ | other.bits_); }

  static constexpr OpenFlags readOnly() { return Open::READ; }
  static constexpr OpenFlags writeOnly() { return Open::WRITE; }
  static constexpr OpenFlags createExclusive() {
    return OpenFlags(Open::WRITE) | Open::CREATE | Open::EXCLUSIVE;
  }

 private:
  constexpr explicit OpenFlags(int bits) : bits_(static_cast<uint8_t>(bits)) {}
  uint8_t bits_ = 0;
};

constexpr OpenFlags operator|(Open a, Open b) { return OpenFlags(a) | b; }

// What every brokered fs answer says besides its value.
class FsStatus {
 public:
  static FsStatus done() { return FsStatus(Kind::DONE, ""); }
  static FsStatus denied(std::string reason) { return FsStatus(Kind::DENIED, kj::mv(reason)); }
  static FsStatus failed(std::string reason) { return FsStatus(Kind::FAILED, kj::mv(reason)); }

  bool ok() const { return kind_ == Kind::DONE; }
  bool wasDenied() const { return kind_ == Kind::DENIED; }
  const std::string& message() const { return message_; }  // empty if ok()

 private:
  enum class Kind { DONE, DENIED, FAILED };
  FsStatus(Kind kind, std::string message) : kind_(kind), message_(kj::mv(message)) {}
  Kind kind_;
  std::string message_;
};

// The answer to a brokered open: an fd the caller now owns, or why there is none.
class OpenedFile {
 public:
  static OpenedFile opened(kj::AutoCloseFd fd);
  static OpenedFile denied(std::string reason);   // the policy refused it
  static OpenedFile failed(std::string reason);   // allowed, but the open failed (e.g. ENOENT)

  bool ok() const { return fd_.get() >= 0; }
  bool wasDenied() const { return denied_; }
  int fd() const { return fd_.get(); }            // -1 unless ok()
  kj::AutoCloseFd takeFd() { return kj::mv(fd_); }
  const std::string& message() const { return message_; }

 private:
  kj::AutoCloseFd fd_;
  bool denied_ = false;
  std::string message_;
};

enum class FileType { REGULAR, DIRECTORY, SYMLINK, OTHER };  // OTHER: device, FIFO, socket
enum class SpecialFile { CHARACTER_DEVICE, BLOCK_DEVICE, FIFO, SOCKET };

struct FileInfo {
  FileType type = FileType::OTHER;  // of the path itself: a symlink is never followed
  uint64_t size = 0;
  uint32_t permissions = 0;         // st_mode & 07777
  int64_t modifiedNs = 0;           // since the epoch
};

struct Stat {
  FsStatus status;
  FileInfo info;  // meaningful if status.ok()
};

struct DirEntry {
  std::string name;
  FileType type = FileType::OTHER;
};

struct Listing {
  FsStatus status;
  std::vector<DirEntry> entries;  // sorted by name, no "." or ".."; empty unless status.ok()
};

struct TempFile {
  OpenedFile file;   // read-write, mode 0600; its status is the answer's
  std::string path;  // the name the broker chose; empty unless file.ok()
};

class Fs {
 public:
  virtual ~Fs() noexcept(false) = default;
  // Every `path` is an absolute host path under a directory the unit's policy grants for that
  // operation. Each call blocks until the broker answers.
  virtual OpenedFile open(const std::string& path, OpenFlags flags) = 0;  // fs.open
  virtual Stat stat(const std::string& path) = 0;                           // fs.stat
  virtual Listing list(const std::string& path) = 0;                        // fs.list
  virtual FsStatus mkdir(const std::string& path) = 0;                      // fs.mkdir, mode 0750
  virtual FsStatus unlink(const std::string& path) = 0;                     // fs.unlink
  virtual FsStatus rename(const std::string& from, const std::string& to) = 0;  // fs.rename
  virtual TempFile createTemp(const std::string& directory, const std::string& prefix) = 0;
  // A new file in `directory` named `prefix` and 12 random characters; decided as fs.open with
  // read,write,create. `prefix`: [A-Za-z0-9._-]{0,64}, not starting with '.'.
  virtual FsStatus symlink(const std::string& target, const std::string& path) = 0;
  // fs.symlink: `target` must be relative, with '..' only at its start, and stay beneath the
  // granted directory.
  virtual FsStatus mknod(const std::string& path, SpecialFile kind) = 0;
  // Always denied: the broker never makes device nodes, FIFOs or sockets. The refusal is audited.
};

}  // namespace airlock
