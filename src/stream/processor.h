#pragma once

#include <climits>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata {

// Pass/fail counts of one data-quality expectation over one batch.
struct ExpectationMetrics {
  std::string name;
  std::string action;  // "warn" | "drop" | "fail"
  int64_t passed = 0;
  int64_t failed = 0;
};

// Metrics a processor reports for one batch (Spark's stateOperators plus strata's own).
struct ProcessorMetrics {
  int64_t state_rows = 0;
  int64_t state_bytes = 0;
  int64_t rows_dropped_by_watermark = 0;
  int64_t rows_dropped_duplicates = 0;
  int64_t rows_late = 0;         // routed to a late-data table
  int64_t rows_quarantined = 0;  // routed to a quarantine table
  int64_t rows_updated = 0;      // state rows changed by the batch
  int64_t max_event_time_ms = -1;
  std::vector<ExpectationMetrics> expectations;  // in config order; empty without expectations
};

// One piece of a processor's state in the checkpoint: the state of one source partition (or
// of the whole processor, kGlobalStatePartition), either in full or as the change since the
// previous SaveState call.
struct StateBlob {
  int32_t partition = 0;
  std::string bytes;
};
inline constexpr int32_t kGlobalStatePartition = INT32_MIN;

// Takes a processor's state blobs one at a time. The checkpoint writes each to the state file as
// it arrives and frees it, so a large snapshot is never held whole in memory.
class StateSink {
 public:
  virtual ~StateSink() = default;
  virtual Status Add(StateBlob blob) = 0;
};

// Collects the blobs (tests, and callers that want them in memory).
class VectorStateSink : public StateSink {
 public:
  Status Add(StateBlob blob) override {
    blobs.push_back(std::move(blob));
    return Status::OK();
  }
  std::vector<StateBlob> blobs;
};

// The context of one micro-batch, fixed when the batch is planned and recorded in the
// checkpoint so that a re-run sees exactly the same values.
struct BatchContext {
  int64_t batch_id = 0;
  int64_t batch_timestamp_ms = 0;
  // Rows with event time below this are late (see operators/watermark.h). 0 = no watermark yet.
  int64_t watermark_ms = 0;
  bool no_data = false;  // a batch run only to advance the watermark and emit final results
};

// The transformation of a query: source rows in, rows for each sink out. Processors may keep
// state; they must be deterministic (the same input and state give the same output), because a
// batch that crashed before its commit is run again. Not thread-safe: one query thread.
class BatchProcessor {
 public:
  virtual ~BatchProcessor() = default;
  // Called once per batch before the input; `outputs` has one vector per sink, in sink order.
  virtual Status BeginBatch(const BatchContext& ctx) = 0;
  virtual Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) = 0;
  // Called after all input; a stateful processor emits what became final.
  virtual Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) = 0;
  // The watermark the next batch should use, given all data seen so far and the processing
  // time `now_ms` (for idle timeouts). Never below the current one. 0 when no watermark.
  virtual int64_t NextWatermark(int64_t now_ms) = 0;
  // True when running a no-data batch at `watermark_ms` would emit or evict something.
  virtual bool WantsNoDataBatch(int64_t watermark_ms) const { return false; }

  virtual bool stateful() const { return false; }
  // Hands the state after this batch to `sink`, a blob at a time (serialize a partition, Add
  // it, then the next, so that only one partition's blob exists at once): with `full`, every
  // partition's whole state; otherwise only what changed since the previous SaveState (deltas),
  // so that checkpoint cost follows the change, not the total. Partition-keyed, so a
  // partition's state can move to another process. Afterwards the processor starts a new
  // delta. The engine may call it on another thread while the sinks commit the batch's
  // output; nothing else touches the processor until it returns.
  virtual Status SaveState(bool full, StateSink& sink) { return Status::OK(); }
  // Replaces the state by `snapshot` (blobs of one full save; empty for a fresh state) with
  // `deltas` (blobs of later saves, oldest first) applied in order.
  virtual Status LoadState(const std::vector<StateBlob>& snapshot,
                           const std::vector<std::vector<StateBlob>>& deltas) {
    return Status::OK();
  }
  // A stable description of the operators (keys, windows) to detect incompatible restarts.
  virtual std::string Fingerprint() const = 0;
};

}  // namespace strata
