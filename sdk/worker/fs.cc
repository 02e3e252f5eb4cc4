// The worker's end of fs.* (broker/caps/fs.cc is the broker's): one request per call, waited on.

#include "sdk/worker/fs.h"

#include <fcntl.h>

#include <kj/debug.h>

#include "sdk/worker/brokered_fs.h"

namespace airlock {

namespace _ {
namespace {

// Any of worker.capnp's result unions (each has denied and failed beside its success member) as
// a status.
template <typename Result>
FsStatus statusOf(Result result) {
  if (result.isDenied()) return FsStatus::denied(result.getDenied());
  if (result.isFailed()) return FsStatus::failed(result.getFailed());
  return FsStatus::done();
}

FileType fileTypeOf(rpc::FileType type) {
  switch (type) {
    case rpc::FileType::REGULAR: return FileType::REGULAR;
    case rpc::FileType::DIRECTORY: return FileType::DIRECTORY;
    case rpc::FileType::SYMLINK: return FileType::SYMLINK;
    case rpc::FileType::OTHER: return FileType::OTHER;
  }
  return FileType::OTHER;
}

rpc::SpecialFile toRpc(SpecialFile kind) {
  switch (kind) {
    case SpecialFile::CHARACTER_DEVICE: return rpc::SpecialFile::CHARACTER_DEVICE;
    case SpecialFile::BLOCK_DEVICE: return rpc::SpecialFile::BLOCK_DEVICE;
    case SpecialFile::FIFO: return rpc::SpecialFile::FIFO;
    case SpecialFile::SOCKET: return rpc::SpecialFile::SOCKET;
  }
  return rpc::SpecialFile::FIFO;
}

class BrokeredFs final : public Fs {
 public:
  BrokeredFs(rpc::Fs::Client fs, kj::WaitScope& waitScope)
      : fs_(kj::mv(fs)), waitScope_(waitScope) {}

  OpenedFile open(const std::string& path, OpenFlags flags) override {
    auto request = fs_.openRequest();
    request.setPath(path);
    auto mode = request.initMode();
    mode.setRead(flags.has(Open::READ));
    mode.setWrite(flags.has(Open::WRITE));
    mode.setCreate(flags.has(Open::CREATE));
    mode.setTruncate(flags.has(Open::TRUNCATE));
    mode.setAppend(flags.has(Open::APPEND));
    mode.setExclusive(flags.has(Open::EXCLUSIVE));
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    switch (result.which()) {
      case rpc::OpenResult::FILE: return fileFrom(result.getFile(), waitScope_);
      case rpc::OpenResult::DENIED: return OpenedFile::denied(result.getDenied());
      case rpc::OpenResult::FAILED: return OpenedFile::failed(result.getFailed());
    }
    return OpenedFile::failed("unknown answer from broker");
  }

  Stat stat(const std::string& path) override {
    auto request = fs_.statRequest();
    request.setPath(path);
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    Stat out{statusOf(result), {}};
    if (result.isInfo()) {
      auto info = result.getInfo();
      out.info = FileInfo{fileTypeOf(info.getType()), info.getSize(), info.getPermissions(),
                          info.getModifiedNs()};
    }
    return out;
  }

  Listing list(const std::string& path) override {
    auto request = fs_.listRequest();
    request.setPath(path);
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    Listing out{statusOf(result), {}};
    if (result.isEntries()) {
      for (auto entry : result.getEntries()) {
        out.entries.push_back(DirEntry{entry.getName(), fileTypeOf(entry.getType())});
      }
    }
    return out;
  }

  FsStatus mkdir(const std::string& path) override {
    auto request = fs_.mkdirRequest();
    request.setPath(path);
    return statusOf(request.send().wait(waitScope_).getResult());
  }

  FsStatus unlink(const std::string& path) override {
    auto request = fs_.unlinkRequest();
    request.setPath(path);
    return statusOf(request.send().wait(waitScope_).getResult());
  }

  FsStatus rename(const std::string& from, const std::string& to) override {
    auto request = fs_.renameRequest();
    request.setFrom(from);
    request.setTo(to);
    return statusOf(request.send().wait(waitScope_).getResult());
  }

  TempFile createTemp(const std::string& directory, const std::string& prefix) override {
    auto request = fs_.createTempRequest();
    request.setDirectory(directory);
    request.setPrefix(prefix);
    auto response = request.send().wait(waitScope_);
    auto result = response.getResult();
    switch (result.which()) {
      case rpc::TempResult::CREATED: {
        auto created = result.getCreated();
        OpenedFile file = fileFrom(created.getFile(), waitScope_);
        std::string path = file.ok() ? std::string(created.getPath()) : "";
        return TempFile{kj::mv(file), kj::mv(path)};
      }
      case rpc::TempResult::DENIED: return {OpenedFile::denied(result.getDenied()), ""};
      case rpc::TempResult::FAILED: return {OpenedFile::failed(result.getFailed()), ""};
    }
    return {OpenedFile::failed("unknown answer from broker"), ""};
  }

  FsStatus symlink(const std::string& target, const std::string& path) override {
    auto request = fs_.symlinkRequest();
    request.setTarget(target);
    request.setPath(path);
    return statusOf(request.send().wait(waitScope_).getResult());
  }

  FsStatus mknod(const std::string& path, SpecialFile kind) override {
    auto request = fs_.mknodRequest();
    request.setPath(path);
    request.setKind(toRpc(kind));
    return statusOf(request.send().wait(waitScope_).getResult());
  }

 private:
  rpc::Fs::Client fs_;
  kj::WaitScope& waitScope_;
};

}  // namespace

// The fd a File capability carries, dup'd so it outlives the capability (received fds arrive
// close-on-exec and are closed with the message).
OpenedFile fileFrom(rpc::File::Client file, kj::WaitScope& waitScope) {
  int received = file.getFd().wait(waitScope).orDefault(-1);
  if (received < 0) return OpenedFile::failed("broker answered without a file descriptor");
  int copy = fcntl(received, F_DUPFD_CLOEXEC, 0);
  KJ_SYSCALL(copy, "dup of brokered fd");
  return OpenedFile::opened(kj::AutoCloseFd(copy));
}

kj::Own<Fs> brokeredFs(rpc::Fs::Client fs, kj::WaitScope& waitScope) {
  return kj::heap<BrokeredFs>(kj::mv(fs), waitScope);
}

}  // namespace _

OpenedFile OpenedFile::opened(kj::AutoCloseFd fd) {
  OpenedFile f;
  f.fd_ = kj::mv(fd);
  return f;
}
OpenedFile OpenedFile::denied(std::string reason) {
  OpenedFile f;
  f.denied_ = true;
  f.message_ = kj::mv(reason);
  return f;
}
OpenedFile OpenedFile::failed(std::string reason) {
  OpenedFile f;
  f.message_ = kj::mv(reason);
  return f;
}

}  // namespace airlock
