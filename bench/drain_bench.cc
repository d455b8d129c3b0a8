// End-to-end drain: preloads N generated events into the embedded Kafka cluster, then runs the
// bronze, silver and gold queries with available-now triggers (in that order, each reading the
// table the previous one wrote) and reports events/s per layer and end to end, CPU seconds per
// million events and peak memory.
//   drain_bench [--events N] [--partitions P] [--max-offsets-per-trigger M] [--keep DIR]
#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>

#include "core/time_util.h"
#include "duck/duck.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"
#include "kafka/source_reader.h"
#include "monitor/config.h"
#include "monitor/drift_table.h"
#include "monitor/quality.h"
#include "pipeline/pipeline.h"

namespace strata {
namespace {

double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

// CPU time of the calling thread (a query's own thread: its decode, operators, Parquet encoding
// with the writer's default of one DuckDB thread, and commits).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

long PeakRssMb() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

// Wall and CPU time from each query's start to its end, and its input rows.
class Timing : public QueryListener {
 public:
  struct Span {
    int64_t start_ns = 0, end_ns = 0;
    double cpu_start = 0, cpu_end = 0;
    double thread_cpu_start = 0, thread_cpu_end = 0;  // the query thread's own CPU
    int64_t rows = 0, batches = 0;
  };
  void OnQueryStarted(const std::string&, const std::string&, const std::string& name) override {
    std::lock_guard<std::mutex> l(mu_);
    spans_[name].start_ns = MonotonicNanos();
    spans_[name].cpu_start = CpuSeconds();
    spans_[name].thread_cpu_start = ThreadCpuSeconds();
  }
  void OnQueryProgress(const QueryProgress& p) override {
    if (std::getenv("STRATA_BENCH_VERBOSE")) std::fprintf(stderr, "%s\n", p.ToJson().c_str());
    std::lock_guard<std::mutex> l(mu_);
    spans_[p.name].rows += p.num_input_rows;
    spans_[p.name].batches += 1;
  }
  void OnQueryTerminated(const std::string&, const std::string& name, const Status&) override {
    std::lock_guard<std::mutex> l(mu_);
    spans_[name].end_ns = MonotonicNanos();
    spans_[name].cpu_end = CpuSeconds();
    spans_[name].thread_cpu_end = ThreadCpuSeconds();
  }
  std::map<std::string, Span> spans() {
    std::lock_guard<std::mutex> l(mu_);
    return spans_;
  }

 private:
  std::mutex mu_;
  std::map<std::string, Span> spans_;
};

int Main(int argc, char** argv) {
  int64_t events = 1'000'000;
  int partitions = 48;
  int64_t max_offsets = 500'000;
  std::string keep;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events"))
      events = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--partitions"))
      partitions = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--max-offsets-per-trigger"))
      max_offsets = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--keep"))
      keep = argv[i + 1];
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (const char* env = std::getenv("STRATA_BENCH_EVENTS")) events = std::atoll(env);
  std::string baseline_dir = (std::filesystem::temp_directory_path() /
                              ("strata_drain_baseline_" + std::to_string(::getpid())))
                                 .string();
  std::filesystem::create_directories(baseline_dir);
  std::string ndjson = baseline_dir + "/events.ndjson";

  auto cluster = EmbeddedCluster::Start({3, {{"clickstream-events", partitions}}, 1});
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  // Preload with the generator (1% duplicates, some invalid and late records).
  {
    auto producer = Producer::Create(
        (*cluster)->bootstrap_servers(),
        {{"compression.type", "lz4"}, {"linger.ms", "50"}, {"batch.num.messages", "10000"}});
    if (!producer.ok()) return 1;
    GeneratorOptions g;
    g.seed = 1;
    g.simulated_start_ms = NowMillis() - 3'600'000;
    g.simulated_rate = 200'000;
    g.duplicate_fraction = 0.01;
    g.late_fraction = 0.002;
    g.malformed_fraction = 0.001;
    g.unknown_type_fraction = 0.001;
    g.missing_field_fraction = 0.001;
    TrafficGenerator gen(g);
    GeneratedRecord rec;
    std::FILE* out = std::fopen(ndjson.c_str(), "w");
    int64_t t0 = MonotonicNanos();
    for (int64_t i = 0; i < events; ++i) {
      gen.Next(rec);
      if (!(*producer)->Produce("clickstream-events", rec.key, rec.value).ok()) return 1;
      // The same events for the DuckDB-alone baseline (malformed ones would stop read_json).
      if (rec.kind != RecordKind::kMalformed && out) {
        std::fwrite(rec.value.data(), 1, rec.value.size(), out);
        std::fputc('\n', out);
      }
    }
    if (out) std::fclose(out);
    if (!(*producer)->Flush(std::chrono::seconds(120)).ok()) return 1;
    std::printf("preloaded %lld events into %d partitions in %.1f s\n",
                static_cast<long long>(events), partitions, (MonotonicNanos() - t0) / 1e9);
  }
  // The mock cluster's retention must not have deleted anything.
  {
    auto reader = KafkaReader::Create((*cluster)->bootstrap_servers());
    std::vector<int32_t> ps;
    for (int i = 0; i < partitions; ++i) ps.push_back(i);
    auto wm = (*reader)->Watermarks("clickstream-events", ps, std::chrono::seconds(10));
    if (!wm.ok()) return 1;
    for (const auto& w : *wm) {
      if (w.low != 0) {
        std::fprintf(stderr, "retention deleted data in partition %d: use more partitions\n",
                     w.partition);
        return 1;
      }
    }
  }

  // Baseline 1: a bare consumer of the same topic (KafkaReader, records counted, nothing else).
  double consume_rate = 0;
  double consume_cpu_per_m = 0;
  {
    auto reader = KafkaReader::Create((*cluster)->bootstrap_servers());
    std::vector<PartitionRange> ranges;
    std::vector<int32_t> ps;
    for (int i = 0; i < partitions; ++i) ps.push_back(i);
    auto wm = (*reader)->Watermarks("clickstream-events", ps, std::chrono::seconds(10));
    for (const auto& w : *wm) ranges.push_back({w.partition, w.low, w.high});
    struct Count : RecordSink {
      int64_t n = 0;
      Status OnRecords(std::string_view, const KafkaRecord*, size_t c) override {
        n += static_cast<int64_t>(c);
        return Status::OK();
      }
    } count;
    int64_t t0 = MonotonicNanos();
    double c0 = CpuSeconds();
    Status st = (*reader)->ReadRange("clickstream-events", ranges, count,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(120));
    if (!st.ok()) return 1;
    consume_rate = count.n / ((MonotonicNanos() - t0) / 1e9);
    consume_cpu_per_m = (CpuSeconds() - c0) / (count.n / 1e6);
  }
  // The data-quality tap of `strata demo` (src/monitor, schemaDriftTable on, default rules):
  // the same read again, every value observed by QualityMonitor. Its CPU is added to the
  // pipeline's whenever monitoring runs.
  double tap_cpu_per_m = 0;
  {
    auto mc = monitor::ParseMonitoringConfig("");
    if (!mc.ok()) return 1;
    monitor::AlertManager alerts;
    monitor::QualityMonitor quality(*mc, &alerts, 2000);
    auto drift = monitor::SchemaDriftTable::Open(baseline_dir + "/schema_drift", "schema_drift",
                                                 mc->quality_interval_ms,
                                                 static_cast<size_t>(mc->drift_samples));
    if (!drift.ok()) {
      std::fprintf(stderr, "%s\n", drift.status().ToString().c_str());
      return 1;
    }
    quality.set_drift_table(drift->get());
    auto reader = KafkaReader::Create((*cluster)->bootstrap_servers());
    std::vector<PartitionRange> ranges;
    std::vector<int32_t> ps;
    for (int i = 0; i < partitions; ++i) ps.push_back(i);
    auto wm = (*reader)->Watermarks("clickstream-events", ps, std::chrono::seconds(10));
    for (const auto& w : *wm) ranges.push_back({w.partition, w.low, w.high});
    // The tap sees the records bronze reads (PipelineOptions::bronze_observer): copied on the
    // reading thread, parsed and counted on its own. The read itself is bronze's, so the bare
    // consume CPU measured above is taken off.
    auto tap = std::make_shared<monitor::QualityTap>(
        std::shared_ptr<monitor::QualityMonitor>(&quality, [](monitor::QualityMonitor*) {}), 1000);
    struct Observe : RecordSink {
      monitor::QualityTap* tap;
      int64_t n = 0;
      Status OnRecords(std::string_view topic, const KafkaRecord* r, size_t c) override {
        tap->ObserveRecords(topic, r, c);
        n += static_cast<int64_t>(c);
        return Status::OK();
      }
    } observe;
    observe.tap = tap.get();
    double c0 = CpuSeconds();
    Status st = (*reader)->ReadRange("clickstream-events", ranges, observe,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(120));
    if (!st.ok()) return 1;
    tap->Stop();  // after everything pending is counted
    if (tap->dropped_records() > 0)
      std::printf("quality tap dropped %llu records (monitor behind)\n",
                  static_cast<unsigned long long>(tap->dropped_records()));
    quality.CloseIntervals(NowMillis() + 3'600'000);
    (*drift)->Stop();
    tap_cpu_per_m = (CpuSeconds() - c0) / (observe.n / 1e6) - consume_cpu_per_m;
  }
  // Baseline 2: DuckDB alone, NDJSON -> Parquet (zstd) with 2 threads.
  double duckdb_rate = 0;
  {
    auto db = duck::Database::Open("", {{"threads", "2"}});
    auto conn = duck::Connection::Open(*db);
    int64_t t0 = MonotonicNanos();
    Status st = (*conn)->Execute(
        "COPY (SELECT * FROM read_json('" + ndjson +
        "', format='newline_delimited', columns={event_id:'VARCHAR', user_id:'VARCHAR', "
        "session_id:'VARCHAR', event_type:'VARCHAR', page_url:'VARCHAR', referrer:'VARCHAR', "
        "device_type:'VARCHAR', country:'VARCHAR', event_timestamp:'BIGINT', properties:'JSON'})) "
        "TO '" +
        baseline_dir + "/events.parquet' (FORMAT parquet, COMPRESSION zstd)");
    if (!st.ok()) {
      std::fprintf(stderr, "baseline: %s\n", st.ToString().c_str());
      return 1;
    }
    duckdb_rate = events / ((MonotonicNanos() - t0) / 1e9);
  }
  std::filesystem::remove_all(baseline_dir);

  std::string dir = keep.empty() ? (std::filesystem::temp_directory_path() /
                                    ("strata_drain_" + std::to_string(::getpid())))
                                       .string()
                                 : keep;
  std::filesystem::remove_all(dir);
  auto config = ParsePipelineConfig("[pipeline]\ndata_dir = \"" + dir +
                                    "\"\n[source]\nstartingOffsets = \"earliest\"\n"
                                    "maxOffsetsPerTrigger = " +
                                    std::to_string(max_offsets) + "\n");
  if (!config.ok()) return 1;
  config->source.kafka["bootstrap.servers"] = (*cluster)->bootstrap_servers();
  auto timing = std::make_shared<Timing>();
  auto pipeline = Pipeline::Create(*config, {true, timing, nullptr});
  if (!pipeline.ok()) {
    std::fprintf(stderr, "%s\n", pipeline.status().ToString().c_str());
    return 1;
  }
  double cpu0 = CpuSeconds();
  int64_t t0 = MonotonicNanos();
  Status st = (*pipeline)->RunAvailableNow();
  double total_s = (MonotonicNanos() - t0) / 1e9;
  double cpu = CpuSeconds() - cpu0;
  if (!st.ok()) {
    std::fprintf(stderr, "%s\n", st.ToString().c_str());
    return 1;
  }
  // The layers run at the same time (as when streaming), so a layer's span overlaps the others;
  // CPU time is the whole process's.
  // "thread CPU/M": the query thread's CPU seconds per million input rows, steadier than wall
  // time on a shared machine (librdkafka's and other threads are not in it).
  std::printf("\n%-26s %12s %8s %10s %14s %13s\n", "layer", "input rows", "batches", "seconds",
              "rows/s", "thread CPU/M");
  double threads_cpu = 0;
  for (const auto& [name, s] : timing->spans()) {
    double secs = (s.end_ns - s.start_ns) / 1e9;
    double tcpu = s.thread_cpu_end - s.thread_cpu_start;
    threads_cpu += tcpu;
    std::printf("%-26s %12lld %8lld %10.2f %14.0f %13.2f\n", name.c_str(),
                static_cast<long long>(s.rows), static_cast<long long>(s.batches), secs,
                secs > 0 ? s.rows / secs : 0.0, s.rows > 0 ? tcpu / (s.rows / 1e6) : 0.0);
  }
  std::printf("%-26s %12s %8s %10s %14s %13.2f\n", "all query threads", "", "", "", "",
              threads_cpu / (events / 1e6));
  std::printf("%-26s %12lld %8s %10.2f %14.0f\n", "end to end", static_cast<long long>(events), "",
              total_s, events / total_s);
  std::printf("CPU: %.2f s per million events (%.2f cores busy on average)\n", cpu / (events / 1e6),
              cpu / total_s);
  auto bronze_span = timing->spans()["bronze_clickstream"];
  double bronze_rate = bronze_span.rows / ((bronze_span.end_ns - bronze_span.start_ns) / 1e9);
  std::printf(
      "baselines, same events: bare Kafka consumer %.0f records/s; DuckDB alone "
      "NDJSON->Parquet (zstd, 2 threads) %.0f events/s\n",
      consume_rate, duckdb_rate);
  std::printf(
      "strata bronze / bare consumer = %.2f; strata bronze / DuckDB alone = %.2f; "
      "end to end / DuckDB alone = %.2f\n",
      bronze_rate / consume_rate, bronze_rate / duckdb_rate, events / total_s / duckdb_rate);
  std::printf(
      "data-quality tap (demo: QualityTap fed by bronze's read, drift table on): %.2f CPU-s per "
      "million events, %.0f%% on top of the pipeline's CPU\n",
      tap_cpu_per_m, 100.0 * tap_cpu_per_m / (cpu / (events / 1e6)));
  std::printf("peak RSS: %ld MiB\n", PeakRssMb());
  pipeline->reset();
  if (keep.empty()) std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Main(argc, argv);
}
