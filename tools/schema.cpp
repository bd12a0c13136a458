#include "tools/schema.hpp"

#include <nlohmann/json.hpp>

namespace dsv4::tools {
namespace {

using nlohmann::json;

std::string type_name(const json& v) {
  switch (v.type()) {
    case json::value_t::null: return "null";
    case json::value_t::boolean: return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "integer";
    case json::value_t::number_float: return "number";
    case json::value_t::string: return "string";
    case json::value_t::array: return "array";
    case json::value_t::object: return "object";
    default: return "value";
  }
}

bool has_type(const json& v, const std::string& t) {
  if (t == "integer") {
    if (v.is_number_integer()) return true;
    // 3.0 is an integer in JSON Schema.
    return v.is_number_float() && v.get<double>() == static_cast<double>(static_cast<long long>(v.get<double>()));
  }
  if (t == "number") return v.is_number();
  return type_name(v) == t;
}

std::string field(const std::string& where) { return where.empty() ? "arguments" : "'" + where + "'"; }

std::optional<std::string> check(const json& schema, const json& v, const std::string& where) {
  if (auto t = schema.find("type"); t != schema.end()) {
    bool ok = false;
    std::string wanted;
    if (t->is_array()) {
      for (const auto& one : *t) {
        ok = ok || has_type(v, one.get<std::string>());
        wanted += (wanted.empty() ? "" : " or ") + one.get<std::string>();
      }
    } else {
      wanted = t->get<std::string>();
      ok = has_type(v, wanted);
    }
    if (!ok) return field(where) + ": expected " + wanted + ", got " + type_name(v);
  }
  if (auto e = schema.find("enum"); e != schema.end()) {
    bool found = false;
    for (const auto& one : *e) found = found || one == v;
    if (!found) return field(where) + ": must be one of " + e->dump() + ", got " + v.dump();
  }
  if (v.is_number()) {
    double x = v.get<double>();
    if (auto m = schema.find("minimum"); m != schema.end() && x < m->get<double>())
      return field(where) + ": must be at least " + m->dump() + ", got " + v.dump();
    if (auto m = schema.find("maximum"); m != schema.end() && x > m->get<double>())
      return field(where) + ": must be at most " + m->dump() + ", got " + v.dump();
  }
  if (v.is_string()) {
    auto n = v.get_ref<const std::string&>().size();
    if (auto m = schema.find("minLength"); m != schema.end() && n < m->get<size_t>())
      return field(where) + ": must be at least " + m->dump() + " characters long";
    if (auto m = schema.find("maxLength"); m != schema.end() && n > m->get<size_t>())
      return field(where) + ": must be at most " + m->dump() + " characters long";
  }
  if (v.is_array()) {
    if (auto m = schema.find("minItems"); m != schema.end() && v.size() < m->get<size_t>())
      return field(where) + ": needs at least " + m->dump() + " items";
    if (auto m = schema.find("maxItems"); m != schema.end() && v.size() > m->get<size_t>())
      return field(where) + ": allows at most " + m->dump() + " items";
    if (auto items = schema.find("items"); items != schema.end()) {
      for (size_t i = 0; i < v.size(); ++i)
        if (auto err = check(*items, v[i], where + "[" + std::to_string(i) + "]")) return err;
    }
  }
  if (v.is_object()) {
    const json* props = nullptr;
    if (auto p = schema.find("properties"); p != schema.end()) props = &*p;
    // Unknown fields first: a misspelt name is also a missing one, and the misspelling
    // is the error worth reporting.
    if (schema.value("additionalProperties", true) == false) {
      for (const auto& item : v.items()) {
        const std::string& key = item.key();
        if (props && props->contains(key)) continue;
        std::string known;
        if (props)
          for (const auto& [k, _] : props->items()) known += (known.empty() ? "" : ", ") + k;
        return "unknown field '" + (where.empty() ? key : where + "." + key) + "'" +
               (known.empty() ? "" : "; known fields: " + known);
      }
    }
    if (auto r = schema.find("required"); r != schema.end()) {
      for (const auto& name : *r) {
        auto key = name.get<std::string>();
        if (!v.contains(key))
          return "missing required field '" + (where.empty() ? key : where + "." + key) + "'";
      }
    }
    for (const auto& [key, value] : v.items())
      if (props && props->contains(key))
        if (auto err = check((*props)[key], value, where.empty() ? key : where + "." + key)) return err;
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> validate(const json& schema, const json& value) {
  return check(schema, value, "");
}

}  // namespace dsv4::tools
