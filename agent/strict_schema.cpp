#include "agent/strict_schema.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace dsv4::agent {

using Json = nlohmann::json;

namespace {

bool close(Json& schema) {
  if (!schema.is_object()) return true;
  if (schema.value("type", Json()) == "object") {
    auto props = schema.find("properties");
    if (props == schema.end() || !props->is_object()) return false;
    if (auto extra = schema.find("additionalProperties"); extra != schema.end() && *extra != false)
      return false;
    const Json required = schema.value("required", Json::array());
    Json all = Json::array();
    for (auto& [name, property] : props->items()) {
      if (!close(property)) return false;
      if (std::find(required.begin(), required.end(), name) == required.end())
        property = {{"anyOf", Json::array({property, {{"type", "null"}}})}};
      all.push_back(name);
    }
    schema["required"] = std::move(all);
    schema["additionalProperties"] = false;
  }
  if (auto items = schema.find("items"); items != schema.end() && !close(*items)) return false;
  for (const char* key : {"anyOf", "oneOf", "allOf"})
    if (auto list = schema.find(key); list != schema.end() && list->is_array())
      for (Json& option : *list)
        if (!close(option)) return false;
  return true;
}

}  // namespace

std::optional<Json> strict_schema(const Json& schema) {
  Json out = schema;
  if (!out.is_object() || out.value("type", Json()) != "object" || !close(out)) return std::nullopt;
  return out;
}

}  // namespace dsv4::agent
