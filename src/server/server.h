#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "sql/sql_engine.h"
#include "stream/progress.h"
#include "stream/streaming_query.h"

namespace httplib {
class Server;
}

namespace strata::server {

class EventHub;
class SqlService;

struct ServerOptions {
  // "host:port"; port 0 picks a free port (see Server::address()).
  std::string listen = "127.0.0.1:8080";
  // When set, /api/* and /metrics need "Authorization: Bearer <token>" (401 otherwise).
  // Required when `listen` is not a loopback address.
  std::string auth_token;
  // Catalog name -> Delta table directory, as PipelineConfig::Tables() gives them.
  std::map<std::string, std::string> tables;
  // Tables read merged (group mode's gold partials, GroupGoldViews).
  std::map<std::string, sql::MergedView> merged_tables;
  // Directories SQL may read: the data dir. Table directories outside them are added.
  std::vector<std::string> allowed_directories;
  // Dashboard files to serve instead of the embedded ones (development); empty: embedded, or
  // when nothing was embedded, $STRATA_WEB_DIR or the source tree's web/dist.
  std::string web_dir;
  std::string sql_memory_limit = "512MB";
  int sql_threads = 2;
  int64_t sql_timeout_ms = 10'000;
  size_t sql_max_rows = 10'000;
  size_t sql_default_rows = 1'000;
  int64_t heartbeat_ms = 10'000;  // SSE comment line when no event came for this long
  size_t sse_queue = 256;         // events buffered per SSE client before dropping the oldest
  size_t max_sse_clients = 32;
  int http_threads = 48;  // must exceed max_sse_clients: each SSE client holds one thread
  // How often the alerts provider is read to push changed alerts on /api/stream; 0: never.
  int64_t alerts_poll_ms = 1'000;
};

// Returns the statuses of the running queries (Pipeline::Queries()); called on server threads.
using QueriesProvider = std::function<std::vector<QueryStatusView>()>;

// The HTTP server of a running pipeline: the dashboard, the JSON API, Server-Sent Events and
// Prometheus metrics (docs/http-api.md).
//
// Lifecycle: Start() binds and serves on its own threads; feed it query events through
// listener() (pass it to the pipeline, e.g. inside a CompositeListener) and query statuses
// through SetQueriesProvider(); Stop() (or the destructor) closes every connection and joins
// the threads. The pipeline never waits for the server: events go to bounded per-client queues
// and SQL runs on the server's own DuckDB. Thread-safety: every method may be called from any
// thread; the listener may outlive the server (its events are then dropped).
class Server {
 public:
  // InvalidArgument for a bad `listen`, or a non-loopback address without an auth token;
  // Unavailable when the address cannot be bound; the SQL engine's error if it cannot open.
  static Result<std::unique_ptr<Server>> Start(ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  void SetQueriesProvider(QueriesProvider provider);
  // GET /api/alerts answers with this JSON ({"active":[..],"recent":[..]}, see
  // monitor::Monitoring::AlertsJson); without a provider, both lists are empty. The server
  // reads it every `alerts_poll_ms` on its own thread and pushes each alert that fired or
  // resolved since the previous read as an `alert` event on /api/stream (alerts present at the
  // first read of a provider are its baseline and are not pushed). Alerts are told apart by
  // their "id" and "status" fields.
  void SetAlertsProvider(std::function<std::string()> provider);
  // GET /metrics appends this text (whole metric families in the Prometheus text format, e.g.
  // monitor::Monitoring::PrometheusText: freshness, alerts) to the server's own metrics. Called
  // on the request's thread; must be thread-safe.
  void SetMetricsProvider(std::function<std::string()> provider);
  std::shared_ptr<QueryListener> listener() const;

  // The bound address, "127.0.0.1:41234", and its port.
  const std::string& address() const { return address_; }
  int port() const { return port_; }

  void Stop();

 private:
  struct Shared;
  class Listener;
  explicit Server(ServerOptions options);
  Status Init();
  void Routes();
  void WatchAlerts();

  ServerOptions options_;
  std::shared_ptr<Shared> shared_;
  std::shared_ptr<Listener> listener_;
  std::unique_ptr<SqlService> sql_;
  std::unique_ptr<httplib::Server> http_;
  std::thread thread_;
  std::thread alerts_thread_;  // runs WatchAlerts() while alerts_poll_ms > 0
  std::string address_;
  int port_ = 0;
  std::string web_dir_;  // serve files from here instead of the embedded assets
};

// "host:port" -> (host, port). InvalidArgument naming the value when malformed.
Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen);
// 127.0.0.0/8, ::1 and localhost.
bool IsLoopbackHost(const std::string& host);

}  // namespace strata::server
