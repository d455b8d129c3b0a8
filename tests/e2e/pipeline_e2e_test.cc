// End to end: generated traffic with duplicates, late, malformed and invalid records goes
// through embedded Kafka into bronze, silver and gold (available-now runs), and every layer is
// compared with a truth computed independently from the produced records. Then more traffic,
// a restart from the checkpoints, and the same comparison: nothing lost, nothing twice.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"
#include "pipeline/pipeline.h"

namespace strata {
namespace {

constexpr int64_t kMinute = 60'000;
constexpr int64_t kStartMs = 1'790'000'000'000;  // 2026-09-21, simulated clock
const std::set<std::string> kEventTypes = {"page_view", "click", "scroll", "purchase",
                                           "add_to_cart"};

struct ValidEvent {
  std::string event_id, user_id, event_type;
  int64_t ts_ms;
  int32_t partition;
};

// The truth, computed from the produced records alone.
struct Truth {
  int64_t records = 0;
  int64_t parse_errors = 0;  // malformed JSON or a required field missing
  int64_t invalid_type = 0;  // parsed, but event_type not allowed
  std::vector<ValidEvent> late;
  std::map<std::string, ValidEvent> on_time;            // first copy of each event_id
  std::map<std::string, std::string> malformed_values;  // value -> kept raw in bronze

  void Add(const std::string& value, bool crafted_late, int32_t partition) {
    ++records;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::dom::object obj;
    if (parser.parse(value).get(doc) || doc.get_object().get(obj)) {
      ++parse_errors;
      malformed_values[value] = value;
      return;
    }
    std::string_view id, user, type;
    int64_t ts;
    if (obj["event_id"].get_string().get(id) || obj["user_id"].get_string().get(user) ||
        obj["event_type"].get_string().get(type) || obj["event_timestamp"].get_int64().get(ts)) {
      ++parse_errors;
      return;
    }
    if (!kEventTypes.count(std::string(type))) {
      ++invalid_type;
      return;
    }
    ValidEvent e{std::string(id), std::string(user), std::string(type), ts, partition};
    if (crafted_late) {
      late.push_back(e);
    } else {
      on_time.emplace(e.event_id, e);
    }
  }
};

class PipelineE2ETest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() / ("strata_e2e_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    auto cluster = EmbeddedCluster::Start({3, {{"clickstream-events", 12}}, 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = std::move(*cluster);
    auto producer = Producer::Create(cluster_->bootstrap_servers(), {{"linger.ms", "20"}});
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    producer_ = std::move(*producer);
  }
  void TearDown() override {
    producer_.reset();
    cluster_.reset();
    std::filesystem::remove_all(dir_);
  }

  // Produces `n` generated records from a simulated clock starting at `start_ms` (50 events/s);
  // `late_every`-th normal record is rewritten to be 15-20 minutes old.
  void Produce(uint64_t seed, int64_t start_ms, int n, int late_every) {
    GeneratorOptions g;
    g.seed = seed;
    g.num_users = 2000;
    g.simulated_start_ms = start_ms;
    g.simulated_rate = 50;
    g.duplicate_fraction = 0.03;
    g.malformed_fraction = 0.01;
    g.unknown_type_fraction = 0.01;
    g.missing_field_fraction = 0.01;
    TrafficGenerator gen(g);
    GeneratedRecord rec;
    int normal = 0;
    for (int i = 0; i < n; ++i) {
      gen.Next(rec);
      bool late = false;
      if (rec.kind == RecordKind::kNormal && late_every > 0 && ++normal % late_every == 0) {
        std::string old_ts = "\"event_timestamp\":" + std::to_string(rec.event_timestamp_ms);
        size_t at = rec.value.find(old_ts);
        ASSERT_NE(at, std::string::npos) << rec.value;
        int64_t lateness = 15 * kMinute + (i % 300) * 1000;
        rec.value.replace(at, old_ts.size(),
                          "\"event_timestamp\":" + std::to_string(rec.clock_ms - lateness));
        late = true;
      }
      produced_.push_back({rec.key, rec.value, late});
      ASSERT_TRUE(producer_->Produce("clickstream-events", rec.key, rec.value).ok());
    }
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(30)).ok());
    ASSERT_EQ(producer_->delivery_errors(), 0u);
  }

  PipelineConfig Config(const std::string& extra_gold = "") {
    auto c = ParsePipelineConfig("[pipeline]\ndata_dir = \"" + dir_ +
                                 "\"\n[source]\nstartingOffsets = \"earliest\"\n"
                                 "maxOffsetsPerTrigger = 7000\n"
                                 "[silver]\nmaxFilesPerTrigger = 4\n"
                                 "[gold]\nmaxFilesPerTrigger = 5\n" +
                                 extra_gold);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    c->source.kafka["bootstrap.servers"] = cluster_->bootstrap_servers();
    return *c;
  }

  void RunPipeline() {
    auto pipeline = Pipeline::Create(Config(), {true, nullptr, nullptr});
    ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
    Status st = (*pipeline)->RunAvailableNow();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // One query's rows as strings.
  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    auto engine = OpenCatalog(Config().Tables());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(sql, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    std::vector<std::vector<std::string>> out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::vector<std::string> v;
      for (const auto& cell : row) v.push_back(cell.value_or("NULL"));
      out.push_back(std::move(v));
    }
    return out;
  }
  int64_t Scalar(const std::string& sql) {
    auto rows = Query(sql);
    EXPECT_EQ(rows.size(), 1u) << sql;
    return rows.empty() ? -1 : std::stoll(rows[0][0]);
  }

  // Computes the truth from everything produced so far (partition from bronze, by value).
  Truth ComputeTruth() {
    Truth t;
    for (const auto& p : produced_) t.Add(p.value, p.late, 0);
    return t;
  }

  void CheckAllLayers() {
    Truth truth = ComputeTruth();
    const std::string bronze = "catalog.streaming.bronze_clickstream";
    const std::string silver = "catalog.streaming.silver_clickstream";
    const std::string late = "catalog.streaming.silver_clickstream_late";
    const std::string quarantine = "catalog.streaming.silver_clickstream_quarantine";
    const std::string gold = "catalog.streaming.gold_events_per_minute";

    // Bronze: every Kafka record exactly once, malformed ones with their reason and raw bytes.
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + bronze), truth.records);
    EXPECT_EQ(Scalar("SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM " + bronze),
              truth.records);
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + bronze + " WHERE parse_error IS NOT NULL"),
              truth.parse_errors);
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + bronze +
                     " WHERE parse_error LIKE 'malformed JSON%' AND raw_value IS NOT NULL"),
              static_cast<int64_t>(truth.malformed_values.size()) == 0
                  ? 0
                  : Scalar("SELECT count(*) FROM " + bronze +
                           " WHERE parse_error LIKE 'malformed JSON%'"));
    for (const auto& [value, _] : truth.malformed_values) {
      std::string quoted = value;
      for (size_t i = 0; (i = quoted.find('\'', i)) != std::string::npos; i += 2)
        quoted.insert(i, "'");
      EXPECT_EQ(Scalar("SELECT count(*) FROM " + bronze + " WHERE raw_value = '" + quoted +
                       "' AND parse_error IS NOT NULL"),
                1)
          << value;
      break;  // one sample is enough for the raw-bytes property
    }
    // Per partition, offsets are dense from 0: nothing skipped.
    for (const auto& row : Query("SELECT kafka_partition, min(kafka_offset), max(kafka_offset), "
                                 "count(*) FROM " +
                                 bronze + " GROUP BY 1")) {
      EXPECT_EQ(row[1], "0");
      EXPECT_EQ(std::stoll(row[2]) + 1, std::stoll(row[3])) << "partition " << row[0];
    }

    // Silver: exactly the unique valid on-time events.
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + silver), static_cast<int64_t>(truth.on_time.size()));
    EXPECT_EQ(Scalar("SELECT count(DISTINCT event_id) FROM " + silver),
              static_cast<int64_t>(truth.on_time.size()));
    std::set<std::string> silver_ids;
    for (const auto& row : Query("SELECT event_id, event_timestamp, "
                                 "epoch_ms(event_time), event_type, user_id FROM " +
                                 silver)) {
      auto it = truth.on_time.find(row[0]);
      ASSERT_NE(it, truth.on_time.end()) << "unexpected event in silver: " << row[0];
      EXPECT_EQ(std::stoll(row[1]), it->second.ts_ms);
      EXPECT_EQ(std::stoll(row[2]), it->second.ts_ms);
      EXPECT_EQ(row[3], it->second.event_type);
      EXPECT_EQ(row[4], it->second.user_id);
      silver_ids.insert(row[0]);
    }
    EXPECT_EQ(silver_ids.size(), truth.on_time.size());
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + silver +
                     " WHERE event_date <> CAST(event_time AS DATE) OR event_hour <> "
                     "hour(event_time)"),
              0);

    // Late rows are kept, with how late they were; invalid rows are quarantined with the rule.
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + late), static_cast<int64_t>(truth.late.size()));
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + late + " WHERE late_by_ms <= 0"), 0);
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + quarantine + " WHERE rule = 'parse_error'"),
              truth.parse_errors);
    EXPECT_EQ(Scalar("SELECT count(*) FROM " + quarantine + " WHERE rule = 'event_type_allowed'"),
              truth.invalid_type);

    // Gold: the final windows equal an independent count over the true silver events.
    std::map<int32_t, int64_t> max_ts_by_partition;
    for (const auto& row :
         Query("SELECT kafka_partition, max(event_timestamp) FROM " + silver + " GROUP BY 1"))
      max_ts_by_partition[std::stoi(row[0])] = std::stoll(row[1]);
    int64_t watermark = INT64_MAX;
    for (const auto& [p, ts] : max_ts_by_partition) watermark = std::min(watermark, ts);
    watermark -= 5 * kMinute;
    struct Cell {
      int64_t count = 0;
      std::set<std::string> users;
    };
    std::map<std::pair<int64_t, std::string>, Cell> expected;
    for (const auto& [id, e] : truth.on_time) {
      int64_t start = e.ts_ms - e.ts_ms % kMinute;
      if (start + kMinute > watermark) continue;  // not final yet
      Cell& c = expected[{start, e.event_type}];
      ++c.count;
      c.users.insert(e.user_id);
    }
    ASSERT_FALSE(expected.empty());
    auto gold_rows = Query(
        "SELECT epoch_ms(window_start), epoch_ms(window_end), event_type, "
        "event_count, unique_users, is_final FROM " +
        gold + " ORDER BY 1, 3");
    EXPECT_EQ(gold_rows.size(), expected.size());
    for (const auto& row : gold_rows) {
      int64_t start = std::stoll(row[0]);
      auto it = expected.find({start, row[2]});
      ASSERT_NE(it, expected.end()) << "unexpected gold window " << start << " " << row[2];
      EXPECT_EQ(std::stoll(row[1]), start + kMinute);
      EXPECT_EQ(std::stoll(row[3]), it->second.count) << start << " " << row[2];
      double exact = static_cast<double>(it->second.users.size());
      double est = std::stod(row[4]);
      EXPECT_LE(std::abs(est - exact), std::max(2.0, 0.05 * exact)) << start << " " << row[2];
      EXPECT_EQ(row[5], "true");
    }
    // Distinct users across event types come from merging sketches, not summing them.
    for (const auto& row : Query("SELECT epoch_ms(window_start), hll_merge_estimate(users_sketch) "
                                 "FROM " +
                                 gold + " GROUP BY 1")) {
      std::set<std::string> users;
      int64_t start = std::stoll(row[0]);
      for (const auto& [id, e] : truth.on_time)
        if (e.ts_ms - e.ts_ms % kMinute == start) users.insert(e.user_id);
      double exact = static_cast<double>(users.size());
      EXPECT_LE(std::abs(std::stod(row[1]) - exact), std::max(2.0, 0.05 * exact)) << start;
    }
  }

  // DuckDB reads every data file of every table, file by file, with the row count that the
  // file's Delta statistics promise.
  void CheckEveryFileReadsBack() {
    auto engine = sql::SqlEngine::Open();
    ASSERT_TRUE(engine.ok());
    for (const auto& [name, path] : Config().Tables()) {
      auto table = delta::DeltaTable::Open(path);
      if (table.status().code() == StatusCode::kNotFound) continue;  // optional, not enabled
      ASSERT_TRUE(table.ok()) << name << ": " << table.status().ToString();
      auto snapshot = (*table)->LatestSnapshot();
      ASSERT_TRUE(snapshot.ok()) << snapshot.status().ToString();
      for (const auto& add : (*snapshot)->files()) {
        simdjson::dom::parser parser;
        simdjson::dom::element stats;
        int64_t num_records = -1;
        ASSERT_TRUE(add.stats.has_value()) << add.path;
        ASSERT_FALSE(parser.parse(*add.stats).get(stats));
        ASSERT_FALSE(stats["numRecords"].get_int64().get(num_records));
        std::string file = delta::ResolveDataPath(path, add.path);
        auto r = (*engine)->Execute("SELECT count(*) FROM read_parquet('" + file + "')");
        ASSERT_TRUE(r.ok()) << file << ": " << r.status().ToString();
        EXPECT_EQ(std::stoll(*r->rows[0][0]), num_records) << file;
        EXPECT_EQ(std::filesystem::file_size(file), static_cast<uintmax_t>(add.size)) << file;
      }
    }
  }

  struct Produced {
    std::string key, value;
    bool late;
  };
  std::string dir_;
  std::unique_ptr<EmbeddedCluster> cluster_;
  std::unique_ptr<Producer> producer_;
  std::vector<Produced> produced_;
};

TEST_F(PipelineE2ETest, EveryLayerMatchesTheTruthAcrossARestart) {
  // 12 simulated minutes of traffic, no late records yet (the watermark starts unset).
  Produce(/*seed=*/7, kStartMs, 36'000, /*late_every=*/0);
  RunPipeline();
  CheckAllLayers();
  if (HasFailure()) return;

  // More traffic (3 simulated minutes, with records 15-20 minutes late), then a restart.
  Produce(/*seed=*/8, kStartMs + 12 * kMinute, 9'000, /*late_every=*/40);
  RunPipeline();
  CheckAllLayers();

  // A third run with nothing new changes nothing.
  int64_t before = Scalar("SELECT count(*) FROM catalog.streaming.silver_clickstream");
  RunPipeline();
  EXPECT_EQ(Scalar("SELECT count(*) FROM catalog.streaming.silver_clickstream"), before);
  CheckAllLayers();
  CheckEveryFileReadsBack();
}

TEST_F(PipelineE2ETest, RestartWithOtherWindowsIsRefusedButOtherTriggersAreFine) {
  Produce(/*seed=*/9, kStartMs, 3'000, 0);
  RunPipeline();
  // A new trigger interval and rate limit: compatible.
  auto changed = Config("trigger = \"5 seconds\"\n");
  changed.source.max_offsets_per_trigger = 100;
  auto ok = Pipeline::Create(changed, {true, nullptr, nullptr});
  ASSERT_TRUE(ok.ok());
  EXPECT_TRUE((*ok)->RunAvailableNow().ok());
  // Other windows: the gold checkpoint's state cannot be reused.
  auto other = Pipeline::Create(Config("window = \"2 minutes\"\n"), {true, nullptr, nullptr});
  ASSERT_TRUE(other.ok());
  Status st = (*other)->RunAvailableNow();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
  EXPECT_NE(st.message().find("windows"), std::string::npos) << st.ToString();
  EXPECT_NE(st.message().find("window=120000ms"), std::string::npos) << st.ToString();
}

// A process killed while it created a table leaves a _delta_log without commits: the next start
// creates the table instead of failing on it.
TEST_F(PipelineE2ETest, ATableWhoseCreationWasCutShortIsCreatedOnTheNextStart) {
  Produce(/*seed=*/11, kStartMs, 500, 0);
  std::filesystem::create_directories(Config().silver.path + "/_delta_log");
  auto p = Pipeline::Create(Config(), {true, nullptr, nullptr});
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_TRUE((*p)->RunAvailableNow().ok());
  auto silver = delta::DeltaTable::Open(Config().silver.path);
  ASSERT_TRUE(silver.ok());
  EXPECT_TRUE((*silver)->LatestSnapshot().ok());
}

// Switching between one process and a consumer group would start the other kind of checkpoint
// from nothing and write every row again: refused, naming the checkpoint.
TEST_F(PipelineE2ETest, SwitchingBetweenOneProcessAndAGroupIsRefused) {
  Produce(/*seed=*/12, kStartMs, 500, 0);
  RunPipeline();
  PipelineConfig group = Config();
  group.source.kafka["group.id"] = "g";
  auto to_group = Pipeline::Create(group, {false, nullptr, nullptr});
  ASSERT_FALSE(to_group.ok());
  EXPECT_EQ(to_group.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(to_group.status().message().find(Config().silver.checkpoint), std::string::npos)
      << to_group.status().ToString();
  std::filesystem::create_directories(Config().bronze.checkpoint + "/members/m-1");
  auto to_single = Pipeline::Create(Config(), {true, nullptr, nullptr});
  ASSERT_FALSE(to_single.ok());
  EXPECT_NE(to_single.status().message().find("consumer group"), std::string::npos)
      << to_single.status().ToString();
}

}  // namespace
}  // namespace strata
