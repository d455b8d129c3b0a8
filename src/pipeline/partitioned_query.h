#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"
#include "kafka/group_member.h"
#include "stream/streaming_query.h"

namespace strata {

// The directory of partition `partition`'s sub-query under a layer's checkpoint directory:
// <checkpoint_dir>/partitions/<partition>.
std::string PartitionCheckpointDir(const std::string& checkpoint_dir, int32_t partition);

// The watermark partition `partition` of a partitioned layer has reached: the watermark of the
// newest batch its sub-query committed (every row that batch made final is in the layer's
// tables), 0 when it committed none (or has no directory). Corruption names a torn file.
Result<int64_t> CommittedPartitionWatermark(const std::string& checkpoint_dir, int32_t partition);

// The Kafka partitions that have a sub-query directory under `checkpoint_dir`, ascending.
std::vector<int32_t> PartitionDirs(const std::string& checkpoint_dir);

struct PartitionedQueryOptions {
  std::string name;            // the layer's query name, e.g. "silver_clickstream"
  std::string checkpoint_dir;  // the layer's; partition p's sub-query uses PartitionCheckpointDir
  // This process's share of the topic (KafkaGroupMember publishes it). Required.
  std::shared_ptr<AssignmentBoard> board;
  // Builds partition p's sub-query, named `name` and checkpointed in `checkpoint_dir`. Called
  // on the supervisor thread.
  std::function<Result<std::unique_ptr<StreamingQuery>>(int32_t partition, const std::string& name,
                                                        const std::string& checkpoint_dir)>
      make_query;
  int64_t poll_ms = 200;  // how often the assignment is checked
};

// A layer (silver, a gold table) spread over a consumer group by Kafka partition: one ordinary
// StreamingQuery per partition this process owns, each reading only its partition's rows of the
// upstream table (DeltaSourceOptions::partition_filter) and keeping its own checkpoint, state
// and txn identity in <checkpoint_dir>/partitions/<p> on the shared storage. When the group
// moves a partition, the old owner stops its sub-query after the batch in flight and the new
// owner starts one from the same directory: the partition's checkpoint (offsets, dedup keys,
// open windows, watermark) follows it. The checkpoint's lock (StreamingQuery) keeps the two
// apart when they overlap: the new owner stands by until the old one has let go, so a
// partition is never processed by two processes at once, and each batch's exactly-once
// protocol is the single-process one.
//
// Lifecycle: Start() runs a supervisor thread that follows the board; Stop() stops it and
// every sub-query (each after its current batch). Views() from any thread.
class PartitionedQuery {
 public:
  explicit PartitionedQuery(PartitionedQueryOptions options);
  ~PartitionedQuery();
  PartitionedQuery(const PartitionedQuery&) = delete;
  PartitionedQuery& operator=(const PartitionedQuery&) = delete;

  void Start();
  void Stop();
  // One view per sub-query this process runs now (named "<name>[p<N>]"), ascending by
  // partition, plus a failed view for a partition whose sub-query could not be built.
  std::vector<QueryStatusView> Views() const;
  const std::string& name() const { return options_.name; }

 private:
  void Supervise();
  // Starts the sub-queries of newly owned partitions and stops those of revoked ones.
  void Reconcile(const std::vector<int32_t>& owned);

  PartitionedQueryOptions options_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  mutable std::mutex mu_;
  std::map<int32_t, std::unique_ptr<StreamingQuery>> running_;  // guarded by mu_
  std::map<int32_t, std::string> build_errors_;                 // guarded by mu_
};

}  // namespace strata

namespace strata {

// The column a gold table written in group mode adds (last): the Kafka partition whose rows
// the row aggregates. Such a table holds partial aggregates, merged on read (pipeline/catalog.h).
inline constexpr const char* kSourcePartitionColumn = "source_partition";

// `schema` with kSourcePartitionColumn (int) appended.
SchemaPtr WithSourcePartition(const SchemaPtr& schema);

// Wraps a processor so that every batch it gives its first output gets kSourcePartitionColumn
// = `partition` appended (table rows and, for the upsert sink, retractions of key columns alike).
std::unique_ptr<BatchProcessor> TagWithPartition(std::unique_ptr<BatchProcessor> inner,
                                                 int32_t partition);

}  // namespace strata
