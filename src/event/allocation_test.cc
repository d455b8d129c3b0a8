// Checks the "no per-record allocation" contracts of the generator and the bronze builder by
// counting calls to the global operator new in this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "event/bronze_builder.h"
#include "event/generator.h"

namespace {
std::atomic<uint64_t> g_allocations{0};
}  // namespace

// GCC cannot see that these replacements pair malloc with free.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace strata {
namespace {

GeneratorOptions Options() {
  GeneratorOptions o;
  o.simulated_start_ms = 1764000000000;
  o.duplicate_fraction = 0.05;
  o.late_fraction = 0.05;
  o.malformed_fraction = 0.05;
  o.unknown_type_fraction = 0.05;
  o.missing_field_fraction = 0.05;
  return o;
}

TEST(AllocationTest, GeneratorSteadyStateDoesNotAllocate) {
  TrafficGenerator gen(Options());
  GeneratedRecord r;
  for (int i = 0; i < 20000; ++i) gen.Next(r);  // warm up: buffers reach their sizes
  const uint64_t before = g_allocations.load();
  for (int i = 0; i < 20000; ++i) gen.Next(r);
  // The duplicate ring's slots may still grow now and then when a longer record lands there.
  EXPECT_LE(g_allocations.load() - before, 20u);
}

TEST(AllocationTest, BronzeBuilderAppendsWithoutAllocatingAfterReserve) {
  TrafficGenerator gen(Options());
  std::vector<GeneratedRecord> records(5000);
  size_t bytes = 0;
  for (auto& r : records) {
    gen.Next(r);
    bytes += r.value.size() + r.key.size();
  }
  BronzeBatchBuilder builder;
  builder.set_ingestion_timestamp_micros(1);
  KafkaRecord warm;
  warm.value = records[0].value;
  warm.has_value = true;
  builder.Append("t", warm);  // sizes the parser and its padded buffer
  (void)builder.Finish();
  builder.Reserve(records.size(), bytes);
  const uint64_t before = g_allocations.load();
  for (size_t i = 0; i < records.size(); ++i) {
    KafkaRecord k;
    k.key = records[i].key;
    k.has_key = true;
    k.value = records[i].value;
    k.has_value = true;
    k.offset = static_cast<int64_t>(i);
    k.timestamp_ms = records[i].clock_ms;
    builder.Append("clickstream-events", k);
  }
  EXPECT_EQ(g_allocations.load() - before, 0u);
  EXPECT_EQ(builder.Finish().num_rows(), records.size());

  // A second batch of the same records reuses the sizes of the first without any Reserve().
  const uint64_t second = g_allocations.load();
  for (size_t i = 0; i < records.size(); ++i) {
    KafkaRecord k;
    k.value = records[i].value;
    k.has_value = true;
    k.key = records[i].key;
    k.has_key = true;
    k.timestamp_ms = records[i].clock_ms;
    builder.Append("clickstream-events", k);
  }
  EXPECT_EQ(g_allocations.load() - second, 0u);
}

}  // namespace
}  // namespace strata
