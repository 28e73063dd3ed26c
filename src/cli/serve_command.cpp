// `weir serve` and `weir sim`.
#include <fmt/format.h>

#include "cli/commands.h"
#include "cli/exit_code.h"
#include "gateway/server_app.h"
#include "sim/simulator.h"

namespace weir::cli {

void AddServeCommand(CLI::App& app) {
  auto* serve = app.add_subcommand("serve", "Run the gateway");
  auto config_path = std::make_shared<std::string>();
  auto listen = std::make_shared<std::string>();
  auto data_dir = std::make_shared<std::string>();
  serve->add_option("--config", *config_path, "YAML config file (optional; WEIR_* environment variables also apply)")
      ->envname("WEIR_CONFIG");
  serve->add_option("--listen", *listen, "Address to listen on, HOST:PORT (default 127.0.0.1:8080)");
  serve->add_option("--data-dir", *data_dir, "Directory for the SQLite store, audit log and secret (default ./data)");
  auto print_routes = std::make_shared<bool>(false);
  serve->add_flag("--print-routes", *print_routes, "Print every route as \"METHOD /path\" and exit without serving");
  serve->callback([=] {
    auto config = LoadConfig(*config_path);
    if (!config.ok()) {
      fmt::print(stderr, "error: {}\n", config.error().message);
      SetExitCode(2);
      return;
    }
    if (!listen->empty()) config->listen = *listen;
    if (!data_dir->empty()) config->data_dir = *data_dir;
    SetExitCode(RunServer(ServeOptions{*config, true, *print_routes}));
  });
}

void AddSimCommand(CLI::App& app) {
  auto* sim = app.add_subcommand("sim", "Run the upstream simulator (an OpenAI-compatible test server)");
  auto options = std::make_shared<SimOptions>();
  auto listen = std::make_shared<std::string>("127.0.0.1:9000");
  auto threads = std::make_shared<int>(1);
  sim->add_option("--listen", *listen, "Address to listen on, HOST:PORT")->capture_default_str();
  sim->add_option("--latency-ms", options->latency_ms, "Delay before a non-streamed answer, in milliseconds");
  sim->add_option("--ttft-ms", options->ttft_ms, "Delay before the first streamed chunk, in milliseconds");
  sim->add_option("--tokens-per-second", options->tokens_per_second, "Pace of streamed tokens (0 = as fast as possible)");
  sim->add_option("--completion-tokens", options->completion_tokens, "Tokens per answer when max_tokens is not set")
      ->capture_default_str();
  sim->add_option("--failure-rate", options->failure_rate, "Share of requests that fail, from 0 to 1")
      ->check(CLI::Range(0.0, 1.0));
  sim->add_option("--failure-status", options->failure_status, "HTTP status of a simulated failure")
      ->capture_default_str();
  sim->add_option("--usage-shape", options->usage_shape, "How streamed usage is reported")
      ->check(CLI::IsMember({"final_empty", "with_choice", "deepseek", "none"}))
      ->capture_default_str();
  sim->add_flag("--reasoning", options->reasoning, "Stream reasoning_content before the answer (R1-style)");
  sim->add_option("--threads", *threads, "io threads")->capture_default_str();
  sim->callback([=] { SetExitCode(RunSimulator(*listen, *options, *threads)); });
}

}  // namespace weir::cli
