#pragma once

// Reading fields of a JSON record that may be hostile: an audit file is anyone's bytes until its
// chain verifies. nlohmann's `value(key, fallback)` throws `type_error` when the field is there
// with another type (`"event": 41`), so a record read with it could abort the verifier or stop
// airlockd from reopening its own log. These never throw on any parsed value.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string_view>

namespace airlock::audit {

// True if `json` is an object whose `key` is an unsigned integer.
bool hasUnsignedField(const nlohmann::ordered_json& json, const char* key);
bool hasUnsignedField(const nlohmann::json& json, const char* key);

// `json[key]` if `json` is an object and that field is a string; empty otherwise. The view
// lives as long as `json` is not changed.
std::string_view stringField(const nlohmann::ordered_json& json, const char* key);
std::string_view stringField(const nlohmann::json& json, const char* key);

// `json[key]` if `json` is an object and that field is a boolean; false otherwise.
bool trueField(const nlohmann::ordered_json& json, const char* key);

}  // namespace airlock::audit
