#include "pipeline/sessions.h"

#include <algorithm>

#include "operators/session_window.h"
#include "operators/state_codec.h"
#include "pipeline/processor_state.h"

namespace strata {

namespace {

constexpr char kStateMagic[4] = {'S', 'S', 'N', 'P'};
constexpr uint8_t kStateVersion = 1;

using processor_state::ToMicros;
using processor_state::ToMillis;

SessionWindowOptions AggregatorOptions(int64_t gap_ms) {
  SessionWindowOptions o;
  o.gap_micros = gap_ms * 1000;
  o.event_time_column = "event_time";
  o.partition_column = "kafka_partition";
  o.key_column = "session_id";
  o.user_column = "user_id";
  o.event_type_column = "event_type";
  o.page_view_type = "page_view";
  o.conversion_type = "purchase";
  return o;
}

// An aggregator only for its retraction schema (which does not depend on the gap).
const SessionWindowAggregator& SchemaSource() {
  static const std::unique_ptr<SessionWindowAggregator> agg =
      SessionWindowAggregator::Create(AggregatorOptions(60'000)).value();
  return *agg;
}

}  // namespace

SchemaPtr SessionRetractionSchema() {
  return SchemaSource().retraction_schema();
}

// ---------------------------------------------------------------------------------------------
// SessionProcessor

SessionProcessor::SessionProcessor(const SessionOptions& options) : options_(options) {}
SessionProcessor::~SessionProcessor() = default;

Result<std::unique_ptr<SessionProcessor>> SessionProcessor::Create(const SessionOptions& options) {
  if (options.gap_ms <= 0)
    return InvalidArgument("sessions: gap must be positive, got " + std::to_string(options.gap_ms) +
                           " ms");
  std::unique_ptr<SessionProcessor> p(new SessionProcessor(options));
  STRATA_RETURN_IF_ERROR(p->LoadState({}, {}));
  return p;
}

SchemaPtr SessionProcessor::output_schema() const {
  return agg_->output_schema();
}

std::vector<std::string> SessionProcessor::InputColumns() const {
  SessionWindowOptions o = AggregatorOptions(options_.gap_ms);
  return {o.event_time_column, o.partition_column, o.key_column, o.user_column,
          o.event_type_column};
}

std::string SessionProcessor::Fingerprint() const {
  return "sessions/v1 gap=" + std::to_string(options_.gap_ms) +
         "ms key=session_id watermark=" + std::to_string(options_.watermark_delay_ms) + "ms";
}

Status SessionProcessor::BeginBatch(const BatchContext& ctx) {
  ctx_ = ctx;
  watermark_micros_ = ToMicros(ctx.watermark_ms);
  dropped_before_ = agg_->rows_dropped_by_watermark();
  max_event_time_ms_ = -1;
  return Status::OK();
}

Status SessionProcessor::Process(RecordBatch&& in, std::vector<std::vector<RecordBatch>>&) {
  STRATA_RETURN_IF_ERROR(agg_->Process(in, watermark_micros_));
  STRATA_RETURN_IF_ERROR(
      tracker_->ObserveBatch(in, "event_time", "kafka_partition", ctx_.batch_timestamp_ms * 1000));
  const Column& et = in.column("event_time");
  for (size_t r = 0; r < in.num_rows(); ++r)
    if (et.IsValid(r)) max_event_time_ms_ = std::max(max_event_time_ms_, et.Int64(r) / 1000);
  return Status::OK();
}

Status SessionProcessor::EndBatch(std::vector<std::vector<RecordBatch>>& outputs,
                                  ProcessorMetrics& m) {
  if (options_.output_mode == GoldOutputMode::kUpdate) {
    // Before EmitFinal, so that a session both changed and final in this batch is written as
    // provisional first and then replaced by its final row.
    RecordBatch retracted(agg_->retraction_schema());
    RecordBatch updated = agg_->EmitUpdated(&retracted);
    m.rows_updated = static_cast<int64_t>(updated.num_rows());
    if (updated.num_rows()) outputs[0].push_back(std::move(updated));
    if (retracted.num_rows()) outputs[0].push_back(std::move(retracted));
  }
  if (watermark_micros_ != kNoWatermark) {
    RecordBatch final_rows = agg_->EmitFinal(watermark_micros_);
    if (final_rows.num_rows()) outputs[0].push_back(std::move(final_rows));
    last_emitted_watermark_ms_ = ctx_.watermark_ms;
  }
  SessionWindowStats s = agg_->stats();
  m.state_rows = static_cast<int64_t>(s.open_sessions);
  m.state_bytes = static_cast<int64_t>(s.bytes);
  m.rows_dropped_by_watermark = static_cast<int64_t>(s.rows_dropped_by_watermark - dropped_before_);
  m.max_event_time_ms = max_event_time_ms_;
  return Status::OK();
}

int64_t SessionProcessor::NextWatermark(int64_t now_ms) {
  return ToMillis(tracker_->AdvanceWatermark(now_ms * 1000));
}

bool SessionProcessor::WantsNoDataBatch(int64_t watermark_ms) const {
  return watermark_ms > last_emitted_watermark_ms_ && agg_->has_open_sessions();
}

Status SessionProcessor::SaveState(bool full, StateSink& sink) {
  state_codec::Writer w(kStateMagic, kStateVersion);
  w.I64(last_emitted_watermark_ms_);
  w.Bytes(tracker_->Serialize());
  STRATA_RETURN_IF_ERROR(sink.Add({kGlobalStatePartition, w.Finish()}));
  return processor_state::SavePartitions(*agg_, full, sink);
}

Status SessionProcessor::LoadState(const std::vector<StateBlob>& snapshot,
                                   const std::vector<std::vector<StateBlob>>& deltas) {
  STRATA_ASSIGN_OR_RETURN(
      WatermarkTracker tracker,
      processor_state::NewTracker(options_.watermark_delay_ms, options_.watermark_policy,
                                  options_.idle_timeout_ms));
  STRATA_ASSIGN_OR_RETURN(auto agg,
                          SessionWindowAggregator::Create(AggregatorOptions(options_.gap_ms)));
  const processor_state::StateHistory h = processor_state::Collect(snapshot, deltas);
  const std::string_view global = h.global;
  int64_t last_emitted = 0;
  if (!global.empty()) {
    state_codec::Reader r(global, "sessions state");
    STRATA_RETURN_IF_ERROR(r.Open(kStateMagic, kStateVersion));
    std::string_view blob;
    if (!r.I64(&last_emitted) || !r.Bytes(&blob)) return r.Truncated();
    STRATA_RETURN_IF_ERROR(tracker.Restore(blob));
  }
  for (const auto& [p, ph] : h.partitions)
    STRATA_RETURN_IF_ERROR(agg->Restore(p, ph.snapshot, ph.deltas, ToMicros(last_emitted)));
  agg->MarkCheckpointed();
  tracker_ = std::make_unique<WatermarkTracker>(std::move(tracker));
  agg_ = std::move(agg);
  last_emitted_watermark_ms_ = last_emitted;
  return Status::OK();
}

}  // namespace strata
