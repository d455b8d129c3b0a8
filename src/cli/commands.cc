#include "cli/commands.h"

#include <poll.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <thread>

#include "core/time_util.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "monitor/group_status.h"
#include "monitor/monitoring.h"
#include "pipeline/catalog.h"
#include "pipeline/config.h"
#include "pipeline/enrichment.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "server/server.h"
#include "server/status_client.h"
#include "sql/sql_engine.h"
#include "stream/listeners.h"

namespace strata::cli {

std::atomic<bool> g_stop{false};

namespace {

void OnSignal(int) {
  g_stop.store(true);
}

// One line on stderr (DuckDB's messages span several lines), exit code 1.
int Fail(const Status& st) {
  std::string msg = st.ToString();
  std::string line;
  for (char c : msg) {
    if (c == '\n') {
      while (!line.empty() && line.back() == ' ') line.pop_back();
      if (!line.empty() && line.back() != ' ') line += " | ";
    } else {
      line.push_back(c);
    }
  }
  std::fprintf(stderr, "strata: error: %s\n", line.c_str());
  return 1;
}

// Sleeps up to `ms`, waking early when a stop was requested. Returns false when stopping.
bool SleepUnlessStopped(int64_t ms) {
  int64_t end = MonotonicNanos() + ms * 1'000'000;
  while (!g_stop.load()) {
    int64_t left = (end - MonotonicNanos()) / 1'000'000;
    if (left <= 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<int64_t>(left, 100)));
  }
  return false;
}

std::string FormatCount(int64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > (n < 0 ? 1 : 0); i -= 3) s.insert(i, ",");
  return s;
}

std::string FormatWatermark(int64_t ms) {
  if (ms <= 0) return "none";
  return FormatTimestampMicros(ms * 1000).substr(11, 8);
}

// The config a table command works on: --config, else defaults under --data-dir.
Result<PipelineConfig> ConfigFor(const std::string& config_file, const std::string& data_dir) {
  if (!config_file.empty()) return LoadPipelineConfig(config_file);
  // [gold.sessions] is off by default but on in the demo: listed so that its table can be
  // queried when it exists under the data dir (tables that do not exist are skipped).
  std::string toml = "[pipeline]\ndata_dir = \"" + (data_dir.empty() ? "./strata-data" : data_dir) +
                     "\"\n[gold.sessions]\n";
  return ParsePipelineConfig(toml, "<defaults>");
}

void PrintSummary(const PipelineMetrics& metrics, const PipelineConfig& c, double produced_rate) {
  auto totals = metrics.Snapshot();
  auto rows_of = [&](const std::string& query, const std::string& table) -> int64_t {
    auto q = totals.find(query);
    if (q == totals.end()) return 0;
    auto t = q->second.table_rows.find(table);
    return t == q->second.table_rows.end() ? 0 : t->second;
  };
  auto get = [&](const std::string& q) {
    auto it = totals.find(q);
    return it == totals.end() ? PipelineMetrics::QueryTotals{} : it->second;
  };
  std::string b = c.bronze.table.substr(c.bronze.table.rfind('.') + 1);
  std::string s = c.silver.table.substr(c.silver.table.rfind('.') + 1);
  std::string g = c.gold.table.substr(c.gold.table.rfind('.') + 1);
  auto bq = get(b), sq = get(s), gq = get(g);
  std::printf(
      "[%s] produced %.0f ev/s | bronze %s rows (%.0f rows/s, lag %s) | silver %s rows "
      "(dups %s, late %s, quarantined %s, watermark %s) | gold %s rows (watermark %s)\n",
      FormatTimestampMicros(NowMicros()).substr(11, 8).c_str(), produced_rate,
      FormatCount(rows_of(b, c.bronze.table)).c_str(), bq.last_processed_rate,
      FormatCount(bq.source_lag).c_str(), FormatCount(rows_of(s, c.silver.table)).c_str(),
      FormatCount(sq.dropped_duplicates).c_str(), FormatCount(sq.late_rows).c_str(),
      FormatCount(sq.quarantined_rows).c_str(), FormatWatermark(sq.watermark_ms).c_str(),
      FormatCount(rows_of(g, c.gold.table)).c_str(), FormatWatermark(gq.watermark_ms).c_str());
  std::fflush(stdout);
}

// Destroys a server (its threads and its providers) when it goes out of scope; declared after
// the objects the providers read, so that it runs before they are destroyed.
struct StopServerFirst {
  std::unique_ptr<server::Server>& server;
  ~StopServerFirst() { server.reset(); }
};

// The HTTP server of a running pipeline (dashboard, API, /metrics); --listen/--auth-token
// override the config's server section.
Result<std::unique_ptr<server::Server>> StartServer(const PipelineConfig& config,
                                                    const std::string& listen,
                                                    const std::string& auth_token) {
  server::ServerOptions so;
  so.listen = listen.empty() ? config.server.listen : listen;
  so.auth_token = auth_token.empty() ? config.server.auth_token : auth_token;
  so.tables = config.Tables();
  so.merged_tables = GroupGoldViews(config);
  so.allowed_directories.push_back(config.data_dir);
  auto s = server::Server::Start(std::move(so));
  if (!s.ok()) return s.status().WithContext("HTTP server");
  return s;
}

}  // namespace

void InstallSignalHandlers() {
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
}

int RunDemo(const DemoArgs& args) {
  PipelineConfig config;
  if (!args.config_file.empty()) {
    auto c = LoadPipelineConfig(args.config_file);
    if (!c.ok()) return Fail(c.status());
    config = std::move(*c);
  } else {
    auto c = ParsePipelineConfig(
        "[pipeline]\ndata_dir = \"" + args.data_dir +
            "\"\n[bronze]\ntrigger = \"1 second\"\n[silver]\ntrigger = \"1 second\"\n"
            // Update mode: provisional windows in gold within seconds, final ones later.
            "[gold]\ntrigger = \"1 second\"\noutputMode = \"update\"\n"
            // Sessions (update mode, inherited): provisional within seconds. A 5-minute gap: at
            // the default 2,000 events/s over 100,000 users a user's events are ~50 s apart, so
            // the gap seldom splits a generated session, and a session is final ~10 minutes
            // after its last event (gap + 5-minute watermark) rather than 35 with the default.
            "[gold.sessions]\ngap = \"5 minutes\"\n"
            // Expectations on silver, so that the data-quality page has some to show. The demo's
            // traffic passes them; `strata produce --scenario null-spike:session_id@10s-20s`
            // against the demo's Kafka makes session_present fail.
            "[[silver.expectations]]\nname = \"session_present\"\n"
            "expr = \"session_id IS NOT NULL\"\naction = \"warn\"\n"
            "[[silver.expectations]]\nname = \"known_device\"\n"
            "expr = \"device_type IN ('desktop', 'mobile_web', 'ios', 'android', 'tablet')\"\n"
            "action = \"warn\"\n"
            "[[silver.expectations]]\nname = \"page_url_present\"\n"
            "expr = \"page_url IS NOT NULL AND length(page_url) <= 2048\"\naction = \"drop\"\n",
        "<demo>");
    if (!c.ok()) return Fail(c.status());
    config = std::move(*c);
  }
  auto cluster = EmbeddedCluster::Start({3, {{config.source.topic, 12}}, 1});
  if (!cluster.ok()) return Fail(cluster.status());
  config.source.kafka = {{"bootstrap.servers", (*cluster)->bootstrap_servers()}};
  config.source.secret_keys.clear();
  config.source.starting_offsets = "earliest";
  config.source.on_cluster_change = "reset";  // a new embedded cluster every run

  auto metrics = std::make_shared<PipelineMetrics>();
  auto http = StartServer(config, args.listen, args.auth_token);
  if (!http.ok() && http.status().code() == StatusCode::kUnavailable && args.listen.empty() &&
      config.server.listen == DefaultPipelineConfig().server.listen) {
    // The default port is taken (another demo?): the demo still runs, on a free port.
    spdlog::warn("{}; serving on a free port instead", http.status().ToString());
    http = StartServer(config, "127.0.0.1:0", args.auth_token);
  }
  if (!http.ok()) return Fail(http.status());
  auto monitoring = monitor::Monitoring::FromPipelineConfig(config);
  if (!monitoring.ok()) return Fail(monitoring.status());
  auto pipeline = Pipeline::Create(
      config, {false,
               std::make_shared<CompositeListener>(std::vector<std::shared_ptr<QueryListener>>{
                   metrics, (*http)->listener(), (*monitoring)->listener()}),
               (*monitoring)->record_observer()});
  if (!pipeline.ok()) return Fail(pipeline.status());
  (*http)->SetQueriesProvider([p = pipeline->get()] { return p->Queries(); });
  (*http)->SetAlertsProvider([m = monitoring->get()] { return m->AlertsJson(); });
  (*http)->SetMetricsProvider([m = monitoring->get()] { return m->PrometheusText(); });
  // The server's providers read the pipeline and the monitoring: on every return from here on,
  // the server stops before they are destroyed.
  StopServerFirst stop_server_first{*http};
  // Dimension tables for silver's enrichment; the pages table gets a new version every minute,
  // which silver picks up without a restart.
  int dimension_revision = 0;
  auto write_pages = [&] {
    return OverwriteDimensionTable(config.silver.pages_path, config.silver.pages_table,
                                   DemoPagesDimension(1000, dimension_revision));
  };
  if (Status st = OverwriteDimensionTable(config.silver.countries_path,
                                          config.silver.countries_table, DemoCountriesDimension());
      !st.ok())
    return Fail(st);
  if (Status st = write_pages(); !st.ok()) return Fail(st);

  std::printf("strata demo\n  Dashboard: http://%s/\n", (*http)->address().c_str());
  std::printf("  Kafka:   %s (embedded, cluster %s), topic %s, 12 partitions\n",
              (*cluster)->bootstrap_servers().c_str(), (*cluster)->cluster_id().c_str(),
              config.source.topic.c_str());
  std::printf("  Traffic: %.0f events/s with duplicates, late, malformed and invalid events\n",
              args.rate);
  std::printf("  Tables:  %s (Delta Lake)\n", config.data_dir.c_str());
  for (const auto& [name, path] : config.Tables())
    std::printf("           %-50s %s\n", name.c_str(), path.c_str());
  std::printf(
      "  Query:   strata query --data-dir %s \"SELECT * FROM %s ORDER BY window_start "
      "DESC LIMIT 10\"\n",
      config.data_dir.c_str(), config.gold.table.c_str());
  std::printf("  Stop:    Ctrl-C\n\n");
  std::fflush(stdout);

  std::atomic<bool> stop_producer{false};
  ProduceOptions po;
  po.bootstrap = (*cluster)->bootstrap_servers();
  po.topic = config.source.topic;
  po.rate = args.rate;
  po.generator.seed = static_cast<uint64_t>(NowMicros());
  po.generator.duplicate_fraction = 0.01;
  po.generator.late_fraction = 0.005;
  po.generator.malformed_fraction = 0.001;
  po.generator.unknown_type_fraction = 0.001;
  po.generator.missing_field_fraction = 0.001;
  Result<ProduceStats> produce_result = ProduceStats{};
  std::thread producer([&] { produce_result = RunProducer(po, stop_producer); });

  (*monitoring)->Start();
  (*pipeline)->Start();
  int64_t started = MonotonicNanos();
  int exit_code = 0;
  while (!g_stop.load()) {
    if (!SleepUnlessStopped(args.summary_interval_s * 1000LL)) break;
    Status failure = (*pipeline)->FirstFailure();
    if (!failure.ok()) {
      exit_code = Fail(failure);
      break;
    }
    PrintSummary(*metrics, config, args.rate);
    double elapsed_s = (MonotonicNanos() - started) / 1e9;
    if (elapsed_s >= 60.0 * (dimension_revision + 1)) {
      ++dimension_revision;
      if (Status st = write_pages(); !st.ok()) spdlog::warn("pages dimension: {}", st.ToString());
    }
    if (args.duration_s > 0 && elapsed_s >= args.duration_s) break;
  }
  std::printf("stopping...\n");
  stop_producer.store(true);
  producer.join();
  (*monitoring)->Stop();
  Status st = (*pipeline)->Stop();
  PrintSummary(*metrics, config, 0);
  http->reset();        // the server reads the pipeline's statuses
  pipeline->reset();    // its Kafka clients go before the cluster they talk to
  monitoring->reset();  // and so does the quality tap's reader
  (*cluster)->Stop();
  if (!produce_result.ok()) return Fail(produce_result.status());
  if (!st.ok() && exit_code == 0) return Fail(st);
  return exit_code;
}

int RunKafka(const KafkaArgs& args) {
  auto cluster = EmbeddedCluster::Start({args.brokers, {{args.topic, args.partitions}}, 1});
  if (!cluster.ok()) return Fail(cluster.status());
  std::printf("%s\n", (*cluster)->bootstrap_servers().c_str());
  std::fflush(stdout);
  spdlog::info(
      "embedded Kafka: {} brokers, topic {} with {} partitions, cluster id {}; Ctrl-C "
      "to stop",
      args.brokers, args.topic, args.partitions, (*cluster)->cluster_id());
  // Commands on stdin, one per line, for fault tests: "down N" / "up N" take broker N
  // (1-based) down or up.
  bool stdin_open = true;
  std::string pending;
  while (!g_stop.load()) {
    if (!stdin_open) {
      SleepUnlessStopped(1000);
      continue;
    }
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    if (::poll(&pfd, 1, 200) <= 0) continue;
    char buf[256];
    ssize_t n = ::read(STDIN_FILENO, buf, sizeof buf);
    if (n <= 0) {
      stdin_open = false;
      continue;
    }
    pending.append(buf, static_cast<size_t>(n));
    for (size_t nl; (nl = pending.find('\n')) != std::string::npos; pending.erase(0, nl + 1)) {
      std::string line = pending.substr(0, nl);
      int broker = 0;
      Status st;
      if (std::sscanf(line.c_str(), "down %d", &broker) == 1) {
        st = (*cluster)->SetBrokerDown(broker);
      } else if (std::sscanf(line.c_str(), "up %d", &broker) == 1) {
        st = (*cluster)->SetBrokerUp(broker);
      } else if (!line.empty()) {
        st = InvalidArgument("unknown command '" + line + "' (use: down N, up N)");
      }
      if (!st.ok())
        spdlog::warn("{}", st.ToString());
      else if (broker > 0)
        spdlog::info("broker {}: {}", broker, line.substr(0, line.find(' ')));
    }
  }
  (*cluster)->Stop();
  return 0;
}

int RunProduce(const ProduceArgs& args) {
  ProduceOptions po;
  po.bootstrap = args.bootstrap;
  po.topic = args.topic;
  po.rate = args.rate;
  po.duration_s = args.duration_s;
  po.max_records = args.max_records;
  po.generator.seed = args.seed;
  po.generator.num_users = args.users;
  po.generator.duplicate_fraction = args.duplicates;
  po.generator.late_fraction = args.late;
  po.generator.malformed_fraction = args.malformed;
  po.generator.unknown_type_fraction = args.unknown_types;
  po.generator.missing_field_fraction = args.missing_fields;
  po.generator.max_lateness_ms = static_cast<int64_t>(args.max_lateness_s * 1000);
  if (!args.scenario.empty()) {
    auto scenarios = ParseScenarios(args.scenario);
    if (!scenarios.ok()) return Fail(scenarios.status());
    po.generator.scenarios = std::move(*scenarios);
  }
  po.generator.mean_lateness_ms =
      std::min<int64_t>(po.generator.mean_lateness_ms, po.generator.max_lateness_ms);
  auto stats = RunProducer(po, g_stop);
  if (!stats.ok()) return Fail(stats.status());
  std::printf("produced %llu events in %.1f s (%.0f/s), delivered %llu, failed %llu\n",
              static_cast<unsigned long long>(stats->produced), stats->elapsed_s,
              stats->elapsed_s > 0 ? stats->produced / stats->elapsed_s : 0.0,
              static_cast<unsigned long long>(stats->delivered),
              static_cast<unsigned long long>(stats->delivery_errors));
  return stats->delivery_errors > 0 ? 1 : 0;
}

int RunPipeline(const RunArgs& args) {
  auto config = LoadPipelineConfig(args.config_file);
  if (!config.ok()) return Fail(config.status());
  auto metrics = std::make_shared<PipelineMetrics>();
  std::unique_ptr<server::Server> http;  // not for an available-now run
  if (!args.available_now) {
    auto s = StartServer(*config, args.listen, args.auth_token);
    if (!s.ok()) return Fail(s.status());
    http = std::move(*s);
  }
  auto monitoring = monitor::Monitoring::FromPipelineConfig(*config);
  if (!monitoring.ok()) return Fail(monitoring.status());
  std::shared_ptr<QueryListener> listener =
      std::make_shared<CompositeListener>(std::vector<std::shared_ptr<QueryListener>>{
          metrics, http ? http->listener() : nullptr, (*monitoring)->listener()});
  auto pipeline =
      Pipeline::Create(*config, {args.available_now, listener, (*monitoring)->record_observer()});
  if (!pipeline.ok()) return Fail(pipeline.status());
  // The server's providers read the pipeline and the monitoring: on every return from here on,
  // the server stops before they are destroyed.
  StopServerFirst stop_server_first{http};
  if (http) {
    http->SetQueriesProvider([p = pipeline->get()] { return p->Queries(); });
    http->SetAlertsProvider([m = monitoring->get()] { return m->AlertsJson(); });
    http->SetMetricsProvider([m = monitoring->get()] { return m->PrometheusText(); });
    spdlog::info("dashboard and API on http://{}/", http->address());
  }
  std::string kafka;
  for (const auto& [k, v] : config->RedactedKafka()) kafka += " " + k + "=" + v;
  spdlog::info("pipeline {}: tables under {}; kafka:{}", config->name, config->data_dir, kafka);
  if (args.available_now) {
    Status st = (*pipeline)->RunAvailableNow();
    PrintSummary(*metrics, *config, 0);
    return st.ok() ? 0 : Fail(st);
  }
  (*monitoring)->Start();
  (*pipeline)->Start();
  // Group mode: this member's status file, from which `strata status --group` reads the group.
  std::unique_ptr<monitor::GroupStatusWriter> group_status;
  if (IsGroupMode(*config)) {
    auto short_name = [](const std::string& t) { return t.substr(t.rfind('.') + 1); };
    monitor::GroupStatusWriter::Options o;
    o.bronze_checkpoint = config->bronze.checkpoint;
    o.bronze_query = short_name(config->bronze.table);
    o.listen = http ? http->address() : "";
    // Silver runs one sub-query per owned partition: its views say what this member owns now.
    o.partitioned_layer = short_name(config->silver.table);
    group_status = std::make_unique<monitor::GroupStatusWriter>(
        std::move(o), [p = pipeline->get()] { return p->Queries(); });
    group_status->Start();
  }
  while (SleepUnlessStopped(5000)) {
    if (!(*pipeline)->FirstFailure().ok()) break;
    PrintSummary(*metrics, *config, 0);
  }
  (*monitoring)->Stop();
  Status st = (*pipeline)->Stop();
  if (group_status) group_status->Stop();  // the last write says the member has left
  http.reset();
  return st.ok() ? 0 : Fail(st);
}

int RunQuery(const QueryArgs& args) {
  auto config = ConfigFor(args.config_file, args.data_dir);
  if (!config.ok()) return Fail(config.status());
  auto engine = OpenCatalog(config->Tables(), {}, GroupGoldViews(*config));
  if (!engine.ok()) return Fail(engine.status());
  sql::QueryOptions qo;
  qo.row_limit = args.limit;
  auto result = (*engine)->Execute(args.sql, qo);
  if (!result.ok()) return Fail(result.status());
  if (args.format == "csv")
    std::cout << sql::FormatCsv(*result);
  else if (args.format == "json")
    std::cout << sql::FormatJson(*result) << "\n";
  else
    std::cout << sql::FormatTable(*result);
  return 0;
}

int RunDescribe(const TableArgs& args) {
  auto config = ConfigFor(args.config_file, args.data_dir);
  if (!config.ok()) return Fail(config.status());
  auto path = ResolveTablePath(args.table, config->Tables());
  if (!path.ok()) return Fail(path.status());
  auto table = delta::DeltaTable::Open(*path);
  if (!table.ok()) return Fail(table.status());
  auto snapshot = (*table)->LatestSnapshot();
  if (!snapshot.ok()) return Fail(snapshot.status());
  const auto& s = **snapshot;
  int64_t bytes = 0;
  for (const auto& f : s.files()) bytes += f.size;
  std::printf("table:      %s\nlocation:   %s\nid:         %s\nversion:    %lld\n",
              s.metadata().name.value_or(args.table).c_str(), path->c_str(),
              s.metadata().id.c_str(), static_cast<long long>(s.version()));
  std::printf("protocol:   reader %d, writer %d\n", s.protocol().min_reader_version,
              s.protocol().min_writer_version);
  std::printf("files:      %zu (%lld bytes)\n", s.files().size(), static_cast<long long>(bytes));
  std::string parts;
  for (const auto& p : s.partition_columns()) parts += (parts.empty() ? "" : ", ") + p;
  std::printf("partitions: %s\n", parts.empty() ? "(none)" : parts.c_str());
  std::printf("properties:\n");
  for (const auto& [k, v] : s.configuration()) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  auto schema = s.schema();
  std::printf("schema:\n");
  if (schema.ok()) {
    for (const auto& f : schema->fields())
      std::printf("  %-24s %-10s %s\n", f.name.c_str(), DeltaTypeName(f.type),
                  f.nullable ? "" : "not null");
  } else {
    std::printf("  %s\n", s.metadata().schema_string.c_str());
  }
  return 0;
}

int RunHistory(const TableArgs& args) {
  auto config = ConfigFor(args.config_file, args.data_dir);
  if (!config.ok()) return Fail(config.status());
  auto path = ResolveTablePath(args.table, config->Tables());
  if (!path.ok()) return Fail(path.status());
  auto table = delta::DeltaTable::Open(*path);
  if (!table.ok()) return Fail(table.status());
  auto history = (*table)->History(args.limit);
  if (!history.ok()) return Fail(history.status());
  std::printf("%-8s %-24s %-20s %s\n", "version", "timestamp", "operation", "metrics");
  for (const auto& h : *history) {
    std::string metrics;
    for (const auto& [k, v] : h.commit_info.operation_metrics)
      metrics += (metrics.empty() ? "" : " ") + k + "=" + v;
    std::printf("%-8lld %-24s %-20s %s\n", static_cast<long long>(h.version),
                FormatTimestampMicros(h.timestamp * 1000).c_str(), h.commit_info.operation.c_str(),
                metrics.c_str());
  }
  return 0;
}

namespace {

// `strata status --group`: the whole group from its status files and partition checkpoints.
int RunGroupStatus(const StatusArgs& args) {
  if (args.config_file.empty())
    return Fail(InvalidArgument("status --group needs --config (the group's pipeline TOML)"));
  auto config = LoadPipelineConfig(args.config_file);
  if (!config.ok()) return Fail(config.status());
  auto short_name = [](const std::string& t) { return t.substr(t.rfind('.') + 1); };
  monitor::GroupStatusOptions o;
  o.bronze_checkpoint = config->bronze.checkpoint;
  o.layers.push_back({short_name(config->silver.table), config->silver.checkpoint});
  for (const GoldConfig* g : config->EnabledGoldTables())
    o.layers.push_back({short_name(g->table), g->checkpoint});
  auto group = monitor::ReadGroupStatus(o);
  if (!group.ok()) return Fail(group.status());
  if (args.json)
    std::printf("%s\n", group->ToJson().c_str());
  else
    std::fputs(group->ToText().c_str(), stdout);
  return 0;
}

}  // namespace

int RunStatus(const StatusArgs& args) {
  if (args.group) return RunGroupStatus(args);
  if (args.json) return Fail(InvalidArgument("--json is for status --group"));
  std::string token = args.auth_token;
  if (token.empty()) {
    const char* env = std::getenv("STRATA_AUTH_TOKEN");
    if (env) token = env;
  }
  std::string url = args.url;
  while (!url.empty() && url.back() == '/') url.pop_back();
  auto text = server::FetchStatusText(url, token);
  if (!text.ok()) return Fail(text.status());
  std::fputs(text->c_str(), stdout);
  return 0;
}

}  // namespace strata::cli
