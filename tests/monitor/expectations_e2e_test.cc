// Silver's expectations and the schema-drift table against the real pipeline: generated traffic
// through the embedded Kafka cluster, the three streaming queries writing Delta tables, and
// DuckDB over the tables to check every count.
//   - warn: the failures are counted (quality table, progress metrics) and the rows stay in
//     silver; the counts equal a DuckDB count over bronze;
//   - drop: the failing rows are in quarantine with the expectation's name, not in silver;
//   - fail: the query stops with the expectation's name in the error, silver and its checkpoint
//     are unchanged, a restart fails the same way, and a changed config goes on;
//   - schema drift: rows for a new field and a type change, with their Kafka position.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "core/time_util.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "monitor/monitoring.h"
#include "pipeline/catalog.h"
#include "pipeline/metrics.h"
#include "pipeline/pipeline.h"
#include "stream/listeners.h"

namespace strata::monitor {
namespace {

// Rows of bronze that pass silver's built-in validation (the rows expectations judge).
constexpr const char* kValidBronze =
    "parse_error IS NULL AND event_id IS NOT NULL AND event_id <> '' AND user_id IS NOT NULL "
    "AND user_id <> '' AND event_type IN ('page_view', 'click', 'scroll', 'purchase', "
    "'add_to_cart') AND event_timestamp IS NOT NULL";
constexpr const char* kWarnExpr = "country IS NOT NULL AND length(country) = 2";
constexpr const char* kDropExpr = "device_type IN ('desktop', 'mobile_web', 'ios', 'android')";

class ExpectationsE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-expect-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    auto cluster = EmbeddedCluster::Start({1, {{"clickstream-events", 4}}, 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
  }
  void TearDown() override {
    cluster_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string Toml(const std::string& expectations) const {
    return "[pipeline]\ndata_dir = \"" + dir_ +
           "\"\n[source]\nstartingOffsets = \"earliest\"\n"
           "[bronze]\ntrigger = \"200 ms\"\n[silver]\ntrigger = \"300 ms\"\n"
           "[gold]\ntrigger = \"1 second\"\n"
           "[monitoring]\nqualityInterval = \"1 second\"\n" +
           expectations;
  }

  Result<PipelineConfig> Config(const std::string& toml) const {
    STRATA_ASSIGN_OR_RETURN(PipelineConfig pc, ParsePipelineConfig(toml, "<test>"));
    pc.source.kafka["bootstrap.servers"] = cluster_->bootstrap_servers();
    return pc;
  }

  // Produces `n` generated records with `scenarios` (RunProducer, as `strata produce`).
  void Produce(uint64_t n, const std::string& scenarios) {
    ProduceOptions po;
    po.bootstrap = cluster_->bootstrap_servers();
    po.rate = 4000;
    po.max_records = n;
    po.generator.seed = 21;
    po.generator.num_users = 3000;
    po.generator.duplicate_fraction = 0.01;
    po.generator.late_fraction = 0.005;
    po.generator.malformed_fraction = 0.005;
    po.generator.unknown_type_fraction = 0.005;
    po.generator.missing_field_fraction = 0.01;
    if (!scenarios.empty()) {
      auto s = ParseScenarios(scenarios);
      ASSERT_TRUE(s.ok()) << s.status().ToString();
      po.generator.scenarios = *s;
    }
    std::atomic<bool> stop{false};
    auto stats = RunProducer(po, stop);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
    ASSERT_EQ(stats->delivered, n);
  }

  static int64_t Count(const PipelineConfig& pc, const std::string& sql) {
    auto engine = OpenCatalog(pc.Tables());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    if (!engine.ok()) return -1;
    auto r = (*engine)->Execute(sql, {});
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return -1;
    return std::stoll(*r->rows[0][0]);
  }

  static int64_t TableVersion(const std::string& path) {
    auto t = delta::DeltaTable::Open(path);
    if (!t.ok()) return -1;
    auto s = (*t)->LatestSnapshot();
    return s.ok() ? (*s)->version() : -1;
  }

  static std::vector<std::string> Files(const std::string& dir) {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
      out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }

  std::string dir_;
  std::unique_ptr<EmbeddedCluster> cluster_;
};

TEST_F(ExpectationsE2ETest, WarnAndDropAreCountedQuarantinedAndMatchBronze) {
  const std::string toml = Toml(std::string(R"toml(
[[silver.expectations]]
name = "country_code"
expr = ")toml") + kWarnExpr + R"toml("

[[silver.expectations]]
name = "known_device"
expr = ")toml" + kDropExpr + R"toml("
action = "drop"
)toml");
  auto pc = Config(toml);
  ASSERT_TRUE(pc.ok()) << pc.status().ToString();
  auto mc = ParseMonitoringConfig(toml, "<test>");
  ASSERT_TRUE(mc.ok()) << mc.status().ToString();
  auto mon = Monitoring::Create(*pc, *mc);
  ASSERT_TRUE(mon.ok()) << mon.status().ToString();
  auto metrics = std::make_shared<PipelineMetrics>();
  auto pipeline = Pipeline::Create(
      *pc, {false,
            std::make_shared<CompositeListener>(
                std::vector<std::shared_ptr<QueryListener>>{metrics, (*mon)->listener()}),
            (*mon)->record_observer()});
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  (*mon)->Start();
  (*pipeline)->Start();

  constexpr uint64_t kRecords = 6000;
  // Country null in 30% of valid events, a new field throughout, and country as a number for a
  // moment (two drift subjects).
  Produce(kRecords,
          "null-spike:country:0.3@0s-60s,new-field:coupon@0s-60s,"
          "type-change:country@300ms-400ms");

  const std::string valid_count =
      std::string("SELECT count(*) FROM catalog.streaming.bronze_clickstream WHERE ") +
      kValidBronze;
  const std::string judged =
      "SELECT coalesce(sum(passed + failed), 0) FROM catalog.streaming.silver_clickstream_quality "
      "WHERE expectation = 'country_code'";
  // Every record in bronze, and silver caught up with it (the quality table has judged them all).
  const int64_t deadline = NowMillis() + 120'000;
  int64_t valid = -1;
  while (NowMillis() < deadline) {
    if (Count(*pc, "SELECT count(*) FROM catalog.streaming.bronze_clickstream") ==
        static_cast<int64_t>(kRecords)) {
      valid = Count(*pc, valid_count);
      if (Count(*pc, judged) == valid) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  ASSERT_GT(valid, 0);
  ASSERT_EQ(Count(*pc, judged), valid) << "silver did not catch up with bronze";
  // For /metrics: gold's Kafka-to-visible latency of its last batch with input, and the
  // data-quality gauges.
  const int64_t gold_deadline = NowMillis() + 60'000;
  std::string prom;
  while (NowMillis() < gold_deadline) {
    prom = (*mon)->PrometheusText();
    if (prom.find("strata_freshness_latency_p50_seconds{query=\"gold_events_per_minute\"}") !=
            std::string::npos &&
        prom.find("strata_quality_null_rate{field=\"country\"}") != std::string::npos)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
  }
  EXPECT_NE(prom.find("strata_freshness_latency_p50_seconds{query=\"gold_events_per_minute\"}"),
            std::string::npos)
      << prom;
  EXPECT_NE(prom.find("# TYPE strata_alerts_active gauge"), std::string::npos) << prom;
  // The quality tap's newest judged interval (it runs for the drift table).
  EXPECT_NE(prom.find("strata_quality_null_rate{field=\"country\"}"), std::string::npos) << prom;
  EXPECT_NE(prom.find("strata_quality_interval_records "), std::string::npos) << prom;
  (*mon)->Stop();
  ASSERT_TRUE((*pipeline)->Stop().ok());

  auto fails_in_bronze = [&](const char* expr) {
    return Count(*pc, "SELECT count(*) FROM catalog.streaming.bronze_clickstream WHERE " +
                          std::string(kValidBronze) + " AND NOT coalesce((" + expr + "), false)");
  };
  auto quality = [&](const char* column, const char* name) {
    return Count(*pc, std::string("SELECT sum(") + column +
                          ") FROM catalog.streaming.silver_clickstream_quality WHERE "
                          "expectation = '" +
                          name + "'");
  };

  // warn: counted, equal to DuckDB's count over bronze, and the rows are still in silver.
  const int64_t warn_failed = fails_in_bronze(kWarnExpr);
  EXPECT_GT(warn_failed, 0);
  EXPECT_EQ(quality("failed", "country_code"), warn_failed);
  EXPECT_EQ(quality("passed", "country_code"), valid - warn_failed);
  EXPECT_GT(
      Count(*pc, "SELECT count(*) FROM catalog.streaming.silver_clickstream WHERE country IS NULL"),
      0);

  // drop: in quarantine under the expectation's name, exactly the failing rows, none in silver.
  const int64_t drop_failed = fails_in_bronze(kDropExpr);
  EXPECT_GT(drop_failed, 0);
  EXPECT_EQ(quality("failed", "known_device"), drop_failed);
  EXPECT_EQ(quality("passed", "known_device"), valid - drop_failed);
  EXPECT_EQ(Count(*pc,
                  "SELECT count(*) FROM catalog.streaming.silver_clickstream_quarantine "
                  "WHERE rule = 'known_device' AND reason LIKE 'failed expectation: %'"),
            drop_failed);
  EXPECT_EQ(Count(*pc,
                  "SELECT count(*) FROM catalog.streaming.silver_clickstream_quarantine q "
                  "JOIN catalog.streaming.bronze_clickstream b USING (kafka_partition, "
                  "kafka_offset) WHERE q.rule = 'known_device' AND coalesce(b.device_type "
                  "IN ('desktop', 'mobile_web', 'ios', 'android'), false)"),
            0);
  EXPECT_EQ(Count(*pc, std::string("SELECT count(*) FROM catalog.streaming.silver_clickstream "
                                   "WHERE NOT coalesce((") +
                           kDropExpr + "), false)"),
            0);

  // One quality row per batch per expectation, with the action.
  EXPECT_EQ(Count(*pc,
                  "SELECT count(*) FROM (SELECT batch_id, count(*) AS n, "
                  "count(DISTINCT expectation) AS d FROM "
                  "catalog.streaming.silver_clickstream_quality GROUP BY batch_id) "
                  "WHERE n <> 2 OR d <> 2"),
            0);
  EXPECT_EQ(Count(*pc,
                  "SELECT count(*) FROM catalog.streaming.silver_clickstream_quality WHERE "
                  "(expectation = 'country_code' AND action <> 'warn') OR "
                  "(expectation = 'known_device' AND action <> 'drop')"),
            0);

  // The progress events carried the same counts (as /metrics exposes them).
  auto totals = metrics->Snapshot();
  const auto& silver = totals["silver_clickstream"];
  ASSERT_EQ(silver.expectations.count("country_code"), 1u);
  EXPECT_EQ(silver.expectations.at("country_code").second, warn_failed);
  EXPECT_EQ(silver.expectations.at("known_device").second, drop_failed);

  // Schema drift: the new field and the type change, with their first records and positions.
  const std::string drift = "catalog.streaming.bronze_clickstream_schema_drift";
  EXPECT_GE(Count(*pc, "SELECT count(*) FROM " + drift +
                           " WHERE kind = 'new_field' AND field = 'coupon' AND observed_type = "
                           "'string' AND expected_type IS NULL AND sample LIKE '%\"coupon\"%' "
                           "AND kafka_partition IS NOT NULL AND kafka_offset IS NOT NULL"),
            1);
  EXPECT_GE(Count(*pc, "SELECT count(*) FROM " + drift +
                           " WHERE kind = 'type_change' AND field = 'country' AND "
                           "expected_type = 'string' AND observed_type = 'number'"),
            1);
  // At most driftSamples (5) per subject; every sample is the record at its Kafka position.
  EXPECT_EQ(Count(*pc, "SELECT count(*) FROM (SELECT kind, field FROM " + drift +
                           " GROUP BY kind, field HAVING count(*) > 5)"),
            0);
  EXPECT_EQ(Count(*pc, "SELECT count(*) FROM " + drift +
                           " d JOIN catalog.streaming.bronze_clickstream b USING "
                           "(kafka_partition, kafka_offset) WHERE d.kind = 'new_field' AND "
                           "b.event_id IS NOT NULL AND strpos(d.sample, b.event_id) = 0"),
            0);
}

TEST_F(ExpectationsE2ETest, FailStopsTheQueryWithoutCommittingUntilTheConfigChanges) {
  auto expectation = [](const char* action) {
    return std::string(
               "[[silver.expectations]]\nname = \"no_tablets\"\n"
               "expr = \"device_type <> 'tablet'\"\naction = \"") +
           action + "\"\n";
  };
  Produce(2000, "");
  auto pc = Config(Toml(expectation("fail")));
  ASSERT_TRUE(pc.ok()) << pc.status().ToString();

  std::string first_error;
  for (int run = 0; run < 2; ++run) {
    auto pipeline = Pipeline::Create(*pc, {true, nullptr, nullptr});
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    const int64_t silver_version = TableVersion(pc->silver.path);
    const auto checkpoint_files = Files(pc->silver.checkpoint);
    Status st = (*pipeline)->RunAvailableNow();
    ASSERT_FALSE(st.ok()) << "run " << run;
    EXPECT_NE(st.message().find("silver expectation 'no_tablets' (action fail"), std::string::npos)
        << st.ToString();
    EXPECT_NE(st.message().find("\"device_type\":\"tablet\""), std::string::npos) << st.ToString();
    if (run == 0) first_error = st.message();
    EXPECT_EQ(st.message(), first_error) << "a restart fails the same way";
    // Nothing of the batch is committed: silver and the quality table as they were, and no
    // commit record in the checkpoint (only the planned batch, re-run by the next start).
    EXPECT_EQ(TableVersion(pc->silver.path), silver_version);
    EXPECT_EQ(Count(*pc, "SELECT count(*) FROM catalog.streaming.silver_clickstream"), 0);
    EXPECT_EQ(Count(*pc, "SELECT count(*) FROM catalog.streaming.silver_clickstream_quality"), 0);
    std::vector<std::string> commits;
    for (const auto& f : Files(pc->silver.checkpoint))
      if (f.find("/commits/") != std::string::npos) commits.push_back(f);
    EXPECT_TRUE(commits.empty());
    if (run == 1) {
      EXPECT_EQ(Files(pc->silver.checkpoint), checkpoint_files);
    }
  }

  // The expectation relaxed to warn: the same planned batch now commits, with its counts.
  auto relaxed = Config(Toml(expectation("warn")));
  ASSERT_TRUE(relaxed.ok());
  auto pipeline = Pipeline::Create(*relaxed, {true, nullptr, nullptr});
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  Status st = (*pipeline)->RunAvailableNow();
  ASSERT_TRUE(st.ok()) << st.ToString();
  const int64_t tablets = Count(
      *relaxed, std::string("SELECT count(*) FROM catalog.streaming.bronze_clickstream WHERE ") +
                    kValidBronze + " AND NOT coalesce(device_type <> 'tablet', false)");
  EXPECT_GT(tablets, 0);
  EXPECT_EQ(Count(*relaxed, "SELECT sum(failed) FROM catalog.streaming.silver_clickstream_quality"),
            tablets);
  EXPECT_GT(Count(*relaxed,
                  "SELECT count(*) FROM catalog.streaming.silver_clickstream WHERE device_type "
                  "= 'tablet'"),
            0);
}

}  // namespace
}  // namespace strata::monitor
