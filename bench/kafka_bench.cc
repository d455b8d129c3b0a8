// Kafka read throughput: preloads generated clickstream records (lz4) into an embedded
// cluster, then times KafkaReader::ReadRange over everything, alone and into bronze columns.
// STRATA_BENCH_EVENTS overrides the number of records (default 1,000,000), e.g. for CI smoke
// runs. The mock cluster keeps ~5 MiB per partition, so the topic has 48 partitions.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>

#include "core/time_util.h"
#include "event/bronze_builder.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"
#include "kafka/source_reader.h"

namespace strata {
namespace {

constexpr const char* kTopic = "clickstream-events";
constexpr int kPartitions = 48;

struct Preloaded {
  std::unique_ptr<EmbeddedCluster> cluster;
  std::vector<PartitionRange> plan;
  int64_t records = 0;
  double value_bytes = 0;
  std::string error;
};

int64_t BenchEvents() {
  const char* env = std::getenv("STRATA_BENCH_EVENTS");
  return env != nullptr ? std::atoll(env) : 1000000;
}

Preloaded& Load() {
  static Preloaded p = [] {
    Preloaded out;
    auto cluster = EmbeddedCluster::Start({3, {{kTopic, kPartitions}}, 1});
    if (!cluster.ok()) {
      out.error = cluster.status().ToString();
      return out;
    }
    out.cluster = std::move(*cluster);
    auto producer = Producer::Create(out.cluster->bootstrap_servers(),
                                     {{"linger.ms", "50"}, {"batch.size", "1000000"}});
    if (!producer.ok()) {
      out.error = producer.status().ToString();
      return out;
    }
    GeneratorOptions o;
    o.simulated_start_ms = 1764000000000;
    o.simulated_rate = 20000;
    TrafficGenerator gen(o);
    GeneratedRecord r;
    const int64_t n = BenchEvents();
    const int64_t t0 = MonotonicNanos();
    for (int64_t i = 0; i < n; ++i) {
      gen.Next(r);
      out.value_bytes += static_cast<double>(r.value.size());
      Status st = (*producer)->Produce(kTopic, r.key, r.value);
      if (!st.ok()) {
        out.error = st.ToString();
        return out;
      }
    }
    Status st = (*producer)->Flush(std::chrono::seconds(120));
    const double secs = static_cast<double>(MonotonicNanos() - t0) * 1e-9;
    if (!st.ok()) {
      out.error = st.ToString();
      return out;
    }
    std::fprintf(stderr, "preload: %lld records (%.1f MB of values, lz4) in %.2f s = %.0f rec/s\n",
                 static_cast<long long>(n), out.value_bytes / 1e6, secs,
                 static_cast<double>(n) / secs);
    auto reader = KafkaReader::Create(out.cluster->bootstrap_servers());
    std::vector<int32_t> parts;
    for (int i = 0; i < kPartitions; ++i) parts.push_back(i);
    auto marks = (*reader)->Watermarks(kTopic, parts, std::chrono::seconds(10));
    if (!marks.ok()) {
      out.error = marks.status().ToString();
      return out;
    }
    for (const PartitionOffsets& w : *marks) {
      if (w.low != 0) {
        out.error = "retention deleted data from partition " + std::to_string(w.partition);
        return out;
      }
      out.plan.push_back({w.partition, w.low, w.high});
      out.records += w.high - w.low;
    }
    return out;
  }();
  return p;
}

class CountingSink : public RecordSink {
 public:
  Status OnRecords(std::string_view, const KafkaRecord* records, size_t n) override {
    count += n;
    for (size_t i = 0; i < n; ++i) bytes += records[i].value.size() + records[i].key.size();
    return Status::OK();
  }
  int64_t count = 0;
  int64_t bytes = 0;
};

void BM_ReadRangeAll(benchmark::State& state) {
  Preloaded& p = Load();
  if (!p.error.empty()) return state.SkipWithError(p.error.c_str());
  auto reader = KafkaReader::Create(p.cluster->bootstrap_servers());
  int64_t records = 0, bytes = 0;
  for (auto _ : state) {
    CountingSink sink;
    Status st = (*reader)->ReadRange(kTopic, p.plan, sink,
                                     std::chrono::steady_clock::now() + std::chrono::minutes(2));
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    if (sink.count != p.records) return state.SkipWithError("record count mismatch");
    records += sink.count;
    bytes += sink.bytes;
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(bytes);
}
BENCHMARK(BM_ReadRangeAll)->Unit(benchmark::kMillisecond)->Iterations(3)->UseRealTime();

// One micro-batch's worth: 100 records from each of 12 partitions, a new range every call.
void BM_ReadRangeSmall(benchmark::State& state) {
  Preloaded& p = Load();
  if (!p.error.empty()) return state.SkipWithError(p.error.c_str());
  auto reader = KafkaReader::Create(p.cluster->bootstrap_servers());
  int64_t records = 0, step = 0;
  for (auto _ : state) {
    std::vector<PartitionRange> plan;
    for (int i = 0; i < 12; ++i) {
      const PartitionRange& full = p.plan[i];
      const int64_t span = std::max<int64_t>(1, (full.end - full.start) / 100);
      const int64_t start = full.start + (step % span) * 100;
      plan.push_back({full.partition, start, std::min(full.end, start + 100)});
    }
    ++step;
    CountingSink sink;
    Status st = (*reader)->ReadRange(kTopic, plan, sink,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(30));
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    records += sink.count;
  }
  state.SetItemsProcessed(records);
}
BENCHMARK(BM_ReadRangeSmall)->Unit(benchmark::kMillisecond)->Iterations(50)->UseRealTime();

class BronzeSink : public RecordSink {
 public:
  Status OnRecords(std::string_view topic, const KafkaRecord* records, size_t n) override {
    STRATA_RETURN_IF_ERROR(builder.OnRecords(topic, records, n));
    if (builder.num_rows() >= 100000) rows += builder.Finish().num_rows();
    return Status::OK();
  }
  BronzeBatchBuilder builder;
  int64_t rows = 0;
};

void BM_ReadRangeToBronze(benchmark::State& state) {
  Preloaded& p = Load();
  if (!p.error.empty()) return state.SkipWithError(p.error.c_str());
  // Argument 0 runs with librdkafka's own prefetch limits, 1 with KafkaReader's defaults.
  std::map<std::string, std::string> config;
  if (state.range(0) == 0)
    config = {{"queued.min.messages", "100000"}, {"queued.max.messages.kbytes", "65536"}};
  auto reader = KafkaReader::Create(p.cluster->bootstrap_servers(), config);
  int64_t records = 0;
  for (auto _ : state) {
    BronzeSink sink;
    Status st = (*reader)->ReadRange(kTopic, p.plan, sink,
                                     std::chrono::steady_clock::now() + std::chrono::minutes(2));
    if (!st.ok()) return state.SkipWithError(st.ToString().c_str());
    records += sink.rows + static_cast<int64_t>(sink.builder.Finish().num_rows());
  }
  state.SetItemsProcessed(records);
  state.SetBytesProcessed(static_cast<int64_t>(p.value_bytes) * state.iterations());
}
BENCHMARK(BM_ReadRangeToBronze)
    ->ArgName("strata_prefetch")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kMillisecond)
    ->Iterations(3)
    ->UseRealTime();

}  // namespace
}  // namespace strata

BENCHMARK_MAIN();
