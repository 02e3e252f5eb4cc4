// The sealed copy a secret crosses in: exactly the bytes, from offset 0, and nothing the receiver
// can do to change them.

#include "broker/caps/sealed_memfd.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace airlock::broker {
namespace {

kj::AutoCloseFd sealedCopyOf(const std::string& text) {
  std::string error;
  auto bytes = kj::arrayPtr(reinterpret_cast<const kj::byte*>(text.data()), text.size());
  KJ_IF_MAYBE(fd, sealedMemfd(bytes, error)) { return kj::mv(*fd); }
  ADD_FAILURE() << error;
  return kj::AutoCloseFd();
}

TEST(SealedMemfd, HoldsExactlyTheBytesFromOffsetZero) {
  std::string value("pass\0word\xff", 10);
  auto fd = sealedCopyOf(value);
  char buffer[64];
  ssize_t n = read(fd.get(), buffer, sizeof(buffer));  // read(2): the shared offset starts at 0
  ASSERT_EQ(n, static_cast<ssize_t>(value.size()));
  EXPECT_EQ(std::string(buffer, n), value);
  EXPECT_EQ(read(fd.get(), buffer, sizeof(buffer)), 0);
}

TEST(SealedMemfd, CannotBeWrittenResizedMappedWritableOrResealed) {
  auto fd = sealedCopyOf("secret");
  EXPECT_EQ(pwrite(fd.get(), "X", 1, 0), -1);
  EXPECT_EQ(errno, EPERM);
  EXPECT_EQ(ftruncate(fd.get(), 0), -1);
  EXPECT_EQ(ftruncate(fd.get(), 4096), -1);
  EXPECT_EQ(mmap(nullptr, 6, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), 0), MAP_FAILED);
  EXPECT_EQ(fcntl(fd.get(), F_ADD_SEALS, F_SEAL_FUTURE_WRITE), -1);
  int seals = fcntl(fd.get(), F_GET_SEALS);
  EXPECT_EQ(seals & (F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL),
            F_SEAL_WRITE | F_SEAL_GROW | F_SEAL_SHRINK | F_SEAL_SEAL);
}

TEST(SealedMemfd, AnEmptyValueIsAnEmptyFile) {
  auto fd = sealedCopyOf("");
  char byte;
  EXPECT_EQ(read(fd.get(), &byte, 1), 0);
}

}  // namespace
}  // namespace airlock::broker
