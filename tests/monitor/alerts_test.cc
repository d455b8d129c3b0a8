#include "monitor/alerts.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/time_util.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "monitor/config.h"
#include "monitor/health.h"
#include "monitor/progress_table.h"

namespace strata::monitor {
namespace {

// A real HTTP receiver on 127.0.0.1 that answers 503 to the first `fail_first` POSTs.
class Receiver {
 public:
  explicit Receiver(int fail_first) : fail_first_(fail_first) {
    server_.Post("/hook", [this](const httplib::Request& req, httplib::Response& res) {
      std::lock_guard<std::mutex> lock(mu_);
      ++attempts_;
      if (attempts_ <= fail_first_) {
        res.status = 503;
        return;
      }
      bodies_.push_back(req.body);
      res.status = 200;
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  ~Receiver() {
    server_.stop();
    thread_.join();
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_) + "/hook"; }
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  int attempts() {
    std::lock_guard<std::mutex> lock(mu_);
    return attempts_;
  }
  // Waits (polling, up to 20 s) until `n` bodies arrived.
  bool WaitFor(size_t n) {
    for (int i = 0; i < 2000; ++i) {
      if (bodies().size() >= n) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  }

 private:
  httplib::Server server_;
  int port_ = 0;
  int fail_first_;
  std::thread thread_;
  std::mutex mu_;
  int attempts_ = 0;
  std::vector<std::string> bodies_;
};

TEST(WebhookTest, DeliversFiringAndResolvedAlerts) {
  Receiver rx(0);
  WebhookSender::Options o;
  o.urls = {rx.url()};
  auto sender = WebhookSender::Create(o);
  ASSERT_TRUE(sender.ok()) << sender.status().ToString();
  AlertManager alerts(sender->get());
  std::string id =
      alerts.Raise("lag", "kafka_lag", "critical", "bronze", "lag 5000 > 1000", R"({"lag":5000})");
  EXPECT_EQ(alerts.Raise("lag", "kafka_lag", "critical", "bronze", "lag 6000 > 1000"), id);
  EXPECT_TRUE(alerts.IsActive("lag", "bronze"));
  alerts.Resolve("lag", "bronze");
  EXPECT_FALSE(alerts.IsActive("lag", "bronze"));
  ASSERT_TRUE(rx.WaitFor(2));
  auto bodies = rx.bodies();
  EXPECT_NE(bodies[0].find("\"status\":\"firing\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"lag\":5000"), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[0].find("\"id\":\"" + id + "\""), std::string::npos) << bodies[0];
  EXPECT_NE(bodies[1].find("\"status\":\"resolved\""), std::string::npos) << bodies[1];
  EXPECT_EQ(alerts.fired_total(), 1u);
  auto snap = alerts.Snapshot();
  ASSERT_EQ(snap.size(), 1u);
  EXPECT_FALSE(snap[0].active());
}

TEST(WebhookTest, RetriesWithBackoffUntilTheReceiverAccepts) {
  Receiver rx(3);
  WebhookSender::Options o;
  o.urls = {rx.url()};
  o.initial_backoff_ms = 20;
  o.max_attempts = 6;
  auto sender = WebhookSender::Create(o);
  ASSERT_TRUE(sender.ok());
  AlertManager alerts(sender->get());
  alerts.Raise("stopped", "query_stopped", "critical", "silver", "query silver stopped");
  ASSERT_TRUE(rx.WaitFor(1));
  EXPECT_EQ(rx.attempts(), 4);
  // The receiver stored the body before answering: wait for the sender to see the answer.
  for (int i = 0; i < 2000 && (*sender)->stats().delivered == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto stats = (*sender)->stats();
  EXPECT_EQ(stats.delivered, 1u);
  EXPECT_EQ(stats.attempts, 4u);
  EXPECT_EQ(stats.failed, 0u);
}

TEST(WebhookTest, GivesUpAfterMaxAttemptsAndNeverBlocksPost) {
  Receiver rx(1000);
  WebhookSender::Options o;
  o.urls = {rx.url()};
  o.initial_backoff_ms = 5;
  o.max_attempts = 2;
  o.max_queue = 4;
  auto sender = WebhookSender::Create(o);
  ASSERT_TRUE(sender.ok());
  for (int i = 0; i < 50; ++i) (*sender)->Post("{\"n\":" + std::to_string(i) + "}");
  for (int i = 0; i < 2000 && (*sender)->stats().failed + (*sender)->stats().dropped < 50; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  auto stats = (*sender)->stats();
  EXPECT_EQ(stats.failed + stats.dropped, 50u);
  EXPECT_GT(stats.dropped, 0u);
  EXPECT_EQ(stats.delivered, 0u);
}

TEST(WebhookTest, RejectsBadUrls) {
  WebhookSender::Options o;
  o.urls = {"https://example.com/x"};
  EXPECT_FALSE(WebhookSender::Create(o).ok());
  o.urls = {"http://:80/x"};
  EXPECT_FALSE(WebhookSender::Create(o).ok());
  o.urls = {"http://h:8x/x"};
  EXPECT_FALSE(WebhookSender::Create(o).ok());
}

TEST(MonitoringConfigTest, ParsesSectionsAndNamesBadKeys) {
  auto c = ParseMonitoringConfig(R"(
[pipeline]
name = "x"
[monitoring]
progressLog = "/tmp/p.jsonl"
evaluationInterval = "2 seconds"
[alerts]
webhooks = ["http://127.0.0.1:9/h"]
[[alerts.rules]]
type = "falling_behind"
ratio = 2
for = "10 seconds"
[[alerts.rules]]
name = "lag"
type = "kafka_lag"
threshold = 1000
growingBatches = 3
severity = "critical"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->progress_log, "/tmp/p.jsonl");
  EXPECT_EQ(c->evaluation_interval_ms, 2000);
  ASSERT_EQ(c->rules.size(), 2u);
  EXPECT_EQ(c->rules[0].ratio, 2.0);
  EXPECT_EQ(c->rules[0].for_ms, 10000);
  EXPECT_EQ(c->rules[1].name, "lag");
  EXPECT_EQ(c->rules[1].growing_batches, 3);

  auto bad = ParseMonitoringConfig("[[alerts.rules]]\ntype = \"kafka_lag\"\nratoi = 2\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("alerts.rules[0].ratoi"), std::string::npos);
  bad = ParseMonitoringConfig("[[alerts.rules]]\ntype = \"nope\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("alerts.rules[0].type"), std::string::npos);
  bad = ParseMonitoringConfig("[monitoring]\nevaluationInterval = \"soon\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("monitoring.evaluationInterval"), std::string::npos);
  EXPECT_EQ(ParseMonitoringConfig("")->rules.size(), DefaultRules().size());
}

QueryProgress Progress(const std::string& name, int64_t rows, double in_rate, double proc_rate,
                       int64_t lag) {
  QueryProgress p;
  p.id = "id-" + name;
  p.name = name;
  p.num_input_rows = rows;
  p.input_rows_per_second = in_rate;
  p.processed_rows_per_second = proc_rate;
  p.source_lag = lag;
  p.partitions.push_back({"t-0", 0, rows, rows + lag});
  return p;
}

TEST(HealthMonitorTest, RulesFireAndResolve) {
  MonitoringConfig c;
  RuleConfig behind{.name = "behind", .type = "falling_behind", .ratio = 1.5, .for_ms = 0};
  RuleConfig lag{.name = "lag", .type = "kafka_lag", .threshold = 1000, .growing_batches = 3};
  RuleConfig nodata{.name = "nodata", .type = "no_data", .query = "bronze", .for_ms = 60'000};
  RuleConfig failed{.name = "failed", .type = "batch_failed", .severity = "critical"};
  RuleConfig wm{.name = "wm", .type = "watermark_delay", .threshold_ms = 60'000};
  c.rules = {behind, lag, nodata, failed, wm};
  AlertManager alerts;
  HealthMonitor h(c, &alerts, {{"gold", {60'000, 60'000}}});
  h.OnQueryStarted("id-bronze", "r", "bronze");
  h.OnQueryProgress(Progress("bronze", 100, 1000, 10000, 10));
  EXPECT_TRUE(alerts.Active().empty());
  h.OnQueryProgress(Progress("bronze", 100, 3000, 1000, 10));
  EXPECT_TRUE(alerts.IsActive("behind", "bronze"));
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 10));
  EXPECT_FALSE(alerts.IsActive("behind", "bronze"));
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 5000));
  EXPECT_TRUE(alerts.IsActive("lag", "bronze"));
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 20));
  EXPECT_FALSE(alerts.IsActive("lag", "bronze"));
  for (int64_t l : {30, 40, 50}) h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, l));
  EXPECT_TRUE(alerts.IsActive("lag", "bronze")) << "growing over 3 batches";
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 0));
  EXPECT_FALSE(alerts.IsActive("lag", "bronze"));

  h.Evaluate(NowMillis() + 120'000);
  EXPECT_TRUE(alerts.IsActive("nodata", "bronze"));
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 0));
  EXPECT_FALSE(alerts.IsActive("nodata", "bronze"));

  QueryProgress g = Progress("gold", 10, 1, 100, 0);
  g.watermark_ms = 1'000'000'020'000 + 90'000;  // closes the window ending at +60 s
  g.latency_p50_ms = 1200;
  g.latency_p99_ms = 3400;
  h.OnQueryStarted("id-gold", "r", "gold");
  h.OnQueryProgress(g);
  EXPECT_TRUE(alerts.IsActive("wm", "gold"));
  auto f = h.FreshnessSnapshot(1'000'000'020'000 + 100'000);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].newest_complete_window_end_ms, 1'000'000'020'000 + 60'000);
  EXPECT_EQ(f[0].age_ms, 40'000);
  EXPECT_EQ(f[0].latency_p99_ms, 3400);

  h.OnQueryTerminated("id-gold", "gold", Unavailable("brokers down"));
  EXPECT_TRUE(alerts.IsActive("failed", "gold"));
  h.OnQueryStarted("id-gold", "r2", "gold");
  EXPECT_FALSE(alerts.IsActive("failed", "gold"));

  // A retried batch raises it too; the next batch that succeeds resolves it.
  h.OnBatchRetry("id-bronze", "bronze", 7, 1, IOError("disk full"));
  EXPECT_TRUE(alerts.IsActive("failed", "bronze"));
  h.OnQueryProgress(Progress("bronze", 100, 1000, 1000, 0));
  EXPECT_FALSE(alerts.IsActive("failed", "bronze"));
}

TEST(HealthMonitorTest, SessionFreshnessIsItsWatermark) {
  AlertManager alerts;
  MonitoringConfig c;
  HealthMonitor h(c, &alerts, {{"gold_sessions", {0, 0}}});
  QueryProgress s = Progress("gold_sessions", 10, 1, 100, 0);
  s.watermark_ms = 1'000'000'020'000;
  h.OnQueryStarted("id-s", "r", "gold_sessions");
  h.OnQueryProgress(s);
  auto f = h.FreshnessSnapshot(1'000'000'020'000 + 7'000);
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].newest_complete_window_end_ms, 1'000'000'020'000);
  EXPECT_EQ(f[0].age_ms, 7'000);
}

TEST(HealthMonitorTest, StoppedQueriesOnlyWhileMonitoring) {
  MonitoringConfig c;
  c.rules = {RuleConfig{.name = "stopped", .type = "query_stopped"}};
  AlertManager alerts;
  HealthMonitor h(c, &alerts);
  h.OnQueryStarted("id", "r", "silver");
  h.OnQueryTerminated("id", "silver", Status::OK());  // e.g. available-now done: not started
  EXPECT_FALSE(alerts.IsActive("stopped", "silver"));
  h.Start();
  h.OnQueryStarted("id", "r", "silver");
  h.OnQueryTerminated("id", "silver", Status::OK());
  EXPECT_TRUE(alerts.IsActive("stopped", "silver"));
  h.OnQueryStarted("id", "r2", "silver");
  EXPECT_FALSE(alerts.IsActive("stopped", "silver"));
  h.Stop();
  h.OnQueryTerminated("id", "silver", Status::OK());  // shutdown: ignored
  EXPECT_FALSE(alerts.IsActive("stopped", "silver"));
}

TEST(ProgressLogTest, WritesOneJsonLinePerEvent) {
  auto dir = std::filesystem::temp_directory_path() /
             ("strata_progress_log_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "progress.jsonl").string();
  {
    auto log = ProgressLog::Open(path);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    (*log)->OnQueryStarted("q1", "r1", "bronze");
    (*log)->OnQueryProgress(Progress("bronze", 7, 1, 1, 0));
    (*log)->OnQueryIdle("q1", "bronze", 5);
    (*log)->OnQueryTerminated("q1", "bronze", Status::OK());
  }
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_NE(lines[0].find("\"event\":\"started\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"event\":\"progress\""), std::string::npos);
  EXPECT_NE(lines[1].find("\"numInputRows\":7"), std::string::npos) << lines[1];
  EXPECT_NE(lines[2].find("\"event\":\"idle\""), std::string::npos);
  EXPECT_NE(lines[3].find("\"status\":\"ok\""), std::string::npos);
  std::filesystem::remove_all(dir);
  EXPECT_FALSE(ProgressLog::Open("/nonexistent-dir/x/p.jsonl").ok());
}

TEST(ProgressTableTest, CommitsBufferedProgressAsDeltaRows) {
  auto dir = std::filesystem::temp_directory_path() /
             ("strata_progress_table_" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const std::string path = (dir / "clickstream_progress").string();
  {
    // A long interval: only Flush() and Stop() commit.
    auto t = ProgressTable::Open(path, "catalog.streaming.clickstream_progress", 3'600'000);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    for (int i = 0; i < 5; ++i) {
      QueryProgress p = Progress("bronze", 10 + i, 1, 1, i);
      p.batch_id = i;
      p.timestamp_ms = 1'790'000'000'000 + i;
      p.latency_p50_ms = i == 0 ? -1 : 100;
      (*t)->OnQueryProgress(p);
    }
    ASSERT_TRUE((*t)->Flush().ok());
    ASSERT_TRUE((*t)->Flush().ok());  // nothing buffered: no commit
    (*t)->OnQueryProgress(Progress("silver", 3, 1, 1, 0));
  }  // Stop commits the last row
  auto table = delta::DeltaTable::Open(path);
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->version(), 2);  // create, flush, stop
  std::vector<std::string> files;
  for (const auto& f : (*snap)->files()) files.push_back(path + "/" + delta::UrlDecode(f.path));
  ASSERT_EQ(files.size(), 2u);
  auto rows = ReadParquetFiles(files, ProgressTable::TableSchema());
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(rows->num_rows(), 6u);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace strata::monitor
