// extractor-worker: libarchive moved out of the host application into an airlock worker.
//
// Method:
//   extract  payload: "ARCHIVE_PATH\nOUTPUT_DIR". Opens the archive through the broker (fs.open,
//            read), reads it with libarchive and recreates each entry under OUTPUT_DIR through
//            brokered fs calls only (fs.mkdir, fs.open create+exclusive, fs.symlink, fs.mknod).
//            Answers one line per entry: `extracted`, `refused` (the broker's policy said no,
//            naming the rule) or `failed` (allowed, but the file system said no), then a summary.
//            The call fails only when the archive cannot be opened or is broken.

#include <string>

#include "examples/extractor/extract.h"
#include "sdk/worker/worker.h"

namespace {

airlock::Reply extract(airlock::Call& call) {
  std::string payload(call.payload());
  size_t newline = payload.find('\n');
  if (newline == std::string::npos) {
    return airlock::Reply::error("payload must be \"ARCHIVE_PATH\\nOUTPUT_DIR\"");
  }
  std::string archivePath = payload.substr(0, newline), outputDir = payload.substr(newline + 1);
  auto archive = call.fs().open(archivePath, airlock::OpenFlags::readOnly());
  if (!archive.ok()) {
    std::string why = archive.wasDenied() ? "broker refused the archive: " : "cannot open it: ";
    return airlock::Reply::error(why + archive.message());
  }
  auto extraction = extractor::extractArchive(call.fs(), archive.fd(), outputDir);
  if (!extraction.readable) {
    return airlock::Reply::error("broken archive: " + extraction.error + "\n" + extraction.report);
  }
  return airlock::Reply::ok(extraction.report);
}

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("extract", extract);
  return worker.serve();
}
