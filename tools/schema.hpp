#pragma once
// Validation of tool arguments against a JSON Schema subset: type (string, integer,
// number, boolean, array, object, null, or a list of them), properties, required,
// additionalProperties (false), items, enum, minimum, maximum, minLength, maxLength,
// minItems, maxItems.
#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>

namespace dsv4::tools {

// The first violation as a message naming the field ("'limit': expected integer, got
// string"), or nothing when `value` conforms.
std::optional<std::string> validate(const nlohmann::json& schema, const nlohmann::json& value);

}  // namespace dsv4::tools
