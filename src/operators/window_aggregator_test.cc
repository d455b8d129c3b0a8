#include "operators/window_aggregator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>
#include <tuple>

#include "operators/state_codec.h"
#include "operators/test_batches.h"

namespace strata {
namespace {

using test::Event;
using test::kMin;
using test::kSec;
using test::MakeBatch;

struct OutRow {
  int64_t start, end;
  std::string key;  // "<null>" for a null key, "" when global
  int64_t count, unique;
  bool final;
  std::optional<int64_t> sum, min, max;
  std::string sketch;
  bool operator==(const OutRow&) const = default;
};

std::vector<OutRow> Rows(const RecordBatch& b) {
  std::vector<OutRow> out;
  const Schema& s = *b.schema();
  const int key = s.IndexOf("event_type");
  const int sum = s.IndexOf("sum_value");
  for (size_t i = 0; i < b.num_rows(); ++i) {
    OutRow r{};
    r.start = b.column("window_start").Int64(i);
    r.end = b.column("window_end").Int64(i);
    if (key >= 0) r.key = b.column(key).IsNull(i) ? "<null>" : std::string(b.column(key).String(i));
    r.count = b.column("event_count").Int64(i);
    r.unique = b.column("unique_users").IsNull(i) ? -1 : b.column("unique_users").Int64(i);
    r.final = b.column("is_final").Bool(i);
    if (!b.column("users_sketch").IsNull(i))
      r.sketch = std::string(b.column("users_sketch").String(i));
    if (sum >= 0 && b.column(sum).IsValid(i)) {
      r.sum = b.column(sum).Int64(i);
      r.min = b.column(sum + 1).Int64(i);
      r.max = b.column(sum + 2).Int64(i);
    }
    out.push_back(r);
  }
  return out;
}

std::unique_ptr<WindowAggregator> Make(int64_t size, int64_t slide, std::string key = "event_type",
                                       std::string value = "") {
  WindowAggregatorOptions o;
  o.size_micros = size;
  o.slide_micros = slide;
  o.key_column = std::move(key);
  o.value_column = std::move(value);
  auto w = WindowAggregator::Create(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  return std::move(w).value();
}

TEST(WindowAssignmentTest, TumblingStartsFloorIncludingNegativeTimes) {
  EXPECT_EQ(LastWindowStart(0, kMin, 0), 0);
  EXPECT_EQ(LastWindowStart(kMin - 1, kMin, 0), 0);
  EXPECT_EQ(LastWindowStart(kMin, kMin, 0), kMin);
  EXPECT_EQ(LastWindowStart(-1, kMin, 0), -kMin);
  EXPECT_EQ(LastWindowStart(-kMin, kMin, 0), -kMin);
  EXPECT_EQ(LastWindowStart(-kMin - 1, kMin, 0), -2 * kMin);
  EXPECT_EQ(LastWindowStart(10 * kSec, kMin, 15 * kSec), 15 * kSec - kMin);
}

TEST(WindowAggregatorTest, TumblingBoundaries) {
  auto w = Make(kMin, kMin);
  ASSERT_TRUE(w->Process(MakeBatch({{"1", "u1", "view", 0},
                                    {"2", "u2", "view", kMin - 1},
                                    {"3", "u1", "view", kMin},
                                    {"4", "u1", "view", -1}}),
                         kNoWatermark)
                  .ok());
  auto rows = Rows(w->EmitFinal(std::numeric_limits<int64_t>::max()));
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(std::tie(rows[0].start, rows[0].end, rows[0].count), std::tuple(-kMin, 0l, 1l));
  EXPECT_EQ(std::tie(rows[1].start, rows[1].end, rows[1].count), std::tuple(0l, kMin, 2l));
  EXPECT_EQ(rows[1].unique, 2);
  EXPECT_EQ(std::tie(rows[2].start, rows[2].count), std::tuple(kMin, 1l));
  EXPECT_TRUE(rows[2].final);
}

TEST(WindowAggregatorTest, SlidingAssignment) {
  auto w = Make(10 * kMin, 5 * kMin);
  ASSERT_TRUE(
      w->Process(
           MakeBatch({{"1", "u", "a", 7 * kMin}, {"2", "u", "b", 5 * kMin}, {"3", "u", "c", -1}}),
           kNoWatermark)
          .ok());
  std::set<std::tuple<std::string, int64_t>> got;
  for (const OutRow& r : Rows(w->EmitFinal(std::numeric_limits<int64_t>::max()))) {
    EXPECT_EQ(r.end - r.start, 10 * kMin);
    got.insert({r.key, r.start / kMin});
  }
  std::set<std::tuple<std::string, int64_t>> want = {{"a", 0}, {"a", 5},   {"b", 0},
                                                     {"b", 5}, {"c", -10}, {"c", -5}};
  EXPECT_EQ(got, want);
}

TEST(WindowAggregatorTest, SlideNotDividingSize) {
  auto w = Make(10 * kSec, 3 * kSec, "");
  ASSERT_TRUE(w->Process(MakeBatch({{"1", "u", "a", 9'500'000}}), kNoWatermark).ok());
  std::vector<int64_t> starts;
  for (const OutRow& r : Rows(w->EmitFinal(std::numeric_limits<int64_t>::max()))) {
    starts.push_back(r.start);
  }
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 3 * kSec, 6 * kSec, 9 * kSec}));
}

TEST(WindowAggregatorTest, LateRowsDroppedAndCounted) {
  auto w = Make(kMin, kMin);
  // W = 60 s: window [0, 60 s) is final, a row at 59.999 s is late, one at 60 s is not.
  ASSERT_TRUE(w->Process(MakeBatch({{"1", "u", "a", kMin - 1}, {"2", "u", "a", kMin}}), kMin).ok());
  EXPECT_EQ(w->stats().rows_dropped_by_watermark, 1u);
  auto rows = Rows(w->EmitFinal(2 * kMin));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].start, kMin);
  // Sliding: a row is dropped only from its closed windows.
  auto s = Make(2 * kMin, kMin);
  ASSERT_TRUE(s->Process(MakeBatch({{"1", "u", "a", kMin + 1}}), 2 * kMin).ok());
  EXPECT_EQ(s->stats().rows_dropped_by_watermark, 1u);
  rows = Rows(s->EmitFinal(3 * kMin));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].start, kMin);
}

TEST(WindowAggregatorTest, EmitFinalExactlyOnce) {
  auto w = Make(kMin, kMin);
  ASSERT_TRUE(
      w->Process(MakeBatch({{"1", "u", "a", 10 * kSec}, {"2", "u", "a", 70 * kSec}}), kNoWatermark)
          .ok());
  EXPECT_EQ(w->EmitFinal(59 * kSec).num_rows(), 0u);
  auto first = Rows(w->EmitFinal(kMin));
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].count, 1);
  EXPECT_EQ(w->EmitFinal(kMin).num_rows(), 0u);
  // A straggler for the emitted window is dropped even if the caller passes an older watermark.
  ASSERT_TRUE(w->Process(MakeBatch({{"3", "u", "a", 20 * kSec}}), 0).ok());
  EXPECT_EQ(w->stats().rows_dropped_by_watermark, 1u);
  EXPECT_EQ(w->rows_dropped_by_watermark(), 1u);
  EXPECT_EQ(w->group_count(), 1u);  // the window at 1 min, still open
  EXPECT_EQ(w->group_count(), w->stats().groups);
  EXPECT_EQ(w->EmitFinal(kMin).num_rows(), 0u);
  auto second = Rows(w->EmitFinal(2 * kMin));
  ASSERT_EQ(second.size(), 1u);
  EXPECT_EQ(second[0].start, kMin);
  EXPECT_EQ(w->stats().groups, 0u);
  EXPECT_EQ(w->group_count(), 0u);
}

// Past 32K groups, Process prefetches the index slots and groups of each block of rows before
// aggregating it; the counts must be those of the plain path.
TEST(WindowAggregatorTest, ManyGroupsAggregateTheSameWithPrefetching) {
  constexpr int kKeys = 40'000;
  std::vector<test::Event> events;
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    const std::string user = "u" + std::to_string(k % 7);
    const int32_t partition = k % 5;
    events.push_back({"a" + key, user, key, 10 * kSec, partition});
    events.push_back({"b" + key, user, key, 20 * kSec, partition});
    events.push_back({"c" + key, user, key, 70 * kSec, partition});
  }
  std::mt19937 rng(7);
  std::shuffle(events.begin(), events.end(), rng);
  auto w = Make(kMin, kMin);
  constexpr size_t kBatch = 8'000;
  for (size_t b = 0; b < events.size(); b += kBatch) {
    std::vector<test::Event> part(events.begin() + b,
                                  events.begin() + std::min(events.size(), b + kBatch));
    ASSERT_TRUE(w->Process(MakeBatch(part), kNoWatermark).ok());
  }
  EXPECT_EQ(w->group_count(), 2u * kKeys);
  auto rows = Rows(w->EmitFinal(2 * kMin));
  ASSERT_EQ(rows.size(), 2u * kKeys);
  std::map<std::pair<int64_t, std::string>, int64_t> counts;
  for (const OutRow& r : rows) {
    EXPECT_EQ(r.unique, 1) << r.key;
    counts[{r.start, r.key}] += r.count;
  }
  ASSERT_EQ(counts.size(), 2u * kKeys);
  for (int k = 0; k < kKeys; ++k) {
    const std::string key = "k" + std::to_string(k);
    EXPECT_EQ((counts[{0, key}]), 2) << key;
    EXPECT_EQ((counts[{kMin, key}]), 1) << key;
  }
}

TEST(WindowAggregatorTest, UpdatedThenFinalConverge) {
  auto w = Make(kMin, kMin, "event_type", "value");
  ASSERT_TRUE(
      w->Process(MakeBatch({{"1", "u1", "a", 1 * kSec, 0, 5}, {"2", "u2", "b", 2 * kSec, 1, 7}}),
                 kNoWatermark)
          .ok());
  auto up1 = Rows(w->EmitUpdated());
  ASSERT_EQ(up1.size(), 2u);
  EXPECT_FALSE(up1[0].final);
  EXPECT_EQ(w->EmitUpdated().num_rows(), 0u);
  // Only "a" changes (from another partition): the updated row merges both partitions' parts.
  ASSERT_TRUE(w->Process(MakeBatch({{"3", "u3", "a", 3 * kSec, 1, -2}}), kNoWatermark).ok());
  auto up2 = Rows(w->EmitUpdated());
  ASSERT_EQ(up2.size(), 1u);
  EXPECT_EQ(up2[0].key, "a");
  EXPECT_EQ(up2[0].count, 2);
  EXPECT_EQ(up2[0].unique, 2);
  EXPECT_EQ(up2[0].sum, 3);
  EXPECT_EQ(up2[0].min, -2);
  EXPECT_EQ(up2[0].max, 5);
  auto fin = Rows(w->EmitFinal(kMin));
  ASSERT_EQ(fin.size(), 2u);
  OutRow provisional_a = up2[0];
  provisional_a.final = true;
  EXPECT_EQ(fin[0], provisional_a);
  OutRow provisional_b = up1[1];
  provisional_b.final = true;
  EXPECT_EQ(fin[1], provisional_b);
  EXPECT_FALSE(fin[1].sum == std::nullopt);
}

TEST(WindowAggregatorTest, GlobalAndNullHandling) {
  auto w = Make(kMin, kMin, "", "value");
  RecordBatch b = MakeBatch({{"1", "u1", "a", 1 * kSec}, {"2", "u1", "b", 2 * kSec}});
  EXPECT_EQ(w->output_schema()->IndexOf("event_type"), -1);
  ASSERT_TRUE(w->Process(b, kNoWatermark).ok());
  auto rows = Rows(w->EmitFinal(kMin));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 2);
  EXPECT_EQ(rows[0].unique, 1);
  EXPECT_EQ(rows[0].sum, std::nullopt);  // all values null
  // Null key forms its own group.
  auto k = Make(kMin, kMin);
  RecordBatch nk(test::EventSchema());
  nk.column(0).AppendString("1");
  nk.column(1).AppendString("u");
  nk.column(2).AppendNull();
  nk.column(3).AppendInt64(kSec);
  nk.column(4).AppendInt32(0);
  nk.column(5).AppendNull();
  ASSERT_TRUE(k->Process(nk, kNoWatermark).ok());
  ASSERT_TRUE(k->Process(MakeBatch({{"2", "u", "a", kSec}}), kNoWatermark).ok());
  rows = Rows(k->EmitFinal(kMin));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].key, "<null>");
  EXPECT_EQ(rows[1].key, "a");
}

TEST(WindowAggregatorTest, BadOptionsAndColumns) {
  WindowAggregatorOptions o;
  o.size_micros = 0;
  EXPECT_FALSE(WindowAggregator::Create(o).ok());
  o.size_micros = kMin;
  o.slide_micros = 2 * kMin;
  EXPECT_FALSE(WindowAggregator::Create(o).ok());
  o.slide_micros = kMin;
  o.hll_precision = 3;
  EXPECT_FALSE(WindowAggregator::Create(o).ok());
  auto w = Make(kMin, kMin, "page_url");
  Status st = w->Process(MakeBatch({{"1", "u", "a", 0}}), kNoWatermark);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("page_url"), std::string::npos);
  EXPECT_EQ(w->stats().groups, 0u);
}

// Random input over several batches and partitions against a brute-force computation.
struct Truth {
  int64_t count = 0;
  std::set<std::string> users;
  int64_t sum = 0, min = INT64_MAX, max = INT64_MIN;
};

TEST(WindowAggregatorTest, MatchesBruteForceOnRandomInput) {
  for (auto [size, slide] : {std::pair{kMin, kMin}, std::pair{3 * kMin, kMin}}) {
    auto w = Make(size, slide, "event_type", "value");
    std::mt19937_64 rng(7 + size);
    std::map<std::tuple<int64_t, std::string>, Truth> truth;
    std::map<std::tuple<int64_t, std::string>, OutRow> emitted;
    int64_t wm = kNoWatermark;
    uint64_t dropped = 0;
    for (int batch = 0; batch < 20; ++batch) {
      std::vector<Event> events;
      for (int i = 0; i < 500; ++i) {
        // Event times around batch * 30 s, up to 2 min out of order, some negative.
        const int64_t t = batch * 30 * kSec - 2 * kMin + static_cast<int64_t>(rng() % (3 * kMin));
        const std::string type = "t" + std::to_string(rng() % 4);
        const std::string user = "u" + std::to_string(rng() % 3000);
        const int64_t v = static_cast<int64_t>(rng() % 1000) - 500;
        events.push_back({"e", user, type, t, static_cast<int32_t>(rng() % 3), v});
        for (int64_t s = LastWindowStart(t, slide, 0); s + size > t; s -= slide) {
          if (s + size <= wm) {
            ++dropped;
            continue;
          }
          Truth& tr = truth[{s, type}];
          ++tr.count;
          tr.users.insert(user);
          tr.sum += v;
          tr.min = std::min(tr.min, v);
          tr.max = std::max(tr.max, v);
        }
      }
      ASSERT_TRUE(w->Process(MakeBatch(events), wm).ok());
      wm = batch * 30 * kSec - kMin;
      for (const OutRow& r : Rows(w->EmitFinal(wm))) {
        EXPECT_LE(r.end, wm);
        EXPECT_TRUE(emitted.emplace(std::tuple(r.start, r.key), r).second) << "emitted twice";
      }
    }
    for (const OutRow& r : Rows(w->EmitFinal(std::numeric_limits<int64_t>::max()))) {
      EXPECT_TRUE(emitted.emplace(std::tuple(r.start, r.key), r).second);
    }
    EXPECT_EQ(w->stats().rows_dropped_by_watermark, dropped);
    EXPECT_GT(dropped, 0u);
    ASSERT_EQ(emitted.size(), truth.size());
    for (const auto& [k, tr] : truth) {
      const OutRow& r = emitted.at(k);
      EXPECT_EQ(r.count, tr.count);
      EXPECT_EQ(r.sum, tr.sum);
      EXPECT_EQ(r.min, tr.min);
      EXPECT_EQ(r.max, tr.max);
      const double exact = static_cast<double>(tr.users.size());
      EXPECT_LE(std::abs(static_cast<double>(r.unique) - exact),
                std::max(2.0, exact * 3 * 1.04 / 64))
          << "exact " << exact << " estimate " << r.unique;
    }
  }
}

TEST(WindowAggregatorTest, UniqueUsersWithinHllErrorAtScale) {
  auto w = Make(kMin, kMin, "");
  std::vector<Event> events;
  for (int i = 0; i < 200'000; ++i) {
    events.push_back({"e", "user" + std::to_string(i % 50'000), "v", (i % 60) * kSec});
  }
  ASSERT_TRUE(w->Process(MakeBatch(events), kNoWatermark).ok());
  auto rows = Rows(w->EmitFinal(kMin));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].count, 200'000);
  EXPECT_NEAR(static_cast<double>(rows[0].unique), 50'000.0, 50'000.0 * 3 * 1.04 / 64);
  auto sketch = HyperLogLog::Deserialize(rows[0].sketch);
  ASSERT_TRUE(sketch.ok());
  EXPECT_EQ(std::llround(sketch->Estimate()), rows[0].unique);
}

TEST(WindowAggregatorTest, SnapshotPlusDeltasRestoreEquivalence) {
  auto live = Make(2 * kMin, kMin, "event_type", "value");
  std::mt19937_64 rng(99);
  std::map<int32_t, std::string> snapshots;
  std::map<int32_t, std::vector<std::string>> deltas;
  int64_t wm = kNoWatermark;
  auto batch_events = [&](int batch) {
    std::vector<Event> events;
    for (int i = 0; i < 300; ++i) {
      const int64_t t = batch * 20 * kSec + static_cast<int64_t>(rng() % kMin);
      events.push_back({"e", "u" + std::to_string(rng() % 500), "t" + std::to_string(rng() % 3), t,
                        static_cast<int32_t>(rng() % 2), static_cast<int64_t>(rng() % 100)});
    }
    return events;
  };
  for (int batch = 0; batch < 10; ++batch) {
    ASSERT_TRUE(live->Process(MakeBatch(batch_events(batch)), wm).ok());
    wm = batch * 20 * kSec - kMin;
    live->EmitFinal(wm);
    for (int32_t p : {0, 1}) {
      if (batch == 2) {
        snapshots[p] = live->SerializeSnapshot(p);
      } else if (batch > 2) {
        deltas[p].push_back(live->SerializeDelta(p));
      }
    }
    live->MarkCheckpointed();
  }
  auto restored = Make(2 * kMin, kMin, "event_type", "value");
  for (int32_t p : {0, 1}) {
    std::vector<std::string_view> views(deltas[p].begin(), deltas[p].end());
    ASSERT_TRUE(restored->Restore(p, snapshots[p], views, wm).ok());
    EXPECT_EQ(restored->SerializeSnapshot(p).size(), live->SerializeSnapshot(p).size());
  }
  EXPECT_EQ(restored->stats().groups, live->stats().groups);
  auto more = batch_events(10);
  ASSERT_TRUE(live->Process(MakeBatch(more), wm).ok());
  ASSERT_TRUE(restored->Process(MakeBatch(more), wm).ok());
  auto a = Rows(live->EmitFinal(std::numeric_limits<int64_t>::max()));
  auto b = Rows(restored->EmitFinal(std::numeric_limits<int64_t>::max()));
  EXPECT_FALSE(a.empty());
  EXPECT_EQ(a, b);
  // Blobs of other options or partitions are refused.
  auto other = Make(kMin, kMin, "event_type", "value");
  EXPECT_EQ(other->Restore(0, snapshots[0], {}, wm).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(restored->Restore(1, snapshots[0], {}, wm).code(), StatusCode::kCorruption);
}

TEST(WindowAggregatorTest, DeltasCarryOnlyTheSketchEntriesRaisedSinceTheLastSave) {
  // Two keys with thousands of users each (their sketches go dense) and one with a few (it
  // stays sparse); every batch saves a delta, and one batch in eight compacts or densifies some
  // sketch (a delta then carries that group's sketch whole).
  auto live = Make(10 * kMin, 10 * kMin);
  std::mt19937_64 rng(7);
  std::string snapshot;
  std::vector<std::string> deltas;
  size_t largest_late_delta = 0;
  for (int batch = 0; batch < 60; ++batch) {
    std::vector<Event> events;
    for (int i = 0; i < 200; ++i) {
      const std::string key = i % 20 == 0 ? "rare" : (i % 2 ? "a" : "b");
      const uint64_t users = key == "rare" ? 30 : 20'000;
      events.push_back(
          {"e", "u" + std::to_string(rng() % users), key, static_cast<int64_t>(rng() % kMin), 0});
    }
    ASSERT_TRUE(live->Process(MakeBatch(events), kNoWatermark).ok());
    if (batch == 0) {
      snapshot = live->SerializeSnapshot(0);
    } else {
      deltas.push_back(live->SerializeDelta(0));
      if (batch >= 40) largest_late_delta = std::max(largest_late_delta, deltas.back().size());
    }
    live->MarkCheckpointed();
  }
  const std::string full = live->SerializeSnapshot(0);
  // A late delta holds ~200 entries of 4 bytes, where the whole dense sketches are 8 KiB.
  EXPECT_LT(largest_late_delta, full.size() / 4) << "snapshot " << full.size();

  auto restored = Make(10 * kMin, 10 * kMin);
  std::vector<std::string_view> views(deltas.begin(), deltas.end());
  ASSERT_TRUE(restored->Restore(0, snapshot, views, kNoWatermark).ok());
  EXPECT_EQ(restored->SerializeSnapshot(0), full);  // same counts and registers, byte for byte
  auto fa = Rows(live->EmitFinal(std::numeric_limits<int64_t>::max()));
  auto fb = Rows(restored->EmitFinal(std::numeric_limits<int64_t>::max()));
  ASSERT_EQ(fa.size(), 3u);
  EXPECT_EQ(fa, fb);

  // The restored aggregator goes on saving deltas of entries.
  ASSERT_TRUE(restored->Process(MakeBatch({{"e", "u-new", "a", 5 * kSec, 0}}), kNoWatermark).ok());
  EXPECT_LT(restored->SerializeDelta(0).size(), 200u);
}

TEST(WindowAggregatorTest, VersionOneStateIsStillRead) {
  // A snapshot as version 1 wrote it: one group, its sketch always whole.
  HyperLogLog hll;
  hll.AddString("u1");
  hll.AddString("u2");
  state_codec::Writer w("SWAG", 1);
  w.U8(1);  // snapshot
  w.I32(0);
  w.I64(kMin);
  w.I64(kMin);
  w.I64(0);
  w.U8(HyperLogLog::kDefaultPrecision);
  w.U8(1);  // key column
  w.U8(1);  // distinct column
  w.U8(0);  // no value column
  w.U64(1);
  w.I64(0);  // window start
  w.U8(0);
  w.Bytes("click");
  w.I64(2);
  w.I64(0);
  w.I64(0);
  w.I64(std::numeric_limits<int64_t>::max());
  w.I64(std::numeric_limits<int64_t>::min());
  w.Bytes(hll.Serialize());
  const std::string blob = w.Finish();
  auto agg = Make(kMin, kMin);
  ASSERT_TRUE(agg->Restore(0, blob, {}, kNoWatermark).ok());
  auto rows = Rows(agg->EmitFinal(std::numeric_limits<int64_t>::max()));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].key, "click");
  EXPECT_EQ(rows[0].count, 2);
  EXPECT_EQ(rows[0].unique, 2);
}

}  // namespace
}  // namespace strata
