#include "sandbox/seccomp_profile.h"

#include <sys/utsname.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

namespace airlock::sandbox {

namespace _ {
namespace {

using Json = nlohmann::json;

constexpr std::pair<std::string_view, ProfileAction> ACTIONS[] = {
    {"SCMP_ACT_KILL", ProfileAction::KILL_THREAD},
    {"SCMP_ACT_KILL_THREAD", ProfileAction::KILL_THREAD},
    {"SCMP_ACT_KILL_PROCESS", ProfileAction::KILL_PROCESS},
    {"SCMP_ACT_TRAP", ProfileAction::TRAP},
    {"SCMP_ACT_ERRNO", ProfileAction::ERRNO},
    {"SCMP_ACT_TRACE", ProfileAction::TRACE},
    {"SCMP_ACT_ALLOW", ProfileAction::ALLOW},
    {"SCMP_ACT_LOG", ProfileAction::LOG},
    {"SCMP_ACT_NOTIFY", ProfileAction::NOTIFY},
};

constexpr std::pair<std::string_view, scmp_compare> OPERATORS[] = {
    {"SCMP_CMP_NE", SCMP_CMP_NE}, {"SCMP_CMP_LT", SCMP_CMP_LT},
    {"SCMP_CMP_LE", SCMP_CMP_LE}, {"SCMP_CMP_EQ", SCMP_CMP_EQ},
    {"SCMP_CMP_GE", SCMP_CMP_GE}, {"SCMP_CMP_GT", SCMP_CMP_GT},
    {"SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ},
};

// The architectures the OCI runtime spec names (`architectures`, archMap's `architecture` and
// `subArchitectures`).
constexpr std::string_view SCMP_ARCHES[] = {
    "SCMP_ARCH_X86",     "SCMP_ARCH_X86_64",    "SCMP_ARCH_X32",       "SCMP_ARCH_ARM",
    "SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS",      "SCMP_ARCH_MIPS64",    "SCMP_ARCH_MIPS64N32",
    "SCMP_ARCH_MIPSEL",  "SCMP_ARCH_MIPSEL64",  "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
    "SCMP_ARCH_PPC64",   "SCMP_ARCH_PPC64LE",   "SCMP_ARCH_S390",      "SCMP_ARCH_S390X",
    "SCMP_ARCH_PARISC",  "SCMP_ARCH_PARISC64",  "SCMP_ARCH_RISCV64",   "SCMP_ARCH_LOONGARCH64",
    "SCMP_ARCH_M68K",    "SCMP_ARCH_SH",        "SCMP_ARCH_SHEB",
};

// Docker's `includes`/`excludes` arches: Go's GOARCH names and libseccomp's short ones.
constexpr std::string_view DOCKER_ARCHES[] = {
    "amd64", "x86_64", "386", "x86", "x32", "arm", "arm64", "aarch64", "mips", "mipsle",
    "mipsel", "mips64", "mips64le", "mips64el", "mips64n32", "mipsel64n32", "mips64eln32",
    "ppc", "ppc64", "ppc64le", "s390", "s390x", "parisc", "parisc64", "riscv64", "loong64",
    "loongarch64", "m68k", "sh", "sheb",
};
// What a worker runs: x86-64 code only (a foreign ABI's syscall kills it; seccomp_filter.h).
constexpr std::string_view WORKER_ARCHES[] = {"amd64", "x86_64"};

constexpr std::string_view FLAGS[] = {
    "SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW",
    "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV",
};

constexpr std::string_view CAPABILITIES[] = {
    "CAP_CHOWN",           "CAP_DAC_OVERRIDE",  "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
    "CAP_FSETID",          "CAP_KILL",          "CAP_SETGID",          "CAP_SETUID",
    "CAP_SETPCAP",         "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",       "CAP_NET_RAW",       "CAP_IPC_LOCK",        "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",      "CAP_SYS_RAWIO",     "CAP_SYS_CHROOT",      "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",       "CAP_SYS_ADMIN",     "CAP_SYS_BOOT",        "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",    "CAP_SYS_TIME",      "CAP_SYS_TTY_CONFIG",  "CAP_MKNOD",
    "CAP_LEASE",           "CAP_AUDIT_WRITE",   "CAP_AUDIT_CONTROL",   "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",    "CAP_MAC_ADMIN",     "CAP_SYSLOG",          "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",   "CAP_AUDIT_READ",    "CAP_PERFMON",         "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
};

// The kernel's MAX_ERRNO: a larger value would not be an error return. A TRACE rule's value is
// the tracer's 16-bit message instead.
constexpr uint64_t MAX_ERRNO_RET = 4095;
constexpr uint64_t MAX_TRACE_MESSAGE = 0xFFFF;
constexpr size_t MAX_SYSCALL_NAME = 64;

template <typename Table>
bool contains(const Table& table, std::string_view value) {
  return std::find(std::begin(table), std::end(table), value) != std::end(table);
}

std::string quoted(const Json& value) { return value.dump(); }

// Walks the document; the first problem is kept in `error` and every later step does nothing.
class Reader {
 public:
  explicit Reader(std::string_view file) : file_(file) {}

  bool failed() const { return !error_.empty(); }
  std::string takeError() { return std::move(error_); }

  void fail(const std::string& path, const std::string& what) {
    if (error_.empty()) error_ = std::string(file_) + ": " + path + ": " + what;
  }

  // Fails on any key of `object` not in `known`.
  template <size_t N>
  void checkKeys(const Json& object, const std::string& path,
                 const std::array<std::string_view, N>& known) {
    for (auto& [key, value] : object.items()) {
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(path, "unknown key \"" + key + "\"");
        return;
      }
    }
  }

  const Json* object(const Json& value, const std::string& path) {
    if (value.is_object()) return &value;
    fail(path, "expected an object, got " + std::string(value.type_name()));
    return nullptr;
  }

  std::optional<std::string> string(const Json& value, const std::string& path) {
    if (value.is_string()) return value.get<std::string>();
    fail(path, "expected a string, got " + std::string(value.type_name()));
    return std::nullopt;
  }

  std::optional<uint64_t> unsignedNumber(const Json& value, const std::string& path,
                                         uint64_t max) {
    if (!value.is_number_unsigned()) {
      fail(path, value.is_number() ? "expected a whole number from 0, got " + quoted(value)
                                   : "expected a number, got " + std::string(value.type_name()));
      return std::nullopt;
    }
    uint64_t n = value.get<uint64_t>();
    if (n > max) {
      fail(path, std::to_string(n) + " is larger than " + std::to_string(max));
      return std::nullopt;
    }
    return n;
  }

  // A list of strings, each passing `check` (which fails with its own message).
  template <typename Check>
  std::vector<std::string> strings(const Json& value, const std::string& path, Check check) {
    std::vector<std::string> out;
    if (!value.is_array()) {
      fail(path, "expected an array of strings, got " + std::string(value.type_name()));
      return out;
    }
    for (size_t i = 0; i < value.size() && !failed(); ++i) {
      std::string at = path + "[" + std::to_string(i) + "]";
      if (auto text = string(value[i], at)) {
        if (check(*text, at)) out.push_back(*text);
      }
    }
    return out;
  }

  std::optional<ProfileAction> action(const Json& value, const std::string& path) {
    auto name = string(value, path);
    if (!name) return std::nullopt;
    for (auto& [text, action] : ACTIONS) {
      if (*name == text) return action;
    }
    fail(path, "unknown action \"" + *name + "\"");
    return std::nullopt;
  }

 private:
  std::string_view file_;
  std::string error_;
};

// Lists must name known things: each of these is a `check` for Reader::strings.
auto knownIn = [](auto& table, const char* what, Reader& r) {
  return [&table, what, &r](const std::string& value, const std::string& path) {
    if (contains(table, value)) return true;
    r.fail(path, std::string("unknown ") + what + " \"" + value + "\"");
    return false;
  };
};

bool validSyscallName(const std::string& name) {
  if (name.empty() || name.size() > MAX_SYSCALL_NAME) return false;
  if (!(std::islower(static_cast<unsigned char>(name[0])) || name[0] == '_')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::islower(static_cast<unsigned char>(c)) ||
           std::isdigit(static_cast<unsigned char>(c)) || c == '_';
  });
}

// "5.8": Docker's KernelVersion, major.minor and nothing else.
std::optional<std::pair<unsigned, unsigned>> parseKernelVersion(const std::string& text) {
  size_t dot = text.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == text.size() || dot > 4 ||
      text.size() - dot - 1 > 4) {
    return std::nullopt;
  }
  auto digits = [](std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  std::string_view major(text.data(), dot), minor(text.data() + dot + 1, text.size() - dot - 1);
  if (!digits(major) || !digits(minor)) return std::nullopt;
  return std::pair{static_cast<unsigned>(std::stoul(std::string(major))),
                   static_cast<unsigned>(std::stoul(std::string(minor)))};
}

ProfileFilter readFilter(Reader& r, const Json& value, const std::string& path) {
  ProfileFilter filter;
  if (r.object(value, path) == nullptr) return filter;
  r.checkKeys(value, path, std::array<std::string_view, 3>{"caps", "arches", "minKernel"});
  if (value.contains("caps")) {
    filter.caps = r.strings(value["caps"], path + ".caps", knownIn(CAPABILITIES, "capability", r));
  }
  if (value.contains("arches")) {
    filter.arches =
        r.strings(value["arches"], path + ".arches", knownIn(DOCKER_ARCHES, "architecture", r));
  }
  if (value.contains("minKernel")) {
    if (auto text = r.string(value["minKernel"], path + ".minKernel")) {
      filter.minKernel = parseKernelVersion(*text);
      if (!filter.minKernel) {
        r.fail(path + ".minKernel", "\"" + *text + "\": expected a kernel version \"MAJOR.MINOR\"");
      }
    }
  }
  return filter;
}

void readArg(Reader& r, const Json& value, const std::string& path, ProfileArg& arg) {
  if (r.object(value, path) == nullptr) return;
  r.checkKeys(value, path, std::array<std::string_view, 4>{"index", "value", "valueTwo", "op"});
  for (const char* required : {"index", "value", "op"}) {
    if (!value.contains(required)) r.fail(path, std::string("missing \"") + required + "\"");
  }
  if (r.failed()) return;
  // The kernel passes six argument registers.
  if (auto index = r.unsignedNumber(value["index"], path + ".index", 5)) {
    arg.index = static_cast<unsigned>(*index);
  }
  if (auto n = r.unsignedNumber(value["value"], path + ".value", UINT64_MAX)) arg.value = *n;
  if (value.contains("valueTwo")) {
    if (auto n = r.unsignedNumber(value["valueTwo"], path + ".valueTwo", UINT64_MAX)) {
      arg.valueTwo = *n;
    }
  }
  auto op = r.string(value["op"], path + ".op");
  if (!op) return;
  for (auto& [name, compare] : OPERATORS) {
    if (*op == name) {
      arg.op = compare;
      return;
    }
  }
  r.fail(path + ".op", "unknown operator \"" + *op + "\"");
}

// errnoRet / defaultErrnoRet: only where the action has such a value.
std::optional<uint32_t> readErrnoRet(Reader& r, const Json& value, const std::string& path,
                                     ProfileAction action) {
  if (action != ProfileAction::ERRNO && action != ProfileAction::TRACE) {
    r.fail(path, std::string("only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not ") +
                     profileActionName(action));
    return std::nullopt;
  }
  auto n = r.unsignedNumber(value, path,
                            action == ProfileAction::ERRNO ? MAX_ERRNO_RET : MAX_TRACE_MESSAGE);
  if (!n) return std::nullopt;
  if (action == ProfileAction::ERRNO && *n == 0) {
    // errno 0 is success: a refused syscall (a sandboxing program's own seccomp or unshare)
    // would be told it ran.
    r.fail(path, "errno 0 would answer a refused syscall with success: give an error number");
    return std::nullopt;
  }
  return static_cast<uint32_t>(*n);
}

void readNames(Reader& r, const Json& value, const std::string& path, ProfileRule& rule) {
  bool hasNames = value.contains("names"), hasName = value.contains("name");
  if (hasNames == hasName) {
    r.fail(path, hasName ? "both \"name\" and \"names\": use one" : "missing \"names\"");
    return;
  }
  auto spelled = [&r](const std::string& name, const std::string& at) {
    if (validSyscallName(name)) return true;
    r.fail(at, "\"" + name + "\" is not a syscall name (a-z, 0-9 and '_')");
    return false;
  };
  if (hasName) {
    if (auto name = r.string(value["name"], path + ".name")) {
      if (spelled(*name, path + ".name")) rule.names.push_back(*name);
    }
    return;
  }
  rule.names = r.strings(value["names"], path + ".names", spelled);
  if (!r.failed() && rule.names.empty()) r.fail(path + ".names", "empty: name at least one syscall");
}

void readRule(Reader& r, const Json& value, const std::string& path, ProfileRule& rule) {
  rule.path = path;
  if (r.object(value, path) == nullptr) return;
  r.checkKeys(value, path,
              std::array<std::string_view, 8>{"names", "name", "action", "errnoRet", "args",
                                              "comment", "includes", "excludes"});
  readNames(r, value, path, rule);
  if (!value.contains("action")) {
    r.fail(path, "missing \"action\"");
    return;
  }
  if (auto action = r.action(value["action"], path + ".action")) rule.action = *action;
  if (r.failed()) return;
  if (value.contains("errnoRet")) {
    rule.errnoRet = readErrnoRet(r, value["errnoRet"], path + ".errnoRet", rule.action);
  }
  if (value.contains("comment")) r.string(value["comment"], path + ".comment");
  if (value.contains("args") && !value["args"].is_null()) {
    const Json& args = value["args"];
    if (!args.is_array()) {
      r.fail(path + ".args", "expected an array, got " + std::string(args.type_name()));
      return;
    }
    rule.args.resize(args.size());
    for (size_t i = 0; i < args.size() && !r.failed(); ++i) {
      readArg(r, args[i], path + ".args[" + std::to_string(i) + "]", rule.args[i]);
    }
  }
  if (value.contains("includes")) rule.includes = readFilter(r, value["includes"], path + ".includes");
  if (value.contains("excludes")) rule.excludes = readFilter(r, value["excludes"], path + ".excludes");
}

void readArchitectures(Reader& r, const Json& doc, SeccompProfile& profile) {
  auto known = knownIn(SCMP_ARCHES, "architecture", r);
  if (doc.contains("architectures")) {
    profile.architectures = r.strings(doc["architectures"], "$.architectures", known);
  }
  if (!doc.contains("archMap") || doc["archMap"].is_null()) return;
  const Json& map = doc["archMap"];
  if (!map.is_array()) {
    r.fail("$.archMap", "expected an array, got " + std::string(map.type_name()));
    return;
  }
  for (size_t i = 0; i < map.size() && !r.failed(); ++i) {
    std::string path = "$.archMap[" + std::to_string(i) + "]";
    if (r.object(map[i], path) == nullptr) return;
    r.checkKeys(map[i], path, std::array<std::string_view, 2>{"architecture", "subArchitectures"});
    if (!map[i].contains("architecture")) {
      r.fail(path, "missing \"architecture\"");
      return;
    }
    if (auto arch = r.string(map[i]["architecture"], path + ".architecture")) {
      if (known(*arch, path + ".architecture")) profile.architectures.push_back(*arch);
    }
    if (map[i].contains("subArchitectures") && !map[i]["subArchitectures"].is_null()) {
      for (auto& sub : r.strings(map[i]["subArchitectures"], path + ".subArchitectures", known)) {
        profile.architectures.push_back(sub);
      }
    }
  }
}

void readDefault(Reader& r, const Json& doc, SeccompProfile& profile) {
  if (!doc.contains("defaultAction")) {
    r.fail("$", "missing \"defaultAction\"");
    return;
  }
  auto action = r.action(doc["defaultAction"], "$.defaultAction");
  if (!action) return;
  if (*action == ProfileAction::ALLOW || *action == ProfileAction::LOG) {
    r.fail("$.defaultAction",
           std::string(profileActionName(*action)) +
               " allows every syscall the profile does not name: airlock grants only what a "
               "profile allows by name, so write it as an allowlist (e.g. SCMP_ACT_ERRNO)");
    return;
  }
  profile.defaultAction = *action;
  if (doc.contains("defaultErrnoRet")) {
    profile.defaultErrnoRet = readErrnoRet(r, doc["defaultErrnoRet"], "$.defaultErrnoRet", *action);
  }
}

void readDocument(Reader& r, const Json& doc, SeccompProfile& profile) {
  if (r.object(doc, "$") == nullptr) return;
  r.checkKeys(doc, "$",
              std::array<std::string_view, 8>{"defaultAction", "defaultErrnoRet", "architectures",
                                              "archMap", "flags", "listenerPath",
                                              "listenerMetadata", "syscalls"});
  if (r.failed()) return;
  for (const char* key : {"listenerPath", "listenerMetadata"}) {
    if (doc.contains(key)) {
      r.fail(std::string("$.") + key,
             "airlock's supervisor is the only seccomp listener of a worker; remove it");
    }
  }
  readDefault(r, doc, profile);
  readArchitectures(r, doc, profile);
  // No architectures: the native one (OCI). Others are ignored (a foreign ABI's syscall kills
  // the worker whatever the profile says), but a profile without x86-64 says nothing for it.
  if (!r.failed() && !profile.architectures.empty() &&
      !contains(profile.architectures, "SCMP_ARCH_X86_64")) {
    r.fail(doc.contains("archMap") ? "$.archMap" : "$.architectures",
           "no SCMP_ARCH_X86_64: the profile says nothing for an x86-64 worker");
  }
  if (doc.contains("flags") && !doc["flags"].is_null()) {
    profile.flags = r.strings(doc["flags"], "$.flags", knownIn(FLAGS, "flag", r));
  }
  if (r.failed() || !doc.contains("syscalls") || doc["syscalls"].is_null()) return;
  const Json& syscalls = doc["syscalls"];
  if (!syscalls.is_array()) {
    r.fail("$.syscalls", "expected an array, got " + std::string(syscalls.type_name()));
    return;
  }
  profile.rules.resize(syscalls.size());
  for (size_t i = 0; i < syscalls.size() && !r.failed(); ++i) {
    readRule(r, syscalls[i], "$.syscalls[" + std::to_string(i) + "]", profile.rules[i]);
  }
}

// "FILE:line:col" of byte `offset` of `text` (1-based, as an editor counts).
std::string positionOf(std::string_view text, std::string_view file, size_t offset) {
  offset = std::min(offset, text.size());
  size_t line = 1, column = 1;
  for (size_t i = 0; i < offset; ++i) {
    if (text[i] == '\n') {
      ++line;
      column = 1;
    } else {
      ++column;
    }
  }
  return std::string(file) + ":" + std::to_string(line) + ":" + std::to_string(column);
}

// Parses JSON, refusing a key repeated in one object (nlohmann would keep the last silently: a
// second "action" must not quietly win). Returns the document or the error.
std::variant<Json, std::string> parseJson(std::string_view text, std::string_view file) {
  std::vector<std::set<std::string>> keys;  // per open object
  std::vector<std::string> containers;      // "$" path segments, for the duplicate's message
  std::string duplicate;
  auto callback = [&](int, Json::parse_event_t event, Json& parsed) {
    switch (event) {
      case Json::parse_event_t::object_start: keys.emplace_back(); break;
      case Json::parse_event_t::object_end: keys.pop_back(); break;
      case Json::parse_event_t::key: {
        std::string key = parsed.get<std::string>();
        if (!keys.empty() && !keys.back().insert(key).second && duplicate.empty()) {
          duplicate = key;
        }
        break;
      }
      default: break;
    }
    return true;
  };
  try {
    Json doc = Json::parse(text.begin(), text.end(), callback);
    if (!duplicate.empty()) {
      return std::string(file) + ": key \"" + duplicate +
             "\" appears twice in one object (which one counts is not obvious: keep one)";
    }
    return doc;
  } catch (const Json::parse_error& e) {
    // A syntax error is a value of the input, not a bug: converted at the library boundary.
    std::string what = e.what();
    size_t colon = what.find("parse error");
    return positionOf(text, file, e.byte == 0 ? 0 : e.byte - 1) + ": JSON syntax error: " +
           (colon == std::string::npos ? what : what.substr(colon));
  } catch (const Json::exception& e) {
    // A number too large for a double or an integer (out_of_range 406), found by the fuzzer:
    // also a value of the input. nlohmann gives no position for it.
    return std::string(file) + ": JSON value the parser cannot hold: " + e.what();
  }
}

}  // namespace
}  // namespace _

const char* profileActionName(ProfileAction action) {
  switch (action) {
    case ProfileAction::KILL_THREAD: return "SCMP_ACT_KILL_THREAD";
    case ProfileAction::KILL_PROCESS: return "SCMP_ACT_KILL_PROCESS";
    case ProfileAction::TRAP: return "SCMP_ACT_TRAP";
    case ProfileAction::ERRNO: return "SCMP_ACT_ERRNO";
    case ProfileAction::TRACE: return "SCMP_ACT_TRACE";
    case ProfileAction::ALLOW: return "SCMP_ACT_ALLOW";
    case ProfileAction::LOG: return "SCMP_ACT_LOG";
    case ProfileAction::NOTIFY: return "SCMP_ACT_NOTIFY";
  }
  return "SCMP_ACT_?";
}

const char* compareOpName(scmp_compare op) {
  for (auto& [name, compare] : _::OPERATORS) {
    if (compare == op) return name.data();
  }
  return "SCMP_CMP_?";
}

WorkerConditions thisKernelConditions() {
  struct utsname names {};
  WorkerConditions worker;
  if (uname(&names) == 0) {
    // "6.8.0-45-generic": a kernel too odd to read counts as 0.0, before every minKernel.
    if (sscanf(names.release, "%u.%u", &worker.kernelMajor, &worker.kernelMinor) != 2) {
      worker = WorkerConditions{};
    }
  }
  return worker;
}

bool ruleAppliesToWorker(const ProfileRule& rule, const WorkerConditions& worker) {
  auto workerArch = [](const std::vector<std::string>& arches) {
    return std::any_of(arches.begin(), arches.end(),
                       [](const std::string& arch) { return _::contains(_::WORKER_ARCHES, arch); });
  };
  auto kernelAtLeast = [&](const std::pair<unsigned, unsigned>& version) {
    return std::pair{worker.kernelMajor, worker.kernelMinor} >= version;
  };
  // A worker has no capabilities: a rule that needs one does not apply, and none excludes it.
  if (!rule.includes.caps.empty()) return false;
  if (!rule.includes.arches.empty() && !workerArch(rule.includes.arches)) return false;
  if (rule.includes.minKernel && !kernelAtLeast(*rule.includes.minKernel)) return false;
  if (workerArch(rule.excludes.arches)) return false;
  if (rule.excludes.minKernel && kernelAtLeast(*rule.excludes.minKernel)) return false;
  return true;
}

ProfileParse parseSeccompProfile(std::string_view text, std::string_view file) {
  if (text.size() > MAX_SECCOMP_PROFILE_BYTES) {
    return std::string(file) + ": larger than " + std::to_string(MAX_SECCOMP_PROFILE_BYTES) +
           " bytes";
  }
  auto parsed = _::parseJson(text, file);
  if (auto* error = std::get_if<std::string>(&parsed)) return std::move(*error);
  const _::Json& doc = std::get<_::Json>(parsed);
  _::Reader reader(file);
  SeccompProfile profile;
  _::readDocument(reader, doc, profile);
  if (reader.failed()) return reader.takeError();
  profile.canonical = doc.dump();  // std::map keys: sorted, so key order does not matter
  return profile;
}

ProfileParse readSeccompProfile(const std::string& path, std::string_view shownAs) {
  std::error_code ec;
  auto status = std::filesystem::status(path, ec);
  if (ec) return std::string(shownAs) + ": cannot read seccomp profile: " + ec.message();
  if (!std::filesystem::is_regular_file(status)) {
    return std::string(shownAs) + ": cannot read seccomp profile: not a regular file";
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::string(shownAs) + ": cannot read seccomp profile: " + std::strerror(errno);
  std::string text(MAX_SECCOMP_PROFILE_BYTES + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  if (in.bad()) {
    return std::string(shownAs) + ": cannot read seccomp profile: " + std::strerror(errno);
  }
  text.resize(static_cast<size_t>(in.gcount()));
  return parseSeccompProfile(text, shownAs);
}

}  // namespace airlock::sandbox
