// A worker for the fs.* integration tests: each method makes one brokered fs request and answers
// what came back. Arguments are the payload's lines. A refusal answers an error starting
// "DENIED: " or "FAILED: " followed by the broker's message.
//
//   open-excl PATH DATA      open(write, create, exclusive); writes DATA
//   open-excl-no-create PATH open(write, exclusive) without create: a malformed request
//   stat PATH                "TYPE SIZE PERMISSIONS(octal)"
//   list PATH                one "NAME TYPE" line per entry
//   mkdir PATH | unlink PATH | rename FROM TO | symlink TARGET PATH   "done"
//   mknod PATH               asks for a FIFO
//   create-temp DIR PREFIX DATA  writes DATA through the fd, reads it back; answers the path
//   walk-from DIR NAME       opens DIR through the broker, then NAME relative to that directory
//                  fd itself (openat, as a library holding the fd would): "read: CONTENT" or
//                  "openat: ERRNO-NAME"
//   later MS OP ARG [ARG]  sleeps MS, then one change: mkdir PATH, unlink PATH, rename FROM TO,
//                  symlink TARGET PATH, create PATH (open write,create), temp DIR PREFIX

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "sdk/worker/worker.h"

namespace {

std::vector<std::string> lines(std::string_view payload) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= payload.size()) {
    size_t end = payload.find('\n', start);
    if (end == std::string_view::npos) end = payload.size();
    out.emplace_back(payload.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

airlock::Reply refusal(bool denied, const std::string& message) {
  return airlock::Reply::error(std::string(denied ? "DENIED: " : "FAILED: ") + message);
}

airlock::Reply answer(const airlock::FsStatus& status) {
  if (!status.ok()) return refusal(status.wasDenied(), status.message());
  return airlock::Reply::ok("done");
}

const char* typeName(airlock::FileType type) {
  switch (type) {
    case airlock::FileType::REGULAR: return "regular";
    case airlock::FileType::DIRECTORY: return "directory";
    case airlock::FileType::SYMLINK: return "symlink";
    case airlock::FileType::OTHER: return "other";
  }
  return "?";
}

airlock::Reply writeAll(int fd, const std::string& data) {
  if (write(fd, data.data(), data.size()) != static_cast<ssize_t>(data.size())) {
    return airlock::Reply::error(std::string("write: ") + strerror(errno));
  }
  return airlock::Reply::ok("wrote");
}

// One change to the tree (or a connect), made after a pause (the tests fill the audit log's disk meanwhile).
airlock::Reply later(airlock::Call& call) {
  auto args = lines(call.payload());
  if (args.size() < 3) return airlock::Reply::error("payload is MS\\nOP\\nARG[\\nARG]");
  long ms = std::stol(args[0]);
  struct timespec pause = {ms / 1000, (ms % 1000) * 1000000};
  nanosleep(&pause, nullptr);
  const std::string& op = args[1];
  std::string second = args.size() > 3 ? args[3] : "";
  auto& fs = call.fs();
  if (op == "mkdir") return answer(fs.mkdir(args[2]));
  if (op == "unlink") return answer(fs.unlink(args[2]));
  if (op == "rename") return answer(fs.rename(args[2], second));
  if (op == "symlink") return answer(fs.symlink(args[2], second));
  if (op == "create") {
    auto file = fs.open(args[2], airlock::Open::WRITE | airlock::Open::CREATE);
    return file.ok() ? airlock::Reply::ok("done") : refusal(file.wasDenied(), file.message());
  }
  if (op == "temp") {
    auto temp = fs.createTemp(args[2], second);
    if (!temp.file.ok()) return refusal(temp.file.wasDenied(), temp.file.message());
    return airlock::Reply::ok("done");
  }
  if (op == "connect" || op == "connect-unix") {
    auto socket = op == "connect"
                      ? call.net().connect(args[2], static_cast<uint16_t>(std::stoul(second)))
                      : call.net().connectUnix(args[2]);
    return socket.ok() ? airlock::Reply::ok("connected")
                       : refusal(socket.wasDenied(), socket.message());
  }
  return airlock::Reply::error("unknown change " + op);
}

airlock::Reply openExclusive(airlock::Call& call) {
  auto args = lines(call.payload());
  if (args.size() != 2) return airlock::Reply::error("payload is PATH\\nDATA");
  auto file = call.fs().open(args[0], airlock::OpenFlags::createExclusive());
  if (!file.ok()) return refusal(file.wasDenied(), file.message());
  return writeAll(file.fd(), args[1]);
}

airlock::Reply openExclusiveWithoutCreate(airlock::Call& call) {
  auto file = call.fs().open(std::string(call.payload()),
                             airlock::Open::WRITE | airlock::Open::EXCLUSIVE);
  if (!file.ok()) return refusal(file.wasDenied(), file.message());
  return airlock::Reply::ok("opened");
}

airlock::Reply statPath(airlock::Call& call) {
  auto stat = call.fs().stat(std::string(call.payload()));
  if (!stat.status.ok()) return refusal(stat.status.wasDenied(), stat.status.message());
  char permissions[16];
  snprintf(permissions, sizeof(permissions), "%04o", stat.info.permissions);
  return airlock::Reply::ok(std::string(typeName(stat.info.type)) + " " +
                            std::to_string(stat.info.size) + " " + permissions);
}

airlock::Reply listPath(airlock::Call& call) {
  auto listing = call.fs().list(std::string(call.payload()));
  if (!listing.status.ok()) return refusal(listing.status.wasDenied(), listing.status.message());
  std::string out;
  for (auto& entry : listing.entries) out += entry.name + " " + typeName(entry.type) + "\n";
  return airlock::Reply::ok(out);
}

airlock::Reply walkFrom(airlock::Call& call) {
  auto args = lines(call.payload());
  if (args.size() != 2) return airlock::Reply::error("payload is DIR\\nNAME");
  auto dir = call.fs().open(args[0], airlock::OpenFlags::readOnly());
  if (!dir.ok()) return refusal(dir.wasDenied(), dir.message());
  int fd = openat(dir.fd(), args[1].c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return airlock::Reply::ok(std::string("openat: ") + strerrorname_np(errno));
  kj::AutoCloseFd file(fd);
  char buffer[256];
  ssize_t n = read(file.get(), buffer, sizeof(buffer));
  return airlock::Reply::ok("read: " + std::string(buffer, n > 0 ? static_cast<size_t>(n) : 0));
}

airlock::Reply createTemp(airlock::Call& call) {
  auto args = lines(call.payload());
  if (args.size() != 3) return airlock::Reply::error("payload is DIR\\nPREFIX\\nDATA");
  auto temp = call.fs().createTemp(args[0], args[1]);
  if (!temp.file.ok()) return refusal(temp.file.wasDenied(), temp.file.message());
  auto wrote = writeAll(temp.file.fd(), args[2]);
  if (!wrote.isOk()) return wrote;
  std::string back(args[2].size(), '\0');
  if (pread(temp.file.fd(), back.data(), back.size(), 0) != static_cast<ssize_t>(back.size()) ||
      back != args[2]) {
    return airlock::Reply::error("read back differs: the fd is not read-write");
  }
  return airlock::Reply::ok(temp.path);
}

airlock::Reply twoArgs(airlock::Call& call,
                       airlock::FsStatus (airlock::Fs::*op)(const std::string&,
                                                            const std::string&)) {
  auto args = lines(call.payload());
  if (args.size() != 2) return airlock::Reply::error("payload is two lines");
  return answer((call.fs().*op)(args[0], args[1]));
}

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("later", later);
  worker.method("open-excl", openExclusive);
  worker.method("open-excl-no-create", openExclusiveWithoutCreate);
  worker.method("stat", statPath);
  worker.method("list", listPath);
  worker.method("mkdir", [](airlock::Call& call) {
    return answer(call.fs().mkdir(std::string(call.payload())));
  });
  worker.method("unlink", [](airlock::Call& call) {
    return answer(call.fs().unlink(std::string(call.payload())));
  });
  worker.method("rename", [](airlock::Call& call) { return twoArgs(call, &airlock::Fs::rename); });
  worker.method("symlink",
                [](airlock::Call& call) { return twoArgs(call, &airlock::Fs::symlink); });
  worker.method("mknod", [](airlock::Call& call) {
    return answer(call.fs().mknod(std::string(call.payload()), airlock::SpecialFile::FIFO));
  });
  worker.method("create-temp", createTemp);
  worker.method("walk-from", walkFrom);
  return worker.serve();
}
