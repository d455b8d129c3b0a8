#include "server/server.h"

#include <httplib.h>
#include <netdb.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>

#include "core/json_writer.h"
#include "core/time_util.h"
#include "pipeline/metrics.h"
#include "server/event_hub.h"
#include "server/prometheus.h"
#include "server/sql_service.h"
#include "server/web_assets.h"
#include "sql/sql_engine.h"

namespace strata::server {

namespace {

constexpr const char* kJson = "application/json";

std::string ErrorJson(const std::string& code, const std::string& message) {
  JsonWriter w;
  w.BeginObject().Key("error").BeginObject().Key("code").String(code);
  w.Key("message").String(message).EndObject().EndObject();
  return w.Take();
}

void SetError(httplib::Response& res, int http_status, const Status& st) {
  res.status = http_status;
  res.set_content(ErrorJson(StatusCodeName(st.code()), st.message()), kJson);
}

int HttpStatusFor(const Status& st) {
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kNotFound:
    case StatusCode::kNotSupported:
      return 400;
    case StatusCode::kCancelled:
      return 408;
    default:
      return 500;
  }
}

// Compares without an early exit, so the time taken does not reveal the matching prefix.
bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || b.empty()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

std::string QueriesJson(const std::vector<QueryStatusView>& queries, size_t recent,
                        const std::map<std::string, PipelineMetrics::QueryTotals>& totals) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& q : queries) {
    w.BeginObject();
    w.Key("id").String(q.id).Key("runId").String(q.run_id).Key("name").String(q.name);
    w.Key("status").String(QueryStateName(q.state));
    w.Key("message").String(q.message);
    w.Key("lastBatchId").Int(q.last_batch_id);
    if (q.watermark_ms > 0) {
      w.Key("watermark").String(FormatTimestampMicros(q.watermark_ms * 1000));
      w.Key("watermarkMs").Int(q.watermark_ms);
    } else {
      w.Key("watermark").Null().Key("watermarkMs").Null();
    }
    auto t = totals.find(q.name);
    if (t != totals.end()) {
      const PipelineMetrics::QueryTotals& qt = t->second;
      w.Key("totals").BeginObject().Key("batches").Int(qt.batches);
      w.Key("inputRows").Int(qt.input_rows).Key("lateRows").Int(qt.late_rows);
      w.Key("droppedByWatermark").Int(qt.dropped_by_watermark);
      w.Key("droppedDuplicates").Int(qt.dropped_duplicates);
      w.Key("quarantinedRows").Int(qt.quarantined_rows).EndObject();
    }
    w.Key("recentProgress").BeginArray();
    size_t first = q.recent.size() > recent ? q.recent.size() - recent : 0;
    for (size_t i = first; i < q.recent.size(); ++i) w.Raw(q.recent[i].ToJson());
    w.EndArray();
    w.EndObject();
  }
  w.EndArray();
  return w.Take();
}

// True when binding host:port without SO_REUSEPORT fails because the address is in use.
bool PortInUse(const std::string& host, int port) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  addrinfo* found = nullptr;
  if (getaddrinfo(host.c_str(), std::to_string(port).c_str(), &hints, &found) != 0) return false;
  bool in_use = false;
  for (addrinfo* a = found; a != nullptr && !in_use; a = a->ai_next) {
    int sock = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (sock < 0) continue;
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
    if (bind(sock, a->ai_addr, a->ai_addrlen) != 0 && errno == EADDRINUSE) in_use = true;
    close(sock);
  }
  freeaddrinfo(found);
  return in_use;
}

}  // namespace

Result<std::pair<std::string, int>> ParseListenAddress(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == listen.size()) {
    return InvalidArgument("listen address '" + listen + "' is not host:port");
  }
  std::string host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  std::string port_text = listen.substr(colon + 1);
  int port = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9' || port > 65535)
      return InvalidArgument("listen address '" + listen + "': bad port '" + port_text + "'");
    port = port * 10 + (c - '0');
  }
  if (port > 65535) return InvalidArgument("listen address '" + listen + "': port out of range");
  return std::make_pair(host, port);
}

bool IsLoopbackHost(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

// State that the listener shares with the server; it lives as long as either does.
struct Server::Shared {
  explicit Shared(const ServerOptions& o) : hub(o.sse_queue, o.max_sse_clients) {}
  EventHub hub;
  PipelineMetrics totals;
  std::atomic<int64_t> failed_terminations{0};
  std::atomic<int64_t> sql_requests{0};
  std::atomic<int64_t> sql_errors{0};
  std::mutex mu;
  std::condition_variable cv;           // wakes the alerts watcher on Stop()
  QueriesProvider queries;              // guarded by mu
  std::function<std::string()> alerts;  // guarded by mu
  uint64_t alerts_generation = 0;       // guarded by mu, +1 per SetAlertsProvider
  bool stopping = false;                // guarded by mu
  // Appended to /metrics (SetMetricsProvider); guarded by mu.
  std::function<std::string()> extra_metrics;
};

namespace {

// Publishes an `alert` event for every alert of `json` ({"active":[..],"recent":[..]}) whose
// (id, status) differs from `seen`, oldest first; with `baseline`, only records them. `seen`
// keeps the ids of the last read only. Unparsable JSON changes nothing.
void PublishAlertChanges(const std::string& json, bool baseline,
                         std::map<std::string, std::string>& seen, EventHub& hub) {
  simdjson::dom::parser parser;
  simdjson::dom::object root;
  if (parser.parse(json).get_object().get(root)) return;
  std::map<std::string, std::string> now;
  for (const char* list : {"recent", "active"}) {
    simdjson::dom::array alerts;
    if (root[list].get_array().get(alerts)) continue;
    std::vector<simdjson::dom::element> items(alerts.begin(), alerts.end());
    for (auto it = items.rbegin(); it != items.rend(); ++it) {
      std::string_view id, status;
      if ((*it)["id"].get_string().get(id) || (*it)["status"].get_string().get(status)) continue;
      std::string key(id);
      now[key] = std::string(status);
      auto prev = seen.find(key);
      if (!baseline && (prev == seen.end() || prev->second != status))
        hub.Publish("alert", simdjson::minify(*it));
    }
  }
  seen = std::move(now);
}

}  // namespace

// Query events -> running totals and SSE events. Cheap and non-blocking (see EventHub).
class Server::Listener : public QueryListener {
 public:
  explicit Listener(std::shared_ptr<Shared> shared) : shared_(std::move(shared)) {}

  void OnQueryStarted(const std::string& id, const std::string& run_id,
                      const std::string& name) override {
    JsonWriter w;
    w.BeginObject().Key("event").String("started").Key("id").String(id);
    w.Key("runId").String(run_id).Key("name").String(name).EndObject();
    shared_->hub.Publish("query", w.Take());
  }

  void OnQueryProgress(const QueryProgress& p) override {
    shared_->totals.OnQueryProgress(p);
    shared_->hub.Publish("progress", p.ToJson());
    for (const auto& t : p.tables) {
      if (t.skipped || t.rows == 0) continue;
      JsonWriter w;
      w.BeginObject().Key("query").String(p.name).Key("table").String(t.table);
      w.Key("version").Int(t.version).Key("rows").Int(t.rows).Key("batchId").Int(p.batch_id);
      if (p.watermark_ms > 0) w.Key("watermarkMs").Int(p.watermark_ms);
      if (p.max_event_time_ms >= 0) w.Key("maxEventTimeMs").Int(p.max_event_time_ms);
      w.EndObject();
      shared_->hub.Publish("commit", w.Take());
    }
  }

  void OnBatchRetry(const std::string& id, const std::string& name, int64_t batch_id, int attempt,
                    const Status& error) override {
    JsonWriter w;
    w.BeginObject().Key("id").String(id).Key("query").String(name);
    w.Key("batchId").Int(batch_id).Key("attempt").Int(attempt);
    w.Key("error").String(error.ToString()).Key("timeMs").Int(NowMillis()).EndObject();
    shared_->hub.Publish("retry", w.Take());
  }

  void OnQueryTerminated(const std::string& id, const std::string& name,
                         const Status& status) override {
    if (!status.ok()) shared_->failed_terminations.fetch_add(1);
    JsonWriter w;
    w.BeginObject().Key("event").String(status.ok() ? "terminated" : "failed");
    w.Key("id").String(id).Key("name").String(name);
    w.Key("message").String(status.ok() ? "" : status.ToString()).EndObject();
    shared_->hub.Publish("query", w.Take());
  }

 private:
  std::shared_ptr<Shared> shared_;
};

Server::Server(ServerOptions options)
    : options_(std::move(options)), shared_(std::make_shared<Shared>(options_)) {
  listener_ = std::make_shared<Listener>(shared_);
}

Server::~Server() {
  Stop();
}

std::shared_ptr<QueryListener> Server::listener() const {
  return listener_;
}

void Server::SetQueriesProvider(QueriesProvider provider) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->queries = std::move(provider);
}

void Server::SetAlertsProvider(std::function<std::string()> provider) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->alerts = std::move(provider);
  shared_->alerts_generation += 1;
}

void Server::SetMetricsProvider(std::function<std::string()> provider) {
  std::lock_guard<std::mutex> lock(shared_->mu);
  shared_->extra_metrics = std::move(provider);
}

void Server::WatchAlerts() {
  std::map<std::string, std::string> seen;  // alert id -> status at the last read
  uint64_t generation = 0;                  // of the provider `seen` describes
  std::unique_lock<std::mutex> lock(shared_->mu);
  while (!shared_->stopping) {
    shared_->cv.wait_for(lock, std::chrono::milliseconds(options_.alerts_poll_ms),
                         [this] { return shared_->stopping; });
    if (shared_->stopping || !shared_->alerts) continue;
    std::function<std::string()> provider = shared_->alerts;
    uint64_t current = shared_->alerts_generation;
    lock.unlock();
    PublishAlertChanges(provider(), current != generation, seen, shared_->hub);
    generation = current;
    lock.lock();
  }
}

Result<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  std::unique_ptr<Server> server(new Server(std::move(options)));
  STRATA_RETURN_IF_ERROR(server->Init());
  return server;
}

Status Server::Init() {
  STRATA_ASSIGN_OR_RETURN(auto host_port, ParseListenAddress(options_.listen));
  auto [host, port] = host_port;
  if (!IsLoopbackHost(host) && options_.auth_token.empty()) {
    return InvalidArgument("listen address '" + options_.listen +
                           "' is not loopback: set an auth token (--auth-token or "
                           "server.authToken) to serve on it");
  }
  if (options_.max_sse_clients + 4 > static_cast<size_t>(options_.http_threads)) {
    return InvalidArgument("http_threads must exceed max_sse_clients by at least 4");
  }
  SqlServiceOptions so;
  so.tables = options_.tables;
  so.merged = options_.merged_tables;
  so.allowed_directories = options_.allowed_directories;
  for (const auto& [name, path] : options_.tables) {
    if (!PathIsWithin(path, so.allowed_directories)) so.allowed_directories.push_back(path);
  }
  so.memory_limit = options_.sql_memory_limit;
  so.threads = options_.sql_threads;
  so.timeout_ms = options_.sql_timeout_ms;
  so.max_row_limit = options_.sql_max_rows;
  STRATA_ASSIGN_OR_RETURN(sql_, SqlService::Open(std::move(so)));

  web_dir_ = options_.web_dir;
  if (web_dir_.empty() && kEmbeddedWebAssetCount == 0) {
    const char* env = std::getenv("STRATA_WEB_DIR");
    web_dir_ = env && *env ? env : STRATA_WEB_DIST_DIR;
  }

  http_ = std::make_unique<httplib::Server>();
  int threads = options_.http_threads;
  http_->new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  http_->set_payload_max_length(1 << 20);
  http_->set_keep_alive_max_count(1000);
  // SO_REUSEADDR instead of httplib's SO_REUSEPORT: a second server cannot share a port that
  // one listens on, and the connections this server closes (TIME_WAIT, inheriting the option)
  // do not keep a restarted server off its port for a minute.
  http_->set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });
  Routes();
  if (port == 0) {
    port_ = http_->bind_to_any_port(host);
    if (port_ < 0) return Unavailable("cannot listen on " + options_.listen);
  } else {
    // A clear error when a server listens there already.
    if (PortInUse(host, port)) {
      return Unavailable("cannot listen on " + options_.listen + ": address in use");
    }
    if (!http_->bind_to_port(host, port)) {
      return Unavailable("cannot listen on " + options_.listen +
                         " (address in use, or not an address of this host)");
    }
    port_ = port;
  }
  address_ =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port_);
  thread_ = std::thread([this] { http_->listen_after_bind(); });
  if (options_.alerts_poll_ms > 0) alerts_thread_ = std::thread([this] { WatchAlerts(); });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so that a Stop()
  // right after Start() cannot leave the loop running forever.
  for (int i = 0; i < 10'000 && !http_->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return Status::OK();
}

void Server::Stop() {
  if (!http_) return;
  {
    std::lock_guard<std::mutex> lock(shared_->mu);
    shared_->stopping = true;
  }
  shared_->cv.notify_all();
  if (alerts_thread_.joinable()) alerts_thread_.join();
  shared_->hub.Close();
  http_->stop();
  if (thread_.joinable()) thread_.join();
  http_.reset();
}

void Server::Routes() {
  httplib::Server& s = *http_;
  const std::string token = options_.auth_token;

  s.set_pre_routing_handler([token](const httplib::Request& req, httplib::Response& res) {
    if (token.empty()) return httplib::Server::HandlerResponse::Unhandled;
    bool protected_path = req.path.rfind("/api/", 0) == 0 || req.path == "/metrics";
    if (!protected_path) return httplib::Server::HandlerResponse::Unhandled;
    std::string auth = req.get_header_value("Authorization");
    bool ok = auth.rfind("Bearer ", 0) == 0 && ConstantTimeEquals(auth.substr(7), token);
    // EventSource cannot send headers: the stream also takes ?access_token=.
    if (!ok && req.path == "/api/stream" && req.has_param("access_token"))
      ok = ConstantTimeEquals(req.get_param_value("access_token"), token);
    if (ok) return httplib::Server::HandlerResponse::Unhandled;
    res.status = 401;
    res.set_header("WWW-Authenticate", "Bearer realm=\"strata\"");
    res.set_content(ErrorJson("Unauthenticated", "missing or wrong bearer token"), kJson);
    return httplib::Server::HandlerResponse::Handled;
  });

  auto shared = shared_;
  s.Get("/api/queries", [shared](const httplib::Request& req, httplib::Response& res) {
    QueriesProvider provider;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      provider = shared->queries;
    }
    size_t recent = 20;
    if (req.has_param("recent"))
      recent = std::strtoul(req.get_param_value("recent").c_str(), nullptr, 10);
    res.set_header("Cache-Control", "no-store");
    res.set_content(QueriesJson(provider ? provider() : std::vector<QueryStatusView>{}, recent,
                                shared->totals.Snapshot()),
                    kJson);
  });

  s.Get("/api/alerts", [shared](const httplib::Request&, httplib::Response& res) {
    std::function<std::string()> provider;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      provider = shared->alerts;
    }
    res.set_header("Cache-Control", "no-store");
    res.set_content(provider ? provider() : std::string(R"({"active":[],"recent":[]})"), kJson);
  });

  SqlService* sql = sql_.get();
  size_t default_rows = options_.sql_default_rows;
  s.Post("/api/sql", [shared, sql, default_rows](const httplib::Request& req,
                                                 httplib::Response& res) {
    shared->sql_requests.fetch_add(1);
    std::string text, format = "json";
    int64_t limit = static_cast<int64_t>(default_rows);
    {
      simdjson::ondemand::parser parser;
      simdjson::padded_string body(req.body);
      simdjson::ondemand::document doc;
      simdjson::ondemand::object obj;
      if (parser.iterate(body).get(doc) || doc.get_object().get(obj)) {
        shared->sql_errors.fetch_add(1);
        return SetError(res, 400, InvalidArgument("body is not a JSON object"));
      }
      for (auto field : obj) {
        std::string_view key;
        if (field.unescaped_key().get(key)) break;
        std::string_view sv;
        if (key == "sql") {
          if (field.value().get_string().get(sv)) {
            shared->sql_errors.fetch_add(1);
            return SetError(res, 400, InvalidArgument("\"sql\" must be a string"));
          }
          text = std::string(sv);
        } else if (key == "limit") {
          if (field.value().get_int64().get(limit) || limit < 0) {
            shared->sql_errors.fetch_add(1);
            return SetError(res, 400, InvalidArgument("\"limit\" must be a non-negative integer"));
          }
        } else if (key == "format") {
          if (field.value().get_string().get(sv) || (sv != "json" && sv != "csv")) {
            shared->sql_errors.fetch_add(1);
            return SetError(res, 400, InvalidArgument("\"format\" must be \"json\" or \"csv\""));
          }
          format = std::string(sv);
        }
      }
    }
    if (text.empty()) {
      shared->sql_errors.fetch_add(1);
      return SetError(res, 400, InvalidArgument("\"sql\" is missing or empty"));
    }
    int64_t start = MonotonicNanos();
    auto result = sql->Execute(text, static_cast<size_t>(limit));
    if (!result.ok()) {
      shared->sql_errors.fetch_add(1);
      return SetError(res, HttpStatusFor(result.status()), result.status());
    }
    int64_t elapsed_ms = (MonotonicNanos() - start) / 1'000'000;
    res.set_header("X-Strata-Elapsed-Ms", std::to_string(elapsed_ms));
    if (format == "csv") {
      res.set_header("X-Strata-Truncated", result->truncated ? "true" : "false");
      res.set_content(sql::FormatCsv(*result), "text/csv; charset=utf-8");
      return;
    }
    std::string json = sql::FormatJson(*result);
    res.set_content("{\"elapsedMs\":" + std::to_string(elapsed_ms) + "," + json.substr(1), kJson);
  });

  s.Get("/api/tables", [sql](const httplib::Request&, httplib::Response& res) {
    (void)sql->Refresh();
    JsonWriter w;
    w.BeginArray();
    for (const auto& [name, version] : sql->Versions())
      w.BeginObject().Key("name").String(name).Key("version").Int(version).EndObject();
    w.EndArray();
    res.set_header("Cache-Control", "no-store");
    res.set_content(w.Take(), kJson);
  });

  int64_t heartbeat_ms = options_.heartbeat_ms;
  s.Get("/api/stream", [shared, heartbeat_ms](const httplib::Request&, httplib::Response& res) {
    auto sub = shared->hub.Subscribe();
    if (!sub) {
      return SetError(res, 503, Unavailable("too many /api/stream clients"));
    }
    res.set_header("Cache-Control", "no-store");
    res.set_header("X-Accel-Buffering", "no");
    auto greeted = std::make_shared<bool>(false);
    res.set_chunked_content_provider(
        "text/event-stream", [sub, greeted, heartbeat_ms](size_t, httplib::DataSink& sink) {
          if (!*greeted) {
            *greeted = true;
            std::string hello = "retry: 2000\nevent: hello\ndata: {\"serverTimeMs\":" +
                                std::to_string(NowMillis()) + "}\n\n";
            return sink.write(hello.data(), hello.size());
          }
          auto event = sub->Next(heartbeat_ms);
          if (!event) {
            sink.done();
            return true;
          }
          if (event->empty()) *event = ": heartbeat " + std::to_string(NowMillis()) + "\n\n";
          return sink.write(event->data(), event->size());
        });
  });

  s.Get("/metrics", [shared](const httplib::Request&, httplib::Response& res) {
    QueriesProvider provider;
    std::function<std::string()> extra;
    {
      std::lock_guard<std::mutex> lock(shared->mu);
      provider = shared->queries;
      extra = shared->extra_metrics;
    }
    ServerCounters c;
    c.failed_terminations = shared->failed_terminations.load();
    c.sql_requests = shared->sql_requests.load();
    c.sql_errors = shared->sql_errors.load();
    c.sse_clients = static_cast<int64_t>(shared->hub.subscribers());
    c.sse_events = shared->hub.published();
    c.sse_dropped = shared->hub.dropped();
    res.set_content(RenderPrometheus(provider ? provider() : std::vector<QueryStatusView>{},
                                     shared->totals.Snapshot(), c, NowMillis()) +
                        (extra ? extra() : std::string()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });

  std::string web_dir = web_dir_;
  s.Get(R"(/(.*))", [web_dir](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.path == "/" ? "/index.html" : req.path;
    if (path.find("..") != std::string::npos || path.rfind("/api/", 0) == 0) {
      return SetError(res, 404, NotFound("no such resource: " + req.path));
    }
    bool hashed = path.rfind("/assets/", 0) == 0;  // vite names them by content hash
    res.set_header("Cache-Control", hashed ? "public, max-age=31536000, immutable" : "no-cache");
    if (web_dir.empty()) {
      for (size_t i = 0; i < kEmbeddedWebAssetCount; ++i) {
        if (path == kEmbeddedWebAssets[i].path) {
          res.set_content(reinterpret_cast<const char*>(kEmbeddedWebAssets[i].data),
                          kEmbeddedWebAssets[i].size, ContentTypeFor(path));
          return;
        }
      }
    } else {
      std::ifstream in(web_dir + path, std::ios::binary);
      if (in) {
        std::stringstream ss;
        ss << in.rdbuf();
        res.set_content(ss.str(), ContentTypeFor(path));
        return;
      }
    }
    if (path == "/index.html") {
      res.status = 404;
      res.set_content(
          "<!doctype html><title>strata</title><p>The dashboard was not built: run <code>npm ci "
          "&amp;&amp; npm run build</code> in web/ (scripts/setup.sh does), then rebuild strata. "
          "The API is at <code>/api/</code>.",
          "text/html; charset=utf-8");
      return;
    }
    SetError(res, 404, NotFound("no such resource: " + req.path));
  });
}

}  // namespace strata::server
