#include "broker/policy/load/toml_reader.h"

namespace airlock::policy::_ {

SourceLocation Diagnostics::at(const toml::source_region& region) const {
  return SourceLocation{file_, static_cast<int>(region.begin.line),
                        static_cast<int>(region.begin.column)};
}

void Diagnostics::error(const toml::source_region& region, std::string message) {
  errors_.push_back(Diagnostic{at(region), std::move(message)});
}

void Diagnostics::warning(const toml::source_region& region, std::string message) {
  warnings_.push_back(Diagnostic{at(region), std::move(message)});
}

bool saysWhy(std::string_view text) {
  for (size_t i = 0; i < text.size();) {
    auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      if (c > 0x20 && c < 0x7f) return true;
      ++i;
      continue;
    }
    // TOML strings are valid UTF-8 (toml++ checks): one code point of 2 to 4 bytes.
    size_t length = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : 4;
    uint32_t point = c & (length == 2 ? 0x1F : length == 3 ? 0x0F : 0x07);
    for (size_t k = 1; k < length && i + k < text.size(); ++k) {
      point = (point << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
    }
    i += length;
    bool invisible = point < 0xA0 || point == 0xA0 || point == 0xAD || point == 0x180E ||
                     (point >= 0x2000 && point <= 0x200F) || (point >= 0x2028 && point <= 0x202F) ||
                     (point >= 0x205F && point <= 0x206F) || point == 0x3000 || point == 0xFEFF;
    if (!invisible) return true;
  }
  return false;
}

std::string_view typeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::table: return "table";
    case toml::node_type::array: return "array";
    case toml::node_type::string: return "string";
    case toml::node_type::integer: return "integer";
    case toml::node_type::floating_point: return "float";
    case toml::node_type::boolean: return "boolean";
    case toml::node_type::date: return "date";
    case toml::node_type::time: return "time";
    case toml::node_type::date_time: return "date-time";
    case toml::node_type::none: return "nothing";
  }
  return "unknown";
}

void checkKnownKeys(const toml::table& table, std::span<const std::string_view> known,
                    std::string_view context, Diagnostics& diag) {
  for (auto&& [key, value] : table) {
    bool isKnown = false;
    for (std::string_view k : known) isKnown = isKnown || key.str() == k;
    if (isKnown) continue;
    std::string expected;
    for (std::string_view k : known) expected += (expected.empty() ? "" : ", ") + std::string(k);
    diag.error(key.source(), std::string(context) + ": unknown key \"" + std::string(key.str()) +
                                 "\" (expected " + expected + ")");
  }
}

const toml::source_region& regionOf(const toml::table& table, std::string_view key) {
  const toml::node* node = table.get(key);
  return node != nullptr ? node->source() : table.source();
}

const toml::source_region& keyRegion(const toml::table& table, std::string_view key) {
  for (auto&& [k, v] : table) {
    if (k.str() == key) return k.source();
  }
  return table.source();
}

namespace {

// The node at `table[key]` if present; reports a missing REQUIRED key.
const toml::node* find(const toml::table& table, std::string_view key, std::string_view context,
                       Presence presence, Diagnostics& diag) {
  const toml::node* node = table.get(key);
  if (node == nullptr && presence == Presence::REQUIRED) {
    diag.error(table.source(),
               std::string(context) + ": missing required key \"" + std::string(key) + "\"");
  }
  return node;
}

void wrongType(const toml::node& node, std::string_view key, std::string_view context,
               std::string_view expected, Diagnostics& diag) {
  diag.error(node.source(), std::string(context) + ": " + std::string(key) + " must be " +
                                std::string(expected) + ", got " + std::string(typeName(node)));
}

template <typename T>
std::optional<std::vector<Located<T>>> readList(const toml::table& table, std::string_view key,
                                                std::string_view context, Presence presence,
                                                std::string_view expected,
                                                std::string_view elementExpected,
                                                Diagnostics& diag) {
  const toml::node* node = find(table, key, context, presence, diag);
  if (node == nullptr) return std::nullopt;
  const toml::array* array = node->as_array();
  if (array == nullptr) {
    wrongType(*node, key, context, expected, diag);
    return std::nullopt;
  }
  if (array->empty()) {
    diag.error(node->source(),
               std::string(context) + ": " + std::string(key) + " must not be empty");
    return std::nullopt;
  }
  std::vector<Located<T>> out;
  bool ok = true;
  for (const toml::node& element : *array) {
    if (const toml::value<T>* value = element.as<T>()) {
      out.push_back(Located<T>{value->get(), &element.source()});
    } else {
      wrongType(element, std::string(key) + " element", context, elementExpected, diag);
      ok = false;
    }
  }
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::optional<std::string> readString(const toml::table& table, std::string_view key,
                                      std::string_view context, Presence presence,
                                      Diagnostics& diag) {
  const toml::node* node = find(table, key, context, presence, diag);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_string()) return value->get();
  wrongType(*node, key, context, "a string", diag);
  return std::nullopt;
}

std::optional<int64_t> readInteger(const toml::table& table, std::string_view key,
                                   std::string_view context, Presence presence, Diagnostics& diag) {
  const toml::node* node = find(table, key, context, presence, diag);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_integer()) return value->get();
  wrongType(*node, key, context, "an integer", diag);
  return std::nullopt;
}

std::optional<bool> readBoolean(const toml::table& table, std::string_view key,
                                std::string_view context, Presence presence, Diagnostics& diag) {
  const toml::node* node = find(table, key, context, presence, diag);
  if (node == nullptr) return std::nullopt;
  if (const auto* value = node->as_boolean()) return value->get();
  wrongType(*node, key, context, "true or false", diag);
  return std::nullopt;
}

std::optional<std::vector<Located<std::string>>> readStringList(const toml::table& table,
                                                                std::string_view key,
                                                                std::string_view context,
                                                                Presence presence,
                                                                Diagnostics& diag) {
  return readList<std::string>(table, key, context, presence, "an array of strings", "a string",
                               diag);
}

std::optional<std::vector<Located<int64_t>>> readIntegerList(const toml::table& table,
                                                             std::string_view key,
                                                             std::string_view context,
                                                             Presence presence, Diagnostics& diag) {
  return readList<int64_t>(table, key, context, presence, "an array of integers", "an integer",
                           diag);
}

int64_t readBoundedInteger(const toml::table& table, std::string_view key,
                           std::string_view context, int64_t min, int64_t max, int64_t fallback,
                           Diagnostics& diag) {
  std::optional<int64_t> value = readInteger(table, key, context, Presence::OPTIONAL, diag);
  if (!value) return fallback;
  if (*value < min || *value > max) {
    diag.error(regionOf(table, key), std::string(context) + " " + std::string(key) + ": " +
                                         std::to_string(*value) + " is out of range " +
                                         std::to_string(min) + ".." + std::to_string(max));
    return fallback;
  }
  return *value;
}

}  // namespace airlock::policy::_
