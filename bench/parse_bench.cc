// Bronze parsing throughput: generated clickstream records appended to BronzeBatchBuilder in
// micro-batches of 10,000, as the streaming source does after a Kafka read.
#include <benchmark/benchmark.h>

#include <map>
#include <vector>

#include "event/bronze_builder.h"
#include "event/generator.h"

namespace strata {
namespace {

constexpr int kRecords = 100000;
constexpr int kBatchRows = 10000;

struct Corpus {
  std::vector<GeneratedRecord> records;
  std::vector<KafkaRecord> views;
  size_t bytes = 0;
};

const Corpus& GetCorpus(double bad_fraction) {
  static std::map<double, Corpus> corpora;
  Corpus& c = corpora[bad_fraction];
  if (!c.records.empty()) return c;
  GeneratorOptions o;
  o.seed = 11;
  o.simulated_start_ms = 1764000000000;
  o.simulated_rate = 10000;
  o.malformed_fraction = bad_fraction / 2;
  o.missing_field_fraction = bad_fraction / 2;
  TrafficGenerator gen(o);
  c.records.resize(kRecords);
  c.views.resize(kRecords);
  for (int i = 0; i < kRecords; ++i) {
    gen.Next(c.records[i]);
    KafkaRecord& v = c.views[i];
    v.key = c.records[i].key;
    v.has_key = true;
    v.value = c.records[i].value;
    v.has_value = true;
    v.partition = i % 12;
    v.offset = i;
    v.timestamp_ms = c.records[i].clock_ms;
    c.bytes += c.records[i].value.size();
  }
  return c;
}

void BM_BronzeBuilder(benchmark::State& state) {
  const Corpus& c = GetCorpus(static_cast<double>(state.range(0)) / 100.0);
  BronzeBatchBuilder builder;
  builder.set_ingestion_timestamp_micros(1);
  size_t rows = 0;
  for (auto _ : state) {
    for (int start = 0; start < kRecords; start += kBatchRows) {
      (void)builder.OnRecords("clickstream-events", c.views.data() + start, kBatchRows);
      RecordBatch batch = builder.Finish();
      rows += batch.num_rows();
      benchmark::DoNotOptimize(batch);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(rows));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * static_cast<int64_t>(c.bytes));
  state.counters["avg_value_bytes"] = static_cast<double>(c.bytes) / kRecords;
}
// Argument: percent of bad records (half malformed, half missing a required field).
BENCHMARK(BM_BronzeBuilder)->Arg(0)->Arg(5)->Unit(benchmark::kMillisecond);

void BM_Generator(benchmark::State& state) {
  GeneratorOptions o;
  o.simulated_start_ms = 1764000000000;
  o.duplicate_fraction = 0.02;
  o.late_fraction = 0.05;
  TrafficGenerator gen(o);
  GeneratedRecord r;
  for (auto _ : state) {
    gen.Next(r);
    benchmark::DoNotOptimize(r.value.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Generator);

}  // namespace
}  // namespace strata

BENCHMARK_MAIN();
