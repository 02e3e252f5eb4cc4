#include "cli/keygen.h"

#include <iostream>
#include <string>
#include <string_view>

#include "audit/signing_key.h"
#include "capnp/host_auth.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view KEYGEN_USAGE = R"(
usage: airlock keygen --out PREFIX
       airlock keygen --client NAME --out DIR

Creates an Ed25519 key pair.

The broker's key (--out PREFIX):
  PREFIX.key  the private key, mode 0600: give it to airlockd --key (as airlockd's user)
  PREFIX.pub  the public key: host clients pin it (airlock call --broker-key), auditors check
              the audit log with it (airlock audit verify --key)

A host client's key (--client NAME --out DIR):
  DIR/NAME.key  the client's private key, mode 0600: it stays with the client
                (airlock call --key, Client::connect); it never goes to airlockd
  DIR/NAME.pub  the client's public key: copy it into airlockd's --client-keys directory;
                policies then name this client `caller = ["NAME"]`
NAME is 1 to 64 of a-z, 0-9 and '-'.

Each file is one line of text, "airlock-ed25519-secret-v1 <hex>" or
"airlock-ed25519-public-v1 <hex>". Existing files are never overwritten.

options:
  --out PREFIX|DIR  where to write the two files                             (required)
  --client NAME     make a host client's key pair DIR/NAME.key, DIR/NAME.pub
  -h, --help        print this help

exit status: 0 written, 1 a file exists or cannot be written, 2 on a usage error.
)";

int keygenUsageError(const std::string& message) {
  std::cerr << "airlock keygen: " << message << "\n"
            << "usage: airlock keygen --out PREFIX | --client NAME --out DIR\n"
            << "try 'airlock keygen --help'\n";
  return 2;
}

}  // namespace _

int keygenMain(int argc, char** argv) {
  std::string out, client;
  bool clientGiven = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << _::KEYGEN_USAGE.substr(1);
      return 0;
    } else if (arg == "--out") {
      if (i + 1 >= argc) return _::keygenUsageError("--out needs a value");
      out = argv[++i];
    } else if (arg == "--client") {
      if (i + 1 >= argc) return _::keygenUsageError("--client needs a value");
      client = argv[++i];
      clientGiven = true;
    } else {
      return _::keygenUsageError("unknown argument " + std::string(arg));
    }
  }
  if (out.empty()) return _::keygenUsageError("--out is required");
  if (clientGiven) {
    std::string refused = rpc::validateClientName(client);
    if (!refused.empty()) return _::keygenUsageError("--client \"" + client + "\": " + refused);
  }
  std::string prefix = clientGiven ? out + "/" + client : out;
  auto key = audit::SigningKey::generate();
  std::string error = audit::writeKeyPair(*key, prefix);
  if (!error.empty()) {
    std::cerr << "airlock keygen: " << error << "\n";
    return 1;
  }
  std::cout << "wrote " << prefix << ".key (private, 0600) and " << prefix
            << ".pub (public); key id " << key->publicKey().hex() << "\n";
  if (clientGiven) {
    std::cout << "client \"" << client << "\": keep " << prefix
              << ".key with the client; copy " << prefix
              << ".pub into airlockd's --client-keys directory\n";
  }
  return 0;
}

}  // namespace airlock::cli
