#include "png_decode.h"

#include <png.h>
#include <unistd.h>

#include <cstdio>
#include <memory>
#include <vector>

namespace thumbnailer {

namespace {

// Images larger than this are refused before decoding (64 MiB of grey pixels).
constexpr size_t MAX_PIXELS = 64u << 20;

// Characters from dark to light.
constexpr char SHADES[] = " .:-=+*#%@";

struct FileCloser {
  void operator()(FILE* f) const { fclose(f); }
};

// Decodes an image whose header png_image_begin_read_* has read (`begun` false: it failed).
Thumbnail finishDecode(png_image& image, bool begun, unsigned columns) {
  Thumbnail result;
  if (!begun) {
    result.error = image.message;
    return result;
  }
  image.format = PNG_FORMAT_GRAY;
  size_t pixels = size_t(image.width) * image.height;
  if (pixels == 0 || pixels > MAX_PIXELS) {
    png_image_free(&image);
    result.error = "image dimensions out of range";
    return result;
  }
  std::vector<png_byte> grey(PNG_IMAGE_SIZE(image));
  if (!png_image_finish_read(&image, nullptr, grey.data(), 0, nullptr)) {
    result.error = image.message;
    return result;
  }
  result.ok = true;
  result.width = image.width;
  result.height = image.height;
  for (png_byte b : grey) result.digest = (result.digest ^ b) * 1099511628211ul;

  // Characters are about twice as tall as wide: halve the rows.
  unsigned cols = std::min(columns, image.width);
  unsigned rows = std::max(1u, unsigned(cols * image.height / image.width / 2));
  for (unsigned r = 0; r < rows; ++r) {
    for (unsigned c = 0; c < cols; ++c) {
      size_t x = size_t(c) * image.width / cols, y = size_t(r) * image.height / rows;
      result.art.push_back(SHADES[grey[y * image.width + x] * (sizeof(SHADES) - 2) / 255]);
    }
    result.art.push_back('\n');
  }
  return result;
}

}  // namespace

Thumbnail decodePng(int fd, unsigned columns) {
  Thumbnail result;
  int copy = dup(fd);  // fdopen takes ownership; the caller keeps `fd`
  std::unique_ptr<FILE, FileCloser> file(copy >= 0 ? fdopen(copy, "rb") : nullptr);
  if (!file) {
    if (copy >= 0) close(copy);
    result.error = "cannot read the file descriptor";
    return result;
  }
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  bool begun = png_image_begin_read_from_stdio(&image, file.get());
  return finishDecode(image, begun, columns);
}

Thumbnail decodePngBytes(std::string_view png, unsigned columns) {
  png_image image{};
  image.version = PNG_IMAGE_VERSION;
  bool begun = png_image_begin_read_from_memory(&image, png.data(), png.size());
  return finishDecode(image, begun, columns);
}

}  // namespace thumbnailer
