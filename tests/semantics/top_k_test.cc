// Top-K pages per window (`topK`): the final rows of every window are the K pages with most
// views, ties broken by page_url, as a DuckDB ROW_NUMBER() over silver says, in append and in
// update mode; in update mode a page that was in a provisional top K and is not in the final
// one does not remain.

#include <gtest/gtest.h>

#include <random>
#include <set>

#include "pipeline/config.h"
#include "pipeline/reprocess.h"
#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kT0 = 1'700'000'040'000;  // aligned to minutes
constexpr int64_t kK = 3;

class TopK : public SemanticsFixture, public ::testing::WithParamInterface<GoldOutputMode> {
 protected:
  std::string Name() const {
    return GetParam() == GoldOutputMode::kUpdate ? "gold_top_update" : "gold_top_append";
  }

  // The gold query with topK, available-now over silver, keyed as the pipeline keys it
  // (window_start, window_end, rank) in update mode.
  void Stream() {
    GoldOptions go;
    go.watermark_delay_ms = 2 * kMinuteMs;
    go.watermark_policy = WatermarkPolicy::kMax;
    go.key_column = "page_url";
    go.event_type_filter = "page_view";
    go.top_k = kK;
    go.output_mode = GetParam();
    auto processor = GoldProcessor::Create(go);
    ASSERT_TRUE(processor.ok()) << processor.status().ToString();
    SchemaPtr schema = (*processor)->output_schema();
    ASSERT_EQ(schema->field(schema->num_fields() - 1).name, "rank");
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    if (GetParam() == GoldOutputMode::kUpdate) {
      UpsertSinkOptions uo;
      uo.table_name = "catalog.streaming." + Name();
      uo.path = GoldPath(Name());
      uo.schema = schema;
      uo.key_columns = {"window_start", "window_end", "rank"};
      sinks.push_back(std::make_unique<UpsertDeltaSink>(std::move(uo)));
    } else {
      DeltaSinkOptions o;
      o.table_name = "catalog.streaming." + Name();
      o.path = GoldPath(Name());
      o.schema = schema;
      sinks.push_back(std::make_unique<DeltaSink>(std::move(o)));
    }
    DeltaSourceOptions so;
    so.table_name = "catalog.streaming.silver_clickstream";
    so.path = silver_path_;
    so.schema = SilverSchema();
    QueryOptions qo;
    qo.name = Name();
    qo.checkpoint_dir = dir_.path() + "/_checkpoints/" + Name();
    qo.trigger.kind = Trigger::Kind::kAvailableNow;
    qo.limit.max_files = 1;
    StreamingQuery q(qo, std::make_unique<DeltaSource>(std::move(so)), std::move(*processor),
                     std::move(sinks));
    Status st = q.Run();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // (window start ms, page_url, count, rank) of the gold table's rows, final or not.
  std::vector<std::vector<std::string>> Gold(bool final_only) {
    return Query(
        "SELECT epoch_ms(window_start), page_url, event_count, rank FROM "
        "catalog.streaming." +
            Name() + (final_only ? " WHERE is_final" : "") + " ORDER BY 1, 4",
        {Name()});
  }

  // The top K of the windows starting in `windows`, from silver.
  std::vector<std::vector<std::string>> Truth(const std::set<std::string>& windows) {
    auto rows = Query(
        "SELECT ws, page_url, n, r FROM (SELECT ws, page_url, n, row_number() OVER (PARTITION BY "
        "ws ORDER BY n DESC, page_url) AS r FROM (SELECT event_timestamp // 60000 * 60000 AS ws, "
        "page_url, count(*) AS n FROM catalog.streaming.silver_clickstream WHERE event_type = "
        "'page_view' GROUP BY 1, 2)) WHERE r <= " +
            std::to_string(kK) + " ORDER BY 1, 4",
        {});
    std::vector<std::vector<std::string>> out;
    for (auto& r : rows)
      if (windows.count(r[0])) out.push_back(std::move(r));
    return out;
  }
};

TEST_P(TopK, FinalRowsAreTheTopKOfEachWindow) {
  std::mt19937 rng(17);
  std::uniform_int_distribution<int64_t> jitter(0, 55'000);
  std::discrete_distribution<int> page({8, 6, 5, 4, 3, 3, 2, 1});  // skewed, with ties
  int id = 0;
  auto event = [&](const std::string& url, int64_t t, const char* type = "page_view") {
    return SilverEvent{
        "e" + std::to_string(id++), "u" + std::to_string(id % 13), type, url, t, id % 3};
  };
  // Minute 0: /z leads at first, then /a, /b and /c overtake it.
  std::vector<SilverEvent> first, second;
  for (int i = 0; i < 5; ++i) first.push_back(event("/z", kT0 + 1000 + i));
  for (const char* url : {"/a", "/b", "/c", "/d"}) first.push_back(event(url, kT0 + 2000));
  for (int i = 0; i < 6; ++i)
    for (const char* url : {"/a", "/b", "/c"}) second.push_back(event(url, kT0 + 3000 + i));
  second.push_back(event("/z", kT0 + 9000, "click"));  // not a page view
  AppendSilver(first);
  Stream();
  std::set<std::string> provisional_z;
  for (const auto& r : Gold(false))
    if (r[1] == "/z") provisional_z.insert(r[0]);
  if (GetParam() == GoldOutputMode::kUpdate) {
    EXPECT_EQ(provisional_z, std::set<std::string>{std::to_string(kT0)});
  }
  AppendSilver(second);
  Stream();
  // Then 12 minutes of skewed traffic, out of order within the delay.
  for (int b = 1; b <= 12; ++b) {
    std::vector<SilverEvent> events;
    for (int i = 0; i < 30; ++i) {
      std::string url = "/p" + std::to_string(page(rng));
      events.push_back(event(url, kT0 + b * kMinuteMs + jitter(rng) - 30'000,
                             i % 5 == 0 ? "click" : "page_view"));
    }
    AppendSilver(events);
    Stream();
    // At every version, one row per (window, rank), ranks within 1..K.
    auto dup = Query(
        "SELECT count(*) - count(DISTINCT (window_start, rank)), count(*) FILTER (WHERE rank < 1 "
        "OR rank > " +
            std::to_string(kK) + ") FROM catalog.streaming." + Name(),
        {Name()});
    EXPECT_EQ(dup[0][0], "0");
    EXPECT_EQ(dup[0][1], "0");
  }

  auto final_rows = Gold(true);
  std::set<std::string> windows;
  for (const auto& r : final_rows) windows.insert(r[0]);
  ASSERT_GE(windows.size(), 8u);
  ASSERT_TRUE(windows.count(std::to_string(kT0)));
  EXPECT_EQ(final_rows, Truth(windows));
  // Final windows hold nothing else: /z, in minute 0's provisional top K, is gone.
  auto rows_of_final_windows = Query("SELECT count(*) FROM catalog.streaming." + Name() +
                                         " WHERE window_start IN (SELECT "
                                         "window_start FROM catalog.streaming." +
                                         Name() + " WHERE is_final)",
                                     {Name()});
  EXPECT_EQ(rows_of_final_windows[0][0], std::to_string(final_rows.size()));
  for (const auto& r : final_rows) EXPECT_NE(r[1], "/z");

  // `strata reprocess` of a top-K table recomputes the same ranks.
  PipelineConfig config = DefaultPipelineConfig();
  config.silver.path = silver_path_;
  config.gold.table = "catalog.streaming." + Name();
  config.gold.path = GoldPath(Name());
  config.gold.checkpoint = dir_.path() + "/_checkpoints/" + Name();
  config.gold.key_column = "page_url";
  config.gold.event_type_filter = "page_view";
  config.gold.top_k = kK;
  for (auto& g : config.gold_tables) g.enabled = false;
  ReprocessRequest req{Name(), kT0, kT0 + 5 * kMinuteMs, false};
  auto res = ReprocessGold(config, req);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  EXPECT_EQ(res->rows_written, 5 * kK);
  EXPECT_EQ(Gold(true), final_rows);
}

INSTANTIATE_TEST_SUITE_P(Modes, TopK,
                         ::testing::Values(GoldOutputMode::kAppend, GoldOutputMode::kUpdate),
                         [](const auto& info) {
                           return info.param == GoldOutputMode::kUpdate ? "Update" : "Append";
                         });

}  // namespace
}  // namespace strata::semantics
