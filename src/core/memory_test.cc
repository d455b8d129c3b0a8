#include "core/memory.h"

#include <gtest/gtest.h>

#include <cstring>
#include <memory>
#include <vector>

namespace strata {
namespace {

constexpr size_t kMiB = 1 << 20;

// Fills the heap with `total` bytes in blocks small enough to come from the allocator's arenas
// (not from their own mappings), then frees all but a block allocated after them, so the freed
// space is a hole below live memory: what the allocator does not give back by itself.
struct HeapHole {
  explicit HeapHole(size_t total) {
    for (size_t i = 0; i < total / kBlock; ++i) {
      blocks.emplace_back(new char[kBlock]);
      std::memset(blocks.back().get(), 1, kBlock);
    }
    pin.reset(new char[kBlock]);
    std::memset(pin.get(), 2, kBlock);
  }
  void FreeBlocks() { blocks.clear(); }
  static constexpr size_t kBlock = 16 * 1024;
  std::vector<std::unique_ptr<char[]>> blocks;
  std::unique_ptr<char[]> pin;
};

TEST(MemoryTest, ReportsTheHeapAndTheResidentSet) {
  EXPECT_GT(ResidentBytes(), 0u);
  HeapStats before = ReadHeapStats();
  HeapHole hole(64 * kMiB);
  HeapStats after = ReadHeapStats();
  EXPECT_GE(after.in_use, before.in_use + 60 * kMiB);
  hole.FreeBlocks();
  EXPECT_LE(ReadHeapStats().in_use, after.in_use - 60 * kMiB);
}

TEST(MemoryTest, ReleaseFreeHeapGivesFreedHolesBackToTheSystem) {
  HeapHole hole(256 * kMiB);
  const size_t full = ResidentBytes();
  hole.FreeBlocks();
  ReleaseFreeHeap();
  const size_t released = ResidentBytes();
  ASSERT_LT(released, full);
  EXPECT_GT(full - released, 128 * kMiB) << "resident " << full << " -> " << released;
  EXPECT_EQ(hole.pin[0], 2);  // live memory is untouched
}

TEST(MemoryTest, ReclaimerReleasesOnlyAboveItsThresholdAndStops) {
  HeapReclaimer idle(std::chrono::milliseconds(5), size_t{1} << 50);
  idle.Start();
  HeapReclaimer busy(std::chrono::milliseconds(5), 0);
  busy.Start();
  while (busy.releases() < 3) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  idle.Stop();
  busy.Stop();
  EXPECT_EQ(idle.releases(), 0u);
  const uint64_t n = busy.releases();
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_EQ(busy.releases(), n);
}

}  // namespace
}  // namespace strata
