// extractor-host: an application that used to link libarchive and now asks the extractor unit,
// through airlockd, to unpack archives. Prints the worker's per-entry report for each archive.
//
//   extractor-host --socket PATH --key NAME.key --broker-key broker.pub --out DIR ARCHIVE...

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <kj/debug.h>

#include "sdk/host/client.h"

int main(int argc, char** argv) {
  const char* usage =
      "usage: extractor-host --socket PATH --key NAME.key --broker-key broker.pub --out DIR "
      "ARCHIVE...\n";
  std::string socket, key, brokerKey, outputDir;
  std::vector<std::string> archives;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
      key = argv[++i];
    } else if (!strcmp(argv[i], "--broker-key") && i + 1 < argc) {
      brokerKey = argv[++i];
    } else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
      outputDir = argv[++i];
    } else if (!strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return 0;
    } else {
      archives.push_back(argv[i]);
    }
  }
  if (socket.empty() || key.empty() || brokerKey.empty() || outputDir.empty() || archives.empty()) {
    fputs(usage, stderr);
    return 2;
  }
  int failures = 0;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto broker = airlock::Client::connect(socket, key, brokerKey);
    auto unit = broker.unit("extractor");
    for (auto& archive : archives) {
      auto outcome = unit.call("extract", archive + "\n" + outputDir);
      printf("== %s\n", archive.c_str());
      if (outcome.ok()) {
        fputs(outcome.payload().c_str(), stdout);
      } else {
        ++failures;
        printf("ERROR %s\n", outcome.describe().c_str());
      }
      fflush(stdout);
    }
  })) {
    fprintf(stderr, "extractor-host: %s\n", exception->getDescription().cStr());
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
