#include "operators/watermark.h"

#include <gtest/gtest.h>

#include "operators/test_batches.h"

namespace strata {
namespace {

using test::Event;
using test::kSec;
using test::MakeBatch;

WatermarkTracker Tracker(int64_t delay_ms, WatermarkPolicy policy = WatermarkPolicy::kMin,
                         int64_t idle_ms = 0) {
  auto t = WatermarkTracker::Create({delay_ms, policy, idle_ms});
  EXPECT_TRUE(t.ok());
  return std::move(t).value();
}

TEST(WatermarkTest, NoDataNoWatermark) {
  WatermarkTracker w = Tracker(10'000);
  EXPECT_EQ(w.AdvanceWatermark(0), kNoWatermark);
  EXPECT_FALSE(IsLateEvent(-1'000'000 * kSec, w.watermark()));
}

TEST(WatermarkTest, MaxEventTimeMinusDelay) {
  WatermarkTracker w = Tracker(10'000);
  ASSERT_TRUE(w.ObserveBatch(MakeBatch({{"a", "u", "t", 100 * kSec}, {"b", "u", "t", 70 * kSec}}),
                             "event_time", "partition", 0)
                  .ok());
  EXPECT_EQ(w.AdvanceWatermark(1), 90 * kSec);
}

TEST(WatermarkTest, OutOfOrderWithinAndBeyondDelay) {
  WatermarkTracker w = Tracker(10'000);
  w.Observe(0, 100 * kSec, 0);
  const int64_t wm = w.AdvanceWatermark(0);
  // 95 s is out of order but within the delay: on time, and it does not move the watermark.
  EXPECT_FALSE(IsLateEvent(95 * kSec, wm));
  w.Observe(0, 95 * kSec, 1);
  EXPECT_EQ(w.AdvanceWatermark(1), wm);
  // Exactly at the watermark is on time, one microsecond before is late.
  EXPECT_FALSE(IsLateEvent(90 * kSec, wm));
  EXPECT_TRUE(IsLateEvent(90 * kSec - 1, wm));
  EXPECT_TRUE(IsLateEvent(85 * kSec, wm));
}

TEST(WatermarkTest, WindowBoundaryAtWatermark) {
  // Window [0 s, 60 s): final when W >= 60 s. An event exactly at 60 s belongs to the next
  // window and is on time at W = 60 s.
  WatermarkTracker w = Tracker(0);
  w.Observe(0, 60 * kSec, 0);
  const int64_t wm = w.AdvanceWatermark(0);
  EXPECT_EQ(wm, 60 * kSec);
  EXPECT_TRUE(IsWindowFinal(60 * kSec, wm));
  EXPECT_FALSE(IsWindowFinal(120 * kSec, wm));
  EXPECT_FALSE(IsLateEvent(60 * kSec, wm));
  EXPECT_TRUE(IsLateEvent(60 * kSec - 1, wm));
}

TEST(WatermarkTest, NeverGoesBack) {
  WatermarkTracker w = Tracker(5'000);
  w.Observe(0, 100 * kSec, 0);
  EXPECT_EQ(w.AdvanceWatermark(0), 95 * kSec);
  // A new, slower partition appears: the min policy would give 45 s, but W stays.
  w.Observe(1, 50 * kSec, 1);
  EXPECT_EQ(w.AdvanceWatermark(1), 95 * kSec);
  w.Observe(1, 120 * kSec, 2);
  EXPECT_EQ(w.AdvanceWatermark(2), 95 * kSec);  // min(100, 120) - 5 = 95
  w.Observe(0, 130 * kSec, 3);
  EXPECT_EQ(w.AdvanceWatermark(3), 115 * kSec);
}

TEST(WatermarkTest, MinVersusMaxPolicy) {
  for (auto [policy, expected] :
       {std::pair{WatermarkPolicy::kMin, 40 * kSec}, std::pair{WatermarkPolicy::kMax, 90 * kSec}}) {
    WatermarkTracker w = Tracker(10'000, policy);
    ASSERT_TRUE(w.ObserveBatch(MakeBatch({{"a", "u", "t", 50 * kSec, 0},
                                          {"b", "u", "t", 100 * kSec, 1},
                                          {"c", "u", "t", 70 * kSec, 2},
                                          {"d", "u", "t", 20 * kSec, 0}}),
                               "event_time", "partition", 0)
                    .ok());
    EXPECT_EQ(w.AdvanceWatermark(0), expected);
    EXPECT_EQ(w.max_event_time(0), 50 * kSec);
  }
}

TEST(WatermarkTest, IdlePartitionStopsHoldingBack) {
  WatermarkTracker w = Tracker(10'000, WatermarkPolicy::kMin, /*idle_ms=*/30'000);
  w.Observe(0, 100 * kSec, 0);
  w.Observe(1, 40 * kSec, 0);
  EXPECT_EQ(w.AdvanceWatermark(0), 30 * kSec);
  // Partition 0 keeps receiving data; partition 1 is silent for 30 s of processing time.
  w.Observe(0, 110 * kSec, 20 * kSec);
  EXPECT_EQ(w.AdvanceWatermark(20 * kSec), 30 * kSec);
  w.Observe(0, 120 * kSec, 30 * kSec);
  EXPECT_EQ(w.AdvanceWatermark(30 * kSec), 110 * kSec);
  // Everything idle: the watermark follows processing time from the freshest partition.
  EXPECT_EQ(w.AdvanceWatermark(60 * kSec), 110 * kSec + 30 * kSec);
  EXPECT_EQ(w.AdvanceWatermark(70 * kSec), 110 * kSec + 40 * kSec);
}

TEST(WatermarkTest, WithoutIdleTimeoutSilentPartitionHoldsBack) {
  WatermarkTracker w = Tracker(10'000);
  w.Observe(0, 100 * kSec, 0);
  w.Observe(1, 40 * kSec, 0);
  w.Observe(0, 500 * kSec, 1000 * kSec);
  EXPECT_EQ(w.AdvanceWatermark(1000 * kSec), 30 * kSec);
}

TEST(WatermarkTest, SerializeRestore) {
  WatermarkTracker w = Tracker(10'000, WatermarkPolicy::kMin, 5'000);
  w.Observe(3, 100 * kSec, 7);
  w.Observe(4, 80 * kSec, 9);
  w.AdvanceWatermark(10);
  WatermarkTracker r = Tracker(10'000, WatermarkPolicy::kMin, 5'000);
  ASSERT_TRUE(r.Restore(w.Serialize()).ok());
  EXPECT_EQ(r.watermark(), w.watermark());
  EXPECT_EQ(r.max_event_time(3), 100 * kSec);
  EXPECT_EQ(r.Serialize(), w.Serialize());
  WatermarkTracker other = Tracker(1'000);
  EXPECT_EQ(other.Restore(w.Serialize()).code(), StatusCode::kInvalidArgument);
  std::string corrupt = w.Serialize();
  corrupt[10] ^= 1;
  EXPECT_EQ(r.Restore(corrupt).code(), StatusCode::kCorruption);
}

TEST(WatermarkTest, BadInput) {
  EXPECT_FALSE(WatermarkTracker::Create({-1, WatermarkPolicy::kMin, 0}).ok());
  WatermarkTracker w = Tracker(0);
  Status st = w.ObserveBatch(MakeBatch({}), "nope", "partition", 0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("nope"), std::string::npos);
  EXPECT_EQ(w.ObserveBatch(MakeBatch({}), "event_id", "partition", 0).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata
