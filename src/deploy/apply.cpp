#include "deploy/apply.h"

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <regex>

#include <fmt/format.h>

#include "detect/command_runner.h"

namespace weir::deploy {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Follows ansible-playbook's default output: "TASK [name] ***" starts a
// step, then one "ok|changed|skipping|failed|fatal: [host]" line per host.
class AnsibleProgress {
 public:
  AnsibleProgress(std::ostream& out, Clock::time_point start) : out_(out), start_(start) {}

  void OnLine(const std::string& line) {
    static const std::regex task(R"(^(TASK|PLAY) \[(.*)\])");
    static const std::regex result(R"(^(ok|changed|skipping|failed|fatal|unreachable): \[([^\]]+)\])");
    std::smatch match;
    if (std::regex_search(line, match, task)) {
      if (match[1] == "TASK") {
        ++step_;
        task_ = match[2].str();
      }
      return;
    }
    if (std::regex_search(line, match, result)) {
      const std::string status = match[1].str();
      out_ << fmt::format("[{:6.1f}s] host={} step={} task=\"{}\" status={}\n", Seconds(start_), match[2].str(), step_,
                          task_, status);
      if (status == "fatal" || status == "failed" || status == "unreachable") failures_.push_back(line);
      out_.flush();
    } else if (!failures_.empty() && failures_.size() < 20 && !line.empty()) {
      failures_.push_back(line);  // Keeps the error detail that follows a failure.
    }
  }

  const std::vector<std::string>& failures() const { return failures_; }

 private:
  std::ostream& out_;
  Clock::time_point start_;
  int step_ = 0;
  std::string task_;
  std::vector<std::string> failures_;
};

Status RunStep(const std::vector<std::string>& argv, const std::string& host, const std::string& step,
               Clock::time_point start, std::ostream& progress) {
  const detect::CommandResult result = detect::RunCommand(argv);
  const bool ok = result.started && result.exit_code == 0;
  progress << fmt::format("[{:6.1f}s] host={} step=\"{}\" status={}\n", Seconds(start), host, step,
                          ok ? "ok" : "failed");
  if (ok) return Status::Ok();
  return Error::Internal(fmt::format("{} failed on {} (exit {}): {}", argv.front(), host, result.exit_code,
                                     result.output));
}

}  // namespace

Status ApplyAnsible(const ApplyOptions& options, std::ostream& progress) {
  const Clock::time_point start = Clock::now();
  AnsibleProgress parser(progress, start);
  const detect::CommandResult result = detect::RunCommand(
      {options.ansible_playbook, "-i", options.out_dir + "/inventory.ini", options.out_dir + "/playbook.yml"},
      [&parser](const std::string& line) { parser.OnLine(line); });
  progress << fmt::format("ansible-playbook finished in {:.1f} s with exit code {}\n", Seconds(start),
                          result.exit_code);
  if (!result.started) {
    return Error::NotFound(fmt::format(
        "{} could not be run; install Ansible (pip install ansible-core) or put it on PATH", options.ansible_playbook));
  }
  if (result.exit_code != 0) {
    std::string detail;
    for (const std::string& line : parser.failures()) detail += "\n  " + line;
    return Error::Internal(fmt::format("ansible-playbook failed with exit code {}:{}", result.exit_code, detail));
  }
  return Status::Ok();
}

Status ApplySystemd(const plan::Plan& plan, const ApplyOptions& options, std::ostream& progress) {
  const Clock::time_point start = Clock::now();
  for (const plan::PlanHost& host : plan.hosts) {
    const fs::path host_dir = fs::path(options.out_dir) / host.name;
    if (!fs::is_directory(host_dir)) continue;
    if (host.connection != "local") {
      return Error::InvalidRequest(fmt::format(
          "host {} is reached over SSH; --apply with the systemd target only installs on this host, so use "
          "--target ansible for remote hosts",
          host.name));
    }
    std::error_code error;
    fs::create_directories(options.systemd_dir, error);
    fs::create_directories(options.config_dir, error);
    std::vector<std::string> units;
    for (const auto& entry : fs::directory_iterator(host_dir)) {
      const fs::path file = entry.path();
      const bool unit = file.extension() == ".service";
      const fs::path target = fs::path(unit ? options.systemd_dir : options.config_dir) / file.filename();
      fs::copy_file(file, target, fs::copy_options::overwrite_existing, error);
      progress << fmt::format("[{:6.1f}s] host={} step=\"install {}\" status={}\n", Seconds(start), host.name,
                              target.string(), error ? "failed" : "ok");
      if (error) return Error::Internal(fmt::format("cannot write {}: {}", target.string(), error.message()));
      if (unit) units.push_back(file.filename().string());
    }
    std::sort(units.begin(), units.end());
    if (Status s = RunStep({"systemctl", "daemon-reload"}, host.name, "systemctl daemon-reload", start, progress);
        !s.ok()) {
      return s;
    }
    for (const std::string& unit : units) {
      if (Status s = RunStep({"systemctl", "enable", "--now", unit}, host.name, "start " + unit, start, progress);
          !s.ok()) {
        return s;
      }
    }
  }
  progress << fmt::format("systemd units started in {:.1f} s\n", Seconds(start));
  return Status::Ok();
}

}  // namespace weir::deploy
