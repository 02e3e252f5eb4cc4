// thumbnailer-host: an application that used to link libpng and now asks the thumbnailer unit,
// through airlockd, to do the decoding.
//
//   thumbnailer-host --socket PATH --key NAME.key --broker-key broker.pub
//                    [--open-directly | --typed | --typed-describe] FILE...
//
// By default each FILE is a path the worker opens through the broker (`thumbnail`). With
// --typed the host reads each FILE itself and sends its bytes to the unit's typed interface
// (ImageDecoder.decode); --typed-describe calls ImageDecoder.describe, which the shipped policy
// does not grant.

#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <kj/debug.h>

#include <fstream>
#include <sstream>

#include <airlock/examples/image_decoder.capnp.h>
#include <airlock/host/client.h>

namespace {

std::string readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  KJ_REQUIRE(in.good(), "cannot read", path);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// One call on the typed interface; returns false if it failed (printed).
bool callTyped(airlock::Client& broker, const std::string& method, const std::string& file) {
  auto decoder = broker.unit("thumbnailer").typed<thumbnailer::rpc::ImageDecoder>();
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    if (method == "describe") {
      auto answer = decoder.describeRequest().send().wait(broker.waitScope());
      printf("%s: %s\n", file.c_str(), answer.getText().cStr());
      return;
    }
    std::string png = readFile(file);
    auto request = decoder.decodeRequest();
    request.setPng(kj::arrayPtr(reinterpret_cast<const kj::byte*>(png.data()), png.size()));
    auto answer = request.send().wait(broker.waitScope());
    printf("%s: %ux%u digest %016lx (typed)\n%s", file.c_str(), answer.getWidth(),
           answer.getHeight(), static_cast<unsigned long>(answer.getDigest()),
           answer.getArt().cStr());
  })) {
    printf("%s: ERROR %s\n", file.c_str(), exception->getDescription().cStr());
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: thumbnailer-host --socket PATH --key NAME.key --broker-key broker.pub "
      "[--open-directly | --typed | --typed-describe] FILE...\n";
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
    } else if (!strcmp(argv[i], "--typed")) {
      method = "decode";
    } else if (!strcmp(argv[i], "--typed-describe")) {
      method = "describe";
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
      if (method == "decode" || method == "describe") {
        if (!callTyped(broker, method, file)) ++failures;
        fflush(stdout);
        continue;
      }
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
