// `strata reprocess`: windows of a range recomputed in batch from silver (and the late table)
// replace the streamed ones in one commit; windows outside the range stay as they were.

#include "pipeline/reprocess.h"

#include <gtest/gtest.h>

#include <climits>
#include <random>

#include "event/event_schema.h"
#include "lake/delta/scan.h"
#include "lake/delta/table.h"
#include "pipeline/config.h"
#include "pipeline/enrichment.h"
#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kT0 = 1'700'000'040'000;  // aligned to minutes
constexpr int64_t kDelayMs = 5 * kMinuteMs;
const std::string kGold = "gold_events_per_minute";

class Reprocess : public SemanticsFixture {
 protected:
  void SetUp() override {
    SemanticsFixture::SetUp();
    config_ = DefaultPipelineConfig();
    config_.silver.path = silver_path_;
    config_.silver.late_path = dir_.path() + "/late";
    config_.gold.path = GoldPath(kGold);
    config_.gold.checkpoint = dir_.path() + "/_checkpoints/" + kGold;
    for (auto& g : config_.gold_tables) g.enabled = false;
  }

  void Stream() {
    GoldOptions o;
    o.watermark_delay_ms = kDelayMs;
    o.watermark_policy = WatermarkPolicy::kMax;
    RunGold(kGold, o);
  }

  // (window start ms, event_type, event_count) of the gold table.
  std::vector<std::vector<std::string>> Gold() {
    return Query(
        "SELECT epoch_ms(window_start), event_type, event_count, is_final FROM "
        "catalog.streaming." +
            kGold + " ORDER BY 1, 2",
        {kGold});
  }

  PipelineConfig config_;
};

// Events one minute apart in batches; batch 6 brings rows 8 minutes old (late for gold).
std::vector<std::vector<SilverEvent>> Events(int batches) {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int64_t> jitter(0, 50'000);
  std::vector<std::vector<SilverEvent>> out(batches);
  int id = 0;
  for (int b = 0; b < batches; ++b) {
    int64_t now = kT0 + b * kMinuteMs;
    for (int i = 0; i < 40; ++i) {
      int64_t t = b == 6 && i < 10 ? now - 8 * kMinuteMs + jitter(rng) : now + jitter(rng);
      out[b].push_back({"e" + std::to_string(id++), "u" + std::to_string(i % 7),
                        i % 2 ? "click" : "page_view", "/", t, i % 3});
    }
  }
  return out;
}

TEST_F(Reprocess, ReplacesWindowsOfTheRangeWithBatchResults) {
  for (const auto& events : Events(14)) {
    AppendSilver(events);
    Stream();
  }
  auto before = Gold();
  ReprocessRequest req;
  req.table = kGold;
  req.from_ms = kT0 - 3 * kMinuteMs;  // the late rows of batch 6 are in minute -2
  req.to_ms = kT0 + 2 * kMinuteMs;
  auto res = ReprocessGold(config_, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_GT(res->rows_replaced, 0);
  EXPECT_EQ(res->rows_written, 6);  // minutes -2, 0, 1 x 2 event types

  // Inside the range: every silver row, including those the stream dropped as late.
  auto exact = Query(
      "SELECT event_timestamp // 60000 * 60000 AS ws, event_type, count(*), true FROM "
      "catalog.streaming.silver_clickstream WHERE event_timestamp >= " +
          std::to_string(req.from_ms) + " AND event_timestamp < " + std::to_string(req.to_ms) +
          " GROUP BY 1, 2 ORDER BY 1, 2",
      {});
  auto after = Gold();
  std::vector<std::vector<std::string>> inside, outside_before, outside_after;
  auto in_range = [&](const std::vector<std::string>& r) {
    int64_t ws = std::stoll(r[0]);
    return ws >= req.from_ms && ws < req.to_ms;
  };
  for (const auto& r : after) (in_range(r) ? inside : outside_after).push_back(r);
  for (const auto& r : before)
    if (!in_range(r)) outside_before.push_back(r);
  EXPECT_EQ(inside, exact);
  EXPECT_EQ(outside_after, outside_before);
  // The stream dropped the old rows of batch 6, so the range's counts went up.
  int64_t sum_before = 0, sum_after = 0;
  for (const auto& r : before)
    if (in_range(r)) sum_before += std::stoll(r[2]);
  for (const auto& r : inside) sum_after += std::stoll(r[2]);
  EXPECT_GT(sum_after, sum_before);

  // The streaming query keeps running on top of the reprocessed table.
  AppendSilver(Events(15)[14]);
  Stream();
  auto dup = Query(
      "SELECT count(*) - count(DISTINCT (window_start, event_type)) FROM "
      "catalog.streaming." +
          kGold,
      {kGold});
  EXPECT_EQ(dup[0][0], "0");
}

TEST_F(Reprocess, IncludesLateRowsOnceWhenAsked) {
  for (const auto& events : Events(10)) AppendSilver(events);
  Stream();
  // Two late rows (one delivered twice) in minute 2.
  DeltaSinkOptions o;
  o.table_name = "catalog.streaming.silver_clickstream_late";
  o.path = config_.silver.late_path;
  o.schema = SilverLateSchema();
  DeltaSink late(std::move(o));
  ASSERT_TRUE(late.Open().ok());
  RecordBatch rows(SilverLateSchema());
  RecordBatch base = SilverRows({{"late1", "u1", "click", "/", kT0 + 2 * kMinuteMs + 5, 0},
                                 {"late1", "u1", "click", "/", kT0 + 2 * kMinuteMs + 5, 0},
                                 {"late2", "u2", "click", "/", kT0 + 2 * kMinuteMs + 9, 1}},
                                99);
  for (size_t r = 0; r < base.num_rows(); ++r) {
    for (size_t c = 0; c + 2 < rows.num_columns(); ++c)
      rows.column(c).AppendFrom(base.column(c), r);
    rows.column(rows.num_columns() - 2).AppendInt64((kT0 + 6 * kMinuteMs) * 1000);
    rows.column(rows.num_columns() - 1).AppendInt64(1);
  }
  std::vector<RecordBatch> batches;
  batches.push_back(std::move(rows));
  ASSERT_TRUE(late.Commit({"w", 0, {}}, batches).ok());

  ReprocessRequest req{kGold, kT0 + 2 * kMinuteMs, kT0 + 3 * kMinuteMs, true};
  auto res = ReprocessGold(config_, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->late_rows_used, 2);
  auto click = Query("SELECT event_count FROM catalog.streaming." + kGold +
                         " WHERE epoch_ms(window_start) = " + std::to_string(kT0 + 2 * kMinuteMs) +
                         " AND event_type = 'click'",
                     {kGold});
  auto exact = Query(
      "SELECT count(*) + 2 FROM catalog.streaming.silver_clickstream WHERE "
      "event_timestamp // 60000 * 60000 = " +
          std::to_string(kT0 + 2 * kMinuteMs) + " AND event_type = 'click'",
      {});
  ASSERT_EQ(click.size(), 1u);
  EXPECT_EQ(click[0][0], exact[0][0]);
}

TEST_F(Reprocess, RefusesWindowsTheStreamHasNotFinalized) {
  for (const auto& events : Events(8)) AppendSilver(events);
  Stream();
  ReprocessRequest req{kGold, kT0, kT0 + 20 * kMinuteMs, false};
  auto res = ReprocessGold(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("--to"), std::string::npos) << res.status().ToString();
  req.table = "gold_nope";
  res = ReprocessGold(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("gold_nope"), std::string::npos);
}

TEST(SemanticsTimeArg, ParsesEpochAndUtcForms) {
  EXPECT_EQ(*ParseTimeArg("1700000000000"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTimeArg("2023-11-14 22:13:20"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTimeArg("2023-11-14T22:13:20Z"), 1'700'000'000'000);
  EXPECT_EQ(*ParseTimeArg("1970-01-02"), 86'400'000);
  EXPECT_FALSE(ParseTimeArg("yesterday").ok());
}

}  // namespace
}  // namespace strata::semantics

// ---------------------------------------------------------------------------------------------
// Silver reprocessing from bronze.

namespace strata::semantics {
namespace {

// Five minutes before a UTC midnight, so that the ranges below cross an event_date partition.
constexpr int64_t kS0 = 1'700'006'400'000 - 5 * kMinuteMs;
constexpr int64_t kSilverDelayMs = kMinuteMs;

struct BronzeEvent {
  std::string event_id, event_type, page_url;
  int64_t event_time_ms;
  int32_t partition;
};

class SilverReprocess : public ::testing::Test {
 protected:
  void SetUp() override {
    // A `drop` expectation: rows of page /c go to quarantine, in the stream and in reprocess.
    auto c = ParsePipelineConfig(
        "[pipeline]\ndata_dir = \"" + dir_.path() +
        "\"\n[silver]\nwatermark = \"1 minute\"\nwatermarkPolicy = \"max\"\n"
        "[[silver.expectations]]\nname = \"not_c\"\nexpr = \"page_url <> '/c'\"\naction = "
        "\"drop\"\n[gold]\nwatermark = \"1 minute\"\nwatermarkPolicy = \"max\"\n");
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    config_ = *c;
    config_.gold.enabled = false;
    for (auto& g : config_.gold_tables) g.enabled = false;
    DeltaSinkOptions o;
    o.table_name = config_.bronze.table;
    o.path = config_.bronze.path;
    o.schema = BronzeSchema();
    o.partition_by = {"event_date"};
    bronze_ = std::make_unique<DeltaSink>(std::move(o));
    ASSERT_TRUE(bronze_->Open().ok());
    SetPages("cat-old");
  }

  void SetPages(const std::string& category) {
    RecordBatch pages(PagesDimensionSchema());
    for (const char* url : {"/a", "/b"}) {
      pages.column(0).AppendString(url);
      pages.column(1).AppendString(category + std::string(url));
      pages.column(2).AppendNull();
    }
    ASSERT_TRUE(
        OverwriteDimensionTable(config_.silver.pages_path, config_.silver.pages_table, pages).ok());
  }

  void AppendBronze(const std::vector<BronzeEvent>& events) {
    RecordBatch b(BronzeSchema());
    const int64_t ingested = kS0 + (bronze_batch_ + 1) * kMinuteMs;
    for (const auto& e : events) {
      b.column(bronze::kKafkaKey).AppendString("k");
      b.column(bronze::kEventId).AppendString(e.event_id);
      b.column(bronze::kUserId).AppendString("u" + e.event_id);
      b.column(bronze::kSessionId).AppendString("s");
      b.column(bronze::kEventType).AppendString(e.event_type);
      b.column(bronze::kPageUrl).AppendString(e.page_url);
      b.column(bronze::kReferrer).AppendNull();
      b.column(bronze::kDeviceType).AppendString("desktop");
      b.column(bronze::kCountry).AppendString("US");
      b.column(bronze::kEventTimestamp).AppendInt64(e.event_time_ms);
      b.column(bronze::kProperties).AppendNull();
      b.column(bronze::kKafkaTopic).AppendString("clickstream-events");
      b.column(bronze::kKafkaPartition).AppendInt32(e.partition);
      b.column(bronze::kKafkaOffset).AppendInt64(next_offset_[e.partition]++);
      b.column(bronze::kKafkaTimestamp).AppendInt64(ingested * 1000);
      b.column(bronze::kIngestionTimestamp).AppendInt64(ingested * 1000);
      b.column(bronze::kRawValue).AppendNull();
      b.column(bronze::kParseError).AppendNull();
      b.column(bronze::kEventDate).AppendInt32(static_cast<int32_t>(e.event_time_ms / 86'400'000));
    }
    std::vector<RecordBatch> batches;
    batches.push_back(std::move(b));
    auto st = bronze_->Commit({"bronze-writer", bronze_batch_++, {}}, batches);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
  }

  // The silver streaming query, available-now, one bronze commit per batch.
  void StreamSilver() {
    SilverOptions sv;
    sv.watermark_delay_ms = kSilverDelayMs;
    sv.watermark_policy = WatermarkPolicy::kMax;
    sv.event_types = config_.silver.event_types;
    sv.enrichment.pages_path = config_.silver.pages_path;
    sv.expectations = config_.silver.expectations;
    auto processor = SilverProcessor::Create(sv);
    ASSERT_TRUE(processor.ok()) << processor.status().ToString();
    auto sink = [](const std::string& name, const std::string& path, SchemaPtr schema,
                   std::vector<std::string> partition_by) {
      DeltaSinkOptions o;
      o.table_name = name;
      o.path = path;
      o.schema = std::move(schema);
      o.partition_by = std::move(partition_by);
      return std::make_unique<DeltaSink>(std::move(o));
    };
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    const auto& s = config_.silver;
    sinks.push_back(sink(s.table, s.path, SilverSchema(), {"event_date"}));
    sinks.push_back(sink(s.late_table, s.late_path, SilverLateSchema(), {}));
    sinks.push_back(sink(s.quarantine_table, s.quarantine_path, SilverQuarantineSchema(), {}));
    sinks.push_back(sink(s.quality_table, s.quality_path, SilverQualitySchema(), {}));
    DeltaSourceOptions so;
    so.table_name = config_.bronze.table;
    so.path = config_.bronze.path;
    so.schema = BronzeSchema();
    Run("silver_clickstream", s.checkpoint, std::make_unique<DeltaSource>(std::move(so)),
        std::move(*processor), std::move(sinks));
  }

  // The gold query of config_.gold over silver (reading the changes of reprocess commits).
  void StreamGold() {
    GoldOptions go;
    go.watermark_delay_ms = kMinuteMs;
    go.watermark_policy = WatermarkPolicy::kMax;
    auto processor = GoldProcessor::Create(go);
    ASSERT_TRUE(processor.ok());
    DeltaSinkOptions o;
    o.table_name = config_.gold.table;
    o.path = config_.gold.path;
    o.schema = (*processor)->output_schema();
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(std::make_unique<DeltaSink>(std::move(o)));
    DeltaSourceOptions so;
    so.table_name = config_.silver.table;
    so.path = config_.silver.path;
    so.schema = SilverSchema();
    so.ignore_changes = true;
    Run("gold_events_per_minute", config_.gold.checkpoint,
        std::make_unique<DeltaSource>(std::move(so)), std::move(*processor), std::move(sinks));
  }

  void Run(const std::string& name, const std::string& checkpoint,
           std::unique_ptr<MicroBatchSource> source, std::unique_ptr<BatchProcessor> processor,
           std::vector<std::unique_ptr<MicroBatchSink>> sinks) {
    QueryOptions qo;
    qo.name = name;
    qo.checkpoint_dir = checkpoint;
    qo.trigger.kind = Trigger::Kind::kAvailableNow;
    qo.limit.max_files = 1;
    StreamingQuery q(qo, std::move(source), std::move(processor), std::move(sinks));
    Status st = q.Run();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::map<std::string, std::string> tables = {
        {config_.bronze.table, config_.bronze.path},
        {config_.silver.table, config_.silver.path},
        {config_.silver.pages_table, config_.silver.pages_path}};
    if (std::filesystem::exists(config_.gold.path)) tables[config_.gold.table] = config_.gold.path;
    auto engine = OpenCatalog(tables);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    std::vector<std::vector<std::string>> out;
    if (!engine.ok()) return out;
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(sql, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::vector<std::string> v;
      for (const auto& cell : row) v.push_back(cell.value_or("NULL"));
      out.push_back(std::move(v));
    }
    return out;
  }

  static std::string Between(int64_t from, int64_t to) {
    return "event_timestamp >= " + std::to_string(from) + " AND event_timestamp < " +
           std::to_string(to);
  }

  // Silver rows of [from, to) (or outside it), in Kafka order.
  std::vector<std::vector<std::string>> Silver(int64_t from, int64_t to, bool inside = true) {
    return Query(
        "SELECT event_id, event_type, event_timestamp, kafka_partition, kafka_offset, "
        "page_category, event_date, event_hour FROM catalog.streaming.silver_clickstream WHERE " +
        std::string(inside ? "" : "NOT ") + "(" + Between(from, to) + ") ORDER BY 4, 5");
  }

  // What silver must hold for [from, to): bronze's valid rows of the range, the first copy of
  // an event id per Kafka partition in offset order, with the current pages dimension (and
  // without the rows the `not_c` expectation drops).
  std::vector<std::vector<std::string>> Truth(int64_t from, int64_t to) {
    return Query(
        "SELECT b.event_id, b.event_type, b.event_timestamp, b.kafka_partition, b.kafka_offset, "
        "p.page_category, b.event_date, hour(make_timestamp(b.event_timestamp * 1000)) FROM ("
        "SELECT *, row_number() OVER (PARTITION BY kafka_partition, event_id ORDER BY "
        "kafka_offset) AS n FROM catalog.streaming.bronze_clickstream WHERE parse_error IS NULL "
        "AND event_type IN ('page_view', 'click') AND page_url <> '/c' AND " +
        Between(from, to) +
        ") b LEFT JOIN catalog.dimensions.pages p USING (page_url) WHERE n = 1 ORDER BY 4, 5");
  }

  // One-minute bronze batches [first, last) of 20 events, with duplicates the stream drops (a
  // copy within the delay), one it keeps (e66 again at minute 7, after its first copy
  // expired), invalid rows, and rows late for silver's watermark (batch 8, minute 3).
  void Feed(int first, int last) {
    std::uniform_int_distribution<int64_t> jitter(0, 50'000);
    for (int b = first; b < last; ++b) {
      std::vector<BronzeEvent> events;
      const int64_t now = kS0 + b * kMinuteMs;
      for (int i = 0; i < 20; ++i) {
        events.push_back({"e" + std::to_string(b * 20 + i), i % 2 ? "click" : "page_view",
                          i % 3 == 0   ? "/a"
                          : i % 3 == 1 ? "/b"
                                       : "/c",
                          now + jitter(rng_), i % 2});
      }
      events.push_back({"bad" + std::to_string(b), "bogus", "/a", now + 1, 0});
      if (b > 0) events.push_back(previous_[3]);
      if (b == 7) events.push_back({"e66", "page_view", "/a", now + 2, 0});
      if (b == 8) {
        for (int i = 0; i < 4; ++i)
          events.push_back(
              {"late" + std::to_string(i), "click", "/b", now - 5 * kMinuteMs + i * 1000, i % 2});
      }
      AppendBronze(events);
      previous_ = events;
    }
  }

  ScratchDir dir_;
  PipelineConfig config_;
  std::unique_ptr<DeltaSink> bronze_;
  int64_t bronze_batch_ = 0;
  std::map<int32_t, int64_t> next_offset_;
  std::mt19937 rng_{9};
  std::vector<BronzeEvent> previous_;
};

TEST_F(SilverReprocess, ReplacesTheRangeWithTheBatchRecomputationAndIsIdempotent) {
  Feed(0, 12);
  StreamSilver();
  // From the middle of minute 2: the files of that minute keep their earlier rows.
  const int64_t from = kS0 + 2 * kMinuteMs + 25'000, to = kS0 + 8 * kMinuteMs;
  // The stream missed the late rows and kept e66's second copy: silver differs from the truth.
  ASSERT_NE(Silver(from, to), Truth(from, to));
  // Lose some silver rows of the range by a commit that removes a file.
  {
    auto table = delta::DeltaTable::Open(config_.silver.path);
    ASSERT_TRUE(table.ok());
    auto snapshot = (*table)->LatestSnapshot();
    ASSERT_TRUE(snapshot.ok());
    auto files = delta::PruneFiles(
        **snapshot, {"event_time", (from + kMinuteMs) * 1000, (from + 2 * kMinuteMs) * 1000});
    ASSERT_TRUE(files.ok() && !files->empty());
    auto txn = (*table)->StartTransaction(*snapshot);
    delta::RemoveFile rm;
    rm.path = files->front().path;
    txn->RemoveFile(std::move(rm));
    txn->SetOperation("DELETE");
    ASSERT_TRUE(txn->Commit().ok());
  }
  SetPages("cat-new");  // the dimension changed since the stream enriched the rows
  auto outside = Silver(from, to, false);

  ReprocessRequest req{"silver_clickstream", from, to, false};
  auto res = ReprocessSilver(config_, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_GT(res->version, 0);
  auto count = [&](const std::string& where) {
    return std::stoll(Query("SELECT count(*) FROM catalog.streaming.bronze_clickstream WHERE " +
                            Between(from, to) + " AND " + where)[0][0]);
  };
  auto truth = Truth(from, to);
  EXPECT_EQ(res->rows_rejected, count("(event_type = 'bogus' OR page_url = '/c')"));
  EXPECT_EQ(res->duplicates_dropped, count("event_type <> 'bogus' AND page_url <> '/c'") -
                                         static_cast<int64_t>(truth.size()));
  EXPECT_GT(res->duplicates_dropped, 4);  // a retried copy per minute, and e66's second copy
  EXPECT_GT(res->rows_copied, 0);
  EXPECT_GT(res->rows_replaced, 0);
  EXPECT_GT(res->files_removed, 0);
  EXPECT_TRUE(res->gold.empty());

  EXPECT_EQ(static_cast<int64_t>(truth.size()), res->rows_written);
  EXPECT_EQ(Silver(from, to), truth);
  EXPECT_EQ(Silver(from, to, false), outside);
  for (const auto& row : Silver(from, to))
    if (row[5] != "NULL") {
      EXPECT_EQ(row[5].substr(0, 8), "cat-new/");
    }
  EXPECT_EQ(Query("SELECT count(*) FROM catalog.streaming.silver_clickstream WHERE event_id = "
                  "'e66'")[0][0],
            "1");
  EXPECT_EQ(Query("SELECT count(*) FROM catalog.streaming.silver_clickstream WHERE event_id "
                  "LIKE 'late%'")[0][0],
            "4");

  // Exactly once: running it again gives the same table.
  auto all = Silver(0, INT64_MAX);
  auto again = ReprocessSilver(config_, req);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_GT(again->version, res->version);
  EXPECT_EQ(again->rows_written, res->rows_written);
  EXPECT_EQ(again->rows_replaced, res->rows_written);
  EXPECT_EQ(Silver(0, INT64_MAX), all);
}

TEST_F(SilverReprocess, RefusesARangeTheStreamHasNotFinalized) {
  Feed(0, 12);
  ReprocessRequest req{"silver_clickstream", kS0, kS0 + kMinuteMs, false};
  auto res = ReprocessSilver(config_, req);  // no committed batch yet
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("no committed batch"), std::string::npos);
  StreamSilver();
  req.to_ms = kS0 + 20 * kMinuteMs;
  res = ReprocessSilver(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(res.status().message().find("--to"), std::string::npos) << res.status().ToString();
  EXPECT_NE(res.status().message().find("watermark"), std::string::npos);
  req.to_ms = kS0 + 2 * kMinuteMs;
  req.include_late = true;
  res = ReprocessSilver(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("--include-late"), std::string::npos);
  // A gold query that would stop at the commit, or count its rows twice, is refused.
  req.include_late = false;
  config_.gold.enabled = true;
  res = ReprocessSilver(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("gold.ignoreChanges"), std::string::npos)
      << res.status().ToString();
  config_.gold.ignore_changes = true;
  res = ReprocessSilver(config_, req);
  ASSERT_FALSE(res.ok());
  EXPECT_NE(res.status().message().find("no committed batch"), std::string::npos);
}

// Gold reading silver drops the reprocess commit's rows as late (its windows are final), then
// a gold reprocess of the printed range takes the new silver rows in.
TEST_F(SilverReprocess, GoldKeepsItsCountsUntilItsOwnReprocess) {
  Feed(0, 6);
  StreamSilver();
  config_.gold.enabled = true;
  config_.gold.ignore_changes = true;
  StreamGold();  // gold's watermark stays in minute 3 for now
  Feed(6, 12);
  StreamSilver();
  const int64_t from = kS0 + 2 * kMinuteMs + 25'000, to = kS0 + 8 * kMinuteMs;

  // Gold has not finalized minute 4 yet (its watermark is in minute 3).
  ReprocessRequest req{"silver_clickstream", from, kS0 + 5 * kMinuteMs, false};
  auto refused = ReprocessSilver(config_, req);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("gold_events_per_minute"), std::string::npos)
      << refused.status().ToString();

  StreamGold();
  const std::string counts =
      "SELECT epoch_ms(window_start), event_type, event_count FROM "
      "catalog.streaming.gold_events_per_minute ORDER BY 1, 2";
  auto gold_before = Query(counts);
  ASSERT_FALSE(gold_before.empty());
  req.to_ms = to;
  auto res = ReprocessSilver(config_, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  ASSERT_EQ(res->gold.size(), 1u);
  EXPECT_EQ(res->gold[0].from_ms, kS0 + 2 * kMinuteMs);  // every window with a row of the range
  EXPECT_EQ(res->gold[0].to_ms, to);
  StreamGold();
  EXPECT_EQ(Query(counts), gold_before);  // the commit's rows were dropped as late, not recounted

  ReprocessRequest greq{res->gold[0].table, res->gold[0].from_ms, res->gold[0].to_ms, false};
  auto g = ReprocessGold(config_, greq);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  const int64_t wfrom = greq.from_ms, wto = greq.to_ms;
  auto exact = Query(
      "SELECT event_timestamp // 60000 * 60000, event_type, count(*) FROM "
      "catalog.streaming.silver_clickstream WHERE " +
      Between(wfrom, wto) + " GROUP BY 1, 2 ORDER BY 1, 2");
  auto gold_range = Query(
      "SELECT epoch_ms(window_start), event_type, event_count FROM "
      "catalog.streaming.gold_events_per_minute WHERE epoch_ms(window_start) >= " +
      std::to_string(wfrom) + " AND epoch_ms(window_start) < " + std::to_string(wto) +
      " ORDER BY 1, 2");
  EXPECT_EQ(gold_range, exact);
  EXPECT_NE(Query(counts), gold_before);  // the late rows of minute 3 are counted now
}

}  // namespace
}  // namespace strata::semantics
