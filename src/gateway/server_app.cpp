#include "gateway/server_app.h"

#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <thread>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "audit/audit_log.h"
#include "auth/api_key.h"
#include "auth/session_store.h"
#include "gateway/blocking.h"
#include "gateway/gateway.h"
#include "gateway/static_files.h"
#include "gateway/web_routes.h"
#include "http/http_upstream.h"
#include "http/server.h"
#include "quota/counter_store.h"
#include "routing/upstream_factory.h"

namespace weir {

namespace asio = boost::asio;

namespace {

int CpuCount() {
  unsigned count = std::thread::hardware_concurrency();
  return count == 0 ? 1 : static_cast<int>(count);
}

// Creates the first superadmin when the store has no users. The key comes from
// WEIR_ADMIN_KEY when set, else it is generated; either way it is printed once.
Status BootstrapSuperadmin(Store& store, const std::string& secret, bool print) {
  auto count = store.CountUsers();
  if (!count.ok()) return count.error();
  if (*count > 0) return Status::Ok();

  std::string key;
  bool from_env = false;
  if (const char* env = std::getenv("WEIR_ADMIN_KEY"); env != nullptr && *env != '\0') {
    key = env;
    from_env = true;
    if (!IsWellFormedApiKey(key)) {
      return Error::InvalidRequest(fmt::format("WEIR_ADMIN_KEY must be \"wr-\" followed by {} letters or digits; "
                                               "unset it to have a key generated",
                                               kApiKeyRandomLength));
    }
  } else {
    key = GenerateApiKey();
  }
  User admin;
  admin.name = "admin";
  admin.role = Role::kSuperadmin;
  auto user = store.CreateUser(admin);
  if (!user.ok()) return user.error();
  ApiKey record;
  record.user_id = user->id;
  record.name = "bootstrap";
  record.prefix = DisplayPrefix(key);
  record.hash = HashApiKey(secret, key);
  auto created = store.CreateKey(record);
  if (!created.ok()) return created.error();
  spdlog::info("event=superadmin_created user=admin key_prefix={} source={}", record.prefix,
               from_env ? "WEIR_ADMIN_KEY" : "generated");
  if (print && !from_env) {
    // Printed to stdout, not the log: it is shown once and never stored in clear.
    std::cout << "Superadmin API key (shown once, store it now): " << key << std::endl;
  }
  return Status::Ok();
}

asio::awaitable<void> RefreshIdentities(IdentityCache& identity, asio::thread_pool& blocking, bool& running) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (running) {
    timer.expires_after(std::chrono::milliseconds(250));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
    if (!running) break;
    auto reload = RunBlocking(blocking, [&identity] { return identity.ReloadIfChanged(); });
    Status status = co_await std::move(reload);
    if (!status.ok()) spdlog::error("event=identity_reload_failed error=\"{}\"", status.error().message);
  }
}

asio::awaitable<void> RefreshPromotions(QuotaManager& quota, AuditSink& audit, Store& store, asio::thread_pool& blocking,
                                        bool& running) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  while (running) {
    auto refresh = RunBlocking(blocking, [&]() -> Status {
      int64_t now = static_cast<int64_t>(std::time(nullptr));
      auto history = audit.HistoryByUser((now - 7 * 86400) * 1000);
      if (!history.ok()) return history.error();
      auto users = store.ListUsers();
      if (!users.ok()) return users.error();
      std::unordered_map<int64_t, int64_t> created;
      for (const auto& user : *users) created[user.id] = user.created_at;
      quota.UpdatePromotions(*history, now, created);
      return Status::Ok();
    });
    Status status = co_await std::move(refresh);
    if (!status.ok()) spdlog::error("event=quota_promotion_refresh_failed error=\"{}\"", status.error().message);
    timer.expires_after(std::chrono::seconds(60));
    boost::system::error_code ec;
    co_await timer.async_wait(asio::redirect_error(asio::use_awaitable, ec));
  }
}

void AddGauges(GatewayMetrics& metrics, AuditLog& audit, ModelRegistry& models) {
  metrics.gauges.push_back([&audit](std::string& out) {
    out += "# HELP weir_audit_dropped_total Audit events dropped because the queue was full or the sink failed.\n"
           "# TYPE weir_audit_dropped_total counter\n";
    out += fmt::format("weir_audit_dropped_total {}\n", audit.dropped());
    out += "# HELP weir_audit_written_total Audit events written to the sink.\n# TYPE weir_audit_written_total counter\n";
    out += fmt::format("weir_audit_written_total {}\n", audit.written());
    out += "# HELP weir_audit_queue_depth Audit events waiting for the writer.\n# TYPE weir_audit_queue_depth gauge\n";
    out += fmt::format("weir_audit_queue_depth {}\n", audit.queue_depth());
  });
  metrics.gauges.push_back([&models](std::string& out) {
    out += "# HELP weir_upstream_healthy 1 when the upstream receives traffic, 0 when ejected.\n"
           "# TYPE weir_upstream_healthy gauge\n";
    std::string outstanding =
        "# HELP weir_upstream_outstanding Requests in flight per upstream.\n# TYPE weir_upstream_outstanding gauge\n";
    for (const auto& model : models.List()) {
      for (const auto& status : model->pool->Status()) {
        out += fmt::format("weir_upstream_healthy{{model=\"{}\",upstream=\"{}\"}} {}\n", model->name, status.id,
                           status.state == UpstreamState::kEjected ? 0 : 1);
        outstanding += fmt::format("weir_upstream_outstanding{{model=\"{}\",upstream=\"{}\"}} {}\n", model->name,
                                   status.id, status.outstanding);
      }
    }
    out += outstanding;
  });
}

}  // namespace

// Prints the route table; the gateway is built without services, which its
// constructor only stores.
int PrintRoutes(const Config& config) {
  GatewayServices services;
  services.config = config;
  Gateway gateway(services);
  StaticFiles web_files;
  Status web_loaded = web_files.Load(FindWebDirectory());
  if (!web_loaded.ok()) {
    std::cerr << "error: " << web_loaded.error().message << std::endl;
    return 1;
  }
  SessionStore sessions;
  AddClientRoutes(gateway, web_files, sessions);
  for (const auto& route : gateway.routes()) {
    std::cout << http::to_string(route.method) << " " << route.pattern << "\n";
  }
  std::cout << std::flush;
  return 0;
}

int RunServer(const ServeOptions& options) {
  if (options.print_routes) return PrintRoutes(options.config);
  const Config& config = options.config;
  spdlog::set_level(spdlog::level::from_str(config.log_level));
  spdlog::info("event=config_loaded {}", DescribeConfig(config));

  std::error_code fs_error;
  std::filesystem::create_directories(config.data_dir, fs_error);
  if (fs_error) {
    spdlog::critical("event=start_failed error=\"cannot create data directory {}: {}\"", config.data_dir,
                     fs_error.message());
    return 1;
  }
  auto fail = [](const Error& error) {
    spdlog::critical("event=start_failed error=\"{}\"", error.message);
    return 1;
  };

  auto store = OpenSqliteStore(config.data_dir + "/weir.db");
  if (!store.ok()) return fail(store.error());
  auto audit_sink = OpenSqliteAuditSink(config.data_dir + "/audit.db");
  if (!audit_sink.ok()) return fail(audit_sink.error());
  auto secret = LoadOrCreateSecret(config.data_dir + "/secret.key");
  if (!secret.ok()) return fail(secret.error());
  Status bootstrap = BootstrapSuperadmin(**store, *secret, options.print_admin_key);
  if (!bootstrap.ok()) return fail(bootstrap.error());

  IdentityCache identity(**store, *secret);
  Status loaded = identity.Reload();
  if (!loaded.ok()) return fail(loaded.error());

  auto counters = MakeInProcessCounterStore();
  QuotaManager quota(config.quota, *counters);
  AuditLog audit(**audit_sink, config.audit);
  GatewayMetrics metrics;

  int threads = config.threads > 0 ? config.threads : CpuCount();
  asio::io_context io(threads);
  asio::thread_pool blocking(2);

  ModelRegistry models(MakeUpstreamFactory(io),
                       HealthPolicy{config.upstream.eject_after_failures, config.upstream.eject_cooldown});
  for (const auto& model : config.models) {
    Status status = models.Put(model, false);
    if (!status.ok()) return fail(status.error());
  }
  auto overrides = (*store)->ListModelOverrides();
  if (!overrides.ok()) return fail(overrides.error());
  for (const auto& record : *overrides) {
    Status status = ApplyModelOverride(models, record);
    if (!status.ok()) spdlog::error("event=model_override_skipped model={} error=\"{}\"", record.name, status.error().message);
  }
  AddGauges(metrics, audit, models);

  AbuseDetector abuse(config.abuse);
  SessionStore sessions;
  GatewayServices services{config,  store->get(), &identity, &quota,  &audit, audit_sink->get(),
                           &models, &metrics,     &blocking, &abuse, SessionLookup(sessions)};
  Gateway gateway(services);
  StaticFiles web_files;
  Status web_loaded = web_files.Load(FindWebDirectory());
  if (!web_loaded.ok()) return fail(web_loaded.error());
  AddClientRoutes(gateway, web_files, sessions);
  HttpServerOptions server_options;
  server_options.max_body_bytes = config.max_body_bytes;
  server_options.max_active_requests = config.max_concurrent_requests;
  HttpServer server(io, server_options, [&gateway](HttpRequest& request, ResponseWriter& writer) {
    return gateway.Handle(request, writer);
  });
  Status listening = server.Listen(config.listen);
  if (!listening.ok()) return fail(listening.error());
  server.Start();

  bool running = true;
  asio::co_spawn(io, RefreshIdentities(identity, blocking, running), asio::detached);
  asio::co_spawn(io, RefreshPromotions(quota, **audit_sink, **store, blocking, running), asio::detached);

  // SIGTERM: stop accepting, let requests and streams finish up to the grace
  // deadline, then stop the io threads; the audit queue is flushed after.
  asio::signal_set signals(io, SIGINT, SIGTERM);
  asio::steady_timer drain_timer(io);
  auto drain_deadline = std::make_shared<std::chrono::steady_clock::time_point>();
  std::function<void()> check_drained = [&] {
    if (server.Active() == 0 || std::chrono::steady_clock::now() >= *drain_deadline) {
      if (server.Active() > 0) spdlog::warn("event=drain_deadline_expired active_requests={}", server.Active());
      running = false;
      io.stop();
      return;
    }
    drain_timer.expires_after(std::chrono::milliseconds(50));
    drain_timer.async_wait([&](const boost::system::error_code&) { check_drained(); });
  };
  signals.async_wait([&](const boost::system::error_code& ec, int signal) {
    if (ec) return;
    spdlog::info("event=shutdown_started signal={} active_requests={} grace_seconds={}", signal, server.Active(),
                 config.shutdown_grace.count());
    gateway.SetDraining();
    server.StopAccepting();
    *drain_deadline = std::chrono::steady_clock::now() + config.shutdown_grace;
    check_drained();
  });

  std::string url = fmt::format("http://{}", config.listen);
  spdlog::info("event=started listen={} port={} threads={} models={}", config.listen, server.port(), threads,
               config.models.size());
  std::cout << "Weir is serving on http://" << config.listen.substr(0, config.listen.rfind(':')) << ":"
            << server.port() << std::endl;

  std::vector<std::thread> workers;
  for (int i = 1; i < threads; ++i) workers.emplace_back([&io] { io.run(); });
  io.run();
  for (auto& worker : workers) worker.join();

  blocking.join();
  audit.Stop();
  spdlog::info("event=stopped audit_written={} audit_dropped={}", audit.written(), audit.dropped());
  return 0;
}

}  // namespace weir
