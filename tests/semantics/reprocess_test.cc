// `strata reprocess`: windows of a range recomputed in batch from silver (and the late table)
// replace the streamed ones in one commit; windows outside the range stay as they were.

#include "pipeline/reprocess.h"

#include <gtest/gtest.h>

#include <random>

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
