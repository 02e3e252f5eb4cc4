// thumbnailer-host: an application that used to link libpng and now asks the thumbnailer unit,
// through airlockd, to do the decoding.
//
//   thumbnailer-host --socket PATH [--open-directly] FILE...

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <kj/debug.h>

#include "sdk/host/client.h"

int main(int argc, char** argv) {
  std::string socket, method = "thumbnail";
  std::vector<std::string> files;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--socket") && i + 1 < argc) {
      socket = argv[++i];
    } else if (!strcmp(argv[i], "--open-directly")) {
      method = "open-directly";
    } else if (!strcmp(argv[i], "--help")) {
      printf("usage: thumbnailer-host --socket PATH [--open-directly] FILE...\n");
      return 0;
    } else {
      files.push_back(argv[i]);
    }
  }
  if (socket.empty() || files.empty()) {
    fprintf(stderr, "usage: thumbnailer-host --socket PATH [--open-directly] FILE...\n");
    return 2;
  }
  int failures = 0;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    auto broker = airlock::Client::connect(socket);
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
