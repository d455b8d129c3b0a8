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
#include "operators/watermark.h"

namespace strata {

struct SessionWindowOptions {
  // Inactivity gap in microseconds, > 0. A row at t opens the window [t, t + gap); windows of the
  // same key that overlap merge into one session [min start, max end), as Spark's
  // session_window(col, gap).
  int64_t gap_micros = 30 * 60 * 1'000'000ll;
  std::string event_time_column = "event_time";  // timestamp (micros)
  std::string partition_column = "partition";    // int32; null counts as -1
  std::string key_column = "user_id";            // string; the session owner; null rows skipped
};

struct SessionWindowStats {
  uint64_t rows_in = 0;
  // Rows whose own window [t, t + gap) ends at or before the watermark (Spark drops them).
  uint64_t rows_dropped_by_watermark = 0;
  uint64_t rows_skipped = 0;  // null event time or null key
  uint64_t open_sessions = 0;
  uint64_t keys = 0;
  uint64_t sessions_emitted = 0;
};

// Event-time session windows per key (e.g. user_id), per source partition. A session is final
// once its end (last event + gap) <= W; EmitFinal(W) returns and removes final sessions, so each
// session is emitted exactly once; rows that could only extend an emitted session are late.
//
// Output schema: session_start timestamp, session_end timestamp, <key_column> string,
// event_count long, is_final boolean. Rows ordered by session_start, then key.
//
// Windows that only touch ([a, b) and [b, c), i.e. an event exactly `gap` after the last one)
// stay separate sessions; overlapping ones merge, also when a late-arriving event bridges two.
//
// State blob (state_codec framing, magic "SSES", version 1): kind u8, partition i32, gap i64,
// count u64, then per key: key string, n u32, n x (start i64, end i64, count i64).
//
// State: per partition, per key (string), the open sessions as disjoint [start, end) intervals
// with counts. SerializeSnapshot(p) writes all keys; SerializeDelta(p) the keys changed since
// MarkCheckpointed() (whole per-key state, replacing the earlier one on restore); Restore drops
// sessions with end <= the watermark given. Not thread-safe.
class SessionWindowAggregator {
 public:
  static Result<std::unique_ptr<SessionWindowAggregator>> Create(
      const SessionWindowOptions& options);
  ~SessionWindowAggregator();

  // InvalidArgument if a column is missing or of the wrong type; state unchanged then.
  Status Process(const RecordBatch& batch, int64_t watermark_micros);
  RecordBatch EmitFinal(int64_t watermark_micros);

  const SchemaPtr& output_schema() const { return output_schema_; }
  SessionWindowStats stats() const;

  std::string SerializeSnapshot(int32_t partition) const;
  std::string SerializeDelta(int32_t partition) const;
  void MarkCheckpointed();
  // Corruption on a bad or foreign blob, InvalidArgument if written with another gap; the
  // partition's previous state is kept on error.
  Status Restore(int32_t partition, std::string_view snapshot,
                 std::span<const std::string_view> deltas, int64_t watermark_micros);

  struct PartitionState;  // implementation detail, in session_window.cc

 private:
  explicit SessionWindowAggregator(const SessionWindowOptions& options);
  PartitionState* GetPartition(int32_t partition);
  Status ReadBlob(std::string_view blob, uint8_t kind, int32_t partition, PartitionState* ps) const;

  SessionWindowOptions options_;
  SchemaPtr output_schema_;
  std::unordered_map<int32_t, std::unique_ptr<PartitionState>> partitions_;
  int64_t final_watermark_ = kNoWatermark;
  uint64_t rows_in_ = 0;
  uint64_t rows_dropped_by_watermark_ = 0;
  uint64_t rows_skipped_ = 0;
  uint64_t sessions_emitted_ = 0;
};

}  // namespace strata
