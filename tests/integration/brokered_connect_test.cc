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

// The socket the broker connects and swaps into the program's slot carries the descriptor and
// status flags the program's own socket had: close-on-exec when it asked for it (and only then,
// so a socket meant for a child is inherited as outside), non-blocking for a socket with a
// timeout. Compared with the same script run outside the sandbox.
TEST_F(BrokeredConnectTest, TheConnectedSocketKeepsTheFlagsOfTheSocketItReplaces) {
  if (access("/usr/bin/python3", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/python3";
  EchoServer allowed = EchoServer::tcp();
  allowConnects(allowed.port(), dir_.file("sockets"));
  std::string script =
      "import fcntl, os, socket\n"
      "A = ('127.0.0.1', " + std::to_string(allowed.port()) + ")\n"
      "def flags(s):\n"
      "  fd = fcntl.fcntl(s.fileno(), fcntl.F_GETFD) & fcntl.FD_CLOEXEC\n"
      "  fl = fcntl.fcntl(s.fileno(), fcntl.F_GETFL) & os.O_NONBLOCK\n"
      "  return 'cloexec=%d nonblock=%d' % (fd != 0, fl != 0)\n"
      "a = socket.socket(); a.connect(A); print('default', flags(a))\n"
      "b = socket.socket(); b.set_inheritable(True); b.connect(A); print('inheritable', flags(b))\n"
      "c = socket.socket(); c.settimeout(5); c.connect(A); print('timeout', flags(c))\n";
  auto outside = runProgram({"/usr/bin/python3", "-c", script});
  ASSERT_EQ(outside.exitCode, 0) << outside.output;
  ASSERT_EQ(outside.output,
            "default cloexec=1 nonblock=0\ninheritable cloexec=0 nonblock=0\n"
            "timeout cloexec=1 nonblock=1\n");
  auto inside = run(dir_.path(), {"/usr/bin/python3", "-c", script});
  EXPECT_EQ(inside.exitCode, 0) << inside.output;
  EXPECT_EQ(inside.output, outside.output);
  EXPECT_EQ(connectsTo(allowed.port()).size(), 3u) << readFile(auditLog());
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
