#include "cli/keygen.h"

#include <iostream>
#include <string>
#include <string_view>

#include "audit/signing_key.h"

namespace airlock::cli {

namespace _ {

constexpr std::string_view KEYGEN_USAGE = R"(
usage: airlock keygen --out PREFIX

Creates an Ed25519 key pair for signing audit checkpoints:
  PREFIX.key  the private key, mode 0600: give it to airlockd --key (as airlockd's user)
  PREFIX.pub  the public key: give it to auditors for airlock audit verify --key
Each file is one line of text, "airlock-ed25519-secret-v1 <hex>" or
"airlock-ed25519-public-v1 <hex>". Existing files are never overwritten.

options:
  --out PREFIX  where to write the two files                                 (required)
  -h, --help    print this help

exit status: 0 written, 1 a file exists or cannot be written, 2 on a usage error.
)";

int keygenUsageError(const std::string& message) {
  std::cerr << "airlock keygen: " << message << "\n"
            << "usage: airlock keygen --out PREFIX\ntry 'airlock keygen --help'\n";
  return 2;
}

}  // namespace _

int keygenMain(int argc, char** argv) {
  std::string prefix;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      std::cout << _::KEYGEN_USAGE.substr(1);
      return 0;
    } else if (arg == "--out") {
      if (i + 1 >= argc) return _::keygenUsageError("--out needs a value");
      prefix = argv[++i];
    } else {
      return _::keygenUsageError("unknown argument " + std::string(arg));
    }
  }
  if (prefix.empty()) return _::keygenUsageError("--out PREFIX is required");
  auto key = audit::SigningKey::generate();
  std::string error = audit::writeKeyPair(*key, prefix);
  if (!error.empty()) {
    std::cerr << "airlock keygen: " << error << "\n";
    return 1;
  }
  std::cout << "wrote " << prefix << ".key (private, 0600) and " << prefix
            << ".pub (public); key id " << key->publicKey().hex() << "\n";
  return 0;
}

}  // namespace airlock::cli
