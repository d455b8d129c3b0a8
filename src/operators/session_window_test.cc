#include "operators/session_window.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <map>
#include <random>
#include <tuple>

#include "operators/state_codec.h"
#include "operators/test_batches.h"

namespace strata {
namespace {

using test::kSec;

// One input row: session key, user, event type, event time (micros), partition.
struct Ev {
  std::string session;
  std::string user;
  std::string type;
  int64_t t;
  int32_t partition = 0;
};

RecordBatch Batch(const std::vector<Ev>& events) {
  auto schema = std::make_shared<const Schema>(std::vector<Field>{
      {"session_id", TypeId::kString, true},
      {"user_id", TypeId::kString, true},
      {"event_type", TypeId::kString, true},
      {"event_time", TypeId::kTimestamp, true},
      {"partition", TypeId::kInt32, true},
  });
  RecordBatch b(schema);
  for (const Ev& e : events) {
    b.column(0).AppendString(e.session);
    b.column(1).AppendString(e.user);
    b.column(2).AppendString(e.type);
    b.column(3).AppendInt64(e.t);
    b.column(4).AppendInt32(e.partition);
  }
  return b;
}

// start, end, session, user, count, page_views, duration_ms, bounced, converted, is_final
using Row = std::tuple<int64_t, int64_t, std::string, std::string, int64_t, int64_t, int64_t, bool,
                       bool, bool>;

std::vector<Row> Rows(const RecordBatch& b) {
  std::vector<Row> out;
  for (size_t i = 0; i < b.num_rows(); ++i) {
    out.emplace_back(b.column(0).Int64(i), b.column(1).Int64(i), std::string(b.column(2).String(i)),
                     std::string(b.column(3).String(i)), b.column(4).Int64(i), b.column(5).Int64(i),
                     b.column(6).Int64(i), b.column(7).Bool(i), b.column(8).Bool(i),
                     b.column(9).Bool(i));
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

TEST(SessionWindowTest, EventsWithinGapFormOneSessionWithItsMeasures) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(s->Process(Batch({{"a", "u1", "page_view", 0},
                                {"a", "u1", "click", 10 * kSec},
                                {"b", "u2", "page_view", 5 * kSec},
                                {"a", "u1", "purchase", 20 * kSec},
                                {"a", "u1", "page_view", 100 * kSec}}),
                         kNoWatermark)
                  .ok());
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)),
            (std::vector<Row>{{0, 50 * kSec, "a", "u1", 3, 1, 20'000, false, true, true},
                              {5 * kSec, 35 * kSec, "b", "u2", 1, 1, 0, true, false, true},
                              {100 * kSec, 130 * kSec, "a", "u1", 1, 1, 0, true, false, true}}));
  EXPECT_EQ(s->stats().sessions_emitted, 3u);
}

TEST(SessionWindowTest, UserIsTakenFromTheEarliestRow) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(s->Process(Batch({{"a", "later", "click", 10 * kSec}}), kNoWatermark).ok());
  ASSERT_TRUE(s->Process(Batch({{"a", "earlier", "click", 5 * kSec}}), kNoWatermark).ok());
  auto rows = Rows(s->EmitFinal(kMaxWm));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(std::get<3>(rows[0]), "earlier");
  EXPECT_EQ(std::get<6>(rows[0]), 5'000);
}

TEST(SessionWindowTest, LateEventBridgesTwoSessionsIntoOne) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(s->Process(Batch({{"a", "u", "page_view", 0}, {"a", "u", "purchase", 50 * kSec}}),
                         kNoWatermark)
                  .ok());
  EXPECT_EQ(s->stats().open_sessions, 2u);
  ASSERT_TRUE(s->Process(Batch({{"a", "u", "page_view", 25 * kSec}}), kNoWatermark).ok());
  EXPECT_EQ(s->stats().open_sessions, 1u);
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)),
            (std::vector<Row>{{0, 80 * kSec, "a", "u", 3, 2, 50'000, false, true, true}}));
}

TEST(SessionWindowTest, EventsExactlyOneGapApartStaySeparate) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(s->Process(Batch({{"a", "u", "page_view", 0}, {"a", "u", "page_view", 30 * kSec}}),
                         kNoWatermark)
                  .ok());
  // One microsecond less than the gap merges.
  ASSERT_TRUE(s->Process(Batch({{"b", "u", "page_view", 0}, {"b", "u", "click", 30 * kSec - 1}}),
                         kNoWatermark)
                  .ok());
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)),
            (std::vector<Row>{{0, 30 * kSec, "a", "u", 1, 1, 0, true, false, true},
                              {0, 60 * kSec - 1, "b", "u", 2, 1, 29'999, false, false, true},
                              {30 * kSec, 60 * kSec, "a", "u", 1, 1, 0, true, false, true}}));
}

TEST(SessionWindowTest, FinalOnceAndRowsBelowTheWatermarkDropped) {
  auto s = Make(30 * kSec);
  ASSERT_TRUE(
      s->Process(Batch({{"a", "u", "click", 0}, {"b", "u", "click", 20 * kSec}}), kNoWatermark)
          .ok());
  EXPECT_EQ(s->EmitFinal(30 * kSec - 1).num_rows(), 0u);
  EXPECT_EQ(Rows(s->EmitFinal(30 * kSec)),
            (std::vector<Row>{{0, 30 * kSec, "a", "u", 1, 0, 0, true, false, true}}));
  EXPECT_EQ(s->EmitFinal(30 * kSec).num_rows(), 0u);
  // Below the watermark given to EmitFinal (30 s), whatever the batch's: dropped, even "b" at
  // 29 s which would only extend an open session. At the watermark: kept.
  ASSERT_TRUE(s->Process(Batch({{"a", "u", "click", 10 * kSec},
                                {"b", "u", "click", 29 * kSec},
                                {"b", "u", "click", 30 * kSec}}),
                         0)
                  .ok());
  EXPECT_EQ(s->stats().rows_dropped_by_watermark, 2u);
  EXPECT_EQ(s->rows_dropped_by_watermark(), 2u);
  EXPECT_TRUE(s->has_open_sessions());
  EXPECT_EQ(Rows(s->EmitFinal(kMaxWm)),
            (std::vector<Row>{{20 * kSec, 60 * kSec, "b", "u", 2, 0, 10'000, false, false, true}}));
  EXPECT_EQ(s->stats().keys, 0u);
  EXPECT_FALSE(s->has_open_sessions());
}

// A table of provisional and final rows keyed by (session, start), as the sink keeps it.
using Table = std::map<std::pair<std::string, int64_t>, Row>;

void Apply(Table& table, const RecordBatch& rows, const RecordBatch& retracted) {
  for (size_t i = 0; i < retracted.num_rows(); ++i) {
    auto key =
        std::make_pair(std::string(retracted.column(1).String(i)), retracted.column(0).Int64(i));
    EXPECT_EQ(table.erase(key), 1u) << "retraction of a row not in the table";
  }
  for (const Row& r : Rows(rows)) table[{std::get<2>(r), std::get<0>(r)}] = r;
}

TEST(SessionWindowTest, UpdateModeRetractsSupersededProvisionalRows) {
  auto s = Make(30 * kSec);
  Table table;
  auto step = [&](const std::vector<Ev>& events, int64_t wm) {
    EXPECT_TRUE(s->Process(Batch(events), wm).ok());
    RecordBatch retracted(s->retraction_schema());
    RecordBatch updated = s->EmitUpdated(&retracted);
    for (size_t i = 0; i < updated.num_rows(); ++i) EXPECT_FALSE(updated.column(9).Bool(i));
    Apply(table, updated, retracted);
    Apply(table, s->EmitFinal(wm), RecordBatch(s->retraction_schema()));
    return retracted.num_rows();
  };
  EXPECT_EQ(step({{"a", "u", "page_view", 100 * kSec}, {"a", "u", "page_view", 160 * kSec}},
                 kNoWatermark),
            0u);
  EXPECT_EQ(table.size(), 2u);
  // Grows without a new start: replaced in place.
  EXPECT_EQ(step({{"a", "u", "click", 110 * kSec}}, kNoWatermark), 0u);
  EXPECT_EQ(table.size(), 2u);
  // Starts earlier: the row under 100 s is superseded.
  EXPECT_EQ(step({{"a", "u", "click", 90 * kSec}}, kNoWatermark), 1u);
  EXPECT_EQ(table.count({"a", 100 * kSec}), 0u);
  EXPECT_EQ(table.size(), 2u);
  // [90 s, 140 s) and [160 s, 190 s): a row at 135 s bridges them; the later one's row goes.
  EXPECT_EQ(step({{"a", "u", "click", 135 * kSec}}, kNoWatermark), 1u);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table.begin()->second,
            (Row{90 * kSec, 190 * kSec, "a", "u", 5, 2, 70'000, false, false, false}));
  // Nothing changed: nothing written.
  EXPECT_EQ(step({}, kNoWatermark), 0u);
  // Watermark passes: the same key, now final.
  step({}, 190 * kSec);
  ASSERT_EQ(table.size(), 1u);
  EXPECT_EQ(table.begin()->second,
            (Row{90 * kSec, 190 * kSec, "a", "u", 5, 2, 70'000, false, false, true}));
  EXPECT_EQ(s->stats().keys, 0u);
}

// Sessions of sorted event times (one key): [first, last + gap) split where a gap >= `gap`.
struct Expected {
  int64_t start, end, count;
};
std::vector<Expected> BatchSessions(std::vector<int64_t> times, int64_t gap) {
  std::sort(times.begin(), times.end());
  std::vector<Expected> out;
  for (int64_t t : times) {
    if (!out.empty() && t < out.back().end) {
      out.back().end = t + gap;
      ++out.back().count;
    } else {
      out.push_back({t, t + gap, 1});
    }
  }
  return out;
}

TEST(SessionWindowTest, RandomStreamEqualsBatchSessionsOfKeptRowsAndUpdatesConverge) {
  std::mt19937_64 rng(17);
  const int64_t gap = 8 * kSec, delay = 30 * kSec;
  auto s = Make(gap);
  Table table;
  std::map<std::string, std::vector<int64_t>> kept;
  int64_t max_t = 0;
  uint64_t dropped = 0;
  size_t retractions = 0;
  for (int batch = 0; batch < 40; ++batch) {
    const int64_t wm = batch == 0 ? kNoWatermark : max_t - delay;
    std::vector<Ev> events;
    for (int i = 0; i < 60; ++i) {
      // Mostly recent, some up to 60 s behind (late for a 30 s delay).
      int64_t t =
          batch * 10 * kSec - static_cast<int64_t>(rng() % (rng() % 8 == 0 ? 60 : 15)) * kSec;
      // A key always comes from the same partition, as Kafka records keyed by user.
      const int k = static_cast<int>(rng() % 40);
      std::string key = "s" + std::to_string(k);
      events.push_back({key, "u", rng() % 3 == 0 ? "page_view" : "click", t, k % 2});
      if (t < wm) {
        ++dropped;
      } else {
        kept[key].push_back(t);
      }
    }
    ASSERT_TRUE(s->Process(Batch(events), wm).ok());
    for (const Ev& e : events) max_t = std::max(max_t, e.t);
    RecordBatch retracted(s->retraction_schema());
    RecordBatch updated = s->EmitUpdated(&retracted);
    retractions += retracted.num_rows();
    Apply(table, updated, retracted);
    Apply(table, s->EmitFinal(wm), RecordBatch(s->retraction_schema()));
  }
  EXPECT_GT(dropped, 0u);
  EXPECT_GT(retractions, 0u);  // merges and earlier starts of sessions already written
  EXPECT_EQ(s->stats().rows_dropped_by_watermark, dropped);
  RecordBatch retracted(s->retraction_schema());
  Apply(table, s->EmitUpdated(&retracted), retracted);
  Apply(table, s->EmitFinal(kMaxWm), RecordBatch(s->retraction_schema()));
  // Only final rows are left, and they are the batch sessions of the rows kept.
  std::map<std::pair<std::string, int64_t>, std::pair<int64_t, int64_t>> expected, actual;
  for (const auto& [key, times] : kept) {
    for (const Expected& e : BatchSessions(times, gap)) expected[{key, e.start}] = {e.end, e.count};
  }
  for (const auto& [key, row] : table) {
    EXPECT_TRUE(std::get<9>(row));
    actual[key] = {std::get<1>(row), std::get<4>(row)};
  }
  EXPECT_GT(expected.size(), 50u);
  EXPECT_EQ(actual, expected);
}

TEST(SessionWindowTest, SnapshotPlusDeltasRestoreEquivalence) {
  std::mt19937_64 rng(5);
  auto live = Make(20 * kSec);
  std::vector<std::string> snaps(2);
  std::vector<std::vector<std::string>> deltas(2);
  int64_t wm = kNoWatermark;
  auto events = [&](int batch) {
    std::vector<Ev> ev;
    for (int i = 0; i < 200; ++i) {
      ev.push_back({"s" + std::to_string(rng() % 40), "u" + std::to_string(rng() % 5),
                    rng() % 4 == 0 ? "purchase" : "page_view",
                    batch * 15 * kSec + static_cast<int64_t>(rng() % (40 * kSec)),
                    static_cast<int32_t>(rng() % 2)});
    }
    return ev;
  };
  RecordBatch ignored(live->retraction_schema());
  for (int batch = 0; batch < 8; ++batch) {
    ASSERT_TRUE(live->Process(Batch(events(batch)), wm).ok());
    wm = batch * 15 * kSec - 10 * kSec;
    live->EmitUpdated(&ignored);
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
  EXPECT_EQ(live->Partitions(), (std::vector<int32_t>{0, 1}));
  auto restored = Make(20 * kSec);
  for (int p = 0; p < 2; ++p) {
    std::vector<std::string_view> views(deltas[p].begin(), deltas[p].end());
    ASSERT_TRUE(restored->Restore(p, snaps[p], views, wm).ok());
  }
  EXPECT_EQ(restored->stats().open_sessions, live->stats().open_sessions);
  EXPECT_GT(restored->stats().bytes, restored->stats().open_sessions * 40);
  // The same input gives the same provisional rows and retractions (the provisional rows
  // already written survive the restore), then the same final rows.
  auto more = events(8);
  ASSERT_TRUE(live->Process(Batch(more), wm).ok());
  ASSERT_TRUE(restored->Process(Batch(more), wm).ok());
  RecordBatch ra(live->retraction_schema()), rb(restored->retraction_schema());
  EXPECT_EQ(Rows(live->EmitUpdated(&ra)), Rows(restored->EmitUpdated(&rb)));
  EXPECT_EQ(ra.num_rows(), rb.num_rows());
  auto a = Rows(live->EmitFinal(kMaxWm));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, Rows(restored->EmitFinal(kMaxWm)));
  auto other = Make(10 * kSec);
  EXPECT_EQ(other->Restore(0, snaps[0], {}, wm).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(other->Restore(1, snaps[0], {}, wm).code(), StatusCode::kCorruption);
  std::string torn = snaps[0].substr(0, snaps[0].size() - 3);
  EXPECT_EQ(restored->Restore(0, torn, {}, wm).code(), StatusCode::kCorruption);
}

TEST(SessionWindowTest, VersionOneStateIsRefusedByName) {
  state_codec::Writer w("SSES", 1);
  w.U8(1);
  w.I32(0);
  w.I64(20 * kSec);
  w.U64(0);
  auto s = Make(20 * kSec);
  Status st = s->Restore(0, w.Finish(), {}, kNoWatermark);
  EXPECT_EQ(st.code(), StatusCode::kNotSupported);
  EXPECT_NE(st.message().find("version 1"), std::string::npos) << st.ToString();
}

TEST(SessionWindowTest, BadInput) {
  SessionWindowOptions o;
  o.gap_micros = 0;
  EXPECT_FALSE(SessionWindowAggregator::Create(o).ok());
  o.gap_micros = kSec;
  auto s = std::move(SessionWindowAggregator::Create(o)).value();
  // The operators' common test batch has no session_id column.
  EXPECT_EQ(s->Process(test::MakeBatch({{"1", "a", "v", 0}}), kNoWatermark).code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(s->stats().rows_in, 0u);
}

}  // namespace
}  // namespace strata
