#include "operators/session_window.h"

#include <gtest/gtest.h>

#include <random>
#include <tuple>

#include "operators/test_batches.h"

namespace strata {
namespace {

using test::Event;
using test::kSec;
using test::MakeBatch;

using Row = std::tuple<int64_t, int64_t, std::string, int64_t>;  // start, end, user, count

std::vector<Row> Rows(const RecordBatch& b) {
  std::vector<Row> out;
  for (size_t i = 0; i < b.num_rows(); ++i) {
    EXPECT_TRUE(b.column(4).Bool(i));
    out.emplace_back(b.column(0).Int64(i), b.column(1).Int64(i), std::string(b.column(2).String(i)),
                     b.column(3).Int64(i));
  }
  return out;
}

std::unique_ptr<SessionWindowAggregator> Make(int64_t gap) {
  SessionWindowOptions o;
  o.gap_micros = gap;
  auto s = SessionWindowAggregator::Create(o);
  EXPECT_TRUE(s.ok());
  return std::move(s).value();
}

constexpr int64_t kMaxWm = std::numeric_limits<int64_t>::max();

TEST(SessionWindowTest, EventsWithinGapFormOneSession) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(s->Process(MakeBatch({{"1", "a", "v", 0},
                                    {"2", "a", "v", 10 * kSec},
                                    {"3", "b", "v", 5 * kSec},
                                    {"4", "a", "v", 20 * kSec},
                                    {"5", "a", "v", 100 * kSec}}),
                         kNoWatermark)
                  .ok());
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)), (std::vector<Row>{{0, 50 * kSec, "a", 3},
                                                          {5 * kSec, 35 * kSec, "b", 1},
                                                          {100 * kSec, 130 * kSec, "a", 1}}));
}

TEST(SessionWindowTest, OutOfOrderEventBridgesTwoSessions) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(
      s->Process(MakeBatch({{"1", "a", "v", 0}, {"2", "a", "v", 50 * kSec}}), kNoWatermark).ok());
  EXPECT_EQ(s->stats().open_sessions, 2u);
  ASSERT_TRUE(s->Process(MakeBatch({{"3", "a", "v", 25 * kSec}}), kNoWatermark).ok());
  EXPECT_EQ(s->stats().open_sessions, 1u);
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)), (std::vector<Row>{{0, 80 * kSec, "a", 3}}));
}

TEST(SessionWindowTest, TouchingWindowsStaySeparate) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(
      s->Process(MakeBatch({{"1", "a", "v", 0}, {"2", "a", "v", 30 * kSec}}), kNoWatermark).ok());
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)),
            (std::vector<Row>{{0, 30 * kSec, "a", 1}, {30 * kSec, 60 * kSec, "a", 1}}));
}

TEST(SessionWindowTest, FinalOnceAndLateRowsDropped) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(
      s->Process(MakeBatch({{"1", "a", "v", 0}, {"2", "b", "v", 20 * kSec}}), kNoWatermark).ok());
  EXPECT_EQ(s->EmitFinal(30 * kSec - 1).num_rows(), 0u);
  EXPECT_EQ(Rows(s->EmitFinal(30 * kSec)), (std::vector<Row>{{0, 30 * kSec, "a", 1}}));
  EXPECT_EQ(s->EmitFinal(30 * kSec).num_rows(), 0u);
  // "a" at 0 s again: its window [0, 30 s) ends at the watermark: late.
  ASSERT_TRUE(s->Process(MakeBatch({{"3", "a", "v", 0}, {"4", "b", "v", 1 * kSec}}), 0).ok());
  EXPECT_EQ(s->stats().rows_dropped_by_watermark, 1u);
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)), (std::vector<Row>{{1 * kSec, 50 * kSec, "b", 2}}));
  EXPECT_EQ(s->stats().keys, 0u);
}

TEST(SessionWindowTest, SnapshotPlusDeltasRestoreEquivalence) {
  std::mt19937_64 rng(5);
  auto live = Make(20 * kSec);
  std::vector<std::string> snaps(2);
  std::vector<std::vector<std::string>> deltas(2);
  int64_t wm = kNoWatermark;
  auto events = [&](int batch) {
    std::vector<Event> ev;
    for (int i = 0; i < 200; ++i) {
      ev.push_back({"e", "u" + std::to_string(rng() % 40), "v",
                    batch * 15 * kSec + static_cast<int64_t>(rng() % (40 * kSec)),
                    static_cast<int32_t>(rng() % 2)});
    }
    return ev;
  };
  for (int batch = 0; batch < 8; ++batch) {
    ASSERT_TRUE(live->Process(MakeBatch(events(batch)), wm).ok());
    wm = batch * 15 * kSec - 10 * kSec;
    live->EmitFinal(wm);
    for (int p = 0; p < 2; ++p) {
      if (batch == 1) {
        snaps[p] = live->SerializeSnapshot(p);
      } else if (batch > 1) {
        deltas[p].push_back(live->SerializeDelta(p));
      }
    }
    live->MarkCheckpointed();
  }
  auto restored = Make(20 * kSec);
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string_view> views(deltas[p].begin(), deltas[p].end());
    ASSERT_TRUE(restored->Restore(p, snaps[p], views, wm).ok());
  }
  EXPECT_EQ(restored->stats().open_sessions, live->stats().open_sessions);
  auto more = events(8);
  ASSERT_TRUE(live->Process(MakeBatch(more), wm).ok());
  ASSERT_TRUE(restored->Process(MakeBatch(more), wm).ok());
  auto a = Rows(live->EmitFinal(kMaxWm));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, Rows(restored->EmitFinal(kMaxWm)));
  auto other = Make(10 * kSec);
  EXPECT_EQ(other->Restore(0, snaps[0], {}, wm).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other->Restore(1, snaps[0], {}, wm).code(), StatusCode::kCorruption);
}

TEST(SessionWindowTest, BadInput) {
  SessionWindowOptions o;
  o.gap_micros = 0;
  EXPECT_FALSE(SessionWindowAggregator::Create(o).ok());
  o.gap_micros = kSec;
  o.key_column = "session_owner";
  auto s = std::move(SessionWindowAggregator::Create(o)).value();
  EXPECT_EQ(s->Process(MakeBatch({{"1", "a", "v", 0}}), kNoWatermark).code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata
