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
// merge or an earlier start, then the sessions that became final; UpsertDeltaSink applies
// them. State: the watermark tracker and the open sessions per Kafka partition.
class SessionProcessor : public BatchProcessor {
 public:
  // InvalidArgument on a gap <= 0.
  static Result<std::unique_ptr<SessionProcessor>> Create(const SessionOptions& options);
  ~SessionProcessor() override;
  SchemaPtr output_schema() const;
  // The silver columns Process reads (the source need not read the others).
  std::vector<std::string> InputColumns() const;
  Status BeginBatch(const BatchContext& ctx) override;
  Status Process(RecordBatch&& input, std::vector<std::vector<RecordBatch>>& outputs) override;
  Status EndBatch(std::vector<std::vector<RecordBatch>>& outputs, ProcessorMetrics& m) override;
  int64_t NextWatermark(int64_t now_ms) override;
  bool WantsNoDataBatch(int64_t watermark_ms) const override;
  bool stateful() const override { return true; }
  Status SaveState(bool full, StateSink& sink) override;
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

// The sessions table in update mode is an UpsertDeltaSink (pipeline/upsert_sink.h) keyed by
// (session_start, session_id), to which the processor also hands retractions (batches of
// SessionRetractionSchema()). Why the key includes session_start: a session_id can hold several
// sessions (a gap splits it), so session_id alone does not identify a row; session_start does,
// but changes when a session starts earlier or absorbs an earlier one, so the superseded row is
// retracted in the same commit that writes its successor (no reader ever sees a session twice).

}  // namespace strata
