#include "broker/policy/model/typed_interface.h"

#include <capnp/schema-parser.h>
#include <kj/debug.h>
#include <kj/filesystem.h>
#include <kj/vector.h>

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

#include <filesystem>
#include <set>

#include "broker/policy/model/policy.h"

namespace airlock::policy {

namespace _ {
namespace {

// Where `import "/capnp/c++.capnp"` and the like are found: the Cap'n Proto headers' home.
constexpr const char* IMPORT_DIRS[] = {"usr/include", "usr/local/include"};

// Collects the schema parser's errors (each "file:line:col: message") instead of letting KJ log
// them: the parser reports every error as recoverable and throws a bare "Parse error." at the end.
class ParseErrors final : public kj::ExceptionCallback {
 public:
  void onRecoverableException(kj::Exception&& exception) override {
    if (messages.size() >= MAX_MESSAGES) return;
    // The parser puts the file and its 0-based line in the exception's location (KJ trims the
    // file's leading directories), and only the message in its description.
    std::string file = exception.getFile();
    if (!schemaFile.empty() && schemaFile.size() >= file.size() &&
        schemaFile.compare(schemaFile.size() - file.size(), file.size(), file) == 0) {
      file = schemaFile;
    }
    messages.push_back(file + ":" + std::to_string(exception.getLine() + 1) + ": " +
                       exception.getDescription().cStr());
  }
  std::string joined() const {
    std::string out;
    for (const std::string& message : messages) out += (out.empty() ? "" : "; ") + message;
    return out;
  }
  static constexpr size_t MAX_MESSAGES = 3;  // one policy error line, not a schema's whole list
  std::string schemaFile;  // named in full when an error is in it
  std::vector<std::string> messages;
};

kj::Own<const kj::ReadableDirectory> openRootDirectory() {
  int fd = ::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  KJ_SYSCALL(fd, "open of / for the schema parser");
  return kj::newDiskReadableDirectory(kj::AutoCloseFd(fd));
}

// Appends the methods of `schema` and its superclasses, each interface once.
void collectMethods(capnp::InterfaceSchema schema, std::set<uint64_t>& seen,
                    std::vector<TypedInterface::Method>& into) {
  uint64_t id = schema.getProto().getId();
  if (!seen.insert(id).second) return;
  for (auto method : schema.getMethods()) {
    into.push_back({id, method.getOrdinal(), std::string(method.getProto().getName())});
  }
  for (auto super : schema.getSuperclasses()) collectMethods(super, seen, into);
}

}  // namespace
}  // namespace _

const TypedInterface::Method* TypedInterface::find(uint64_t interfaceId,
                                                    uint16_t methodId) const {
  for (const Method& method : methods) {
    if (method.interfaceId == interfaceId && method.methodId == methodId) return &method;
  }
  return nullptr;
}

std::string TypedInterface::describe() const {
  char hex[32];
  snprintf(hex, sizeof(hex), "@0x%016llx", static_cast<unsigned long long>(id));
  return name + " (" + hex + ", " + schemaFile + ")";
}

std::shared_ptr<const TypedInterface> loadTypedInterface(const std::string& spec,
                                                         const std::string& policyDir,
                                                         std::string& error) {
  size_t colon = spec.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == spec.size()) {
    error = "expected \"FILE.capnp:InterfaceName\"";
    return nullptr;
  }
  std::filesystem::path file(spec.substr(0, colon));
  if (file.is_relative()) file = std::filesystem::path(policyDir) / file;
  // Absolute, so it can be opened beneath "/" (airlockd --policies may be a relative path).
  std::error_code ec;
  file = std::filesystem::absolute(file, ec).lexically_normal();
  if (ec) {
    error = "cannot make " + file.string() + " absolute: " + ec.message();
    return nullptr;
  }
  // Checked here rather than left to the schema parser: a clearer message, and libcapnpc 0.9.2
  // leaks on its missing-file path.
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0) {
    error = "cannot read " + file.string() + ": " + std::strerror(errno);
    return nullptr;
  }
  if (!S_ISREG(st.st_mode)) {
    error = file.string() + " is not a regular file";
    return nullptr;
  }
  auto interface = std::make_shared<TypedInterface>();
  interface->schemaFile = file.string();
  interface->name = spec.substr(colon + 1);

  _::ParseErrors parseErrors;
  parseErrors.schemaFile = interface->schemaFile;
  KJ_IF_MAYBE(exception, kj::runCatchingExceptions([&]() {
    // The root directory itself rather than kj's disk filesystem, which checks $PWD and logs.
    auto rootDir = _::openRootDirectory();
    const kj::ReadableDirectory& root = *rootDir;
    kj::Vector<kj::Own<const kj::ReadableDirectory>> owned;
    kj::Vector<const kj::ReadableDirectory*> imports;
    for (const char* dir : _::IMPORT_DIRS) {
      KJ_IF_MAYBE(opened, root.tryOpenSubdir(kj::Path::parse(dir))) {
        imports.add(opened->get());
        owned.add(kj::mv(*opened));
      }
    }
    capnp::SchemaParser parser;
    auto parsed = parser.parseFromDirectory(
        root, kj::Path::parse(interface->schemaFile.substr(1)), imports.asPtr());
    KJ_IF_MAYBE(nested, parsed.findNested(interface->name)) {
      auto schema = nested->getProto();
      if (!schema.isInterface()) {
        error = interface->name + " in " + interface->schemaFile + " is not an interface";
        return;
      }
      auto asInterface = nested->asInterface();
      interface->id = schema.getId();
      std::set<uint64_t> seen;
      _::collectMethods(asInterface, seen, interface->methods);
    } else {
      error = "no interface " + interface->name + " in " + interface->schemaFile;
    }
  })) {
    error = "cannot parse " + interface->schemaFile + ": " +
            (parseErrors.messages.empty() ? std::string(exception->getDescription().cStr())
                                          : parseErrors.joined());
  }
  if (!parseErrors.messages.empty()) {
    error = "cannot parse " + interface->schemaFile + ": " + parseErrors.joined();
  }
  if (!error.empty()) return nullptr;
  for (const auto& method : interface->methods) {
    Refusal refused = validateMethodName(method.name);
    if (refused.refuses()) {
      error = "method " + method.name + " of " + interface->name + ": " + refused.why();
      return nullptr;
    }
  }
  return interface;
}

}  // namespace airlock::policy
