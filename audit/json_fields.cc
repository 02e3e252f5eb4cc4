#include "audit/json_fields.h"

namespace airlock::audit {

namespace {

template <typename Json>
const Json* fieldOf(const Json& json, const char* key) {
  if (!json.is_object()) return nullptr;
  auto found = json.find(key);
  return found == json.end() ? nullptr : &*found;
}

template <typename Json>
bool hasUnsigned(const Json& json, const char* key) {
  const Json* field = fieldOf(json, key);
  return field != nullptr && field->is_number_unsigned();
}

template <typename Json>
std::string_view stringOf(const Json& json, const char* key) {
  const Json* field = fieldOf(json, key);
  if (field == nullptr || !field->is_string()) return {};
  return field->template get_ref<const std::string&>();
}

}  // namespace

bool hasUnsignedField(const nlohmann::ordered_json& json, const char* key) {
  return hasUnsigned(json, key);
}
bool hasUnsignedField(const nlohmann::json& json, const char* key) {
  return hasUnsigned(json, key);
}

std::string_view stringField(const nlohmann::ordered_json& json, const char* key) {
  return stringOf(json, key);
}
std::string_view stringField(const nlohmann::json& json, const char* key) {
  return stringOf(json, key);
}

bool trueField(const nlohmann::ordered_json& json, const char* key) {
  const nlohmann::ordered_json* field = fieldOf(json, key);
  return field != nullptr && field->is_boolean() && field->get<bool>();
}

}  // namespace airlock::audit
