// thumbnailer-host: an application that used to link libpng and now asks the thumbnailer unit,
// through airlockd, to do the decoding.
//
//   thumbnailer-host --socket PATH --key NAME.key --broker-key broker.pub [--open-directly] FILE...

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <kj/debug.h>

#include "sdk/host/client.h"

int main(int argc, char** argv) {
  const char* usage =
      "usage: thumbnailer-host --socket PATH --key NAME.key --broker-key broker.pub "
      "[--open-directly] FILE...\n";
  std::string socket, key, brokerKey, method = "thumbnail";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (!strcmp(argv[i], "--key") && i + 1 < argc) {
      key = argv[++i];
    } else if (!strcmp(argv[i], "--broker-key") && i + 1 < argc) {
      brokerKey = argv[++i];
    } else if (!strcmp(argv[i], "--open-directly")) {
      method = "open-directly";
    } else if (!strcmp(argv[i], "--help")) {
      fputs(usage, stdout);
      return 0;
    } else {
      files.push_back(argv[i]);
    }
  }
  if (socket.empty() || key.empty() || brokerKey.empty() || files.empty()) {
    fputs(usage, stderr);
    return 2;
  }
  int failures = 0;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto broker = airlock::Client::connect(socket, key, brokerKey);
    auto unit = broker.unit("thumbnailer");
    for (auto& file : files) {
      auto outcome = unit.call(method, file);
      if (outcome.ok()) {
        printf("%s: %s", file.c_str(), outcome.payload().c_str());
        if (outcome.payload().empty() || outcome.payload().back() != '\n') printf("\n");
      } else {
        ++failures;
        printf("%s: ERROR %s\n", file.c_str(), outcome.describe().c_str());
      }
      fflush(stdout);
    }
  })) {
    fprintf(stderr, "thumbnailer-host: %s\n", exception->getDescription().cStr());
    return 2;
  }
  return failures == 0 ? 0 : 1;
}
