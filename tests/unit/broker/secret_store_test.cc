#include "broker/caps/secret_store.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "broker/caps/secret_hash.h"

namespace airlock::broker {
namespace {

class SecretStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/airlock-secrets-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  void write(const std::string& name, const std::string& value, mode_t mode) {
    std::ofstream(dir_ + "/" + name, std::ios::binary) << value;
    ASSERT_EQ(chmod((dir_ + "/" + name).c_str(), mode), 0);
  }
  std::string text(const SecretRead& read) {
    auto bytes = read.value.bytes();
    return std::string(reinterpret_cast<const char*>(bytes.begin()), bytes.size());
  }

  std::string dir_;
};

TEST_F(SecretStoreTest, AnOwnerOnlyFileIsReadByItsExactName) {
  write("db-password", std::string("pw\0with-nul", 11), 0600);
  write(".ignored", "x", 0644);
  std::vector<std::string> errors;
  auto store = DirectorySecretStore::open(dir_, errors);
  ASSERT_TRUE(errors.empty()) << errors[0];
  SecretRead read = store->read("db-password");
  ASSERT_TRUE(read.ok()) << read.error;
  EXPECT_EQ(text(read), std::string("pw\0with-nul", 11));
  SecretRead missing = store->read("nope");
  EXPECT_FALSE(missing.ok());
  EXPECT_NE(missing.error.find("ENOENT"), std::string::npos) << missing.error;
}

TEST_F(SecretStoreTest, AFileOthersCanReadStopsTheStoreNamingTheFileAndTheFix) {
  write("db-password", "pw", 0644);
  std::vector<std::string> errors;
  DirectorySecretStore::open(dir_, errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], dir_ + "/db-password: mode 0644 gives group or others access; secrets "
                              "must be 0600 (chmod 600 " + dir_ + "/db-password)");
}

TEST_F(SecretStoreTest, ASymlinkOrABadNameStopsTheStore) {
  ASSERT_EQ(symlink("/etc/passwd", (dir_ + "/link").c_str()), 0);
  write("bad name", "x", 0600);
  std::vector<std::string> errors;
  DirectorySecretStore::open(dir_, errors);
  ASSERT_EQ(errors.size(), 2u);
  std::sort(errors.begin(), errors.end());
  EXPECT_NE(errors[0].find("bad name: not a secret name"), std::string::npos) << errors[0];
  EXPECT_NE(errors[1].find("link: not a regular file"), std::string::npos) << errors[1];
}

TEST_F(SecretStoreTest, AFileLoosenedAfterStartUpIsRefusedWhenRead) {
  write("db-password", "pw", 0600);
  std::vector<std::string> errors;
  auto store = DirectorySecretStore::open(dir_, errors);
  ASSERT_TRUE(errors.empty());
  ASSERT_EQ(chmod((dir_ + "/db-password").c_str(), 0640), 0);
  SecretRead read = store->read("db-password");
  EXPECT_FALSE(read.ok());
  EXPECT_NE(read.error.find("mode 0640"), std::string::npos) << read.error;
  EXPECT_TRUE(read.value.bytes().size() == 0);
}

TEST(SecretHasher, EqualValuesHashAlikeWithinARunAndDifferentlyUnderAnotherKey) {
  SecretHasher one, two;
  auto value = kj::StringPtr("hunter2").asBytes();
  EXPECT_EQ(one.hash(value), one.hash(value));
  EXPECT_NE(one.hash(value), two.hash(value));
  EXPECT_EQ(one.hash(value).rfind("blake2b-keyed:", 0), 0u);
  EXPECT_EQ(one.hash(value).size(), 14u + 64u);
}

}  // namespace
}  // namespace airlock::broker
