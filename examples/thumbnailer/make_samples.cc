// thumbnailer-samples DIR: writes the sample images the demo and the tests decode.
//   sunset.png     96x64 vertical gradient with a disc (valid)
//   checker.png    48x48 checkerboard (valid)
//   truncated.png  sunset.png cut in half (libpng reports an error)
//   not-a-png.png  text with a .png name

#include <png.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace {

bool writeGrey(const std::string& path, unsigned width, unsigned height,
               const std::vector<png_byte>& pixels) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  image.width = width;
  image.height = height;
  image.format = PNG_FORMAT_GRAY;
  if (!png_image_write_to_file(&image, path.c_str(), 0, pixels.data(), 0, nullptr)) {
    fprintf(stderr, "thumbnailer-samples: %s: %s\n", path.c_str(), image.message);
    return false;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: thumbnailer-samples DIR\n");
    return 2;
  }
  std::string dir = argv[1];
  const unsigned w = 96, h = 64;
  std::vector<png_byte> sunset(w * h);
  for (unsigned y = 0; y < h; ++y) {
    for (unsigned x = 0; x < w; ++x) {
      double dx = x - 48.0, dy = y - 40.0;
      bool disc = std::sqrt(dx * dx + dy * dy) < 18;
      sunset[y * w + x] = disc ? 255 : png_byte(y * 200 / h);
    }
  }
  std::vector<png_byte> checker(48 * 48);
  for (unsigned y = 0; y < 48; ++y) {
    for (unsigned x = 0; x < 48; ++x) checker[y * 48 + x] = ((x / 12 + y / 12) % 2) ? 255 : 0;
  }
  if (!writeGrey(dir + "/sunset.png", w, h, sunset)) return 1;
  if (!writeGrey(dir + "/checker.png", 48, 48, checker)) return 1;

  std::ifstream in(dir + "/sunset.png", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir + "/truncated.png", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  std::ofstream(dir + "/not-a-png.png") << "this is not an image\n";
  return 0;
}
