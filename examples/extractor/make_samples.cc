// extractor-samples DIR CANARY_DIR: writes the archives the demo and the tests extract.
// CANARY_DIR is where an escaping entry would land: a directory beside the output directory
// (relative escapes climb to it as ../NAME), which must stay empty.
//
//   benign.tar      directories, text and binary files, a hard link to an earlier file
//   dotdot.tar      ../CANARY/dotdot.txt and docs/../../CANARY/deep.txt
//   absolute.tar    CANARY_DIR/absolute.txt, by its absolute name
//   symlink.tar     link -> CANARY_DIR, uplink -> ../CANARY, then a file written through link/
//   special.tar     a character device (5,1 like /dev/console) and a FIFO
//   hardlink.tar    hard links to /etc/passwd and to ../CANARY/x
//   bomb.tar.gz     64 MiB of zeros in one entry, about 64 KiB on disk
//   truncated.tar   benign.tar cut short inside a file's data

#include <archive.h>
#include <archive_entry.h>
#include <sys/sysmacros.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <vector>

namespace {

constexpr uint64_t BOMB_BYTES = 64ull << 20;
constexpr size_t CHUNK_BYTES = 64 * 1024;

struct Entry {
  std::string name;
  mode_t type = AE_IFREG;
  std::string content;   // AE_IFREG
  uint64_t zeros = 0;    // AE_IFREG: this many zero bytes instead of `content`
  std::string link;      // AE_IFLNK: the target; a hard link (AE_IFREG): the name it links to
  bool hardlink = false;
  dev_t rdev = 0;        // AE_IFCHR / AE_IFBLK
};

Entry directory(std::string name) { return {std::move(name), AE_IFDIR, "", 0, "", false, 0}; }
Entry file(std::string name, std::string content) {
  return {std::move(name), AE_IFREG, std::move(content), 0, "", false, 0};
}
Entry symlink(std::string name, std::string target) {
  return {std::move(name), AE_IFLNK, "", 0, std::move(target), false, 0};
}
Entry hardlink(std::string name, std::string linked) {
  return {std::move(name), AE_IFREG, "", 0, std::move(linked), true, 0};
}

// Deterministic bytes of every value, so a byte-for-byte comparison means something.
std::string binaryContent(size_t size) {
  std::string bytes(size, '\0');
  uint32_t state = 0x2545f491;
  for (auto& byte : bytes) {
    state ^= state << 13;
    state ^= state >> 17;
    state ^= state << 5;
    byte = static_cast<char>(state);
  }
  return bytes;
}

struct ArchiveWriteFree {
  void operator()(archive* writer) const { archive_write_free(writer); }
};

bool fail(archive* writer, const std::string& path) {
  fprintf(stderr, "extractor-samples: %s: %s\n", path.c_str(), archive_error_string(writer));
  return false;
}

bool writeArchive(const std::string& path, const std::vector<Entry>& entries, bool gzip = false) {
  std::unique_ptr<archive, ArchiveWriteFree> writer(archive_write_new());
  archive_write_set_format_pax_restricted(writer.get());
  if (gzip) archive_write_add_filter_gzip(writer.get());
  if (archive_write_open_filename(writer.get(), path.c_str()) != ARCHIVE_OK) {
    return fail(writer.get(), path);
  }
  std::string zeros(CHUNK_BYTES, '\0');
  for (auto& spec : entries) {
    std::unique_ptr<archive_entry, void (*)(archive_entry*)> entry(archive_entry_new(),
                                                                   archive_entry_free);
    archive_entry_set_pathname(entry.get(), spec.name.c_str());
    archive_entry_set_filetype(entry.get(), spec.type);
    archive_entry_set_perm(entry.get(), spec.type == AE_IFDIR ? 0755 : 0644);
    archive_entry_set_mtime(entry.get(), 1700000000, 0);
    if (spec.hardlink) {
      archive_entry_set_hardlink(entry.get(), spec.link.c_str());
    } else if (spec.type == AE_IFLNK) {
      archive_entry_set_symlink(entry.get(), spec.link.c_str());
    }
    archive_entry_set_rdev(entry.get(), spec.rdev);
    bool hasData = spec.type == AE_IFREG && !spec.hardlink;
    uint64_t size = spec.zeros ? spec.zeros : spec.content.size();
    archive_entry_set_size(entry.get(), hasData ? size : 0);
    if (archive_write_header(writer.get(), entry.get()) != ARCHIVE_OK) {
      return fail(writer.get(), path);
    }
    if (!hasData) continue;
    if (archive_write_data(writer.get(), spec.content.data(), spec.content.size()) < 0) {
      return fail(writer.get(), path);
    }
    for (uint64_t left = spec.zeros; left > 0; left -= std::min<uint64_t>(left, CHUNK_BYTES)) {
      size_t n = std::min<uint64_t>(left, CHUNK_BYTES);
      if (archive_write_data(writer.get(), zeros.data(), n) < 0) return fail(writer.get(), path);
    }
  }
  if (archive_write_close(writer.get()) != ARCHIVE_OK) return fail(writer.get(), path);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 || argv[2][0] != '/') {
    fprintf(stderr, "usage: extractor-samples DIR CANARY_DIR (absolute)\n");
    return 2;
  }
  std::string dir = argv[1], canary = argv[2];
  std::string canaryName = canary.substr(canary.rfind('/') + 1);

  Entry console{"console", AE_IFCHR, "", 0, "", false, makedev(5, 1)};
  Entry fifo{"fifo", AE_IFIFO, "", 0, "", false, 0};
  Entry bomb = file("zeros.bin", "");
  bomb.zeros = BOMB_BYTES;

  bool ok = writeArchive(dir + "/benign.tar", {
                directory("docs"),
                file("docs/readme.txt", "An archive unpacked by a sandboxed libarchive.\n"),
                directory("docs/nested"),
                file("docs/nested/data.bin", binaryContent(200 * 1024)),
                file("top.txt", "top level\n"),
                hardlink("docs/readme-copy.txt", "docs/readme.txt"),
            });
  ok = ok && writeArchive(dir + "/dotdot.tar", {
                file("../" + canaryName + "/dotdot.txt", "escaped by ..\n"),
                file("docs/../../" + canaryName + "/deep.txt", "escaped by a deeper ..\n"),
            });
  ok = ok && writeArchive(dir + "/absolute.tar", {file(canary + "/absolute.txt", "absolute\n")});
  ok = ok && writeArchive(dir + "/symlink.tar", {
                symlink("link", canary),
                symlink("uplink", "../" + canaryName),
                file("link/passwd", "written through a symlink\n"),
            });
  ok = ok && writeArchive(dir + "/special.tar", {console, fifo});
  ok = ok && writeArchive(dir + "/hardlink.tar", {
                hardlink("passwd", "/etc/passwd"),
                hardlink("x", "../" + canaryName + "/x"),
            });
  ok = ok && writeArchive(dir + "/bomb.tar.gz", {bomb}, true);
  if (!ok) return 1;

  std::ifstream in(dir + "/benign.tar", std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Past the first headers and into data.bin's 200 KiB.
  std::ofstream(dir + "/truncated.tar", std::ios::binary) << bytes.substr(0, 64 * 1024);
  return 0;
}
