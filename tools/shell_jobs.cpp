#include "tools/shell_jobs.hpp"

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

namespace dsv4::tools::jobs {
namespace {

using Clock = std::chrono::steady_clock;

// A job keeps its first 16 KiB and its latest 256 KiB of output; status shows up to
// 16 KiB from each end of what is asked for.
constexpr size_t kKeepHead = 16 * 1024, kKeepTail = 256 * 1024, kShow = 16 * 1024;
// Finished jobs are forgotten, oldest first, beyond this many jobs in the table.
constexpr size_t kMaxKept = 64;

struct Job {
  int id;
  std::string command;
  Clock::time_point started = Clock::now();
  std::mutex mutex;
  std::condition_variable finished;
  OutputBuffer output{kKeepHead, kKeepTail};
  std::optional<ProcessEnd> end;
  std::string error;
  // Declared last: destroyed first, so the thread is stopped and joined while the
  // members it uses still exist.
  std::jthread thread;

  JobSnapshot snapshot(uint64_t since) {
    std::lock_guard lock(mutex);
    JobSnapshot s;
    s.id = id;
    s.command = command;
    s.running = !end;
    if (end) s.end = *end;
    s.error = error;
    s.seconds = end ? end->seconds : std::chrono::duration<double>(Clock::now() - started).count();
    s.output = output.render(since, kShow, kShow);
    s.output_bytes = output.total_bytes();
    return s;
  }
};

class Table {
 public:
  ~Table() {
    // Ask every job to stop first, so that their grace periods run side by side.
    std::lock_guard lock(mutex_);
    for (auto& [id, job] : jobs_) job->thread.request_stop();
  }

  int start(ProcessSpec spec, std::string command) {
    std::lock_guard lock(mutex_);
    int running = 0;
    for (auto& [id, job] : jobs_) running += is_running(*job);
    if (running >= kMaxRunning)
      throw std::runtime_error(std::to_string(running) +
                               " background jobs are running already; end one with shell_kill");
    forget_finished();
    auto job = std::make_shared<Job>();
    job->id = ++last_id_;
    job->command = std::move(command);
    Job* j = job.get();
    job->thread = std::jthread([j, spec = std::move(spec)](std::stop_token stop) {
      ProcessEnd end;
      std::string error;
      try {
        end = run_process(spec, stop, [j](std::string_view bytes) {
          std::lock_guard lock(j->mutex);
          j->output.append(bytes);
        });
      } catch (const std::exception& e) {
        error = e.what();
      }
      std::lock_guard lock(j->mutex);
      j->end = end;
      j->error = std::move(error);
      j->finished.notify_all();
    });
    jobs_.emplace(job->id, std::move(job));
    return last_id_;
  }

  std::shared_ptr<Job> find(int id) {
    std::lock_guard lock(mutex_);
    auto it = jobs_.find(id);
    if (it == jobs_.end())
      throw std::out_of_range(
          "no background job " + std::to_string(id) +
          (last_id_ ? "; jobs so far are numbered 1 to " + std::to_string(last_id_)
                    : "; none was started") +
          " (finished jobs are forgotten after " + std::to_string(kMaxKept) + " more)");
    return it->second;
  }

 private:
  static bool is_running(Job& job) {
    std::lock_guard lock(job.mutex);
    return !job.end;
  }

  void forget_finished() {
    for (auto it = jobs_.begin(); jobs_.size() >= kMaxKept && it != jobs_.end();)
      it = is_running(*it->second) ? std::next(it) : jobs_.erase(it);
  }

  std::mutex mutex_;
  std::map<int, std::shared_ptr<Job>> jobs_;
  int last_id_ = 0;
};

Table& table() {
  static Table t;
  return t;
}

}  // namespace

int start(ProcessSpec spec, std::string command) {
  return table().start(std::move(spec), std::move(command));
}

JobSnapshot status(int id, uint64_t since) { return table().find(id)->snapshot(since); }

JobSnapshot kill(int id) {
  auto job = table().find(id);
  job->thread.request_stop();
  {
    std::unique_lock lock(job->mutex);
    job->finished.wait_for(lock, std::chrono::seconds(10), [&] { return job->end.has_value(); });
  }
  return job->snapshot(0);
}

}  // namespace dsv4::tools::jobs
