#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/memory.h"
#include "kafka/record.h"
#include "pipeline/config.h"
#include "pipeline/layers.h"
#include "pipeline/partitioned_query.h"
#include "sql/sql_engine.h"
#include "stream/streaming_query.h"

namespace strata {

// The processor options of a layer's config, shared by the streaming queries and reprocessing
// (pipeline/reprocess.h), so that both apply the same rules.
SilverOptions SilverOptionsFor(const SilverConfig& c);
GoldOptions GoldOptionsFor(const GoldConfig& g);

struct PipelineOptions {
  // Every query uses an available-now trigger: bronze, then silver, then gold, each processing
  // what its source holds when it starts.
  bool available_now = false;
  std::shared_ptr<QueryListener> listener;
  // Sees every Kafka record the bronze query reads (monitor::Monitoring::record_observer()).
  std::shared_ptr<RecordObserver> bronze_observer;
};

// The medallion pipeline of one config: three streaming queries (Kafka -> bronze -> silver ->
// gold), each with its own checkpoint, reading the previous layer as a Delta stream.
// In group mode (a `group.id` among the Kafka properties, docs/scale-out.md) bronze reads the
// partitions the consumer group assigns this process, and silver and every gold table run as a
// PartitionedQuery: one sub-query per owned Kafka partition, whose state follows the partition
// through the shared checkpoint storage; gold tables then hold partial aggregates per source
// partition (kSourcePartitionColumn), merged on read (GroupGoldSelect).
// Create() creates every table that does not exist yet, so that each query can open its source.
// Thread-safety: Start/Stop/Run from one thread; Queries() and FirstFailure() from any.
class Pipeline {
 public:
  static Result<std::unique_ptr<Pipeline>> Create(const PipelineConfig& config,
                                                  PipelineOptions options = {});
  ~Pipeline();

  // Runs the three queries on their own threads, and a HeapReclaimer (core/memory.h) that
  // gives freed heap back to the system every 10 s.
  void Start();
  // Stops all queries after their current batch; returns the first failure, if any.
  Status Stop();
  // Available-now: runs bronze, silver and gold to completion in that order.
  Status RunAvailableNow();
  // The first query that failed, or OK.
  Status FirstFailure() const;

  std::vector<QueryStatusView> Queries() const;
  const PipelineConfig& config() const { return config_; }

 private:
  Pipeline(PipelineConfig config, PipelineOptions options);
  Status Build();

  // The silver query (over all of bronze, or over partition `partition`'s rows of it).
  Result<std::unique_ptr<StreamingQuery>> MakeSilverQuery(std::optional<int32_t> partition,
                                                          const std::string& name,
                                                          const std::string& checkpoint) const;
  // The query of gold table `g` (partials of partition `partition` in group mode).
  Result<std::unique_ptr<StreamingQuery>> MakeGoldQuery(const GoldConfig& g,
                                                        std::optional<int32_t> partition,
                                                        const std::string& name,
                                                        const std::string& checkpoint) const;
  bool group_mode() const { return board_ != nullptr; }
  // The layer's trigger (available-now when the pipeline runs so).
  Trigger LayerTrigger(const LayerConfig& layer) const;

  PipelineConfig config_;
  PipelineOptions options_;
  std::vector<std::unique_ptr<StreamingQuery>> queries_;  // bronze, silver, gold
  // Group mode: the bronze member's assignment, and silver and gold spread by partition.
  std::shared_ptr<AssignmentBoard> board_;
  std::vector<std::unique_ptr<PartitionedQuery>> partitioned_;  // silver, gold
  HeapReclaimer reclaimer_{std::chrono::seconds(10), size_t{64} << 20};
};

// True when `config` runs in a consumer group (a `group.id` among its Kafka properties).
bool IsGroupMode(const PipelineConfig& config);

// Group mode: the event time up to which every partition of gold table `g` is final, read from
// the partitions' checkpoints (CommittedPartitionWatermark): the lowest gold watermark over the
// partitions silver has a checkpoint for, skipping those where silver saw no event yet (empty
// partitions). nullopt while a partition with data has no gold watermark (nothing is final).
std::optional<int64_t> GroupGoldWatermark(const PipelineConfig& config, const GoldConfig& g);

// The SELECT that reads gold table `g`'s partial aggregates (the view `partials_view`, written
// in group mode) merged across source partitions, with the columns the table has in a single
// process: counts and sums added, min of mins and max of maxes, HyperLogLog sketches merged
// (unique_users is the merged sketch's estimate, as exact as one process's), top-K ranked after
// merging. A window is final when its end is at or below `group_watermark_ms`
// (GroupGoldWatermark); append-mode tables show final windows only. Sessions are whole per
// partition (a session is one user's, and the topic is keyed by user) and read as written.
std::string GroupGoldSelect(const GoldConfig& g, const std::string& partials_view,
                            std::optional<int64_t> group_watermark_ms);

// Group mode: every gold table as a merged view (GroupGoldSelect over "<table>_partials", with
// the watermark read at each refresh), for the SQL catalog and server. Empty otherwise.
std::map<std::string, sql::MergedView> GroupGoldViews(const PipelineConfig& config);

}  // namespace strata
