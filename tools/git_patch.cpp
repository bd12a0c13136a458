#include "tools/git_patch.hpp"

#include <nlohmann/json.hpp>

namespace dsv4::tools::git {
namespace {

struct Printer {
  Printer(const Repo& r, size_t b) : repo(r), budget(b) {}
  const Repo& repo;
  size_t budget;
  std::string patch;
  Json files = Json::array();
  const git_diff_delta* current = nullptr;
  size_t cut_in_file = SIZE_MAX;  // index of the file whose patch was cut, if any

  void start_file(const git_diff_delta* delta) {
    current = delta;
    Json file{{"path", repo.shown_path(delta->new_file.path)},
              {"status", std::string(1, git_diff_status_char(delta->status))},
              {"additions", 0},
              {"deletions", 0}};
    if (delta->status == GIT_DELTA_RENAMED || delta->status == GIT_DELTA_COPIED)
      file["from"] = repo.shown_path(delta->old_file.path);
    if (delta->flags & GIT_DIFF_FLAG_BINARY) file["binary"] = true;
    files.push_back(std::move(file));
  }

  void line(const git_diff_line* line) {
    auto& file = files.back();
    if (line->origin == GIT_DIFF_LINE_ADDITION) file["additions"] = file["additions"].get<int>() + 1;
    if (line->origin == GIT_DIFF_LINE_DELETION) file["deletions"] = file["deletions"].get<int>() + 1;
    if (line->origin == GIT_DIFF_LINE_BINARY) file["binary"] = true;
    if (cut_in_file != SIZE_MAX) return;
    std::string_view content(line->content, line->content_len);
    bool marked = line->origin == GIT_DIFF_LINE_ADDITION ||
                  line->origin == GIT_DIFF_LINE_DELETION || line->origin == GIT_DIFF_LINE_CONTEXT;
    if (patch.size() + content.size() + 1 > budget) {
      cut_in_file = files.size() - 1;
      return;
    }
    if (marked) patch += static_cast<char>(line->origin);
    patch += content;
  }
};

int on_line(const git_diff_delta* delta, const git_diff_hunk*, const git_diff_line* line,
            void* payload) {
  auto& printer = *static_cast<Printer*>(payload);
  if (delta != printer.current) printer.start_file(delta);
  printer.line(line);
  return 0;
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

  Printer printer{repo, budget};
  check(git_diff_print(diff, GIT_DIFF_FORMAT_PATCH, on_line, &printer), "cannot print the diff");
  bool replaced = false;
  Json result{{"files", std::move(printer.files)}, {"patch", utf8_text(printer.patch, &replaced)}};
  std::string note;
  if (printer.cut_in_file != SIZE_MAX) {
    const auto& files = result["files"];
    std::string rest;
    constexpr size_t kNamed = 20;
    for (size_t i = printer.cut_in_file; i < files.size() && i < printer.cut_in_file + kNamed; ++i)
      rest += (rest.empty() ? "" : ", ") + files[i]["path"].get<std::string>();
    if (files.size() - printer.cut_in_file > kNamed)
      rest += " and " + std::to_string(files.size() - printer.cut_in_file - kNamed) + " more";
    note = "patch cut at " + std::to_string(printer.patch.size()) + " bytes; not shown (or not "
           "fully): " + rest + ". Ask for fewer files with `paths` to see them.";
    result["truncated"] = true;
  }
  if (replaced)
    note += std::string(note.empty() ? "" : " ") + "Bytes that are not UTF-8 are shown as U+FFFD.";
  if (!note.empty()) result["note"] = note;
  return result;
}

}  // namespace dsv4::tools::git
