// The monitors against the real pipeline: embedded Kafka, generated traffic with scenarios
// (RunProducer, as `strata produce --scenario` runs it), the three streaming queries writing
// Delta tables, and the Monitoring facade as their listener. Each scenario's alert must fire
// soon after the scenario starts and resolve after it ends; normal traffic must raise nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <string>
#include <thread>

#include "core/time_util.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "monitor/monitoring.h"
#include "pipeline/pipeline.h"

namespace strata::monitor {
namespace {

constexpr int64_t kBoundMs = 12'000;  // from a scenario edge to the alert's start or end

const char* kMonitoringToml = R"(
[monitoring]
qualityInterval = "1 second"
evaluationInterval = "500 ms"
baselineMinIntervals = 6
progressTable = true
progressTableCommitInterval = "2 seconds"

[[alerts.rules]]
type = "volume"
stddevs = 4
fraction = 0.5
[[alerts.rules]]
type = "null_rate"
[[alerts.rules]]
type = "event_type_mix"
[[alerts.rules]]
type = "parse_failures"
[[alerts.rules]]
type = "schema_drift"
[[alerts.rules]]
type = "falling_behind"
for = "10 seconds"
[[alerts.rules]]
type = "batch_failed"
severity = "critical"
[[alerts.rules]]
type = "query_stopped"
[[alerts.rules]]
type = "no_data"
query = "bronze_clickstream"
for = "10 seconds"
)";

class MonitoringE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_monitor_e2e_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    auto cluster = EmbeddedCluster::Start({1, {{"clickstream-events", 4}}, 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }
  void TearDown() override {
    cluster_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Runs the pipeline with monitoring while producing `seconds` of traffic with `scenarios`.
  // Returns every alert (active and resolved) and the producer's start time.
  std::vector<Alert> RunWith(const std::string& scenarios, double seconds, int64_t* start_ms) {
    const std::string toml = "[pipeline]\ndata_dir = \"" + dir_ +
                             "\"\n[source]\nstartingOffsets = \"earliest\"\n"
                             "[bronze]\ntrigger = \"200 ms\"\n"
                             "[silver]\ntrigger = \"1 second\"\n"
                             "[gold]\ntrigger = \"1 second\"\n" +
                             std::string(kMonitoringToml);
    auto pc = ParsePipelineConfig(toml, "<test>");  // accepts [monitoring] and [alerts]
    EXPECT_TRUE(pc.ok()) << pc.status().ToString();
    if (!pc.ok()) return {};
    pc->source.kafka["bootstrap.servers"] = cluster_->bootstrap_servers();
    auto mc = ParseMonitoringConfig(toml, "<test>");
    EXPECT_TRUE(mc.ok()) << mc.status().ToString();
    auto mon = Monitoring::Create(*pc, *mc);
    EXPECT_TRUE(mon.ok()) << mon.status().ToString();
    if (!mon.ok()) return {};
    auto pipeline = Pipeline::Create(*pc, {false, (*mon)->listener(), (*mon)->record_observer()});
    EXPECT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    if (!pipeline.ok()) return {};
    (*mon)->Start();
    (*pipeline)->Start();

    ProduceOptions po;
    po.bootstrap = cluster_->bootstrap_servers();
    po.rate = 300;
    po.duration_s = seconds;
    po.generator.seed = 9;
    po.generator.num_users = 5000;
    po.generator.duplicate_fraction = 0.01;
    po.generator.late_fraction = 0.005;
    po.generator.malformed_fraction = 0.002;
    po.generator.unknown_type_fraction = 0.002;
    po.generator.missing_field_fraction = 0.002;
    if (!scenarios.empty()) {
      auto s = ParseScenarios(scenarios);
      EXPECT_TRUE(s.ok()) << s.status().ToString();
      po.generator.scenarios = *s;
    }
    std::atomic<bool> stop{false};
    *start_ms = NowMillis();
    auto stats = RunProducer(po, stop);
    EXPECT_TRUE(stats.ok()) << stats.status().ToString();
    // Let the last full intervals be judged, but stop before the end of traffic looks like a
    // volume drop (the close delay is 2 bronze triggers + 2 s).
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    (*mon)->Stop();
    std::vector<Alert> alerts = (*mon)->alerts().Snapshot();
    EXPECT_TRUE((*pipeline)->Stop().ok());
    return alerts;
  }

  static std::string Describe(const std::vector<Alert>& alerts, int64_t start_ms) {
    std::string out;
    for (const Alert& a : alerts)
      out += a.rule + " " + a.subject + " from " + std::to_string(a.start_ms - start_ms) +
             " ms to " + (a.active() ? "now" : std::to_string(a.end_ms - start_ms)) +
             " ms: " + a.message + "\n";
    return out;
  }

  // The alert of `subject` started in [from, from + bound] and ended in [to, to + bound], in ms
  // since the producer started.
  static void ExpectWindow(const std::vector<Alert>& alerts, int64_t start_ms,
                           const std::string& subject, int64_t from, int64_t to) {
    const Alert* found = nullptr;
    for (const Alert& a : alerts)
      if (a.subject == subject) found = &a;
    ASSERT_NE(found, nullptr) << subject << " never fired\n" << Describe(alerts, start_ms);
    EXPECT_GE(found->start_ms - start_ms, from) << Describe(alerts, start_ms);
    EXPECT_LE(found->start_ms - start_ms, from + kBoundMs) << Describe(alerts, start_ms);
    ASSERT_FALSE(found->active()) << subject << " not resolved\n" << Describe(alerts, start_ms);
    EXPECT_GE(found->end_ms - start_ms, to) << Describe(alerts, start_ms);
    EXPECT_LE(found->end_ms - start_ms, to + kBoundMs) << Describe(alerts, start_ms);
  }

  std::string dir_;
  std::unique_ptr<EmbeddedCluster> cluster_;
};

TEST_F(MonitoringE2ETest, NormalTrafficRaisesNoAlert) {
  int64_t start = 0;
  auto alerts = RunWith("", 45, &start);
  EXPECT_TRUE(alerts.empty()) << Describe(alerts, start);
  // The progress rows went to <catalog>.<schema>.<pipeline>_progress, a commit every 2 s.
  auto table = delta::DeltaTable::Open(dir_ + "/catalog/streaming/clickstream_progress");
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_GE((*snap)->files().size(), 10u);
  EXPECT_LT((*snap)->files().size(), 40u) << "commits are batched, not one per progress event";
}

TEST_F(MonitoringE2ETest, EachScenarioFiresItsAlertAndResolves) {
  int64_t start = 0;
  auto alerts = RunWith(
      "null-spike:country@14s-22s,new-field:coupon@28s-34s,"
      "type-change:event_timestamp@40s-46s,volume-drop:0.1@52s-60s",
      72, &start);
  ExpectWindow(alerts, start, "null_rate:country", 14'000, 22'000);
  ExpectWindow(alerts, start, "new_field:coupon", 28'000, 34'000);
  ExpectWindow(alerts, start, "type_change:event_timestamp", 40'000, 46'000);
  ExpectWindow(alerts, start, "volume", 52'000, 60'000);
  // Nothing else: only the four scenarios' alerts.
  for (const Alert& a : alerts)
    EXPECT_TRUE(a.subject == "null_rate:country" || a.subject == "new_field:coupon" ||
                a.subject == "type_change:event_timestamp" || a.subject == "volume")
        << Describe(alerts, start);
}

}  // namespace
}  // namespace strata::monitor
