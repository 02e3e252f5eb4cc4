#pragma once
// Loader internals: typed, located reads from a parsed toml++ table. Every read that finds a
// problem records a Diagnostic and returns "nothing", so the loader keeps going and reports all
// problems of a file at once. Only policy_loader.cc and the section readers use this.

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "broker/policy/load/policy_loader.h"

namespace airlock::policy::_ {

// Collects the diagnostics of one file. Borrows the vectors it appends to; they must outlive it.
class Diagnostics {
 public:
  Diagnostics(std::string file, std::vector<Diagnostic>& errors, std::vector<Diagnostic>& warnings)
      : file_(std::move(file)), errors_(errors), warnings_(warnings) {}

  const std::string& file() const { return file_; }
  SourceLocation at(const toml::source_region& region) const;
  void error(const toml::source_region& region, std::string message);
  void warning(const toml::source_region& region, std::string message);
  size_t errorCount() const { return errors_.size(); }

 private:
  std::string file_;
  std::vector<Diagnostic>& errors_;
  std::vector<Diagnostic>& warnings_;
};

enum class Presence : uint8_t { OPTIONAL, REQUIRED };

// "string", "integer", "array", ...: for "expected X, got Y" messages.
std::string_view typeName(const toml::node& node);

// True if a `justification` (or any text meant to say why) shows a reader something: a visible
// character, not only spaces, control characters or invisible Unicode (zero-width spaces and
// joiners, direction marks, a byte-order mark), which would pass a review unseen.
bool saysWhy(std::string_view text);

// Reports each key of `table` that is not in `known`, at the key:
//   `<context>: unknown key "k" (expected a, b, c)`.
void checkKnownKeys(const toml::table& table, std::span<const std::string_view> known,
                    std::string_view context, Diagnostics& diag);

// Located reads of `table[key]`. A missing REQUIRED key is reported at the table; a value of the
// wrong type at the value. Both return nullopt/nullptr; so does a missing OPTIONAL key.
std::optional<std::string> readString(const toml::table& table, std::string_view key,
                                      std::string_view context, Presence presence,
                                      Diagnostics& diag);
std::optional<int64_t> readInteger(const toml::table& table, std::string_view key,
                                   std::string_view context, Presence presence, Diagnostics& diag);

// An optional integer key in [min, max]; `fallback` when absent, or after reporting a wrong type
// or a value out of range ("<context> key: 0 is out of range 1..16").
int64_t readBoundedInteger(const toml::table& table, std::string_view key,
                           std::string_view context, int64_t min, int64_t max, int64_t fallback,
                           Diagnostics& diag);

// An array whose elements are all of type T (string or int64_t); reports each element of another
// type at the element. An empty array is an error ("must not be empty").
template <typename T>
struct Located {
  T value;
  const toml::source_region* where;  // borrowed from the parsed document
};
std::optional<bool> readBoolean(const toml::table& table, std::string_view key,
                                std::string_view context, Presence presence, Diagnostics& diag);

std::optional<std::vector<Located<std::string>>> readStringList(const toml::table& table,
                                                                std::string_view key,
                                                                std::string_view context,
                                                                Presence presence,
                                                                Diagnostics& diag);
std::optional<std::vector<Located<int64_t>>> readIntegerList(const toml::table& table,
                                                             std::string_view key,
                                                             std::string_view context,
                                                             Presence presence, Diagnostics& diag);

// The region of `table[key]`, or of the table itself when the key is absent.
const toml::source_region& regionOf(const toml::table& table, std::string_view key);

// The region of the key `key` itself (where a message about the key, not its value, points), or
// of the table itself when the key is absent.
const toml::source_region& keyRegion(const toml::table& table, std::string_view key);

}  // namespace airlock::policy::_
