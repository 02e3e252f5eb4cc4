// `airlockd --watch-policies` through a real airlockd: a policy directory and a client keys
// directory laid out as Kubernetes mounts a ConfigMap and a Secret (every file a symlink through
// `..data`, itself a link to a timestamped directory), changed the way kubelet changes them (a
// new timestamped directory written whole, then a new `..data` renamed over the old one). The
// new revision comes into force; a broken set is refused and recorded as on SIGHUP; a key added
// lets a new client in; a directory being written is not read until it is swapped in or closed.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>

#include "audit/signing_key.h"
#include "broker/reload/directory_watch.h"
#include "broker/state/client_keys.h"
#include "sdk/host/client.h"
#include "tests/integration/support/broker_process.h"

namespace airlock::testing {
namespace {

// airlockd's quiet period before it reads a change, in ms (broker/reload/directory_watch.h).
constexpr int64_t QUIET_MS = broker::QUIET_PERIOD / kj::MILLISECONDS;

// A directory kept as kubelet's atomic writer keeps a ConfigMap or Secret volume.
class ProjectedVolume {
 public:
  explicit ProjectedVolume(std::string dir) : dir_(kj::mv(dir)) {
    std::filesystem::create_directories(dir_);
  }

  // The next timestamped directory, written but not yet swapped in: what kubelet has on disk
  // in the middle of an update.
  std::string writeNext(const std::map<std::string, std::string>& files) {
    std::string name = "..2026_01_01_00_00_0" + std::to_string(++generation_) + ".000000001";
    std::filesystem::create_directory(dir_ + "/" + name);
    for (auto& [file, text] : files) writeFile(dir_ + "/" + name + "/" + file, text);
    return name;
  }

  // Swaps `next` in: a new `..data_tmp` link renamed over `..data` (one rename(2)), the
  // user-visible links for its files, then the old directory and stale links go.
  void swapIn(const std::string& next, const std::map<std::string, std::string>& files) {
    std::string tmp = dir_ + "/..data_tmp";
    ASSERT_EQ(symlink(next.c_str(), tmp.c_str()), 0) << strerror(errno);
    ASSERT_EQ(rename(tmp.c_str(), (dir_ + "/..data").c_str()), 0) << strerror(errno);
    for (auto& [file, text] : files) {
      std::string visible = dir_ + "/" + file;
      if (!pathExists(visible)) {
        ASSERT_EQ(symlink(("..data/" + file).c_str(), visible.c_str()), 0) << strerror(errno);
      }
    }
    for (auto& entry : std::filesystem::directory_iterator(dir_)) {
      std::string name = entry.path().filename().string();
      if (name.rfind("..", 0) == 0) {
        if (name != "..data" && name != next) std::filesystem::remove_all(entry.path());
      } else if (files.count(name) == 0) {
        std::filesystem::remove(entry.path());
      }
    }
  }

  void publish(const std::map<std::string, std::string>& files) { swapIn(writeNext(files), files); }

  const std::string& path() const { return dir_; }

  static void writeFile(const std::string& path, const std::string& text) {
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    ASSERT_GE(fd, 0) << path << ": " << strerror(errno);
    ASSERT_EQ(write(fd, text.data(), text.size()), static_cast<ssize_t>(text.size()));
    close(fd);
  }

 private:
  std::string dir_;
  int generation_ = 0;
};

std::string probePolicy(const std::string& methods) {
  return R"(
[unit]
name = "probe"
worker = "test-probe_worker"

[[rule]]
id = "clients-call-probe"
allow = "call"
caller = ["tester", "newcomer"]
method = )" + methods + "\n";
}

class WatchPoliciesTest : public ::testing::Test {
 protected:
  // airlockd with --watch-policies, its policies in a ConfigMap-style volume holding `policy`
  // and its client keys in a Secret-style volume holding tester.pub. "newcomer" has a key pair
  // whose public half is not in the volume.
  void start(const std::string& policy) {
    for (auto* client : {TEST_CLIENT, "newcomer"}) {
      std::string error =
          audit::writeKeyPair(*audit::SigningKey::generate(), pairs_.file(client));
      ASSERT_EQ(error, "");
    }
    policies_.publish({{"probe.toml", policy}});
    keys_.publish({{"tester.pub", publicKey(TEST_CLIENT)}});
    BrokerOptions options;
    options.extraArgs = {"--watch-policies", "--policies", policies_.path(), "--client-keys",
                         keys_.path()};  // after the plain directories BrokerProcess makes: these win
    broker_ = std::make_unique<BrokerProcess>(std::map<std::string, std::string>{
                                                  {"unused.toml", policy}},
                                              std::map<std::string, std::string>{}, options);
    ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();
  }

  std::string publicKey(const std::string& client) const {
    return readFile(pairs_.file(client + ".pub"));
  }

  Client connect(const std::string& client = TEST_CLIENT) const {
    return Client::connect(broker_->socket(), pairs_.file(client + ".key"),
                           broker_->brokerPublicKey());
  }

  CallOutcome call(const std::string& method, const std::string& client = TEST_CLIENT) const {
    return connect(client).unit("probe").call(method, "1");
  }

  // The `count`-th policy.reload record (null json, and a test failure, if none comes).
  nlohmann::json reloadRecord(size_t count) const {
    for (int i = 0; i < 400; ++i) {
      auto reloads = broker_->auditRecords({{"event", "policy.reload"}});
      if (reloads.size() >= count) return reloads[count - 1];
      usleep(50 * 1000);
    }
    ADD_FAILURE() << "no policy.reload record number " << count << "\n" << broker_->log();
    return nullptr;
  }

  size_t reloads() const { return broker_->auditRecords({{"event", "policy.reload"}}).size(); }

  std::string revisionInForce() const {
    auto started = broker_->auditRecords({{"event", "broker.start"}});
    auto reloaded = broker_->auditRecords({{"event", "policy.reload"}, {"result", "applied"}});
    if (!reloaded.empty()) return reloaded.back()["args"]["to"];
    return started.empty() ? "" : started[0]["policy_rev"].get<std::string>();
  }

  TempDir volumes_;
  TempDir pairs_;
  ProjectedVolume policies_{volumes_.file("configmap")};
  ProjectedVolume keys_{volumes_.file("secret")};
  std::unique_ptr<BrokerProcess> broker_;
};

TEST_F(WatchPoliciesTest, AConfigMapSwapIsReloadedOnceAndItsRevisionDecidesTheNextCall) {
  start(probePolicy(R"(["echo"])"));
  EXPECT_EQ(call("sleep").errorKind(), CallErrorKind::DENIED);
  std::string before = revisionInForce();

  // kubelet has written the next directory but not swapped it in: nothing is read, even a file
  // in it that does not parse.
  std::string next = policies_.writeNext({{"probe.toml", "[unit\nname = "}});
  usleep(4 * QUIET_MS * 1000);
  EXPECT_EQ(reloads(), 0u) << broker_->log();
  std::filesystem::remove_all(policies_.path() + "/" + next);

  policies_.publish({{"probe.toml", probePolicy(R"(["echo", "sleep"])")}});
  auto record = reloadRecord(1);
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["result"], "applied") << record.dump();
  EXPECT_EQ(record["caller"], "watch:" + policies_.path() + "/..data");
  EXPECT_EQ(record["args"]["from"], before);
  std::string after = record["args"]["to"];
  EXPECT_NE(after, before);

  auto slept = call("sleep");
  ASSERT_TRUE(slept.ok()) << slept.describe();
  auto calls = broker_->auditRecords({{"event", "call"}});
  ASSERT_FALSE(calls.empty());
  EXPECT_EQ(calls.back()["policy_rev"], after);
  // The swap, the new links and the old directory's removal made one reload, not several.
  usleep(4 * QUIET_MS * 1000);
  EXPECT_EQ(reloads(), 1u);
}

TEST_F(WatchPoliciesTest, ABrokenSetSwappedInIsRefusedAsOnSighupAndTheOneInForceStays) {
  start(probePolicy(R"(["echo"])"));
  ASSERT_TRUE(call("echo").ok());
  std::string before = revisionInForce();

  policies_.publish({{"probe.toml", probePolicy(R"(["echo", "sleep"])")},
                     {"second.toml", "[unit]\nname = \"second\"\nworker = 7\n"}});
  auto record = reloadRecord(1);
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["decision"], "deny") << record.dump();
  EXPECT_EQ(record["rule"], "policy.check");
  EXPECT_EQ(record["result"], "refused: revision " + before + " stays in force");
  EXPECT_EQ(record["policy_rev"], before);
  ASSERT_FALSE(record["args"]["errors"].empty());
  std::string error = record["args"]["errors"][0];
  EXPECT_NE(error.find("second.toml:3:"), std::string::npos) << error;
  EXPECT_EQ(call("sleep").errorKind(), CallErrorKind::DENIED);
  EXPECT_TRUE(call("echo").ok());

  // The fix, swapped in the same way, is taken.
  policies_.publish({{"probe.toml", probePolicy(R"(["echo", "sleep"])")}});
  record = reloadRecord(2);
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["result"], "applied") << record.dump();
  EXPECT_TRUE(call("sleep").ok());
}

TEST_F(WatchPoliciesTest, AKeyAddedToTheSecretVolumeLetsTheNewClientIn) {
  start(probePolicy(R"(["echo"])"));
  try {
    connect("newcomer");
    ADD_FAILURE() << "a client with no key in the volume was let in";
  } catch (const kj::Exception& e) {
    EXPECT_NE(std::string(e.getDescription().cStr()).find("authentication refused"),
              std::string::npos)
        << e.getDescription().cStr();
  }

  keys_.publish({{"tester.pub", publicKey(TEST_CLIENT)}, {"newcomer.pub", publicKey("newcomer")}});
  auto record = reloadRecord(1);
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["result"], "applied") << record.dump();
  EXPECT_EQ(record["caller"], "watch:" + keys_.path() + "/..data");
  EXPECT_EQ(record["args"]["clients_added"], nlohmann::json::array({"newcomer"}));
  auto outcome = call("echo", "newcomer");
  EXPECT_TRUE(outcome.ok()) << outcome.describe();
}

// Without a volume: a policy file written in place is read once it is closed, not while it is
// half written.
TEST_F(WatchPoliciesTest, AFileWrittenInPlaceIsReadOnceItIsClosed) {
  start(probePolicy(R"(["echo"])"));
  std::string plain = volumes_.file("plain");
  std::filesystem::create_directory(plain);
  ProjectedVolume::writeFile(plain + "/probe.toml", probePolicy(R"(["echo"])"));
  broker_ = nullptr;
  BrokerOptions options;
  options.extraArgs = {"--watch-policies", "--policies", plain, "--client-keys", keys_.path()};
  broker_ = std::make_unique<BrokerProcess>(
      std::map<std::string, std::string>{{"unused.toml", probePolicy(R"(["echo"])")}},
      std::map<std::string, std::string>{}, options);
  ASSERT_TRUE(broker_->waitUntilReady()) << broker_->log();

  // A new unit's file, created (which alone would count as a change) and written in two halves.
  std::string text = "[unit]\nname = \"other\"\nworker = \"test-probe_worker\"\n";
  int fd = open((plain + "/other.toml").c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  ASSERT_GE(fd, 0);
  size_t half = text.size() / 2;
  ASSERT_EQ(write(fd, text.data(), half), static_cast<ssize_t>(half));
  usleep(4 * QUIET_MS * 1000);
  EXPECT_EQ(reloads(), 0u) << "a file still open for writing was read\n" << broker_->log();
  ASSERT_EQ(write(fd, text.data() + half, text.size() - half),
            static_cast<ssize_t>(text.size() - half));
  close(fd);

  auto record = reloadRecord(1);
  ASSERT_FALSE(record.is_null());
  EXPECT_EQ(record["result"], "applied") << record.dump();
  EXPECT_EQ(record["caller"], "watch:" + plain + "/other.toml");
  EXPECT_EQ(record["args"]["units_added"], nlohmann::json::array({"other"}));
}

// The layout a Secret volume has is followed; a link out of the directory is still refused, so
// the directory alone says who the clients are.
TEST(ClientKeysInAVolume, LinksThroughDataAreFollowedAndALinkOutOfTheDirectoryIsRefused) {
  TempDir dir;
  ASSERT_EQ(audit::writeKeyPair(*audit::SigningKey::generate(), dir.file("web")), "");
  ASSERT_EQ(audit::writeKeyPair(*audit::SigningKey::generate(), dir.file("db")), "");
  ProjectedVolume volume(dir.file("secret"));
  volume.publish({{"web.pub", readFile(dir.file("web.pub"))}});
  std::vector<std::string> errors;
  auto keys = broker::ClientKeys::load(volume.path(), errors);
  EXPECT_TRUE(errors.empty()) << errors.front();
  EXPECT_NE(keys.find("web"), nullptr);

  ASSERT_EQ(symlink(dir.file("db.pub").c_str(), (volume.path() + "/db.pub").c_str()), 0);
  errors.clear();
  broker::ClientKeys::load(volume.path(), errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].find("db.pub: not a regular file, nor a symlink to one inside"),
            std::string::npos)
      << errors[0];
}

}  // namespace
}  // namespace airlock::testing
