#include "tools/registry.hpp"

#include <nlohmann/json.hpp>

#include <system_error>

#include "prompts/prompts.hpp"
#include "sandbox/workspace.hpp"
#include "tools/builtin.hpp"
#include "tools/schema.hpp"
#include "tools/utf8_text.hpp"

namespace dsv4::tools {
namespace {

// One line per tool; the order is the order the model sees them in.
const Tool* const kTools[] = {
    &builtin::read_file,
    &builtin::write_file,
    &builtin::edit_file,
    &builtin::apply_patch,
    &builtin::list_files,
    &builtin::search_text,
    &builtin::git_status,
    &builtin::git_diff,
    &builtin::git_log,
    &builtin::git_show,
    &builtin::git_blame,
    &builtin::git_commit,
    &builtin::git_branch,
    &builtin::shell,
    &builtin::shell_status,
    &builtin::shell_kill,
    &builtin::outline,
    &builtin::find_symbol,
    &builtin::find_references,
};

// The biggest string or array in `v` by serialized size, to be halved next.
Json* largest_part(Json& v, size_t& best) {
  Json* found = nullptr;
  if (v.is_string() || v.is_array()) {
    size_t size = v.dump().size();
    if (size > best) {
      best = size;
      found = &v;
    }
  }
  if (v.is_structured())
    for (auto& child : v)
      if (Json* inner = largest_part(child, best)) found = inner;
  return found;
}

// Last-resort cap for results whose tool did not bound itself enough.
void bound(Json& result) {
  size_t size = result.dump().size();
  if (size <= kMaxResultBytes) return;
  const size_t original = size;
  while (size > kMaxResultBytes) {
    size_t best = 0;
    Json* part = largest_part(result, best);
    if (!part || best < 64) break;
    if (part->is_string()) {
      auto& s = part->get_ref<std::string&>();
      size_t keep = s.size() / 2;
      while (keep > 0 && (static_cast<unsigned char>(s[keep]) & 0xC0) == 0x80) --keep;
      s = s.substr(0, keep) + "\n[... cut: " + std::to_string(s.size() - keep) + " bytes]";
    } else {
      part->erase(part->begin() + static_cast<long>(part->size() / 2), part->end());
    }
    size = result.dump().size();
  }
  result["truncated"] = true;
  result["note"] = "result cut from " + std::to_string(original) + " to about " +
                   std::to_string(kMaxResultBytes) +
                   " bytes; narrow the request (smaller range, path or pattern) to see the rest";
}

}  // namespace

std::span<const Tool> all_tools() {
  static const std::vector<Tool> tools = [] {
    std::vector<Tool> v;
    for (const Tool* t : kTools) v.push_back(*t);
    return v;
  }();
  return tools;
}

const Tool* find_tool(std::string_view name) {
  for (const Tool& t : all_tools())
    if (t.name == name) return &t;
  return nullptr;
}

std::string_view tool_description(const Tool& tool) {
  return prompts::get("tools/" + std::string(tool.name) + ".md");
}

Json call_tool(const Tool& tool, const Json& args, ToolContext& ctx) {
  // Messages may quote paths that are not UTF-8; the result must stay valid JSON text.
  auto failure = [](std::string message) { return Json{{"ok", false}, {"error", escape_invalid_utf8(message)}}; };
  if (!args.is_object()) return failure("arguments must be a JSON object, got " + args.dump());
  if (auto err = validate(Json::parse(tool.schema), args))
    return failure("invalid arguments for " + std::string(tool.name) + ": " + *err);
  Json result;
  try {
    result = tool.run(args, ctx);
  } catch (const ToolError& e) {
    return failure(e.what());
  } catch (const sandbox::AccessDenied& e) {
    return failure(std::string("sandbox: ") + e.what());
  } catch (const std::system_error& e) {
    return failure(e.what());
  } catch (const std::exception& e) {
    return failure(std::string(tool.name) + " failed: " + e.what());
  }
  if (!result.is_object()) result = Json{{"result", std::move(result)}};
  if (!result.contains("ok")) result["ok"] = true;
  bound(result);
  return result;
}

}  // namespace dsv4::tools
