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
  std::string key_column = "session_id";         // string; the session key; null rows skipped
  // string; the session's owner, taken from its earliest row (the first processed on a tie).
  // Empty: no such output column.
  std::string user_column = "user_id";
  // string; rows of `page_view_type` count as page views, a row of `conversion_type` makes the
  // session converted. Empty: page_views is 0 and converted false.
  std::string event_type_column = "event_type";
  std::string page_view_type = "page_view";
  std::string conversion_type = "purchase";
};

struct SessionWindowStats {
  uint64_t rows_in = 0;
  // Rows with event time < the watermark (see SessionWindowAggregator::Process).
  uint64_t rows_dropped_by_watermark = 0;
  uint64_t rows_skipped = 0;  // null event time or null key
  uint64_t open_sessions = 0;
  uint64_t keys = 0;
  uint64_t sessions_emitted = 0;  // final rows
  uint64_t bytes = 0;             // approximate heap bytes of the state
};

// Event-time session windows per key (e.g. session_id), per source partition. A session is
// final once its end (last event + gap) <= W; EmitFinal(W) returns and removes final sessions,
// so each session is emitted as final exactly once.
//
// Lateness: a row with event time t < W (the larger of the watermark given to Process and the
// highest one given to EmitFinal) is dropped and counted, the same rule as silver's late rows.
// This is stricter than Spark's session windows (which drop a row only when t + gap <= W), so
// that a kept row can never overlap or touch a session already emitted as final (its end is
// <= W <= t): the final sessions are exactly a batch sessionization of the rows kept.
//
// Output schema: session_start timestamp, session_end timestamp (last event + gap),
// <key_column> string, [<user_column> string], event_count long, page_views long,
// duration_ms long (last event - first event), bounced boolean (event_count = 1),
// converted boolean, is_final boolean. Rows ordered by session_start, then key.
//
// Windows that only touch ([a, b) and [b, c), i.e. an event exactly `gap` after the last one)
// stay separate sessions; overlapping ones merge, also when a late-arriving event bridges two.
//
// Update mode: EmitUpdated() returns the sessions changed since the previous call as
// provisional rows (is_final = false). A session is identified in the output by (key,
// session_start); when its start moves earlier, or two sessions merge, a provisional row
// written earlier under another start is superseded, and EmitUpdated reports those
// (session_start, key) pairs so the sink deletes them. Call EmitUpdated before EmitFinal in
// each batch, so that no retraction is pending when a key's last session becomes final.
//
// State blob (state_codec framing, magic "SSES", version 2): kind u8, partition i32, gap i64,
// count u64, then per key: key string, n u32, n x (start i64, end i64, count i64,
// page_views i64, converted u8, emitted_start i64 (INT64_MIN: no provisional row), user
// string). Version 1 blobs (no page views, conversion or user) are refused with NotSupported.
//
// State: per partition, per key (string), the open sessions as disjoint [start, end) intervals.
// SerializeSnapshot(p) writes all keys; SerializeDelta(p) the keys changed since
// MarkCheckpointed() (whole per-key state, replacing the earlier one on restore); Restore drops
// sessions with end <= the watermark given. Not thread-safe.
class SessionWindowAggregator {
 public:
  // InvalidArgument on a gap <= 0 or an empty key/event time/partition column name.
  static Result<std::unique_ptr<SessionWindowAggregator>> Create(
      const SessionWindowOptions& options);
  ~SessionWindowAggregator();

  // InvalidArgument if a column is missing or of the wrong type; state unchanged then.
  Status Process(const RecordBatch& batch, int64_t watermark_micros);
  // Final rows (is_final = true) of the sessions with end <= watermark, removed from the state.
  RecordBatch EmitFinal(int64_t watermark_micros);
  // Provisional rows (is_final = false) of the sessions changed since the previous call; appends
  // to `retracted` (schema retraction_schema()) the (session_start, key) of each provisional
  // row written earlier that no longer identifies a session.
  RecordBatch EmitUpdated(RecordBatch* retracted);

  const SchemaPtr& output_schema() const { return output_schema_; }
  // session_start timestamp, <key_column> string.
  const SchemaPtr& retraction_schema() const { return retraction_schema_; }
  // Walks every key and session to size the state: once per batch at most. The two below stop
  // at the first open session and are O(1), for the calls made on every trigger.
  SessionWindowStats stats() const;
  bool has_open_sessions() const;
  uint64_t rows_dropped_by_watermark() const { return rows_dropped_by_watermark_; }
  std::vector<int32_t> Partitions() const;

  std::string SerializeSnapshot(int32_t partition) const;
  std::string SerializeDelta(int32_t partition) const;
  void MarkCheckpointed();
  // Corruption on a bad or foreign blob, InvalidArgument if written with another gap,
  // NotSupported for a version 1 blob; the partition's previous state is kept on error.
  Status Restore(int32_t partition, std::string_view snapshot,
                 std::span<const std::string_view> deltas, int64_t watermark_micros);

  struct PartitionState;  // implementation detail, in session_window.cc

 private:
  explicit SessionWindowAggregator(const SessionWindowOptions& options);
  PartitionState* GetPartition(int32_t partition);
  Status ReadBlob(std::string_view blob, uint8_t kind, int32_t partition, PartitionState* ps) const;

  SessionWindowOptions options_;
  SchemaPtr output_schema_;
  SchemaPtr retraction_schema_;
  std::unordered_map<int32_t, std::unique_ptr<PartitionState>> partitions_;
  int64_t final_watermark_ = kNoWatermark;
  uint64_t rows_in_ = 0;
  uint64_t rows_dropped_by_watermark_ = 0;
  uint64_t rows_skipped_ = 0;
  uint64_t sessions_emitted_ = 0;
};

}  // namespace strata
