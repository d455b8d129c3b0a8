#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stream/processor.h"
#include "stream/sink.h"
#include "stream/source.h"

namespace strata {

// One micro-batch's progress, with the fields Spark's StreamingQueryProgress has plus strata's
// own per-table write statistics. Serialized with ToJson() in Spark's field names.
struct QueryProgress {
  std::string id;      // query id (stable)
  std::string run_id;  // new on every start
  std::string name;
  int64_t timestamp_ms = 0;  // batch start, wall clock
  int64_t batch_id = 0;
  int64_t num_input_rows = 0;
  double input_rows_per_second = 0;      // rows / time since the previous batch started
  double processed_rows_per_second = 0;  // rows / this batch's duration
  // Phase durations: latestOffset, walCommit, getBatch (read), addBatch (process + sinks),
  // stateCommit, commitOffsets, triggerExecution (total).
  std::map<std::string, int64_t> duration_ms;
  int64_t watermark_ms = 0;
  int64_t max_event_time_ms = -1;
  ProcessorMetrics state;
  bool stateful = false;
  int64_t state_file_bytes = 0;  // checkpoint bytes written for the state of this batch
  std::string source_description;
  std::string start_offset;  // JSON
  std::string end_offset;    // JSON
  std::vector<PartitionPosition> partitions;
  int64_t source_lag = 0;  // sum over partitions of latest - end, when known
  std::string sink_description;
  int64_t num_output_rows = 0;
  std::vector<SinkWriteStats> tables;
  bool no_data_batch = false;
  // From the input rows' Kafka timestamps to this batch's commit, in ms; -1 when not measured.
  int64_t latency_p50_ms = -1;
  int64_t latency_p99_ms = -1;
  int64_t latency_max_ms = -1;

  std::string ToJson() const;
};

enum class QueryState { kInitializing, kActive, kIdle, kStopped, kFailed };
const char* QueryStateName(QueryState s);

// Lifecycle events of a streaming query (Spark's StreamingQueryListener). Calls come from the
// query's own thread: implementations must be thread-safe if shared by several queries, and
// must return quickly (never block the pipeline).
class QueryListener {
 public:
  virtual ~QueryListener() = default;
  virtual void OnQueryStarted(const std::string& id, const std::string& run_id,
                              const std::string& name) {}
  virtual void OnQueryProgress(const QueryProgress& progress) {}
  virtual void OnQueryIdle(const std::string& id, const std::string& name, int64_t now_ms) {}
  // A batch failed with a retryable error and is about to run again (attempt 1, 2, ...).
  virtual void OnBatchRetry(const std::string& id, const std::string& name, int64_t batch_id,
                            int attempt, const Status& error) {}
  virtual void OnQueryTerminated(const std::string& id, const std::string& name,
                                 const Status& status) {}
};

}  // namespace strata
