// Micro-benchmarks of the stream operators: HyperLogLog add, deduplication at 1 M and 10 M keys
// in state, window aggregation. Rows/s are reported as items_per_second.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "core/hash.h"
#include "operators/dedup.h"
#include "operators/hyperloglog.h"
#include "operators/session_window.h"
#include "operators/window_aggregator.h"

namespace strata {
namespace {

constexpr int64_t kSec = 1'000'000;
constexpr size_t kBatchRows = 100'000;

SchemaPtr EventSchema() {
  return std::make_shared<const Schema>(std::vector<Field>{
      {"event_id", TypeId::kString, false},
      {"user_id", TypeId::kString, false},
      {"event_type", TypeId::kString, false},
      {"event_time", TypeId::kTimestamp, false},
      {"partition", TypeId::kInt32, false},
      {"value", TypeId::kInt64, false},
  });
}

// Rows with event ids id_base .. id_base + rows - 1 (ids repeat when dup_every > 0: every
// dup_every-th row repeats the previous id), 100 k distinct users, 12 event types, event times
// spread over `span` seconds from `t0`, 4 partitions in runs.
RecordBatch MakeEvents(uint64_t id_base, size_t rows, int64_t t0, int64_t span_sec,
                       size_t dup_every = 0) {
  static const char* kTypes[] = {"page_view", "click",  "scroll", "add_to_cart",
                                 "purchase",  "search", "login",  "logout",
                                 "signup",    "share",  "video",  "error"};
  RecordBatch b(EventSchema());
  for (size_t c = 0; c < b.num_columns(); ++c) b.column(c).Reserve(rows, rows * 20);
  char buf[32];
  uint64_t id = id_base;
  for (size_t i = 0; i < rows; ++i) {
    if (!(dup_every > 0 && i % dup_every == dup_every - 1)) ++id;
    int n = std::snprintf(buf, sizeof(buf), "evt-%012llu", static_cast<unsigned long long>(id));
    b.column(0).AppendString(std::string_view(buf, n));
    const uint64_t user = Mix64(id, 0x9E3779B97F4A7C15ull) % 100'000;
    n = std::snprintf(buf, sizeof(buf), "user-%llu", static_cast<unsigned long long>(user));
    b.column(1).AppendString(std::string_view(buf, n));
    b.column(2).AppendString(kTypes[id % 12]);
    b.column(3).AppendInt64(t0 + static_cast<int64_t>(i * span_sec * kSec / rows));
    b.column(4).AppendInt32(static_cast<int32_t>(i * 4 / rows));
    b.column(5).AppendInt64(static_cast<int64_t>(id % 1000));
  }
  return b;
}

void BM_HllAddHash(benchmark::State& state) {
  std::vector<uint64_t> hashes(1 << 16);
  for (size_t i = 0; i < hashes.size(); ++i) hashes[i] = HashBytes(std::to_string(i));
  HyperLogLog h(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    for (uint64_t x : hashes) h.Add(x);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * hashes.size());
}
BENCHMARK(BM_HllAddHash)->Arg(12)->Arg(14);

void BM_HllAddString(benchmark::State& state) {
  std::vector<std::string> users;
  for (int i = 0; i < (1 << 16); ++i) users.push_back("user-" + std::to_string(i * 7919));
  HyperLogLog h;
  for (auto _ : state) {
    for (const std::string& u : users) h.AddString(u);
    benchmark::DoNotOptimize(h);
  }
  state.SetItemsProcessed(state.iterations() * users.size());
}
BENCHMARK(BM_HllAddString);

void BM_HllEstimateAndSerialize(benchmark::State& state) {
  HyperLogLog h;
  for (int i = 0; i < 100'000; ++i) h.Add(HashBytes(std::to_string(i)));
  for (auto _ : state) {
    benchmark::DoNotOptimize(h.Estimate());
    benchmark::DoNotOptimize(h.Serialize());
  }
}
BENCHMARK(BM_HllEstimateAndSerialize);

// A deduplicator holding `keys` keys (event time 0..60 s, nothing expires), checkpointed.
std::unique_ptr<Deduplicator> DedupHolding(uint64_t keys) {
  auto dedup = std::move(Deduplicator::Create({10 * 60 * 1000, true})).value();
  std::vector<uint32_t> keep;
  for (uint64_t base = 0; base < keys; base += kBatchRows) {
    RecordBatch b = MakeEvents(base, kBatchRows, 0, 60);
    keep.clear();
    if (!dedup->Process(b, "event_id", "event_time", "partition", &keep).ok()) std::abort();
    dedup->MarkCheckpointed();
  }
  return dedup;
}

// Dedup of batches of fresh keys (1 row in 10 a duplicate) against `range(0)` keys already in
// state; the watermark stays low so nothing expires. Reports bytes per key of the state.
void BM_DedupProcess(benchmark::State& state) {
  auto dedup = DedupHolding(static_cast<uint64_t>(state.range(0)));
  std::vector<uint32_t> keep;
  const DedupStats before = dedup->stats();
  // Pre-built batches of new keys, reused: after the first pass they are all duplicates, so
  // alternate between fresh batches built outside the timed region.
  uint64_t next_id = 1ull << 40;
  size_t rows = 0;
  for (auto _ : state) {
    state.PauseTiming();
    RecordBatch b = MakeEvents(next_id, kBatchRows, 30 * kSec, 60, 10);
    next_id += kBatchRows;
    keep.clear();
    state.ResumeTiming();
    if (!dedup->Process(b, "event_id", "event_time", "partition", &keep).ok()) std::abort();
    benchmark::DoNotOptimize(keep.data());
    rows += kBatchRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["keys_before"] = static_cast<double>(before.keys);
  state.counters["bytes_per_key"] =
      static_cast<double>(before.bytes) / static_cast<double>(before.keys);
  state.counters["table_bytes_per_key"] =
      static_cast<double>(before.table_bytes) / static_cast<double>(before.keys);
  const DedupStats after = dedup->stats();
  state.counters["bytes_per_key_end"] =
      static_cast<double>(after.bytes) / static_cast<double>(after.keys);
}
BENCHMARK(BM_DedupProcess)->Arg(1'000'000)->Arg(10'000'000)->Unit(benchmark::kMillisecond);

// Steady state: each iteration is one micro-batch of 100 k new keys 10 s of event time later,
// with the watermark 10 min behind, so about as many keys expire as arrive (~12 M-key state
// once warm: 2 x delay x 10 k keys/s of event time). Includes Evict's sweeps.
void BM_DedupSteadyState(benchmark::State& state) {
  auto dedup = std::move(Deduplicator::Create({10 * 60 * 1000, true})).value();
  std::vector<uint32_t> keep;
  uint64_t next_id = 0;
  int64_t t = 0;
  auto step = [&](bool timed) {
    if (timed) state.PauseTiming();
    RecordBatch b = MakeEvents(next_id, kBatchRows, t, 10, 10);
    next_id += kBatchRows;
    keep.clear();
    if (timed) state.ResumeTiming();
    dedup->Evict(t - 10 * 60 * kSec);
    if (!dedup->Process(b, "event_id", "event_time", "partition", &keep).ok()) std::abort();
    dedup->MarkCheckpointed();
    t += 10 * kSec;
  };
  for (int i = 0; i < 150; ++i) step(false);
  size_t rows = 0;
  for (auto _ : state) {
    step(true);
    rows += kBatchRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  const DedupStats s = dedup->stats();
  state.counters["keys"] = static_cast<double>(s.keys);
  state.counters["bytes_per_key"] = static_cast<double>(s.bytes) / static_cast<double>(s.keys);
}
BENCHMARK(BM_DedupSteadyState)->Unit(benchmark::kMillisecond);

// A full checkpoint of the dedup state: SerializeSnapshot of every partition holding
// `range(0)` keys in all (the blobs the state file receives; the file write is not included).
void BM_DedupSnapshot(benchmark::State& state) {
  const uint64_t keys = static_cast<uint64_t>(state.range(0));
  auto dedup = DedupHolding(keys);
  size_t bytes = 0;
  for (auto _ : state) {
    for (int32_t p : dedup->Partitions()) {
      std::string blob = dedup->SerializeSnapshot(p);
      bytes += blob.size();
      benchmark::DoNotOptimize(blob.data());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(bytes));
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * keys));
}
BENCHMARK(BM_DedupSnapshot)->Arg(10'000'000)->Unit(benchmark::kMillisecond);

// Window aggregation of 100 k-row batches: range(0) = 0 tumbling 1 min by event_type,
// 1 = sliding 10 min / 1 min by event_type (10 windows per row), 2 = global tumbling 1 min.
void BM_WindowAggregate(benchmark::State& state) {
  WindowAggregatorOptions o;
  o.size_micros = (state.range(0) == 1 ? 10 : 1) * 60 * kSec;
  o.slide_micros = 60 * kSec;
  o.key_column = state.range(0) == 2 ? "" : "event_type";
  o.value_column = "value";
  auto agg = std::move(WindowAggregator::Create(o)).value();
  std::vector<RecordBatch> batches;
  for (int i = 0; i < 8; ++i)
    batches.push_back(MakeEvents(i * kBatchRows, kBatchRows, i * 10 * kSec, 10));
  size_t rows = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (!agg->Process(batches[i % batches.size()], kNoWatermark).ok()) std::abort();
    ++i;
    rows += kBatchRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["groups"] = static_cast<double>(agg->stats().groups);
}
BENCHMARK(BM_WindowAggregate)->Arg(0)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond);

void BM_WindowEmitFinal(benchmark::State& state) {
  WindowAggregatorOptions o;
  o.key_column = "event_type";
  for (auto _ : state) {
    state.PauseTiming();
    auto agg = std::move(WindowAggregator::Create(o)).value();
    RecordBatch b = MakeEvents(0, kBatchRows, 0, 600);
    if (!agg->Process(b, kNoWatermark).ok()) std::abort();
    state.ResumeTiming();
    RecordBatch out = agg->EmitFinal(std::numeric_limits<int64_t>::max());
    benchmark::DoNotOptimize(out.num_rows());
  }
}
BENCHMARK(BM_WindowEmitFinal)->Unit(benchmark::kMillisecond);

// One gold batch in update mode as gold_page_views_per_minute sees it at 200K events/s with 250 ms
// triggers: 20K page views over 1,000 pages from 100K users in P Kafka partitions (second
// argument), then EmitUpdated (each page's P partial sketches merged, estimated and serialized)
// and EmitFinal with a watermark that closes nothing (first argument 1: Process alone). The state
// holds 5 one-minute windows: 60K groups with 12 partitions, ~1M with 192.
void BM_WindowEmitUpdated(benchmark::State& state) {
  auto schema =
      std::make_shared<Schema>(std::vector<Field>{{"page_url", TypeId::kString, true},
                                                  {"user_id", TypeId::kString, true},
                                                  {"event_time", TypeId::kTimestamp, true},
                                                  {"partition", TypeId::kInt32, true}});
  WindowAggregatorOptions o;
  o.key_column = "page_url";
  auto agg = std::move(WindowAggregator::Create(o)).value();
  constexpr size_t kRows = 20'000;
  const uint64_t partitions = static_cast<uint64_t>(state.range(1));
  uint64_t seq = 0;
  auto batch = [&](int64_t minute) {
    RecordBatch b(schema);
    char buf[64];
    for (size_t i = 0; i < kRows; ++i, ++seq) {
      const uint64_t user = Mix64(seq, 0x9E3779B97F4A7C15ull) % 100'000;
      const uint64_t page = Mix64(seq, 0x51ED27ull) % 1000;
      int n = std::snprintf(buf, sizeof(buf), "https://shop.example.com/products/item-%llu",
                            static_cast<unsigned long long>(page));
      b.column(0).AppendString(std::string_view(buf, n));
      n = std::snprintf(buf, sizeof(buf), "user-%llu", static_cast<unsigned long long>(user));
      b.column(1).AppendString(std::string_view(buf, n));
      b.column(2).AppendInt64(minute * 60 * kSec + static_cast<int64_t>(i) * 1000);
      b.column(3).AppendInt32(static_cast<int32_t>(user % partitions));
    }
    return b;
  };
  for (int64_t minute = 0; minute < 5; ++minute) {
    for (int i = 0; i < 20; ++i) {
      if (!agg->Process(batch(minute), kNoWatermark).ok()) std::abort();
    }
    (void)agg->EmitUpdated();
  }
  RecordBatch next = batch(4);
  size_t rows = 0;
  for (auto _ : state) {
    if (!agg->Process(next, kNoWatermark).ok()) std::abort();
    if (state.range(0) == 0) {
      RecordBatch updated = agg->EmitUpdated();
      RecordBatch final_rows = agg->EmitFinal(0);
      benchmark::DoNotOptimize(updated.num_rows() + final_rows.num_rows());
    }
    rows += kRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.counters["groups"] = static_cast<double>(agg->stats().groups);
}
BENCHMARK(BM_WindowEmitUpdated)
    ->Args({0, 12})
    ->Args({1, 12})
    ->Args({1, 192})
    ->Unit(benchmark::kMillisecond);

// Session windows by user_id (100 k users, 30 min gap) over 100 k-row batches, with page views
// and conversions from event_type.
void BM_SessionWindow(benchmark::State& state) {
  SessionWindowOptions o;
  o.key_column = "user_id";
  o.user_column = "";
  auto agg = std::move(SessionWindowAggregator::Create(o)).value();
  std::vector<RecordBatch> batches;
  for (int i = 0; i < 8; ++i) {
    batches.push_back(MakeEvents(i * kBatchRows, kBatchRows, i * 10 * kSec, 10));
  }
  size_t rows = 0;
  size_t i = 0;
  for (auto _ : state) {
    if (!agg->Process(batches[i % batches.size()], kNoWatermark).ok()) std::abort();
    ++i;
    rows += kBatchRows;
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
}
BENCHMARK(BM_SessionWindow)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace strata

BENCHMARK_MAIN();
