#include "tools/git_repo.hpp"

#include <nlohmann/json.hpp>

#include <ctime>
#include <filesystem>

#include "sandbox/workspace.hpp"

namespace dsv4::tools::git {
namespace fs = std::filesystem;

namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one.
size_t utf8_sequence(std::string_view s, size_t i) {
  auto byte = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i);
  if (c < 0x80) return 1;
  size_t len;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;
    if (c == 0xED) hi = 0x9F;  // no surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;
    if (c == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return len;
}

// git's C-style quoting of a name (core.quotePath): "a\tb\377".
std::string quote_c_style(std::string_view name) {
  std::string out = "\"";
  for (unsigned char c : name) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20 || c >= 0x7F) {
          char oct[5];
          std::snprintf(oct, sizeof oct, "\\%03o", c);
          out += oct;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

// The inverse of quote_c_style; nothing when `text` is not such a quoted name.
std::optional<std::string> unquote_c_style(std::string_view text) {
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
  std::string out;
  for (size_t i = 1; i + 1 < text.size(); ++i) {
    char c = text[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i + 1 >= text.size()) return std::nullopt;
    switch (char e = text[i]) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case 'r': out += '\r'; break;
      case '"': case '\\': out += e; break;
      default:
        if (e < '0' || e > '3' || i + 3 >= text.size()) return std::nullopt;
        int v = 0;
        for (int k = 0; k < 3; ++k, ++i) {
          if (text[i] < '0' || text[i] > '7') return std::nullopt;
          v = v * 8 + (text[i] - '0');
        }
        --i;
        out += static_cast<char>(v);
    }
  }
  return out;
}

// Folders directly under `root` that hold a repository, to point the model at them.
std::string nested_repositories(const fs::path& root) {
  std::string found;
  std::error_code ec;
  int count = 0;
  for (auto it = fs::directory_iterator(root, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    if (!it->is_directory(ec) || it->is_symlink(ec) || !fs::exists(it->path() / ".git", ec))
      continue;
    if (count++ == 5) {
      found += ", ...";
      break;
    }
    found += (found.empty() ? "" : ", ") + it->path().filename().string() + "/";
  }
  return found;
}

}  // namespace

void check(int rc, std::string_view what) {
  if (rc >= 0) return;
  const git_error* e = git_error_last();
  std::string message = e && e->message ? e->message : "libgit2 error " + std::to_string(rc);
  throw ToolError(std::string(what) + ": " + message);
}

git_strarray Pathspec::strarray() {
  pointers_.clear();
  for (auto& p : paths_) pointers_.push_back(p.data());
  return git_strarray{pointers_.data(), pointers_.size()};
}

Repo::Repo(const sandbox::Workspace& workspace) : workspace_(workspace) {
  static const int initialized = git_libgit2_init();
  (void)initialized;
  const auto& root = workspace.root();
  git_repository* raw = nullptr;
  int rc = git_repository_open_ext(&raw, root.c_str(), 0, nullptr);
  repo_.reset(raw);
  if (rc == GIT_ENOTFOUND) {
    std::string message = "not a git repository: no .git at " + root.string() +
                          " or in any folder above it";
    if (auto nested = nested_repositories(root); !nested.empty())
      message += "; repositories exist in the subfolders " + nested +
                 ", but the git tools work on the repository that contains the workspace root";
    else
      message += "; the git tools need the workspace to be inside a git repository";
    throw ToolError(message);
  }
  check(rc, "cannot open the git repository at " + root.string());
  if (git_repository_is_bare(get()))
    throw ToolError("the repository at " + std::string(git_repository_path(get())) +
                    " is bare (no work tree); the git tools need a work tree");
  std::error_code ec;
  auto workdir = fs::canonical(git_repository_workdir(get()), ec);
  auto rel = ec ? fs::path("..") : root.lexically_relative(workdir);
  auto rel_text = rel.generic_string();
  if (rel.empty() || rel_text.starts_with(".."))
    throw ToolError("the repository's work tree " + workdir.string() +
                    " does not contain the workspace root " + root.string());
  if (rel_text != ".") prefix_ = rel_text + "/";
}

std::string Repo::repo_path(std::string_view model_path) const {
  auto unquoted = unquote_c_style(model_path);
  auto rel = workspace_.relative(unquoted ? *unquoted : std::string(model_path));
  if (rel.empty()) return prefix_.empty() ? "" : prefix_.substr(0, prefix_.size() - 1);
  return prefix_ + rel;
}

bool Repo::in_workspace(std::string_view repo_path) const {
  return prefix_.empty() || repo_path.starts_with(prefix_) ||
         repo_path == std::string_view(prefix_).substr(0, prefix_.size() - 1);
}

std::string Repo::root_relative(std::string_view repo_path) const {
  if (!in_workspace(repo_path)) throw ToolError("'" + display_name(repo_path) + "' is outside the workspace");
  return std::string(repo_path.substr(std::min(prefix_.size(), repo_path.size())));
}

std::string Repo::shown_path(std::string_view repo_path) const {
  std::string rel;
  if (repo_path.starts_with(prefix_)) {
    rel = repo_path.substr(prefix_.size());
  } else {
    rel = fs::path(repo_path).lexically_relative(fs::path(prefix_)).generic_string();
  }
  return display_name(rel);
}

Pathspec Repo::workspace_pathspec() const {
  Pathspec spec;
  if (!prefix_.empty()) spec.add(prefix_.substr(0, prefix_.size() - 1));
  return spec;
}

CommitPtr Repo::head_commit() const {
  git_reference* head = nullptr;
  int rc = git_repository_head(&head, get());
  RefPtr owned(head);
  if (rc == GIT_EUNBORNBRANCH || rc == GIT_ENOTFOUND) return nullptr;
  check(rc, "cannot read HEAD");
  git_object* commit = nullptr;
  check(git_reference_peel(&commit, head, GIT_OBJECT_COMMIT), "HEAD does not name a commit");
  return CommitPtr(reinterpret_cast<git_commit*>(commit));
}

ObjectPtr Repo::resolve(std::string_view rev) const {
  std::string spec(rev);
  // In `rev:path` the path is the model's, relative to the workspace root.
  if (auto colon = spec.find(':'); colon != std::string::npos && spec.find("^{/") == std::string::npos) {
    auto path_start = colon + 1;
    if (colon == 0 && spec.size() > 2 && spec[2] == ':' && spec[1] >= '0' && spec[1] <= '3')
      path_start = 3;  // :N:path names a stage of the index
    spec = spec.substr(0, path_start) + repo_path(spec.substr(path_start));
  }
  git_object* obj = nullptr;
  int rc = git_revparse_single(&obj, get(), spec.c_str());
  ObjectPtr owned(obj);
  if (rc == GIT_ENOTFOUND)
    throw ToolError("unknown revision '" + std::string(rev) +
                    "': nothing in the repository has that name; use a branch, tag, commit id, "
                    "HEAD, HEAD~N, or REV:PATH (see git_log for commit ids)");
  if (rc == GIT_EAMBIGUOUS)
    throw ToolError("ambiguous revision '" + std::string(rev) +
                    "': several objects match; give more hex digits of the commit id");
  if (rc == GIT_EUNBORNBRANCH)
    throw ToolError("'" + std::string(rev) + "' names nothing yet: the repository has no commits");
  check(rc, "cannot resolve revision '" + std::string(rev) + "'");
  return owned;
}

CommitPtr Repo::resolve_commit(std::string_view rev) const {
  auto obj = resolve(rev);
  git_object* commit = nullptr;
  if (git_object_peel(&commit, obj.get(), GIT_OBJECT_COMMIT) < 0)
    throw ToolError("'" + std::string(rev) + "' is a " +
                    git_object_type2string(git_object_type(obj.get())) +
                    ", not a commit; name a commit (branch, tag, id)");
  return CommitPtr(reinterpret_cast<git_commit*>(commit));
}

IndexPtr Repo::index() const {
  git_index* index = nullptr;
  check(git_repository_index(&index, get()), "cannot read the index");
  return IndexPtr(index);
}

std::string Repo::short_id(const git_oid& id) const {
  git_object* obj = nullptr;
  Buf buf;
  if (git_object_lookup(&obj, get(), &id, GIT_OBJECT_ANY) == 0) {
    ObjectPtr owned(obj);
    if (git_object_short_id(&buf.buf, obj) == 0) return std::string(buf.view());
  }
  return full_id(id).substr(0, 7);
}

std::string full_id(const git_oid& id) {
  char hex[GIT_OID_HEXSZ + 1];
  git_oid_tostr(hex, sizeof hex, &id);
  return hex;
}

std::string iso_time(const git_time& when) {
  std::time_t local = static_cast<std::time_t>(when.time) + when.offset * 60;
  std::tm tm{};
  gmtime_r(&local, &tm);
  char text[64];
  int offset = when.offset < 0 ? -when.offset : when.offset;
  char sign = (when.offset < 0 || (when.offset == 0 && when.sign == '-')) ? '-' : '+';
  std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d%c%02d:%02d", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign, offset / 60,
                offset % 60);
  return text;
}

bool is_utf8(std::string_view bytes) {
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence(bytes, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string display_name(std::string_view name) {
  return is_utf8(name) ? std::string(name) : quote_c_style(name);
}

std::string utf8_text(std::string_view bytes, bool* replaced) {
  std::string out;
  out.reserve(bytes.size());
  for (size_t i = 0; i < bytes.size();) {
    size_t n = utf8_sequence(bytes, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      if (replaced) *replaced = true;
      ++i;
    } else {
      out.append(bytes.substr(i, n));
      i += n;
    }
  }
  return out;
}

Json signature_json(const git_signature* sig) {
  return Json{{"name", utf8_text(sig->name)},
              {"email", utf8_text(sig->email)},
              {"date", iso_time(sig->when)}};
}

Json commit_json(const Repo& repo, git_commit* commit, bool with_body) {
  const git_oid* id = git_commit_id(commit);
  const git_signature* author = git_commit_author(commit);
  Json out{{"id", full_id(*id)},
           {"short", repo.short_id(*id)},
           {"author", utf8_text(author->name)},
           {"email", utf8_text(author->email)},
           {"date", iso_time(author->when)},
           {"subject", utf8_text(nonnull(git_commit_summary(commit)))}};
  if (const char* body = git_commit_body(commit); with_body && body && *body)
    out["body"] = utf8_text(body);
  return out;
}

}  // namespace dsv4::tools::git
