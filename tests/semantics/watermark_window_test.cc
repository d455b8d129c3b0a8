// Window assignment and watermark edge cases of the gold processor, batch by batch, with the
// processing time under the test's control (no clock, no Delta).

#include <gtest/gtest.h>

#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kT = 3'600'000;  // an hour after the epoch, aligned to minutes

// Drives a processor the way the engine does: BeginBatch at the planned watermark, Process,
// EndBatch, then NextWatermark(now) for the next batch.
class Driver {
 public:
  explicit Driver(const GoldOptions& o) {
    auto p = GoldProcessor::Create(o);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    processor_ = std::move(*p);
  }
  // Runs one batch at processing time `now_ms`; returns its output rows.
  RecordBatch Batch(const std::vector<SilverEvent>& events, int64_t now_ms) {
    BatchContext ctx;
    ctx.batch_id = batch_id_++;
    ctx.batch_timestamp_ms = now_ms;
    ctx.watermark_ms = watermark_ms_;
    ctx.no_data = events.empty();
    EXPECT_TRUE(processor_->BeginBatch(ctx).ok());
    std::vector<std::vector<RecordBatch>> outputs(1);
    if (!events.empty()) {
      EXPECT_TRUE(processor_->Process(SilverRows(events, 0), outputs).ok());
    }
    metrics_ = ProcessorMetrics{};
    EXPECT_TRUE(processor_->EndBatch(outputs, metrics_).ok());
    int64_t next = processor_->NextWatermark(now_ms);
    EXPECT_GE(next, watermark_ms_) << "the watermark went back";
    watermark_ms_ = next;
    RecordBatch out(processor_->output_schema());
    for (auto& b : outputs[0])
      for (size_t r = 0; r < b.num_rows(); ++r)
        for (size_t c = 0; c < out.num_columns(); ++c) out.column(c).AppendFrom(b.column(c), r);
    return out;
  }
  int64_t watermark_ms() const { return watermark_ms_; }
  const ProcessorMetrics& metrics() const { return metrics_; }

 private:
  std::unique_ptr<GoldProcessor> processor_;
  int64_t batch_id_ = 0;
  int64_t watermark_ms_ = 0;
  ProcessorMetrics metrics_;
};

SilverEvent Ev(int64_t t_ms, int32_t partition = 0, std::string type = "click",
               std::string user = "u1") {
  return {"e" + std::to_string(t_ms), std::move(user), std::move(type), "/", t_ms, partition};
}

// (window_start ms, count) of each row.
std::vector<std::pair<int64_t, int64_t>> Windows(const RecordBatch& b) {
  std::vector<std::pair<int64_t, int64_t>> out;
  int count_col = b.schema()->IndexOf("event_count");
  for (size_t r = 0; r < b.num_rows(); ++r)
    out.emplace_back(b.column(0).Int64(r) / 1000, b.column(count_col).Int64(r));
  return out;
}

GoldOptions Global(int64_t delay_ms) {
  GoldOptions o;
  o.watermark_delay_ms = delay_ms;
  o.key_column = "";
  return o;
}

TEST(SemanticsWatermark, BoundariesLatenessAndMonotonicity) {
  Driver d(Global(kMinuteMs));
  // Exactly on a boundary an event opens the next window; end is exclusive.
  EXPECT_EQ(d.Batch({Ev(kT), Ev(kT + 59'999), Ev(kT + 60'000)}, 1).num_rows(), 0u);
  EXPECT_EQ(d.watermark_ms(), kT);  // max event time - delay
  // At the watermark: on time. One ms before it: its window [T-1m, T) ended -> dropped.
  // Out of order within the delay: accepted.
  EXPECT_EQ(d.Batch({Ev(kT), Ev(kT - 1), Ev(kT + 30'000)}, 2).num_rows(), 0u);
  EXPECT_EQ(d.metrics().rows_dropped_by_watermark, 1);
  EXPECT_EQ(d.watermark_ms(), kT);  // older data does not move it back
  // An event beyond the delay advances it past the first two windows.
  d.Batch({Ev(kT + 200'000)}, 3);
  EXPECT_EQ(d.watermark_ms(), kT + 140'000);
  RecordBatch final_rows = d.Batch({}, 4);
  EXPECT_EQ(Windows(final_rows),
            (std::vector<std::pair<int64_t, int64_t>>{{kT, 4}, {kT + 60'000, 1}}));
  // A row for an emitted window is late; the window is never emitted twice.
  EXPECT_EQ(d.Batch({Ev(kT + 10'000)}, 5).num_rows(), 0u);
  EXPECT_EQ(d.metrics().rows_dropped_by_watermark, 1);
  EXPECT_EQ(d.watermark_ms(), kT + 140'000);
}

TEST(SemanticsWatermark, SlidingWindowsHoldEachEventSizeOverSlideTimes) {
  GoldOptions o = Global(0);
  o.window_ms = 5 * kMinuteMs;
  o.slide_ms = kMinuteMs;
  Driver d(o);
  d.Batch({Ev(kT + 90'000)}, 1);
  d.Batch({Ev(kT + 60 * kMinuteMs)}, 2);
  RecordBatch out = d.Batch({}, 3);
  std::vector<std::pair<int64_t, int64_t>> expected;
  for (int k = -3; k <= 1; ++k) expected.push_back({kT + k * kMinuteMs, 1});
  EXPECT_EQ(Windows(out), expected);
}

// Partition 1 goes quiet after one event while partition 0 moves on by five minutes.
std::vector<std::pair<int64_t, int64_t>> QuietPartition(WatermarkPolicy policy,
                                                        int64_t idle_timeout_ms) {
  GoldOptions o = Global(0);
  o.watermark_policy = policy;
  o.idle_timeout_ms = idle_timeout_ms;
  Driver d(o);
  d.Batch({Ev(kT + 10'000, 0), Ev(kT + 20'000, 1)}, 1'000);
  d.Batch({Ev(kT + 5 * kMinuteMs, 0)}, 2'000);
  // 3.5 s: partition 1 has had no data for 2.5 s, partition 0 for 1.5 s.
  auto out = Windows(d.Batch({}, 3'500));
  for (const auto& w : Windows(d.Batch({}, 3'600))) out.push_back(w);
  return out;
}

TEST(SemanticsWatermark, QuietPartitionHoldsMinWatermarkWithoutIdleTimeout) {
  EXPECT_TRUE(QuietPartition(WatermarkPolicy::kMin, 0).empty());
}

TEST(SemanticsWatermark, IdleTimeoutReleasesAQuietPartition) {
  EXPECT_EQ(QuietPartition(WatermarkPolicy::kMin, 2'000),
            (std::vector<std::pair<int64_t, int64_t>>{{kT, 2}}));
}

TEST(SemanticsWatermark, MaxPolicyFollowsTheFastestPartition) {
  EXPECT_EQ(QuietPartition(WatermarkPolicy::kMax, 0),
            (std::vector<std::pair<int64_t, int64_t>>{{kT, 2}}));
}

TEST(SemanticsWatermark, UpdateModeEmitsProvisionalThenFinal) {
  GoldOptions o = Global(kMinuteMs);
  o.output_mode = GoldOutputMode::kUpdate;
  Driver d(o);
  RecordBatch first = d.Batch({Ev(kT), Ev(kT + 1'000)}, 1);
  ASSERT_EQ(first.num_rows(), 1u);
  const int fin = first.schema()->IndexOf("is_final");
  EXPECT_FALSE(first.column(fin).Bool(0));
  EXPECT_EQ(Windows(first), (std::vector<std::pair<int64_t, int64_t>>{{kT, 2}}));
  // Nothing changed: nothing written.
  EXPECT_EQ(d.Batch({}, 2).num_rows(), 0u);
  RecordBatch second = d.Batch({Ev(kT + 2'000), Ev(kT + 3 * kMinuteMs)}, 3);
  EXPECT_EQ(Windows(second),
            (std::vector<std::pair<int64_t, int64_t>>{{kT, 3}, {kT + 180'000, 1}}));
  RecordBatch last = d.Batch({}, 4);  // watermark T + 2 min: [T, T+1m) is final
  ASSERT_EQ(last.num_rows(), 1u);
  EXPECT_TRUE(last.column(fin).Bool(0));
  EXPECT_EQ(Windows(last), (std::vector<std::pair<int64_t, int64_t>>{{kT, 3}}));
}

}  // namespace
}  // namespace strata::semantics
