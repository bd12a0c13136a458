#include "tools/walk.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <exception>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "sandbox/workspace.hpp"
#include "tools/ignore.hpp"

namespace dsv4::tools {
namespace {

using sandbox::Fd;

// Small metadata files only; a huge or unreadable one counts as empty.
std::string read_small(int dirfd, const char* name, int extra_flags = O_NOFOLLOW) {
  Fd fd(::openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NONBLOCK | extra_flags));
  std::string out;
  if (!fd) return out;
  struct ::stat st {};
  if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > (16 << 20)) return out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

// The ignore files of one folder, and where it stands among git repositories.
struct Node {
  std::shared_ptr<const Node> parent;
  std::string dir;  // root-relative
  IgnoreFile rgignore, dot_ignore, gitignore, exclude;
  bool has_git = false;  // the folder holds a repository (.git folder or file)
  bool any_git = false;  // ... or one of the folders above it does
};

// info/exclude of the repository whose `.git` sits in `dirfd`; a `.git` file
// (worktree, submodule) points to the real git folder and maybe to a common one.
std::string read_exclude(int dirfd, const std::filesystem::path& dir_abs, bool git_is_dir) {
  if (git_is_dir) return read_small(dirfd, ".git/info/exclude", 0);
  std::string link = read_small(dirfd, ".git");
  if (!link.starts_with("gitdir:")) return {};
  link.erase(0, 7);
  while (!link.empty() && (link.back() == '\n' || link.back() == '\r' || link.back() == ' '))
    link.pop_back();
  while (!link.empty() && link.front() == ' ') link.erase(0, 1);
  std::filesystem::path git_dir = dir_abs / link;
  Fd gd(::open(git_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!gd) return {};
  std::string common = read_small(gd.get(), "commondir", 0);
  while (!common.empty() && (common.back() == '\n' || common.back() == '\r')) common.pop_back();
  if (common.empty()) return read_small(gd.get(), "info/exclude", 0);
  auto common_dir = git_dir / common;
  Fd cd(::open(common_dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  return cd ? read_small(cd.get(), "info/exclude", 0) : std::string();
}

// A repository above the workspace root makes .gitignore files count, as for ripgrep.
bool inside_git_above(const std::filesystem::path& root) {
  for (auto p = root.parent_path(); ; p = p.parent_path()) {
    struct ::stat st {};
    if (::lstat((p / ".git").c_str(), &st) == 0) return true;
    if (p == p.root_path() || p.empty()) return false;
  }
}

std::string_view strip_dir(std::string_view path, std::string_view dir) {
  return dir.empty() ? path : path.substr(dir.size() + 1);
}

struct Job {
  std::string path;
  int depth = 0;  // of the folder itself; the start folder is 0
  std::shared_ptr<const Node> parent;
};

class Walker {
 public:
  Walker(const sandbox::Workspace& ws, const WalkOptions& opt,
         const std::function<bool(const Entry&)>& visit)
      : ws_(ws), opt_(opt), visit_(visit) {}

  void run() {
    std::shared_ptr<const Node> above;
    // The start folder's ancestors contribute their ignore files; the start folder
    // itself is walked even if they ignore it (as for a path given to rg).
    std::string start = ws_.relative(opt_.path);
    Fd start_fd = ws_.open_dir(start);
    if (opt_.ignore_files) {
      root_in_git_ = opt_.require_git ? inside_git_above(ws_.root()) : false;
      std::string dir;
      size_t pos = 0;
      while (dir != start) {
        Fd fd = ws_.open_dir(dir);
        above = make_node(above, fd.get(), dir);
        pos = start.find('/', dir.empty() ? 0 : pos + 1);
        dir = start.substr(0, pos);
      }
    }
    Job first{start, 0, above};
    unsigned n = opt_.sorted ? 1 : std::max(1u, opt_.threads);
    if (n == 1) {
      read_folder(first, std::move(start_fd));
      while (!jobs_.empty() && !stop_) {
        Job job = std::move(jobs_.back());
        jobs_.pop_back();
        if (Fd fd = reopen(job.path)) read_folder(job, std::move(fd));
      }
    } else {
      start_fd.reset();
      run_parallel(std::move(first), n);
    }
    if (error_) std::rethrow_exception(error_);
  }

 private:
  std::shared_ptr<const Node> make_node(std::shared_ptr<const Node> parent, int fd,
                                        const std::string& dir) {
    auto node = std::make_shared<Node>();
    node->parent = std::move(parent);
    node->dir = dir;
    node->rgignore = IgnoreFile(read_small(fd, ".rgignore"));
    node->dot_ignore = IgnoreFile(read_small(fd, ".ignore"));
    struct ::stat st {};
    if (::fstatat(fd, ".git", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
        (S_ISDIR(st.st_mode) || S_ISREG(st.st_mode))) {
      node->has_git = true;
      node->exclude = IgnoreFile(read_exclude(fd, ws_.absolute(dir), S_ISDIR(st.st_mode)));
    }
    node->any_git = node->has_git || (node->parent ? node->parent->any_git : root_in_git_);
    if (node->any_git || !opt_.require_git)
      node->gitignore = IgnoreFile(read_small(fd, ".gitignore"));
    return node;
  }

  // ripgrep's precedence: .rgignore, then .ignore, then .gitignore, then info/exclude,
  // each looked up from the deepest folder upwards; git's files stop at the repository.
  IgnoreMatch decide(const Node* node, std::string_view path, bool is_dir) const {
    IgnoreMatch rg = IgnoreMatch::none, ig = rg, gi = rg, ex = rg;
    bool git_applies = node->any_git || !opt_.require_git;
    bool saw_git = false;
    for (const Node* n = node; n; n = n->parent.get()) {
      auto rel = strip_dir(path, n->dir);
      if (rg == IgnoreMatch::none) rg = n->rgignore.match(rel, is_dir);
      if (ig == IgnoreMatch::none) ig = n->dot_ignore.match(rel, is_dir);
      if (git_applies && !saw_git) {
        if (gi == IgnoreMatch::none) gi = n->gitignore.match(rel, is_dir);
        if (ex == IgnoreMatch::none) ex = n->exclude.match(rel, is_dir);
      }
      saw_git = saw_git || n->has_git;
    }
    for (IgnoreMatch m : {rg, ig, gi, ex})
      if (m != IgnoreMatch::none) return m;
    return IgnoreMatch::none;
  }

  struct Child {
    std::string name;
    Entry::Kind kind;
  };

  std::vector<Child> list(int fd) {
    std::vector<Child> out;
    int dup = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (dup < 0) return out;
    DIR* d = ::fdopendir(dup);
    if (!d) {
      ::close(dup);
      return out;
    }
    while (dirent* e = ::readdir(d)) {
      std::string_view name = e->d_name;
      if (name == "." || name == ".." || name == ".git") continue;
      Entry::Kind kind;
      unsigned char type = e->d_type;
      if (type == DT_UNKNOWN) {
        struct ::stat st {};
        if (::fstatat(fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
        type = S_ISDIR(st.st_mode) ? DT_DIR : S_ISREG(st.st_mode) ? DT_REG
                                            : S_ISLNK(st.st_mode) ? DT_LNK : DT_UNKNOWN;
      }
      kind = type == DT_DIR ? Entry::Kind::dir : type == DT_REG ? Entry::Kind::file
             : type == DT_LNK ? Entry::Kind::symlink : Entry::Kind::other;
      out.push_back({std::string(name), kind});
    }
    ::closedir(d);
    return out;
  }

  // Visits the folder's entries; subfolders are walked at once (sorted) or queued.
  void read_folder(const Job& job, Fd fd) {
    std::shared_ptr<const Node> node =
        opt_.ignore_files ? make_node(job.parent, fd.get(), job.path) : job.parent;
    auto children = list(fd.get());
    if (opt_.sorted) {
      // Folders sort as "name/" so that the walk order is the order of full paths.
      auto key = [](const Child& c) { return c.kind == Entry::Kind::dir ? c.name + "/" : c.name; };
      std::sort(children.begin(), children.end(),
                [&](const Child& a, const Child& b) { return key(a) < key(b); });
    }
    const int depth = job.depth + 1;
    const bool descend = opt_.max_depth < 0 || depth < opt_.max_depth;
    for (auto& c : children) {
      if (stop_.load(std::memory_order_relaxed)) return;
      std::string path = job.path.empty() ? c.name : job.path + "/" + c.name;
      bool is_dir = c.kind == Entry::Kind::dir;
      IgnoreMatch m = node ? decide(node.get(), path, is_dir) : IgnoreMatch::none;
      if (m == IgnoreMatch::ignore) continue;
      if (m == IgnoreMatch::none && !opt_.hidden && c.name[0] == '.') continue;
      if (!fd) fd = reopen(job.path);  // closed while a sorted subfolder was walked
      if (!fd) return;
      Entry e;
      e.kind = c.kind;
      e.depth = depth;
      e.parent_fd = fd.get();
      if (opt_.sizes && c.kind == Entry::Kind::file) {
        struct ::stat st {};
        if (::fstatat(fd.get(), c.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
          e.size = static_cast<uint64_t>(st.st_size);
      }
      e.path = std::move(path);
      if (!call_visit(e)) return;
      if (!is_dir || !descend) continue;
      Job child{std::move(e.path), depth, node};
      if (opt_.sorted) {
        // Closed while the subfolder is walked, so that deep trees do not exhaust
        // descriptors; reopened for the next entry.
        fd.reset();
        if (Fd sub = reopen(child.path)) read_folder(child, std::move(sub));
      } else {
        push(std::move(child));
      }
    }
  }

  Fd reopen(const std::string& path) {
    try {
      return ws_.open_dir(path);
    } catch (const std::exception&) {
      return Fd();  // vanished or unreadable: skipped, as rg does
    }
  }

  bool call_visit(const Entry& e) {
    try {
      if (visit_(e)) return true;
    } catch (...) {
      std::lock_guard lock(mu_);
      if (!error_) error_ = std::current_exception();
    }
    stop_.store(true);
    cv_.notify_all();
    return false;
  }

  void push(Job job) {
    {
      std::lock_guard lock(mu_);
      jobs_.push_back(std::move(job));
    }
    cv_.notify_one();
  }

  void run_parallel(Job first, unsigned n) {
    jobs_.push_back(std::move(first));
    std::vector<std::jthread> threads;
    for (unsigned i = 0; i < n; ++i) threads.emplace_back([this] { work(); });
  }

  void work() {
    std::unique_lock lock(mu_);
    for (;;) {
      cv_.wait(lock, [&] { return stop_ || !jobs_.empty() || busy_ == 0; });
      if (stop_ || jobs_.empty()) break;
      Job job = std::move(jobs_.back());
      jobs_.pop_back();
      ++busy_;
      lock.unlock();
      if (Fd fd = reopen(job.path)) read_folder(job, std::move(fd));
      lock.lock();
      if (--busy_ == 0 && jobs_.empty()) cv_.notify_all();
    }
    cv_.notify_all();
  }

  const sandbox::Workspace& ws_;
  const WalkOptions& opt_;
  const std::function<bool(const Entry&)>& visit_;
  bool root_in_git_ = false;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Job> jobs_;
  unsigned busy_ = 0;
  std::exception_ptr error_;
};

}  // namespace

sandbox::Fd Entry::open() const {
  return sandbox::Fd(::openat(parent_fd, std::string(name()).c_str(),
                              O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
}

std::string_view Entry::name() const {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? std::string_view(path) : std::string_view(path).substr(slash + 1);
}

void walk(const sandbox::Workspace& workspace, const WalkOptions& options,
          const std::function<bool(const Entry&)>& visit) {
  Walker(workspace, options, visit).run();
}

}  // namespace dsv4::tools
