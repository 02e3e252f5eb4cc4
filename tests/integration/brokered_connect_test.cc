// A program's own socket(2) and connect(2) under `airlock run`: python3's socket module and a
// raw-syscall probe connect to listeners this test runs on loopback and on a Unix socket path.
// What the net.connect rules allow connects (the bytes echo back, as outside), what they refuse
// is a deny record, and the host-side listeners show no connection reached a refused port.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "tests/integration/support/airlock_run_fixture.h"
#include "tests/integration/support/echo_server.h"

namespace airlock::testing {
namespace {

class BrokeredConnectTest : public AirlockRunTest {
 protected:
  std::vector<nlohmann::json> connectsTo(uint16_t port) const {
    std::vector<nlohmann::json> out;
    for (auto& record : records("net.connect")) {
      if (record["args"].value("port", 0) == port) out.push_back(record);
    }
    return out;
  }

  // A policy allowing TCP to 127.0.0.1 `port` and Unix sockets beneath `socketDir`.
  void allowConnects(uint16_t port, const std::string& socketDir) const {
    writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n\n"
                "[[rule]]\nid = \"echo-tcp\"\nallow = \"net.connect\"\nhost = [\"127.0.0.1\"]\n"
                "port = [" + std::to_string(port) + "]\n\n"
                "[[rule]]\nid = \"echo-unix\"\nallow = \"net.connect\"\nunix_path = \"" +
                socketDir + "/*.sock\"\n");
  }
};

TEST_F(BrokeredConnectTest, Python3ConnectsWhereTheRulesAllowAndNowhereElse) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  EchoServer allowed = EchoServer::tcp();
  EchoServer refused = EchoServer::tcp();
  ASSERT_EQ(mkdir(dir_.file("sockets").c_str(), 0755), 0);
  EchoServer local = EchoServer::unix(dir_.file("sockets/echo.sock"));
  allowConnects(allowed.port(), dir_.file("sockets"));
  std::string script =
      "import socket\n"
      "def echo(s, text):\n"
      "  s.sendall(text); s.shutdown(socket.SHUT_WR); data = b''\n"
      "  while True:\n"
      "    chunk = s.recv(100)\n"
      "    if not chunk: return data.decode()\n"
      "    data += chunk\n"
      "A, B = " + std::to_string(allowed.port()) + ", " + std::to_string(refused.port()) + "\n"
      "print('blocking', echo(socket.create_connection(('127.0.0.1', A)), b'one'))\n"
      "print('timeout', echo(socket.create_connection(('127.0.0.1', A), timeout=5), b'two'))\n"
      "try:\n  socket.create_connection(('127.0.0.1', B)); print('other port reached')\n"
      "except PermissionError: print('other port refused')\n"
      "u = socket.socket(socket.AF_UNIX); u.connect('sockets/echo.sock')\n"
      "print('unix', echo(u, b'three'))\n"
      "try:\n  socket.socket(socket.AF_UNIX).connect('policy.toml'); print('file reached')\n"
      "except PermissionError: print('other path refused')\n"
      "try:\n  socket.socket(socket.AF_INET, socket.SOCK_DGRAM); print('udp made')\n"
      "except PermissionError: print('udp refused')\n";

  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output,
            "blocking one\ntimeout two\nother port refused\nunix three\nother path refused\n"
            "udp refused\n");
  // Host-side evidence: two connections where allowed, none where refused.
  EXPECT_EQ(allowed.accepted(), 2);
  EXPECT_EQ(refused.accepted(), 0);
  EXPECT_EQ(local.accepted(), 1);

  auto granted = connectsTo(allowed.port());
  ASSERT_EQ(granted.size(), 2u) << readFile(auditLog());
  for (auto& record : granted) {
    EXPECT_EQ(record["decision"], "allow");
    EXPECT_EQ(record["rule"], "echo-tcp");
    EXPECT_EQ(record["args"]["via"], "syscall");
    EXPECT_EQ(record["args"]["syscall"], "connect");
    EXPECT_EQ(record["args"]["host"], "127.0.0.1");
  }
  EXPECT_EQ(records("net.connect.admitted").size(), 3u);  // each allowed connect, before it
  auto denied = connectsTo(refused.port());
  ASSERT_EQ(denied.size(), 1u) << readFile(auditLog());
  EXPECT_EQ(denied[0]["decision"], "deny");
  EXPECT_EQ(denied[0]["rule"], "default-deny");
  bool unixDenied = false;
  for (auto& record : records("net.connect")) {
    if (record["args"].value("unix_path", "") == dir_.file("policy.toml")) {
      unixDenied = record["decision"] == "deny";
    }
  }
  EXPECT_TRUE(unixDenied) << readFile(auditLog());
  expectLogVerifies();
}

TEST_F(BrokeredConnectTest, AnAddressRewrittenDuringTheCallNeverConnectsWhereTheRulesRefuse) {
  EchoServer allowed = EchoServer::tcp();
  EchoServer refused = EchoServer::tcp();
  allowConnects(allowed.port(), dir_.file("sockets"));
  std::string probe = binDir() + "/test-unmodified_io";
  auto raced = run(dir_.path(), {probe, "connect-flip", std::to_string(allowed.port()),
                                 std::to_string(refused.port()), "300"});
  EXPECT_EQ(raced.exitCode, 0) << raced.output;
  EXPECT_NE(raced.output.find("leaked=0"), std::string::npos) << raced.output;
  EXPECT_EQ(raced.output.find("connected=0 "), std::string::npos) << "never connected: "
                                                                   << raced.output;
  EXPECT_EQ(refused.accepted(), 0);  // host-side: the refused port saw nothing
}

TEST_F(BrokeredConnectTest, WithoutANetRuleSocketStaysRefusedAsForEveryWorker) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  writePolicy("[sandbox]\nsyscalls = [\"system-info\", \"nss-without-daemons\"]\n");
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c",
                                  "import socket\nsocket.socket(socket.AF_INET)\nprint('made')\n"});
  EXPECT_NE(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output.find("made\n"), std::string::npos) << inside.output;
  EXPECT_NE(inside.output.find("refused syscall socket("), std::string::npos) << inside.output;
}

}  // namespace
}  // namespace airlock::testing
