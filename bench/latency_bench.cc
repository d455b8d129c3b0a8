// Latency under load: the generator produces at a fixed rate into the embedded Kafka cluster
// while the pipeline runs with processing-time triggers; every batch reports the time from its
// rows' Kafka timestamps to its commit (StreamingQuery's latency sample). Reports, per layer,
// the p50 and p99 over batches (rows-weighted p50 of batch medians; p99 of batch p99s) and the
// max. With --spike, the rate steps from --rates' first value to its last for --spike-s seconds
// and back, and the bronze source's peak lag and the time to catch up are reported. With
// --backlog-s N, the generator first produces at the last rate for N seconds with the pipeline
// stopped, then the pipeline starts while the generator goes on at that rate for --seconds: the
// time each layer takes to catch up (a batch that commits every row within 1 s of its Kafka
// timestamp for bronze, 2 s for the others, plus --linger-ms) is reported.
//   latency_bench [--rates 10000,100000,200000] [--seconds 60] [--trigger-ms 250] [--spike-s 0]
//                 [--backlog-s 0] [--partitions 48] [--output-mode update|append]
//                 [--linger-ms 5] [--compression lz4] [--bare 1] [--trace FILE]
//                 [--mem-every-s 0] [--sql-every-ms 0]
// --linger-ms is the generator's producer linger (records per Kafka message set per partition),
// --compression its compression.type (the embedded cluster keeps ~5 MiB of message sets per
// partition, so a long backlog needs zstd, a longer linger or more partitions).
// --trace FILE writes one line per batch (query, wall-clock ms, rows, phase durations).
// --sql-every-ms N polls the tables through the SQL service of the HTTP endpoint every N ms: the
// age of the newest row visible in bronze and silver, and the time of each query (SqlProbe).
// --mem-every-s N prints, every N seconds, the process's resident memory (also after releasing the
// allocator's free pages, core/memory.h), the heap in use and free, the in-process batch cache and
// the state bytes the queries report.
// --bare 1 runs no pipeline: a bare librdkafka consumer (assigned to every partition, reading
// continuously) measures append-to-consume latency, the embedded cluster's own floor.
// Gold runs in update mode by default: a gold batch's commit is when its rows' windows become
// visible (provisional) in the gold tables. In append mode a gold commit only means the rows are
// in the query's state; a window's row appears when the watermark closes it.
#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

#include "connectors/batch_cache.h"
#include "core/memory.h"
#include "core/time_util.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "pipeline/pipeline.h"
#include "server/sql_service.h"

namespace strata {
namespace {

struct BatchLatency {
  int64_t rows, p50, p99, max, lag, at_ms;
};

class Collector : public QueryListener {
 public:
  // With a trace file, one line per batch: query, wall ms, rows, latency max, phase durations.
  explicit Collector(std::FILE* trace = nullptr) : trace_(trace) {}

  void OnQueryProgress(const QueryProgress& p) override {
    if (trace_ != nullptr) {
      std::lock_guard<std::mutex> l(mu_);
      std::fprintf(trace_, "%lld %s batch %lld rows %lld latency_max %lld state_bytes %lld",
                   static_cast<long long>(NowMillis()), p.name.c_str(),
                   static_cast<long long>(p.batch_id), static_cast<long long>(p.num_input_rows),
                   static_cast<long long>(p.latency_max_ms),
                   static_cast<long long>(p.state_file_bytes));
      for (const auto& [phase, ms] : p.duration_ms) {
        std::fprintf(trace_, " %s %lld", phase.c_str(), static_cast<long long>(ms));
      }
      std::fprintf(trace_, "\n");
    }
    std::lock_guard<std::mutex> l(mu_);
    state_bytes_[p.name] = p.state.state_bytes;
    if (p.latency_max_ms < 0 || p.num_input_rows == 0) return;
    by_query_[p.name].push_back({p.num_input_rows, p.latency_p50_ms, p.latency_p99_ms,
                                 p.latency_max_ms, p.source_lag, NowMillis()});
  }
  // The latest state bytes reported by each query, summed.
  int64_t StateBytes() {
    std::lock_guard<std::mutex> l(mu_);
    int64_t sum = 0;
    for (const auto& [name, bytes] : state_bytes_) sum += bytes;
    return sum;
  }
  std::map<std::string, std::vector<BatchLatency>> Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(by_query_, {});
  }

 private:
  std::FILE* trace_;
  std::mutex mu_;
  std::map<std::string, std::vector<BatchLatency>> by_query_;
  std::map<std::string, int64_t> state_bytes_;
};

// The value at quantile q of `sorted` (ascending); 0 when empty.
int64_t Quantile(const std::vector<int64_t>& sorted, double q) {
  return sorted.empty()
             ? 0
             : sorted[std::min(sorted.size() - 1, static_cast<size_t>(q * sorted.size()))];
}

// Polls the pipeline's tables through the SQL service the HTTP endpoint uses (a fresh Delta
// snapshot before every statement), as a dashboard would: per round, the newest Kafka timestamp
// visible in bronze and in silver (staleness = the time at the answer minus it) and the seed's
// "active users in the last 5 minutes" over gold, each query timed.
class SqlProbe {
 public:
  struct Samples {
    std::vector<int64_t> staleness_ms[2];  // bronze, silver
    std::vector<int64_t> query_ms[3];      // bronze, silver, gold
    int64_t errors = 0;
    std::string first_error;
  };

  SqlProbe(std::unique_ptr<server::SqlService> sql, const std::string& bronze,
           const std::string& silver, const std::string& gold, int every_ms)
      : sql_(std::move(sql)),
        queries_{NewestQuery(bronze), NewestQuery(silver),
                 "SELECT window_start, SUM(unique_users) AS active_users, SUM(event_count) AS "
                 "total_events FROM " +
                     gold +
                     " WHERE window_start >= current_timestamp() - INTERVAL 5 MINUTES GROUP BY "
                     "window_start ORDER BY window_start DESC"},
        every_ms_(every_ms) {
    thread_ = std::thread([this] { Run(); });
  }
  ~SqlProbe() {
    stop_ = true;
    thread_.join();
  }
  Samples Take() {
    std::lock_guard<std::mutex> l(mu_);
    return std::exchange(samples_, {});
  }
  // Drops the samples so far and those of the next `ms` (a new rate's rows reach the tables a
  // batch later; until then the newest row is the previous phase's).
  void Restart(int64_t ms) {
    std::lock_guard<std::mutex> l(mu_);
    samples_ = {};
    record_from_ms_ = NowMillis() + ms;
  }

 private:
  // The newest Kafka timestamp of `table` in epoch ms (its last 2 minutes only).
  static std::string NewestQuery(const std::string& table) {
    return "SELECT epoch_ms(max(kafka_timestamp)) FROM " + table +
           " WHERE kafka_timestamp >= current_timestamp - INTERVAL 2 MINUTES";
  }

  void Run() {
    while (!stop_.load()) {
      for (int layer = 0; layer < 3; ++layer) {
        const int64_t t0 = NowMicros();
        auto r = sql_->Execute(queries_[layer], 100);
        const int64_t t1 = NowMicros();
        std::lock_guard<std::mutex> l(mu_);
        if (t1 / 1000 < record_from_ms_) continue;
        if (!r.ok()) {
          if (samples_.errors++ == 0) samples_.first_error = r.status().ToString();
          continue;
        }
        samples_.query_ms[layer].push_back((t1 - t0) / 1000);
        if (layer < 2 && !r->rows.empty() && r->rows[0][0]) {
          samples_.staleness_ms[layer].push_back(t1 / 1000 - std::atoll(r->rows[0][0]->c_str()));
        }
      }
      for (int i = 0; i < every_ms_ / 10 && !stop_.load(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }

  std::unique_ptr<server::SqlService> sql_;
  const std::string queries_[3];  // bronze's and silver's newest row, gold's dashboard query
  const int every_ms_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  Samples samples_;             // guarded by mu_
  int64_t record_from_ms_ = 0;  // guarded by mu_
  std::thread thread_;
};

void ReportSql(SqlProbe::Samples s) {
  auto line = [](const char* what, std::vector<int64_t>& v) {
    if (v.empty()) return;
    std::sort(v.begin(), v.end());
    std::printf("  %-34s %8zu %8lld %8lld %8lld\n", what, v.size(),
                static_cast<long long>(Quantile(v, 0.5)), static_cast<long long>(Quantile(v, 0.99)),
                static_cast<long long>(v.back()));
  };
  std::printf("  %-34s %8s %8s %8s %8s\n", "through SQL", "queries", "p50 ms", "p99 ms", "max ms");
  line("bronze staleness (now - newest)", s.staleness_ms[0]);
  line("silver staleness (now - newest)", s.staleness_ms[1]);
  line("bronze query time", s.query_ms[0]);
  line("silver query time", s.query_ms[1]);
  line("gold query time (active users 5m)", s.query_ms[2]);
  if (s.errors > 0) {
    std::printf("  %lld SQL errors, the first: %s\n", static_cast<long long>(s.errors),
                s.first_error.c_str());
  }
  std::fflush(stdout);
}

// Prints one memory line every `every_s` seconds until `stop`.
void SampleMemory(int every_s, Collector& collector, std::atomic<bool>& stop) {
  int64_t start = NowMillis();
  const double mib = 1024.0 * 1024.0;
  while (!stop.load()) {
    for (int i = 0; i < every_s * 10 && !stop.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    HeapStats heap = ReadHeapStats();
    const size_t resident = ResidentBytes();
    // How much of the allocator's free memory is resident and could be released right now.
    int64_t t0 = NowMicros();
    ReleaseFreeHeap();
    int64_t release_us = NowMicros() - t0;
    std::printf(
        "  mem t=%.0fs rss %.0f MiB (%.0f after releasing free heap in %.1f ms), heap in use "
        "%.0f MiB, heap free %.0f MiB, batch cache %.0f MiB, query state %.0f MiB\n",
        (NowMillis() - start) / 1000.0, resident / mib, ResidentBytes() / mib, release_us / 1000.0,
        heap.in_use / mib, heap.free / mib, CommittedBatchCache::Global().bytes() / mib,
        collector.StateBytes() / mib);
    std::fflush(stdout);
  }
}

void Report(const std::map<std::string, std::vector<BatchLatency>>& data) {
  std::printf("  %-30s %8s %10s %8s %8s %8s\n", "query", "batches", "rows", "p50 ms", "p99 ms",
              "max ms");
  for (const auto& [name, batches] : data) {
    std::vector<std::pair<int64_t, int64_t>> p50s;  // (p50, rows)
    std::vector<int64_t> p99s;
    int64_t rows = 0, mx = 0;
    for (const auto& b : batches) {
      p50s.push_back({b.p50, b.rows});
      p99s.push_back(b.p99);
      rows += b.rows;
      mx = std::max(mx, b.max);
    }
    std::sort(p50s.begin(), p50s.end());
    std::sort(p99s.begin(), p99s.end());
    int64_t acc = 0, p50 = 0;
    for (const auto& [v, n] : p50s) {
      acc += n;
      if (acc * 2 >= rows) {
        p50 = v;
        break;
      }
    }
    int64_t p99 = p99s.empty() ? 0 : p99s[std::min(p99s.size() - 1, p99s.size() * 99 / 100)];
    std::printf("  %-30s %8zu %10lld %8lld %8lld %8lld\n", name.c_str(), batches.size(),
                static_cast<long long>(rows), static_cast<long long>(p50),
                static_cast<long long>(p99), static_cast<long long>(mx));
  }
  std::fflush(stdout);
}

// A bare consumer of every partition of `topic` from the beginning until `stop`: per record, the
// time from its Kafka timestamp to its consumption. Prints p50/p99/max and the record count.
void RunBareConsumer(const std::string& bootstrap, const std::string& topic, int partitions,
                     std::atomic<bool>& stop) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "group.id", "latency-bench-bare", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "enable.auto.commit", "false", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "fetch.wait.max.ms", "10", errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    std::fprintf(stderr, "bare consumer: %s\n", errstr);
    return;
  }
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(partitions);
  for (int p = 0; p < partitions; ++p) {
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = RD_KAFKA_OFFSET_BEGINNING;
  }
  rd_kafka_assign(rk, list);
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_queue_t* q = rd_kafka_queue_get_consumer(rk);
  std::vector<rd_kafka_message_t*> msgs(10000);
  std::vector<int64_t> lat;
  while (!stop.load()) {
    ssize_t n = rd_kafka_consume_batch_queue(q, 100, msgs.data(), msgs.size());
    int64_t now = NowMillis();
    for (ssize_t i = 0; i < n; ++i) {
      if (msgs[i]->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
        lat.push_back(now - rd_kafka_message_timestamp(msgs[i], nullptr));
      }
      rd_kafka_message_destroy(msgs[i]);
    }
  }
  rd_kafka_queue_destroy(q);
  rd_kafka_consumer_close(rk);
  rd_kafka_destroy(rk);
  std::sort(lat.begin(), lat.end());
  std::printf("  bare consumer: %zu records, append-to-consume p50 %lld / p99 %lld / max %lld ms\n",
              lat.size(), static_cast<long long>(Quantile(lat, 0.5)),
              static_cast<long long>(Quantile(lat, 0.99)),
              static_cast<long long>(lat.empty() ? 0 : lat.back()));
}

int Main(int argc, char** argv) {
  std::vector<double> rates = {10'000, 100'000, 200'000};
  // The embedded cluster keeps ~5 MiB per partition: at 200K events/s that is seconds of data
  // per partition unless there are many partitions.
  int seconds = 60, trigger_ms = 250, spike_s = 0, backlog_s = 0, partitions = 48, linger_ms = 5,
      bare = 0, mem_every_s = 0, sql_every_ms = 0;
  std::string output_mode = "update", trace_path, compression = "lz4";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rates")) {
      rates.clear();
      std::stringstream ss(argv[i + 1]);
      std::string r;
      while (std::getline(ss, r, ',')) rates.push_back(std::atof(r.c_str()));
    } else if (!std::strcmp(argv[i], "--seconds")) {
      seconds = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--trigger-ms")) {
      trigger_ms = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--partitions")) {
      partitions = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--output-mode")) {
      output_mode = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--linger-ms")) {
      linger_ms = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--trace")) {
      trace_path = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--bare")) {
      bare = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--mem-every-s")) {
      mem_every_s = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--spike-s")) {
      spike_s = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--sql-every-ms")) {
      sql_every_ms = std::atoi(argv[i + 1]);
    } else if (!std::strcmp(argv[i], "--compression")) {
      compression = argv[i + 1];
    } else if (!std::strcmp(argv[i], "--backlog-s")) {
      backlog_s = std::atoi(argv[i + 1]);
    }
  }
  auto cluster = EmbeddedCluster::Start({3, {{"clickstream-events", partitions}}, 1});
  if (!cluster.ok()) return 1;
  if (bare != 0) {
    for (double rate : rates) {
      std::string topic = "bare-" + std::to_string(static_cast<int64_t>(rate));
      if (!(*cluster)->CreateTopic(topic, partitions).ok()) return 1;
      std::printf("bare consumer, rate %.0f events/s for %d s, %d partitions, linger %d ms:\n",
                  rate, seconds, partitions, linger_ms);
      std::atomic<bool> stop{false};
      std::thread consumer(
          [&] { RunBareConsumer((*cluster)->bootstrap_servers(), topic, partitions, stop); });
      std::atomic<bool> never{false};
      ProduceOptions po;
      po.bootstrap = (*cluster)->bootstrap_servers();
      po.topic = topic;
      po.rate = rate;
      po.duration_s = seconds;
      po.generator.seed = static_cast<uint64_t>(rate);
      po.kafka_config = {{"linger.ms", std::to_string(linger_ms)},
                         {"compression.type", compression}};
      auto st = RunProducer(po, never);
      std::this_thread::sleep_for(std::chrono::seconds(3));
      stop = true;
      consumer.join();
      if (!st.ok()) return 1;
      std::printf("  produced %.0f events/s\n", st->produced / st->elapsed_s);
    }
    return 0;
  }
  std::string dir =
      (std::filesystem::temp_directory_path() / ("strata_latency_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  std::string t = std::to_string(trigger_ms) + " ms";
  auto config =
      ParsePipelineConfig("[pipeline]\ndata_dir = \"" + dir +
                          "\"\n[source]\nstartingOffsets = \"earliest\"\n"
                          "maxOffsetsPerTrigger = 500000\n[bronze]\ntrigger = \"" +
                          t + "\"\n[silver]\ntrigger = \"" + t + "\"\n[gold]\ntrigger = \"" + t +
                          "\"\noutputMode = \"" + output_mode + "\"\n");
  if (!config.ok()) {
    std::fprintf(stderr, "%s\n", config.status().ToString().c_str());
    return 1;
  }
  config->source.kafka["bootstrap.servers"] = (*cluster)->bootstrap_servers();
  std::FILE* trace = trace_path.empty() ? nullptr : std::fopen(trace_path.c_str(), "w");
  auto collector = std::make_shared<Collector>(trace);
  auto pipeline = Pipeline::Create(*config, {false, collector, nullptr});
  if (!pipeline.ok()) return 1;
  std::atomic<bool> stop_sampler{false};
  std::thread sampler;
  std::unique_ptr<SqlProbe> sql_probe;
  auto start_pipeline = [&] {
    (*pipeline)->Start();
    if (mem_every_s > 0) {
      sampler = std::thread([&] { SampleMemory(mem_every_s, *collector, stop_sampler); });
    }
    if (sql_every_ms > 0) {
      server::SqlServiceOptions so;
      so.tables = config->Tables();
      so.allowed_directories = {dir};
      auto sql = server::SqlService::Open(std::move(so));
      if (!sql.ok()) {
        std::fprintf(stderr, "%s\n", sql.status().ToString().c_str());
        std::exit(1);
      }
      sql_probe =
          std::make_unique<SqlProbe>(std::move(*sql), config->bronze.table, config->silver.table,
                                     config->gold.table, sql_every_ms);
    }
  };
  // SQL samples count only while the generator produces (after it stops, the newest row only
  // gets older): from 2 s into a phase to its end.
  SqlProbe::Samples sql_samples;
  auto sql_begin = [&] {
    if (sql_probe) sql_probe->Restart(2000);
  };
  auto sql_end = [&] {
    if (sql_probe) sql_samples = sql_probe->Take();
  };
  auto report_sql = [&] {
    if (sql_probe) ReportSql(std::move(sql_samples));
  };
  if (backlog_s == 0) start_pipeline();

  uint64_t phase = 0;
  auto produce = [&](double rate, double secs) {
    std::atomic<bool> stop{false};
    ProduceOptions po;
    po.bootstrap = (*cluster)->bootstrap_servers();
    po.rate = rate;
    po.duration_s = secs;
    // A seed of its own per phase: two phases with one seed would send the same event ids, and
    // silver would drop the second phase's events as duplicates.
    po.generator.seed = static_cast<uint64_t>(rate) + 1'000'003 * ++phase;
    po.generator.duplicate_fraction = 0.01;
    po.kafka_config = {{"linger.ms", std::to_string(linger_ms)}, {"compression.type", compression}};
    return RunProducer(po, stop);
  };
  if (backlog_s > 0) {
    const double rate = rates.back();
    std::printf(
        "backlog: %.0f events/s for %d s with the pipeline stopped, then for %d s with it "
        "running; %d partitions\n",
        rate, backlog_s, seconds, partitions);
    auto backlog = produce(rate, backlog_s);
    if (!backlog.ok()) return 1;
    std::printf("  backlog of %lld events built at %.0f events/s\n",
                static_cast<long long>(backlog->produced), backlog->produced / backlog->elapsed_s);
    const int64_t started = NowMillis();
    start_pipeline();
    auto live = produce(rate, seconds);
    sql_end();
    if (!live.ok()) return 1;
    std::this_thread::sleep_for(std::chrono::seconds(3));
    auto data = collector->Take();
    // A layer has caught up at its first batch that commits every row within the freshness bound
    // (1 s for bronze, 2 s for the layers after it).
    std::printf("  %-30s %10s %14s %16s\n", "query", "rows", "peak latency s", "caught up after s");
    for (const auto& [name, batches] : data) {
      // The producer's linger delays a record after its Kafka timestamp is taken.
      const int64_t bound = (name.rfind("bronze", 0) == 0 ? 1000 : 2000) + linger_ms;
      int64_t rows = 0, peak = 0, caught_up_at = -1;
      for (const auto& b : batches) {
        rows += b.rows;
        peak = std::max(peak, b.max);
        if (caught_up_at < 0 && b.max <= bound) caught_up_at = b.at_ms;
      }
      std::printf("  %-30s %10lld %14.1f %16.1f\n", name.c_str(), static_cast<long long>(rows),
                  peak / 1000.0, caught_up_at < 0 ? -1.0 : (caught_up_at - started) / 1000.0);
    }
    std::printf(
        "  produced %lld events in all (bronze must have read them all: the cluster's "
        "retention drops the oldest when a partition holds ~5 MiB)\n",
        static_cast<long long>(backlog->produced + live->produced));
    Report(data);
    report_sql();
  } else if (spike_s == 0) {
    for (double rate : rates) {
      std::printf("rate %.0f events/s for %d s, triggers every %d ms:\n", rate, seconds,
                  trigger_ms);
      sql_begin();
      auto st = produce(rate, seconds);
      sql_end();
      if (!st.ok()) return 1;
      std::this_thread::sleep_for(std::chrono::seconds(3));
      std::printf("  produced %.0f events/s\n", st->produced / st->elapsed_s);
      Report(collector->Take());
      report_sql();
    }
  } else {
    double low = rates.front(), high = rates.back();
    std::printf("spike: %.0f/s for 20 s, %.0f/s for %d s, %.0f/s for 60 s\n", low, high, spike_s,
                low);
    if (!produce(low, 20).ok()) return 1;
    collector->Take();
    sql_begin();
    int64_t spike_end = 0;
    if (!produce(high, spike_s).ok()) return 1;
    spike_end = NowMillis();
    if (!produce(low, 60).ok()) return 1;
    sql_end();
    auto data = collector->Take();
    // The source's lag is sampled when a batch is planned, and a batch takes everything there
    // (up to maxOffsetsPerTrigger), so a backlog shows in how old a batch's rows are when it
    // commits: the peak of that is the backlog in seconds, and bronze has caught up when a batch
    // after the spike commits all its rows within 1 s of their Kafka append.
    int64_t peak_lag = 0, peak_latency = 0, caught_up_at = -1;
    for (const auto& b : data["bronze_clickstream"]) {
      peak_lag = std::max(peak_lag, b.lag);
      peak_latency = std::max(peak_latency, b.max);
      if (b.at_ms > spike_end && caught_up_at < 0 && b.max <= 1000) caught_up_at = b.at_ms;
    }
    std::printf(
        "  bronze: peak lag at planning %lld records; peak latency %.1f s; every row within 1 s "
        "again %.1f s after the spike ended\n",
        static_cast<long long>(peak_lag), peak_latency / 1000.0,
        caught_up_at < 0 ? -1.0 : (caught_up_at - spike_end) / 1000.0);
    Report(data);
    report_sql();
  }
  sql_probe.reset();
  stop_sampler = true;
  if (sampler.joinable()) sampler.join();
  Status st = (*pipeline)->Stop();
  pipeline->reset();
  if (trace != nullptr) std::fclose(trace);
  std::filesystem::remove_all(dir);
  return st.ok() ? 0 : 1;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Main(argc, argv);
}
