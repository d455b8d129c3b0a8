#pragma once

#include <memory>
#include <string>
#include <vector>

#include "operators/watermark.h"
#include "pipeline/layers.h"
#include "pipeline/upsert_sink.h"
#include "stream/processor.h"
#include "stream/sink.h"

namespace strata {

class SessionWindowAggregator;

struct SessionOptions {
  int64_t watermark_delay_ms = 5 * 60'000;
  WatermarkPolicy watermark_policy = WatermarkPolicy::kMin;
  int64_t idle_timeout_ms = 0;
  GoldOutputMode output_mode = GoldOutputMode::kAppend;
  int64_t gap_ms = 30 * 60'000;  // > 0
};

// Silver -> the sessions gold table: event-time session windows per session_id
// (operators/session_window.h) per Kafka partition; the producer keys records by user_id, so a
// session's events share a partition. A session is [first event, last event + gap); a row less
// than `gap` after the previous one of its session_id extends it, a late row bridging two
// sessions merges them. Rows with event time below the watermark are dropped and counted in
// numRowsDroppedByWatermark (they stay in silver).
//
// Output (outputs[0]): session_start, session_end, session_id, user_id (of the earliest row),
// event_count, page_views, duration_ms (last - first event), bounced (event_count = 1),
// converted (a purchase), is_final. Append mode: one final row per session once the watermark
// passes its end. Update mode: each batch the sessions that changed (is_final = false), then
// the retractions (a batch of SessionRetractionSchema()) of provisional rows superseded by a
// merge or an earlier start, then the sessions that became final; SessionUpsertSink applies
// them. State: the watermark tracker and the open sessions per Kafka partition.
class SessionProcessor : public BatchProcessor {
 public:
  // InvalidArgument on a gap <= 0.
  static Result<std::unique_ptr<SessionProcessor>> Create(const SessionOptions& options);
  ~SessionProcessor() override;
  SchemaPtr output_schema() const;
  Status BeginBatch(const BatchContext& ctx) override;
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override;
  Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) override;
  int64_t NextWatermark(int64_t now_ms) override;
  bool WantsNoDataBatch(int64_t watermark_ms) const override;
  bool stateful() const override { return true; }
  Status SaveState(bool full, std::vector<StateBlob>* blobs) override;
  Status LoadState(const std::vector<StateBlob>& snapshot,
                   const std::vector<std::vector<StateBlob>>& deltas) override;
  std::string Fingerprint() const override;

 private:
  explicit SessionProcessor(const SessionOptions& options);
  SessionOptions options_;
  std::unique_ptr<WatermarkTracker> tracker_;
  std::unique_ptr<SessionWindowAggregator> agg_;
  BatchContext ctx_;
  int64_t watermark_micros_ = 0;
  int64_t last_emitted_watermark_ms_ = 0;
  uint64_t dropped_before_ = 0;
  int64_t max_event_time_ms_ = -1;
};

// A retraction: the key of a provisional row to delete (session_start, session_id).
SchemaPtr SessionRetractionSchema();

// The sessions table in update mode: one row per (session_id, session_start), upserted with
// copy-on-write as UpsertDeltaSink does, plus deletes. The batches given to Commit are either
// table rows (the table's schema) or retractions (SessionRetractionSchema()); in one commit,
// the files holding a key of either are rewritten without those rows, and the table rows are
// added (the last one per key wins; a key both retracted and written is written). Why the key
// includes session_start: a session_id can hold several sessions (a gap splits it), so
// session_id alone does not identify a row; session_start does, but changes when a session
// starts earlier or absorbs an earlier one, so the superseded row must be deleted in the same
// commit (no reader ever sees a session twice). Idempotent per (query id, batch id) like
// DeltaSink; Conflict (retryable) when a concurrent writer removed the same files. Not
// thread-safe: one query thread.
class SessionUpsertSink : public MicroBatchSink {
 public:
  // options.key_columns must be the retraction schema's columns (session_start, session_id).
  explicit SessionUpsertSink(UpsertSinkOptions options);
  ~SessionUpsertSink() override;

  std::string Description() const override;
  SchemaPtr schema() const override { return options_.schema; }
  Status Open() override;
  Result<int64_t> LastCommittedBatch(const std::string& query_id) override;
  // InvalidArgument for a batch of neither schema.
  Result<SinkWriteStats> Commit(const BatchCommit& commit,
                                std::vector<RecordBatch>& batches) override;

 private:
  UpsertSinkOptions options_;
  std::vector<int> key_cols_;
  int range_col_ = -1;
  int final_col_ = -1;
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetWriter> writer_;
  std::unique_ptr<ParquetReader> reader_;
};

}  // namespace strata
