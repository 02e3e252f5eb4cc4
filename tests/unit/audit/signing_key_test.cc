#include "audit/signing_key.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/audit/test_log.h"

namespace airlock::audit {
namespace {

using testing::ScratchDir;

TEST(SigningKeyTest, KeygenFilesRoundTripAndTheSecretFileIsOwnerOnly) {
  ScratchDir dir;
  auto key = SigningKey::generate();
  ASSERT_EQ(writeKeyPair(*key, dir.file("broker")), "");
  struct stat st;
  ASSERT_EQ(stat(dir.file("broker.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  std::string error;
  auto loaded = loadSigningKey(dir.file("broker.key"), error);
  ASSERT_TRUE(loaded != nullptr) << error;
  auto publicKey = loadPublicKey(dir.file("broker.pub"), error);
  ASSERT_TRUE(publicKey != nullptr) << error;
  KJ_IF_MAYBE(k, loaded) {
    EXPECT_TRUE((*k)->publicKey() == key->publicKey());
    KJ_IF_MAYBE(p, publicKey) { EXPECT_TRUE(p->verifies("m", (*k)->signHex("m"))); }
  }
  EXPECT_NE(writeKeyPair(*key, dir.file("broker")), "") << "never overwrites";
}

TEST(SigningKeyTest, ASecretKeyOthersCanReadIsRefusedSayingSo) {
  ScratchDir dir;
  ASSERT_EQ(writeKeyPair(*SigningKey::generate(), dir.file("broker")), "");
  ASSERT_EQ(chmod(dir.file("broker.key").c_str(), 0644), 0);
  std::string error;
  EXPECT_TRUE(loadSigningKey(dir.file("broker.key"), error) == nullptr);
  EXPECT_NE(error.find("mode 0644, it must be 0600"), std::string::npos) << error;
}

TEST(SigningKeyTest, APublicKeyFileIsNotAcceptedAsTheSecretKey) {
  ScratchDir dir;
  ASSERT_EQ(writeKeyPair(*SigningKey::generate(), dir.file("broker")), "");
  ASSERT_EQ(chmod(dir.file("broker.pub").c_str(), 0600), 0);
  std::string error;
  EXPECT_TRUE(loadSigningKey(dir.file("broker.pub"), error) == nullptr);
  EXPECT_NE(error.find("not an airlock private key"), std::string::npos) << error;
}

TEST(SigningKeyTest, AFlippedSignatureOrMessageDoesNotVerify) {
  auto key = SigningKey::generate();
  std::string sig = key->signHex("airlock-checkpoint-v1\n3\nabc");
  EXPECT_TRUE(key->publicKey().verifies("airlock-checkpoint-v1\n3\nabc", sig));
  EXPECT_FALSE(key->publicKey().verifies("airlock-checkpoint-v1\n4\nabc", sig));
  sig[0] = sig[0] == '0' ? '1' : '0';
  EXPECT_FALSE(key->publicKey().verifies("airlock-checkpoint-v1\n3\nabc", sig));
  EXPECT_FALSE(key->publicKey().verifies("x", "not hex"));
}

}  // namespace
}  // namespace airlock::audit
