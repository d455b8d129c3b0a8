#include "operators/dedup.h"

#include <gtest/gtest.h>

#include <random>

#include "operators/test_batches.h"

namespace strata {
namespace {

using test::Event;
using test::kSec;
using test::MakeBatch;

std::unique_ptr<Deduplicator> Make(int64_t delay_ms, bool drop_late = true) {
  auto d = Deduplicator::Create({delay_ms, drop_late});
  EXPECT_TRUE(d.ok());
  return std::move(d).value();
}

std::vector<uint32_t> Dedupe(Deduplicator& d, const std::vector<Event>& events) {
  std::vector<uint32_t> keep;
  Status st = d.Process(MakeBatch(events), "event_id", "event_time", "partition", &keep);
  EXPECT_TRUE(st.ok()) << st.ToString();
  return keep;
}

TEST(DedupTest, FirstCopyWinsInInputOrder) {
  auto d = Make(10'000);
  auto keep = Dedupe(*d, {{"a", "u1", "view", 1 * kSec},
                          {"b", "u1", "view", 2 * kSec},
                          {"a", "u2", "click", 0 * kSec},
                          {"c", "u1", "view", 3 * kSec},
                          {"b", "u3", "view", 2 * kSec}});
  EXPECT_EQ(keep, (std::vector<uint32_t>{0, 1, 3}));
  EXPECT_EQ(d->stats().duplicates_dropped, 2u);
  EXPECT_EQ(d->stats().rows_kept, 3u);
  EXPECT_EQ(d->stats().keys, 3u);
}

TEST(DedupTest, DuplicatesAcrossBatchesWithinDelayDropped) {
  auto d = Make(10'000);
  EXPECT_EQ(Dedupe(*d, {{"a", "u", "v", 100 * kSec}}).size(), 1u);
  d->Evict(95 * kSec);
  EXPECT_TRUE(Dedupe(*d, {{"a", "u", "v", 101 * kSec}}).empty());
  d->Evict(105 * kSec);
  EXPECT_TRUE(Dedupe(*d, {{"a", "u", "v", 108 * kSec}}).empty());
  EXPECT_EQ(d->stats().duplicates_dropped, 2u);
}

TEST(DedupTest, ExpiredKeyResentIsKept) {
  auto d = Make(10'000);
  Dedupe(*d, {{"a", "u", "v", 100 * kSec}});
  // Expiry 110 s: at W = 110 s the key is still remembered (110 < 110 is false).
  d->Evict(110 * kSec);
  EXPECT_TRUE(Dedupe(*d, {{"a", "u", "v", 115 * kSec}}).empty());
  EXPECT_EQ(d->Entries(0).size(), 1u);
  d->Evict(110 * kSec + 1);
  EXPECT_TRUE(d->Entries(0).empty());
  EXPECT_EQ(Dedupe(*d, {{"a", "u", "v", 120 * kSec}}), (std::vector<uint32_t>{0}));
  // The re-sent copy is a new first copy: its own duplicates are dropped again.
  EXPECT_TRUE(Dedupe(*d, {{"a", "u", "v", 121 * kSec}}).empty());
}

TEST(DedupTest, LateRowsDroppedOrKept) {
  auto d = Make(10'000);
  d->Evict(200 * kSec);
  EXPECT_EQ(Dedupe(*d, {{"x", "u", "v", 150 * kSec}, {"y", "u", "v", 200 * kSec}}),
            (std::vector<uint32_t>{1}));
  EXPECT_EQ(d->stats().late_rows, 1u);
  auto keep_late = Make(10'000, /*drop_late=*/false);
  keep_late->Evict(200 * kSec);
  EXPECT_EQ(Dedupe(*keep_late, {{"x", "u", "v", 150 * kSec}, {"x", "u", "v", 150 * kSec}}),
            (std::vector<uint32_t>{0}));
}

TEST(DedupTest, StateIsPerPartition) {
  auto d = Make(10'000);
  auto keep =
      Dedupe(*d, {{"a", "u", "v", kSec, 0}, {"a", "u", "v", kSec, 1}, {"a", "u", "v", kSec, 0}});
  EXPECT_EQ(keep, (std::vector<uint32_t>{0, 1}));
  EXPECT_EQ(d->Partitions(), (std::vector<int32_t>{0, 1}));
  d->DropPartition(1);
  EXPECT_EQ(d->Partitions(), (std::vector<int32_t>{0}));
}

TEST(DedupTest, NullKeysAreDuplicatesOfEachOther) {
  auto d = Make(10'000);
  RecordBatch b(test::EventSchema());
  for (int i = 0; i < 2; ++i) {
    b.column(0).AppendNull();
    b.column(1).AppendString("u");
    b.column(2).AppendString("v");
    b.column(3).AppendInt64(kSec);
    b.column(4).AppendInt32(0);
    b.column(5).AppendNull();
  }
  std::vector<uint32_t> keep;
  ASSERT_TRUE(d->Process(b, "event_id", "event_time", "partition", &keep).ok());
  EXPECT_EQ(keep, (std::vector<uint32_t>{0}));
}

TEST(DedupTest, StateBoundedByWatermark) {
  // 1000 new keys per simulated second, 10 s delay, watermark = max event time - delay.
  const int64_t delay_ms = 10'000;
  auto d = Make(delay_ms);
  uint64_t max_keys = 0;
  int id = 0;
  for (int sec = 0; sec < 200; ++sec) {
    std::vector<Event> events;
    for (int i = 0; i < 1000; ++i) {
      events.push_back({"k" + std::to_string(id++), "u", "v", sec * kSec + i * 1000});
    }
    Dedupe(*d, events);
    d->Evict((sec + 1) * kSec - delay_ms * 1000);
    max_keys = std::max(max_keys, d->stats().keys);
  }
  // Live keys span 2 * delay (event time in [W - delay, max]) plus 1 s of rounding, and the
  // sweep may lag by 1/8 of the table.
  EXPECT_LE(max_keys, static_cast<uint64_t>((2 * 10 + 2) * 1000 * 1.125 + 64));
  EXPECT_LE(d->Entries(0).size(), static_cast<size_t>((2 * 10 + 2) * 1000));
  EXPECT_EQ(d->stats().rows_kept, 200'000u);
}

std::vector<Event> RandomEvents(std::mt19937_64& rng, int64_t base, int n) {
  std::vector<Event> out;
  for (int i = 0; i < n; ++i) {
    const int64_t t = base + static_cast<int64_t>(rng() % (30 * kSec));
    out.push_back(
        {"e" + std::to_string(rng() % 5000), "u", "v", t, static_cast<int32_t>(rng() % 3)});
  }
  return out;
}

TEST(DedupTest, SnapshotPlusDeltasRestoresLiveState) {
  std::mt19937_64 rng(42);
  auto live = Make(20'000);
  std::vector<std::string> snapshots(3);
  std::vector<std::vector<std::string>> deltas(3);
  int64_t wm = kNoWatermark;
  for (int batch = 0; batch < 12; ++batch) {
    live->Evict(wm);
    Dedupe(*live, RandomEvents(rng, batch * 10 * kSec, 800));
    if (batch == 3) {
      for (int p = 0; p < 3; ++p) snapshots[p] = live->SerializeSnapshot(p);
    } else if (batch > 3) {
      for (int p = 0; p < 3; ++p) deltas[p].push_back(live->SerializeDelta(p));
    }
    live->MarkCheckpointed();
    wm = batch * 10 * kSec;
  }
  live->Evict(wm);
  auto restored = Make(20'000);
  for (int p = 0; p < 3; ++p) {
    std::vector<std::string_view> views(deltas[p].begin(), deltas[p].end());
    ASSERT_TRUE(restored->Restore(p, snapshots[p], views, wm).ok());
    EXPECT_EQ(restored->Entries(p), live->Entries(p)) << "partition " << p;
    EXPECT_FALSE(live->Entries(p).empty());
  }
  // Both continue identically.
  auto next = RandomEvents(rng, 12 * 10 * kSec, 2000);
  EXPECT_EQ(Dedupe(*restored, next), Dedupe(*live, next));
}

TEST(DedupTest, RestoreRejectsBadBlobs) {
  auto d = Make(10'000);
  Dedupe(*d, {{"a", "u", "v", kSec, 0}});
  const std::string snap = d->SerializeSnapshot(0);
  auto r = Make(10'000);
  EXPECT_EQ(r->Restore(1, snap, {}, 0).code(), StatusCode::kCorruption);
  std::string torn = snap.substr(0, snap.size() - 3);
  EXPECT_EQ(r->Restore(0, torn, {}, 0).code(), StatusCode::kCorruption);
  const std::string delta = d->SerializeDelta(0);
  std::vector<std::string_view> as_delta = {snap};
  EXPECT_EQ(r->Restore(0, "", as_delta, 0).code(), StatusCode::kCorruption);
  auto other_delay = Make(5'000);
  EXPECT_EQ(other_delay->Restore(0, snap, {}, 0).code(), StatusCode::kCorruption);
  ASSERT_TRUE(r->Restore(0, snap, {}, 0).ok());
  EXPECT_EQ(r->Entries(0), d->Entries(0));
}

TEST(DedupTest, MissingColumnIsInvalidArgument) {
  auto d = Make(10'000);
  std::vector<uint32_t> keep;
  Status st =
      d->Process(MakeBatch({{"a", "u", "v", 1}}), "missing", "event_time", "partition", &keep);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(d->Process(MakeBatch({{"a", "u", "v", 1}}), "event_id", "event_time", "event_id", &keep)
                .code(),
            StatusCode::kInvalidArgument);
  EXPECT_TRUE(keep.empty());
  EXPECT_EQ(d->stats().keys, 0u);
}

TEST(DedupTest, ManyKeysGrowAndStayCompact) {
  auto d = Make(3'600'000);
  std::vector<Event> events;
  for (int i = 0; i < 300'000; ++i) events.push_back({"k" + std::to_string(i), "u", "v", kSec});
  EXPECT_EQ(Dedupe(*d, events).size(), 300'000u);
  EXPECT_TRUE(Dedupe(*d, events).empty());
  const DedupStats s = d->stats();
  EXPECT_EQ(s.keys, 300'000u);
  // 12 bytes per slot at a load factor >= 0.6 (the table grows by 1.5x at 0.9).
  EXPECT_LE(static_cast<double>(s.table_bytes) / s.keys, 12 / 0.6 + 0.01);
  EXPECT_GE(static_cast<double>(s.table_bytes) / s.keys, 12 / 0.9 - 0.01);
  EXPECT_GT(s.delta_bytes, 0u);
  // The log keeps its capacity for a batch of similar size, and releases it after a quiet one.
  d->MarkCheckpointed();
  d->MarkCheckpointed();
  EXPECT_EQ(d->stats().delta_bytes, 0u);
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

TEST(DedupTest, DeltaSizeFollowsInsertsNotStateSize) {
  auto d = Make(3'600'000);
  std::vector<Event> big;
  for (int i = 0; i < 20'000; ++i) big.push_back({"k" + std::to_string(i), "u", "v", kSec});
  Dedupe(*d, big);
  d->MarkCheckpointed();
  const size_t empty_delta = d->SerializeDelta(0).size();
  Dedupe(*d, {{"new1", "u", "v", kSec}, {"new2", "u", "v", kSec}, {"k5", "u", "v", kSec}});
  EXPECT_EQ(d->SerializeDelta(0).size(), empty_delta + 2 * 12);
  EXPECT_GT(d->SerializeSnapshot(0).size(), 20'000u * 12);
}

}  // namespace
}  // namespace strata
