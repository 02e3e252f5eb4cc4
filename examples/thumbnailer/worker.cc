// thumbnailer-worker: libpng moved out of the host application into an airlock worker.
//
// Methods:
//   thumbnail      payload: an absolute path under the granted images directory. Opens it
//                  through the broker (fs.open, read) and answers with the size, a digest of
//                  the pixels and a small character thumbnail.
//   open-directly  payload: any path. Tries open(2) itself, to show that the sandbox leaves the
//                  worker no files of the host: the answer is the errno it got.
//
// Typed interface (policies/interfaces/image_decoder.capnp, ImageDecoder): `decode` takes the PNG
// bytes themselves and answers with typed fields; `describe` says which libpng it is.

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include <png.h>

#include <airlock/examples/image_decoder.capnp.h>
#include <kj/debug.h>

#include <airlock/worker/worker.h>

#include "png_decode.h"

namespace {

constexpr unsigned THUMBNAIL_COLUMNS = 32;

airlock::Reply thumbnail(airlock::Call& call) {
  std::string path(call.payload());
  auto file = call.fs().open(path, airlock::OpenFlags::readOnly());
  if (!file.ok()) {
    return airlock::Reply::error(std::string(file.wasDenied() ? "broker refused: " : "open failed: ") +
                                 file.message());
  }
  auto decoded = thumbnailer::decodePng(file.fd(), THUMBNAIL_COLUMNS);
  if (!decoded.ok) return airlock::Reply::error("not a valid PNG: " + decoded.error);
  char header[128];
  snprintf(header, sizeof(header), "%ux%u digest %016lx\n", decoded.width, decoded.height,
           decoded.digest);
  return airlock::Reply::ok(header + decoded.art);
}

airlock::Reply openDirectly(airlock::Call& call) {
  std::string path(call.payload());
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    close(fd);
    return airlock::Reply::ok("opened " + path + " (the sandbox did NOT stop it)");
  }
  int error = errno;
  return airlock::Reply::ok("open(" + path + ") inside the sandbox failed: " +
                            strerrorname_np(error) + " (" + strerror(error) + ")");
}

class ImageDecoderServer final : public thumbnailer::rpc::ImageDecoder::Server {
 public:
  kj::Promise<void> decode(DecodeContext context) override {
    auto png = context.getParams().getPng();
    auto decoded = thumbnailer::decodePngBytes(
        std::string_view(reinterpret_cast<const char*>(png.begin()), png.size()),
        THUMBNAIL_COLUMNS);
    KJ_REQUIRE(decoded.ok, "not a valid PNG", decoded.error);
    auto results = context.getResults();
    results.setWidth(decoded.width);
    results.setHeight(decoded.height);
    results.setDigest(decoded.digest);
    results.setArt(decoded.art);
    return kj::READY_NOW;
  }

  kj::Promise<void> describe(DescribeContext context) override {
    context.getResults().setText(std::string("libpng ") + png_get_libpng_ver(nullptr));
    return kj::READY_NOW;
  }
};

}  // namespace

int main(int argc, char** argv) {
  airlock::Worker worker(argc, argv);
  worker.method("thumbnail", thumbnail);
  worker.method("open-directly", openDirectly);
  // The decoder needs none of the call's capabilities: the image comes in the params.
  worker.typed([](airlock::rpc::Capabilities::Reader) -> capnp::Capability::Client {
    return kj::heap<ImageDecoderServer>();
  });
  return worker.serve();
}
