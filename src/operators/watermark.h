#pragma once

#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata {

// All event times and watermarks in the operators are int64 microseconds since the Unix epoch,
// UTC (the unit of TypeId::kTimestamp). Processing times ("now") are microseconds too.
//
// Watermark semantics (the same for every operator in src/operators):
//   A watermark W promises that rows with event_time < W are late.
//   - A row with event_time < W is late; event_time == W is on time.
//   - An event-time window [start, end) is final once W >= end; a row is late for that window
//     (dropped from it, counted in rows_dropped_by_watermark) when end <= W. A row with
//     event_time t is thus never late for a window containing t while t >= W.
//   - Deduplication state for a key first seen at event time t expires once
//     t + delay < W (see operators/dedup.h).
//   Following Spark, the watermark of batch N is computed from the data of batches < N: the
//   engine calls ObserveBatch() for each input batch and AdvanceWatermark() once at the end of
//   the batch; the value is used by the operators of the next batch.
//
// kNoWatermark: no data observed yet; nothing is late.
inline constexpr int64_t kNoWatermark = std::numeric_limits<int64_t>::min();

// The boundary rules above as functions, so that every operator applies the same ones.
inline bool IsLateEvent(int64_t event_time, int64_t watermark) {
  return event_time < watermark;
}
inline bool IsWindowFinal(int64_t window_end, int64_t watermark) {
  return window_end <= watermark;
}

enum class WatermarkPolicy : uint8_t {
  kMin = 0,  // the slowest active partition holds the watermark back (safe default)
  kMax = 1,  // the fastest partition drives it (fewer results held back, more late rows)
};

struct WatermarkOptions {
  // The allowed lateness: W = max event time - delay. Must be >= 0.
  int64_t delay_ms = 0;
  WatermarkPolicy policy = WatermarkPolicy::kMin;
  // 0 = off. Otherwise a partition that has had no data for this long in processing time is
  // idle: it no longer holds the watermark back. When every partition that has seen data is
  // idle, the watermark advances with processing time: W = max over partitions of
  // (max event time + (now - time its last data arrived)) - delay.
  int64_t idle_timeout_ms = 0;
};

// Tracks per-partition (Kafka partition) maximum event times and derives the watermark.
// The candidate is policy(max event time over the active partitions) - delay; partitions that
// never had data are ignored. The watermark never moves back. Deterministic given its inputs
// (processing time is an argument), serializable. Not thread-safe.
class WatermarkTracker {
 public:
  static Result<WatermarkTracker> Create(const WatermarkOptions& options);

  // Records, per value of the int32 `partition_col`, the maximum non-null value of the
  // timestamp `event_time_col`, and that the partition had data at processing time
  // `now_micros`. Null partitions count as partition -1. InvalidArgument if a column is
  // missing or has the wrong type; nothing is recorded then.
  Status ObserveBatch(const RecordBatch& batch, std::string_view event_time_col,
                      std::string_view partition_col, int64_t now_micros);
  // Records one partition's maximum event time directly.
  void Observe(int32_t partition, int64_t max_event_time_micros, int64_t now_micros);

  // Computes the watermark for the next batch (see class comment) and returns it. Call once per
  // batch after all ObserveBatch calls. Returns the current one if nothing advances it.
  int64_t AdvanceWatermark(int64_t now_micros);

  int64_t watermark() const { return watermark_; }
  const WatermarkOptions& options() const { return options_; }
  // kNoWatermark-like sentinel (int64 min) when the partition never had data.
  int64_t max_event_time(int32_t partition) const;

  // Full state, versioned (state_codec framing, magic "SWMK", version 1): delay_ms i64,
  // policy u8, idle_timeout_ms i64, watermark i64, n u32, n x (partition i32,
  // max event time i64, last data processing time i64). Processing times are restored as
  // they were, so after a long outage partitions may count as idle at once.
  std::string Serialize() const;
  // Corruption on a bad blob; InvalidArgument if it was written with another delay or policy.
  Status Restore(std::string_view blob);

 private:
  explicit WatermarkTracker(const WatermarkOptions& options) : options_(options) {}

  struct PartitionClock {
    int64_t max_event_time;
    int64_t last_data_micros;
  };
  WatermarkOptions options_;
  int64_t watermark_ = kNoWatermark;
  std::map<int32_t, PartitionClock> partitions_;
};

}  // namespace strata
