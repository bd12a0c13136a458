#include "tools/git_patch.hpp"

#include <nlohmann/json.hpp>

namespace dsv4::tools::git {
namespace {

// A delta whose two sides turn out to hold the same content (libgit2 keeps some when
// diffing a tree against the work tree through the index); git prints nothing for it.
bool no_change(git_patch* patch) {
  const git_diff_delta* d = git_patch_get_delta(patch);
  return d->status == GIT_DELTA_MODIFIED && git_patch_num_hunks(patch) == 0 &&
         d->old_file.mode == d->new_file.mode && !(d->flags & GIT_DIFF_FLAG_BINARY);
}

// git ends the `---`/`+++` lines of names that contain a space with a tab (so that GNU
// patch reads the whole name); libgit2 does not. Only the file header is touched.
std::string with_name_tabs(std::string_view text) {
  auto header_end = text.find("\n@@");
  auto header = text.substr(0, header_end == std::string_view::npos ? text.size() : header_end + 1);
  std::string out;
  size_t pos = 0;
  while (pos < header.size()) {
    auto end = header.find('\n', pos);
    if (end == std::string_view::npos) end = header.size();
    auto line = header.substr(pos, end - pos);
    out += line;
    if ((line.starts_with("--- ") || line.starts_with("+++ ")) &&
        line.substr(4).find(' ') != std::string_view::npos)
      out += '\t';
    if (end < header.size()) out += '\n';
    pos = end + 1;
  }
  out += text.substr(header.size());
  return out;
}

Json file_json(const Repo& repo, git_patch* patch) {
  const git_diff_delta* d = git_patch_get_delta(patch);
  size_t additions = 0, deletions = 0;
  check(git_patch_line_stats(nullptr, &additions, &deletions, patch), "cannot count lines");
  Json file{{"path", repo.shown_path(d->new_file.path)},
            {"status", std::string(1, git_diff_status_char(d->status))},
            {"additions", additions},
            {"deletions", deletions}};
  if (d->status == GIT_DELTA_RENAMED || d->status == GIT_DELTA_COPIED)
    file["from"] = repo.shown_path(d->old_file.path);
  if (d->flags & GIT_DIFF_FLAG_BINARY) file["binary"] = true;
  return file;
}

}  // namespace

git_diff_options diff_options(Pathspec& pathspec) {
  git_diff_options opts;
  git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
  opts.flags |= GIT_DIFF_DISABLE_PATHSPEC_MATCH;
  opts.pathspec = pathspec.strarray();
  return opts;
}

Json render_diff(const Repo& repo, git_diff* diff, size_t budget) {
  git_diff_find_options find;
  git_diff_find_options_init(&find, GIT_DIFF_FIND_OPTIONS_VERSION);
  find.flags = GIT_DIFF_FIND_RENAMES;
  check(git_diff_find_similar(diff, &find), "cannot detect renames");

  Json files = Json::array();
  std::string patch_text;
  std::vector<std::string> left_out;  // files whose patch is cut or missing
  for (size_t i = 0; i < git_diff_num_deltas(diff); ++i) {
    git_patch* raw = nullptr;
    check(git_patch_from_diff(&raw, diff, i), "cannot compute a patch");
    if (!raw) continue;  // unchanged
    PatchPtr patch(raw);
    if (no_change(patch.get())) continue;
    files.push_back(file_json(repo, patch.get()));
    if (!left_out.empty()) {
      left_out.push_back(files.back()["path"]);
      continue;
    }
    Buf text;
    check(git_patch_to_buf(&text.buf, patch.get()), "cannot print a patch");
    const auto printed = with_name_tabs(text.view());
    std::string_view view = printed;
    if (patch_text.size() + view.size() > budget) {
      // Keep whole lines of this file's patch up to the budget.
      auto room = budget - patch_text.size();
      auto cut = view.substr(0, room).rfind('\n');
      if (cut != std::string_view::npos) patch_text += view.substr(0, cut + 1);
      left_out.push_back(files.back()["path"]);
      continue;
    }
    patch_text += view;
  }

  bool replaced = false;
  Json result{{"files", std::move(files)}, {"patch", utf8_text(patch_text, &replaced)}};
  std::string note;
  if (!left_out.empty()) {
    constexpr size_t kNamed = 20;
    std::string names;
    for (size_t i = 0; i < left_out.size() && i < kNamed; ++i)
      names += (i ? ", " : "") + left_out[i];
    if (left_out.size() > kNamed) names += " and " + std::to_string(left_out.size() - kNamed) + " more";
    note = "patch cut at " + std::to_string(patch_text.size()) + " bytes; not shown (or not "
           "fully): " + names + ". Ask for fewer files with `paths` to see them.";
    result["truncated"] = true;
  }
  if (replaced)
    note += std::string(note.empty() ? "" : " ") + "Bytes that are not UTF-8 are shown as U+FFFD.";
  if (!note.empty()) result["note"] = note;
  return result;
}

}  // namespace dsv4::tools::git
