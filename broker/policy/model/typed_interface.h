#pragma once
// A unit's typed interface: the Cap'n Proto interface a unit may offer hosts besides the generic
// `call(method, bytes)` ([unit] interface = "FILE.capnp:Name"). airlockd parses the schema file
// when it loads the policy — the security team's copy, not the worker's word — so it knows the
// name of every method a host may call on it, and checks and audits each call by that name.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace airlock::policy {

struct TypedInterface {
  struct Method {
    uint64_t interfaceId = 0;  // the declaring interface (this one or a superclass)
    uint16_t methodId = 0;     // its ordinal there
    std::string name;          // what call rules' `method` lists name
  };

  std::string schemaFile;  // absolute path of the .capnp file
  std::string name;        // the interface's name in it ("ImageDecoder")
  uint64_t id = 0;
  std::vector<Method> methods;  // its own and every superclass's, in schema order

  // The method a call on (interfaceId, methodId) means, or null: a host naming an interface the
  // schema does not have, or an ordinal it does not declare.
  const Method* find(uint64_t interfaceId, uint16_t methodId) const;
  std::string describe() const;  // "ImageDecoder (@0x..., /etc/airlock/image.capnp)"
};

// Parses `spec` ("FILE.capnp:Name"; FILE absolute or relative to `policyDir`) with Cap'n Proto's
// schema parser, absolute imports from /usr/include and /usr/local/include. Returns null and
// sets `error` (one line, the parser's message included) if the file does not parse, has no
// interface of that name, or a method name a call rule could not name.
std::shared_ptr<const TypedInterface> loadTypedInterface(const std::string& spec,
                                                         const std::string& policyDir,
                                                         std::string& error);

}  // namespace airlock::policy
