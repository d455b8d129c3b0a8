#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"
#include "operators/hyperloglog.h"
#include "operators/watermark.h"

namespace strata {

struct WindowAggregatorOptions {
  // Window length and slide in microseconds. slide == size (or 0) gives tumbling windows;
  // otherwise 0 < slide < size and each row falls in the windows [s, s + size) with
  // s = offset + k * slide containing it (about size / slide of them), as Spark's
  // window(col, size, slide, startTime). Windows are aligned to the epoch plus `offset_micros`.
  int64_t size_micros = 60'000'000;
  int64_t slide_micros = 0;
  int64_t offset_micros = 0;
  std::string event_time_column = "event_time";  // timestamp (micros)
  std::string partition_column = "partition";    // int32; null counts as -1
  std::string key_column;                        // string; empty = one global group per window
  std::string distinct_column = "user_id";       // string; empty = no distinct count
  std::string value_column;                      // int64; empty = no sum/min/max
  int hll_precision = HyperLogLog::kDefaultPrecision;
};

struct WindowAggregatorStats {
  uint64_t rows_in = 0;
  // (row, window) assignments dropped because the window's end <= watermark, as Spark's
  // numRowsDroppedByWatermark; for tumbling windows that is the number of late rows.
  uint64_t rows_dropped_by_watermark = 0;
  uint64_t rows_null_event_time = 0;  // dropped: no window
  uint64_t groups = 0;                // live (partition, window, key) groups
  uint64_t bytes = 0;                 // approximate heap bytes of the state
  uint64_t rows_emitted_final = 0;
};

// Event-time window aggregation: count(*), approximate count(distinct distinct_column) with a
// HyperLogLog, and optionally sum/min/max of value_column, per (window, key).
//
// State is held per (source partition, window_start, key), so a partition's partial aggregates
// can move to another process and be merged later (the serialized HLL is in the output). The
// emitted rows merge all partitions held here. Null keys form their own group (null output
// key); null distinct values and null values are ignored by the distinct count and sum/min/max.
//
// Output schema (RecordBatch): window_start timestamp, window_end timestamp,
// [<key_column> string], event_count long, unique_users long (HLL estimate, rounded),
// users_sketch binary (serialized HLL, docs/formats/hll.md; null without distinct column),
// is_final boolean, [sum_<v> long, min_<v> long, max_<v> long] (null when no non-null value).
// Rows are ordered by window_start, then key (nulls first).
//
// State blob (state_codec framing, magic "SWAG", version 2): kind u8 (1 snapshot, 2 delta),
// partition i32, size i64, slide i64, offset i64, precision u8, has_key u8, has_distinct u8,
// has_value u8, count u64, then per group: window_start i64, key_null u8, key string,
// count i64, value_count i64, sum i64, min i64, max i64, and when has_distinct a sketch kind
// u8 with either (0) the sketch as a string (docs/formats/hll.md) or (1, deltas only) the
// entries raised since the group's previous save: count u32, entries u32 (index << 8 | rank),
// folded into the sketch as that save left it. Version 1 blobs (no kind byte, the sketch
// always whole) are read too; version 2 blobs are refused by builds before it.
//
// Lifecycle per micro-batch at watermark W (operators/watermark.h semantics):
//   Process(batch, W) for each input batch; EmitFinal(W) (append mode) and/or EmitUpdated()
//   (update mode); at a checkpoint SerializeSnapshot/SerializeDelta per partition, then
//   MarkCheckpointed(). Not thread-safe.
class WindowAggregator {
 public:
  // InvalidArgument on bad options (size <= 0, slide not in (0, size], bad precision).
  static Result<std::unique_ptr<WindowAggregator>> Create(const WindowAggregatorOptions& options);
  ~WindowAggregator();

  // Aggregates `batch`. A (row, window) pair whose window end <= watermark (or <= a watermark
  // already passed to EmitFinal) is dropped and counted. InvalidArgument if a configured column
  // is missing or of the wrong type; the state is unchanged then.
  Status Process(const RecordBatch& batch, int64_t watermark_micros);

  // Rows (is_final = true) for all windows with end <= watermark, removed from the state; each
  // window is emitted at most once, and later rows for it are dropped as late.
  RecordBatch EmitFinal(int64_t watermark_micros);
  // Rows (is_final = false) for every (window, key) changed since the previous EmitUpdated,
  // with the current (provisional) aggregate over all partitions.
  RecordBatch EmitUpdated();

  // Output schema (see class comment).
  const SchemaPtr& output_schema() const { return output_schema_; }
  // Walks every group to size the state: once per batch at most. The two below are O(partitions)
  // and O(1), for the calls made on every trigger.
  WindowAggregatorStats stats() const;
  size_t group_count() const;
  uint64_t rows_dropped_by_watermark() const { return rows_dropped_by_watermark_; }
  std::vector<int32_t> Partitions() const;

  // All groups of `partition` / the groups changed since MarkCheckpointed(). Versioned blobs
  // that also record size, slide, offset and precision.
  std::string SerializeSnapshot(int32_t partition) const;
  std::string SerializeDelta(int32_t partition) const;
  void MarkCheckpointed();
  // Replaces `partition`'s state by `snapshot` (may be empty) plus `deltas` in order (a group
  // in a later blob replaces the earlier one), then drops windows with end <= watermark (they
  // were emitted). Corruption on a bad or foreign blob; InvalidArgument when it was written
  // with other window options. The previous state of the partition is kept on error.
  Status Restore(int32_t partition, std::string_view snapshot,
                 std::span<const std::string_view> deltas, int64_t watermark_micros);
  void DropPartition(int32_t partition);

  struct PartitionState;  // implementation detail, in window_aggregator.cc

 private:
  explicit WindowAggregator(const WindowAggregatorOptions& options);
  PartitionState* GetPartition(int32_t partition);
  RecordBatch Emit(bool final, int64_t watermark_micros);
  bool distinct_enabled() const { return !options_.distinct_column.empty(); }
  // Upserts the groups of one blob into `ps`.
  Status ReadBlob(std::string_view blob, uint8_t kind, int32_t partition, PartitionState* ps) const;

  WindowAggregatorOptions options_;
  SchemaPtr output_schema_;
  std::unordered_map<int32_t, std::unique_ptr<PartitionState>> partitions_;
  int32_t last_partition_ = 0;
  PartitionState* last_state_ = nullptr;
  // Highest watermark passed to EmitFinal: windows ending at or before it are gone for good.
  int64_t final_watermark_ = kNoWatermark;
  uint64_t rows_in_ = 0;
  uint64_t rows_dropped_by_watermark_ = 0;
  uint64_t rows_null_event_time_ = 0;
  uint64_t rows_emitted_final_ = 0;
};

// Window assignment helpers (exposed for tests): the start of the last window containing t,
// i.e. the largest offset + k * slide <= t (floor semantics for negative times).
int64_t LastWindowStart(int64_t t, int64_t slide, int64_t offset);

}  // namespace strata
