#include "operators/hyperloglog.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <span>
#include <string>

#include "core/hash.h"

namespace strata {
namespace {

uint64_t ItemHash(uint64_t i) {
  return HashBytes("user-" + std::to_string(i));
}

HyperLogLog SketchOf(int p, uint64_t from, uint64_t to) {
  HyperLogLog h(p);
  for (uint64_t i = from; i < to; ++i) h.Add(ItemHash(i));
  return h;
}

TEST(HyperLogLogTest, EmptyEstimatesZero) {
  HyperLogLog h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.Estimate(), 0.0);
}

TEST(HyperLogLogTest, RelativeErrorWithinThreeSigmaAcrossRange) {
  for (int p : {4, 8, 10, 12, 14, 18}) {
    const double sigma = 1.04 / std::sqrt(static_cast<double>(1u << p));
    for (uint64_t n : {100ull, 1000ull, 10000ull, 100000ull, 1000000ull}) {
      HyperLogLog h = SketchOf(p, 0, n);
      const double err = std::abs(h.Estimate() - static_cast<double>(n)) / static_cast<double>(n);
      EXPECT_LT(err, 3 * sigma) << "p=" << p << " n=" << n << " estimate=" << h.Estimate();
    }
  }
}

TEST(HyperLogLogTest, DuplicatesDoNotCount) {
  HyperLogLog h;
  for (int rep = 0; rep < 50; ++rep) {
    for (uint64_t i = 0; i < 20; ++i) h.Add(ItemHash(i));
  }
  EXPECT_NEAR(h.Estimate(), 20.0, 1.0);
  EXPECT_TRUE(h.is_sparse());
}

TEST(HyperLogLogTest, SwitchesToDenseAndKeepsEstimate) {
  HyperLogLog h(12);
  for (uint64_t i = 0; i < 5000; ++i) h.Add(ItemHash(i));
  EXPECT_FALSE(h.is_sparse());
  EXPECT_NEAR(h.Estimate(), 5000.0, 5000.0 * 3 * 1.04 / 64);
}

TEST(HyperLogLogTest, MergeEqualsSketchOfUnion) {
  // Sparse + sparse, sparse + dense, dense + dense.
  for (auto [a_to, b_from, b_to] : {std::tuple<uint64_t, uint64_t, uint64_t>{300, 200, 600},
                                    {300, 100, 90000},
                                    {60000, 40000, 100000}}) {
    HyperLogLog a = SketchOf(12, 0, a_to);
    HyperLogLog b = SketchOf(12, b_from, b_to);
    HyperLogLog u = SketchOf(12, 0, b_to);
    HyperLogLog ab = a;
    ASSERT_TRUE(ab.Merge(b).ok());
    HyperLogLog ba = b;
    ASSERT_TRUE(ba.Merge(a).ok());
    EXPECT_TRUE(ab == u) << a_to << " " << b_to;
    EXPECT_TRUE(ba == u);
    EXPECT_EQ(ab.Serialize(), u.Serialize());
    EXPECT_EQ(ab.Estimate(), u.Estimate());
  }
}

TEST(HyperLogLogTest, MergeAllEqualsMergingOneByOne) {
  // Sparse and dense parts, overlapping ranges, some with a pending unsorted tail, an empty one.
  std::vector<HyperLogLog> parts;
  parts.push_back(SketchOf(12, 0, 40));
  parts.push_back(SketchOf(12, 20, 90));
  parts.push_back(SketchOf(12, 1000, 9000));  // dense
  parts.push_back(HyperLogLog(12));
  parts.push_back(SketchOf(12, 85, 100));
  parts.back().Add(ItemHash(5000));  // a tail entry
  for (size_t n = 1; n <= parts.size(); ++n) {
    for (size_t skip_dense = 0; skip_dense < 2; ++skip_dense) {
      HyperLogLog one_by_one(12), all_at_once(12);
      std::vector<const HyperLogLog*> ptrs;
      for (size_t i = 0; i < n; ++i) {
        if (skip_dense && i == 2) continue;
        ASSERT_TRUE(one_by_one.Merge(parts[i]).ok());
        ptrs.push_back(&parts[i]);
      }
      ASSERT_TRUE(all_at_once.MergeAll(ptrs).ok());
      EXPECT_TRUE(all_at_once == one_by_one) << n;
      EXPECT_EQ(all_at_once.Estimate(), one_by_one.Estimate()) << n;
      EXPECT_EQ(all_at_once.Serialize(), one_by_one.Serialize()) << n;
      EXPECT_EQ(all_at_once.is_sparse(), !(skip_dense == 0 && n > 2)) << n;
    }
  }
  // Into a sketch that already holds entries.
  HyperLogLog base = SketchOf(12, 500, 520);
  HyperLogLog expected = base;
  ASSERT_TRUE(expected.Merge(parts[0]).ok());
  const HyperLogLog* first[] = {&parts[0]};
  ASSERT_TRUE(base.MergeAll(first).ok());
  EXPECT_EQ(base.Serialize(), expected.Serialize());
  // A precision mismatch anywhere leaves the sketch as it was.
  HyperLogLog other_p = SketchOf(10, 0, 5);
  const HyperLogLog* mixed[] = {&parts[0], &other_p};
  HyperLogLog target = SketchOf(12, 7, 9);
  const std::string before = target.Serialize();
  EXPECT_EQ(target.MergeAll(mixed).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(target.Serialize(), before);
}

TEST(HyperLogLogTest, MergePrecisionMismatchIsAnError) {
  HyperLogLog a = SketchOf(12, 0, 100);
  HyperLogLog b = SketchOf(14, 0, 100);
  const std::string before = a.Serialize();
  Status st = a.Merge(b);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("precision"), std::string::npos) << st.ToString();
  EXPECT_EQ(a.Serialize(), before);
}

TEST(HyperLogLogTest, SerializeRoundTripSparseAndDense) {
  for (uint64_t n : {0ull, 1ull, 50ull, 800ull, 200000ull}) {
    HyperLogLog h = SketchOf(12, 0, n);
    const std::string bytes = h.Serialize();
    ASSERT_GE(bytes.size(), 5u);
    EXPECT_EQ(bytes[0], 'H');
    EXPECT_EQ(bytes[2], 1);
    EXPECT_EQ(bytes[3], 12);
    if (n <= 800) {
      EXPECT_EQ(bytes[4], HyperLogLog::kEncodingSparse) << n;
    } else {
      EXPECT_EQ(bytes[4], HyperLogLog::kEncodingDense);
      EXPECT_EQ(bytes.size(), 5u + 4096u);
    }
    auto back = HyperLogLog::Deserialize(bytes);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_TRUE(*back == h);
    EXPECT_EQ(back->Estimate(), h.Estimate());
    EXPECT_EQ(back->Serialize(), bytes);
  }
}

TEST(HyperLogLogTest, DeserializeRejectsCorruptInput) {
  const std::string good = SketchOf(12, 0, 100).Serialize();
  EXPECT_EQ(HyperLogLog::Deserialize("").status().code(), StatusCode::kCorruption);
  EXPECT_EQ(HyperLogLog::Deserialize(good.substr(0, good.size() - 1)).status().code(),
            StatusCode::kCorruption);
  std::string bad_version = good;
  bad_version[2] = 9;
  EXPECT_EQ(HyperLogLog::Deserialize(bad_version).status().code(), StatusCode::kCorruption);
  std::string bad_p = good;
  bad_p[3] = 30;
  EXPECT_EQ(HyperLogLog::Deserialize(bad_p).status().code(), StatusCode::kCorruption);
  std::string dense = SketchOf(12, 0, 100000).Serialize();
  dense[100] = 70;  // rank above 64 - 12 + 1
  EXPECT_EQ(HyperLogLog::Deserialize(dense).status().code(), StatusCode::kCorruption);
}

TEST(HyperLogLogTest, ChangesSinceMarkReplayOntoTheSavedSketch) {
  // Random adds through the sparse form, its compactions, densification and the dense form,
  // marking at random points: wherever the changes are known, the sketch as saved at the mark
  // plus those entries has the registers of the sketch now.
  std::mt19937_64 rng(11);
  HyperLogLog live(10);
  HyperLogLog saved = live;
  live.MarkSaved();
  int known = 0, lost = 0;
  for (int step = 0; step < 400; ++step) {
    const int adds = static_cast<int>(rng() % 40);
    for (int i = 0; i < adds; ++i) live.Add(rng());
    std::span<const uint32_t> entries;
    if (live.Changes(&entries)) {
      ++known;
      HyperLogLog replayed = saved;
      ASSERT_TRUE(replayed.AddEntries(entries).ok());
      ASSERT_TRUE(replayed == live) << "step " << step;
    } else {
      ++lost;
    }
    if (rng() % 3 == 0) {
      saved = live;
      live.MarkSaved();
    }
  }
  EXPECT_FALSE(live.is_sparse());
  EXPECT_GT(known, lost);
  EXPECT_GT(lost, 0);

  // Never marked, or merged into since: unknown.
  HyperLogLog fresh;
  fresh.Add(1);
  std::span<const uint32_t> entries;
  EXPECT_FALSE(fresh.Changes(&entries));
  fresh.MarkSaved();
  EXPECT_TRUE(fresh.Changes(&entries));
  EXPECT_TRUE(entries.empty());
  ASSERT_TRUE(fresh.Merge(HyperLogLog()).ok());
  EXPECT_FALSE(fresh.Changes(&entries));

  // Entries out of range for the precision are refused, the sketch unchanged.
  HyperLogLog small(4);
  small.Add(12345);
  const HyperLogLog before = small;
  const uint32_t bad_index = (16u << 8) | 1, bad_rank = (3u << 8) | 62, zero_rank = 3u << 8;
  for (uint32_t e : {bad_index, bad_rank, zero_rank}) {
    EXPECT_EQ(small.AddEntries(std::span<const uint32_t>(&e, 1)).code(), StatusCode::kCorruption);
    EXPECT_TRUE(small == before);
  }
}

TEST(HyperLogLogTest, RegisterMappingIsTheDocumentedOne) {
  HyperLogLog h(4);
  // index = top 4 bits = 0xA; rest = 0x0000...1 << 4 -> leading zeros of (hash << 4).
  const uint64_t hash = (0xAull << 60) | (1ull << 50);
  h.Add(hash);
  // hash << 4 has its highest set bit at 54: 9 leading zeros, rank 10.
  EXPECT_EQ(h.Register(0xA), 10);
  HyperLogLog z(4);
  z.Add(0x3ull << 60);  // rest all zero: max rank 64 - 4 + 1
  EXPECT_EQ(z.Register(0x3), 61);
}

}  // namespace
}  // namespace strata
