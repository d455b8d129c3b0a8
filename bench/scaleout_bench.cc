// Scale-out of bronze over a consumer group: preloads N generated events into the embedded
// cluster, then starts M bronze members of one group at once (each its own KafkaSource, group
// membership, reader and Delta sink, writing one table, as M processes would) and reports the
// time until the table holds every record, the time until the first commit (the group's join
// and rebalances: nothing is read before a member owns partitions) and events/s after it.
// With --layers all, each member is a whole Pipeline in group mode (bronze, silver and gold
// spread by partition, gold as partials, as `strata run` with a group.id), and the run ends when
// gold (update mode) counts every event.
//   scaleout_bench [--events N] [--partitions P] [--members "1,2,3"]
//                  [--max-offsets-per-trigger M] [--layers bronze|all] [--trigger-ms T]
// (--trigger-ms: the three layers' trigger interval with --layers all, default 500)
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "connectors/delta_sink.h"
#include "connectors/kafka_source.h"
#include "core/time_util.h"
#include "event/event_schema.h"
#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"
#include "kafka/source_reader.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"
#include "pipeline/config.h"
#include "pipeline/layers.h"
#include "pipeline/pipeline.h"
#include "stream/streaming_query.h"

namespace strata {
namespace {

// Sum over partitions of the bronze marks (next offsets), -1 before the first commit.
int64_t MarkedRecords(const std::string& path) {
  auto table = delta::DeltaTable::Open(path);
  if (!table.ok()) return -1;
  auto snapshot = (*table)->LatestSnapshot();
  if (!snapshot.ok() || (*snapshot)->txns().empty()) return -1;
  int64_t n = 0;
  for (const auto& [app, txn] : (*snapshot)->txns())
    if (app.find("/kafka/") != std::string::npos) n += txn.version;
  return n;
}

// Events counted by the gold partials at `path` (update mode: the newest row per window, key and
// partition), -1 before the table has any.
int64_t GoldEvents(const std::string& path) {
  auto engine = OpenCatalog({{"gold", path}});
  if (!engine.ok()) return -1;
  auto r = (*engine)->Execute("SELECT sum(event_count) FROM gold", {});
  if (!r.ok() || r->rows.empty() || !r->rows[0][0]) return -1;
  return std::atoll(r->rows[0][0]->c_str());
}

// One whole pipeline per member, in group mode.
Result<std::vector<std::unique_ptr<Pipeline>>> MakePipelines(int members, const std::string& dir,
                                                             const std::string& bootstrap,
                                                             const std::string& group,
                                                             int64_t max_offsets,
                                                             int64_t trigger_ms) {
  std::ostringstream toml;
  toml << "[pipeline]\ndata_dir = \"" << dir << "\"\n"
       << "[kafka]\n\"bootstrap.servers\" = \"" << bootstrap << "\"\n\"group.id\" = \"" << group
       << "\"\n[source]\nstartingOffsets = \"earliest\"\nmaxOffsetsPerTrigger = " << max_offsets
       << "\n[bronze]\ntrigger = \"" << trigger_ms << " milliseconds\"\n[silver]\ntrigger = \""
       << trigger_ms << " milliseconds\"\n[gold]\ntrigger = \"" << trigger_ms
       << " milliseconds\"\noutputMode = \"update\"\n";
  STRATA_ASSIGN_OR_RETURN(PipelineConfig config, ParsePipelineConfig(toml.str(), "bench"));
  std::vector<std::unique_ptr<Pipeline>> out;
  for (int m = 0; m < members; ++m) {
    STRATA_ASSIGN_OR_RETURN(auto p, Pipeline::Create(config));
    out.push_back(std::move(p));
  }
  return out;
}

int Main(int argc, char** argv) {
  int64_t events = 300'000;
  int partitions = 12;
  std::string members_list = "1,2,3";
  int64_t max_offsets = 20'000;
  std::string layers = "bronze";
  int64_t trigger_ms = 500;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--events"))
      events = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--partitions"))
      partitions = std::atoi(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--members"))
      members_list = argv[i + 1];
    else if (!std::strcmp(argv[i], "--max-offsets-per-trigger"))
      max_offsets = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--layers"))
      layers = argv[i + 1];
    else if (!std::strcmp(argv[i], "--trigger-ms"))
      trigger_ms = std::atoll(argv[i + 1]);
    else {
      std::fprintf(stderr, "unknown option %s\n", argv[i]);
      return 2;
    }
  }
  auto cluster = EmbeddedCluster::Start({1, {{"clickstream-events", partitions}}, 1});
  if (!cluster.ok()) {
    std::fprintf(stderr, "%s\n", cluster.status().ToString().c_str());
    return 1;
  }
  {
    auto producer = Producer::Create(
        (*cluster)->bootstrap_servers(),
        {{"compression.type", "lz4"}, {"linger.ms", "50"}, {"batch.num.messages", "10000"}});
    if (!producer.ok()) return 1;
    GeneratorOptions g;
    g.seed = 1;
    g.simulated_start_ms = NowMillis() - 3'600'000;
    g.simulated_rate = 200'000;
    TrafficGenerator gen(g);
    GeneratedRecord rec;
    for (int64_t i = 0; i < events; ++i) {
      gen.Next(rec);
      if (!(*producer)->Produce("clickstream-events", rec.key, rec.value).ok()) return 1;
    }
    if (!(*producer)->Flush(std::chrono::seconds(120)).ok()) return 1;
  }
  // The mock cluster keeps a bounded number of message sets per partition and drops the oldest:
  // what it still holds is what every layer must end up with.
  int64_t available = 0;
  {
    auto reader = KafkaReader::Create((*cluster)->bootstrap_servers());
    if (!reader.ok()) return 1;
    std::vector<int32_t> parts;
    for (int p = 0; p < partitions; ++p) parts.push_back(p);
    auto marks = (*reader)->Watermarks("clickstream-events", parts, std::chrono::seconds(10));
    if (!marks.ok()) return 1;
    for (const auto& w : *marks) available += w.high - w.low;
  }
  std::printf(
      "preloaded %lld events into %d partitions (%lld still in the embedded cluster's log)\n",
      static_cast<long long>(events), partitions, static_cast<long long>(available));
  std::printf("%8s %10s %14s %12s %16s %8s\n", "members", "total s", "first commit s", "events/s",
              "after join ev/s", "ratio");
  double single_rate = 0;
  std::stringstream list(members_list);
  std::string item;
  int run = 0;
  while (std::getline(list, item, ',')) {
    const int members = std::atoi(item.c_str());
    const std::string dir =
        (std::filesystem::temp_directory_path() /
         ("strata_scaleout_bench_" + std::to_string(::getpid()) + "_" + std::to_string(run)))
            .string();
    std::filesystem::remove_all(dir);
    std::vector<std::unique_ptr<StreamingQuery>> queries;
    std::vector<std::unique_ptr<Pipeline>> pipelines;
    const bool all = layers == "all";
    if (all) {
      auto made = MakePipelines(members, dir, (*cluster)->bootstrap_servers(),
                                "bench-" + std::to_string(run), max_offsets, trigger_ms);
      if (!made.ok()) {
        std::fprintf(stderr, "%s\n", made.status().ToString().c_str());
        return 1;
      }
      pipelines = std::move(*made);
    }
    const std::string bronze_path =
        all ? dir + "/catalog/streaming/bronze_clickstream" : dir + "/bronze";
    const std::string gold_path = dir + "/catalog/streaming/gold_events_per_minute";
    for (int m = 0; m < members && !all; ++m) {
      KafkaSourceOptions ko;
      ko.topic = "clickstream-events";
      ko.kafka = {{"bootstrap.servers", (*cluster)->bootstrap_servers()},
                  {"group.id", "bench-" + std::to_string(run)}};
      ko.starting_offsets = "earliest";
      DeltaSinkOptions so;
      so.table_name = "catalog.streaming.bronze_clickstream";
      so.path = dir + "/bronze";
      so.schema = BronzeSchema();
      so.partition_by = {"event_date"};
      std::vector<std::unique_ptr<MicroBatchSink>> sinks;
      sinks.push_back(std::make_unique<DeltaSink>(std::move(so)));
      QueryOptions qo;
      qo.name = "bronze";
      qo.checkpoint_dir = dir + "/checkpoint";
      qo.trigger.interval_ms = 500;
      qo.limit.max_rows = max_offsets;
      queries.push_back(std::make_unique<StreamingQuery>(
          qo, std::make_unique<KafkaSource>(ko, std::make_unique<BronzeDecoder>()),
          std::make_unique<BronzeProcessor>(), std::move(sinks)));
    }
    int64_t t0 = MonotonicNanos();
    for (auto& q : queries) q->Start();
    for (auto& p : pipelines) p->Start();
    double first_commit_s = -1, bronze_s = -1;
    int64_t polls = 0;
    while (true) {
      int64_t n = MarkedRecords(bronze_path);
      double now_s = (MonotonicNanos() - t0) / 1e9;
      if (n >= 0 && first_commit_s < 0) first_commit_s = now_s;
      if (n >= events && bronze_s < 0) bronze_s = now_s;
      // The gold table is read every 0.5 s (a SQL scan), bronze's marks every 50 ms.
      ++polls;
      if (bronze_s >= 0 && (!all || (polls % 10 == 0 && GoldEvents(gold_path) >= available))) break;
      if (polls % 200 == 0)
        std::fprintf(stderr, "members=%d after %.0f s: bronze %lld, gold %lld of %lld events\n",
                     members, now_s, static_cast<long long>(n),
                     static_cast<long long>(all ? GoldEvents(gold_path) : -1),
                     static_cast<long long>(available));
      for (auto& p : pipelines) {
        Status st = p->FirstFailure();
        if (!st.ok()) {
          std::fprintf(stderr, "members=%d: %s\n", members, st.ToString().c_str());
          return 1;
        }
      }
      if (now_s > 900) {
        std::fprintf(stderr, "members=%d: not done after 900 s (%lld)\n", members,
                     static_cast<long long>(n));
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    double total_s = (MonotonicNanos() - t0) / 1e9;
    for (auto& q : queries) q->Stop();
    for (auto& p : pipelines) (void)p->Stop();
    if (all) std::printf("  (bronze complete after %.1f s)\n", bronze_s);
    double rate = available / total_s;
    double after_join = available / std::max(1e-3, total_s - first_commit_s);
    if (members == 1) single_rate = rate;
    std::printf("%8d %10.1f %14.1f %12.0f %16.0f %8.2f\n", members, total_s, first_commit_s, rate,
                after_join, single_rate > 0 ? rate / single_rate : 0.0);
    std::fflush(stdout);
    queries.clear();
    pipelines.clear();
    std::filesystem::remove_all(dir);
    ++run;
  }
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Main(argc, argv);
}
