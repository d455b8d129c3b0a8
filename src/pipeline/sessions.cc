#include "pipeline/sessions.h"

#include <algorithm>
#include <limits>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "connectors/delta_sink.h"
#include "core/uuid.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "operators/session_window.h"
#include "operators/state_codec.h"
#include "pipeline/copy_on_write.h"

namespace strata {

namespace {

constexpr char kStateMagic[4] = {'S', 'S', 'N', 'P'};
constexpr uint8_t kStateVersion = 1;

int64_t ToMicros(int64_t watermark_ms) {
  return watermark_ms > 0 ? watermark_ms * 1000 : kNoWatermark;
}
int64_t ToMillis(int64_t watermark_micros) {
  return watermark_micros == kNoWatermark || watermark_micros <= 0 ? 0 : watermark_micros / 1000;
}

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

std::string SessionProcessor::Fingerprint() const {
  return "sessions/v1 gap=" + std::to_string(options_.gap_ms) +
         "ms key=session_id watermark=" + std::to_string(options_.watermark_delay_ms) + "ms";
}

Status SessionProcessor::BeginBatch(const BatchContext& ctx) {
  ctx_ = ctx;
  watermark_micros_ = ToMicros(ctx.watermark_ms);
  dropped_before_ = agg_->stats().rows_dropped_by_watermark;
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
  return watermark_ms > last_emitted_watermark_ms_ && agg_->stats().open_sessions > 0;
}

Status SessionProcessor::SaveState(bool full, std::vector<StateBlob>* blobs) {
  state_codec::Writer w(kStateMagic, kStateVersion);
  w.I64(last_emitted_watermark_ms_);
  w.Bytes(tracker_->Serialize());
  blobs->push_back({kGlobalStatePartition, w.Finish()});
  for (int32_t p : agg_->Partitions())
    blobs->push_back({p, full ? agg_->SerializeSnapshot(p) : agg_->SerializeDelta(p)});
  agg_->MarkCheckpointed();
  return Status::OK();
}

Status SessionProcessor::LoadState(const std::vector<StateBlob>& snapshot,
                                   const std::vector<std::vector<StateBlob>>& deltas) {
  WatermarkOptions wo;
  wo.delay_ms = options_.watermark_delay_ms;
  wo.policy = options_.watermark_policy;
  wo.idle_timeout_ms = options_.idle_timeout_ms;
  STRATA_ASSIGN_OR_RETURN(WatermarkTracker tracker, WatermarkTracker::Create(wo));
  STRATA_ASSIGN_OR_RETURN(auto agg,
                          SessionWindowAggregator::Create(AggregatorOptions(options_.gap_ms)));
  // The global blob is always written in full: the newest wins. Per partition: the snapshot,
  // then the deltas in order.
  std::string_view global;
  struct History {
    std::string_view snapshot;
    std::vector<std::string_view> deltas;
  };
  std::map<int32_t, History> partitions;
  for (const auto& b : snapshot) {
    if (b.partition == kGlobalStatePartition)
      global = b.bytes;
    else
      partitions[b.partition].snapshot = b.bytes;
  }
  for (const auto& save : deltas) {
    for (const auto& b : save) {
      if (b.partition == kGlobalStatePartition)
        global = b.bytes;
      else
        partitions[b.partition].deltas.push_back(b.bytes);
    }
  }
  int64_t last_emitted = 0;
  if (!global.empty()) {
    state_codec::Reader r(global, "sessions state");
    STRATA_RETURN_IF_ERROR(r.Open(kStateMagic, kStateVersion));
    std::string_view blob;
    if (!r.I64(&last_emitted) || !r.Bytes(&blob)) return r.Truncated();
    STRATA_RETURN_IF_ERROR(tracker.Restore(blob));
  }
  for (const auto& [p, h] : partitions)
    STRATA_RETURN_IF_ERROR(agg->Restore(p, h.snapshot, h.deltas, ToMicros(last_emitted)));
  agg->MarkCheckpointed();
  tracker_ = std::make_unique<WatermarkTracker>(std::move(tracker));
  agg_ = std::move(agg);
  last_emitted_watermark_ms_ = last_emitted;
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// SessionUpsertSink

SessionUpsertSink::SessionUpsertSink(UpsertSinkOptions options) : options_(std::move(options)) {}
SessionUpsertSink::~SessionUpsertSink() = default;

std::string SessionUpsertSink::Description() const {
  return "delta-session-upsert[" + options_.table_name + "]";
}

Status SessionUpsertSink::Open() {
  const Schema& s = *options_.schema;
  const Schema& retraction = *SessionRetractionSchema();
  if (options_.key_columns.size() != retraction.num_fields())
    return InvalidArgument(options_.table_name + ": the key columns must be those of a retraction");
  key_cols_.clear();
  for (size_t i = 0; i < options_.key_columns.size(); ++i) {
    const std::string& k = options_.key_columns[i];
    int c = s.IndexOf(k);
    if (c < 0) return InvalidArgument(options_.table_name + ": key column " + k + " is missing");
    if (retraction.field(i).name != k || retraction.field(i).type != s.field(c).type)
      return InvalidArgument(options_.table_name + ": key column " + k +
                             " differs from the retraction's column " + retraction.field(i).name);
    key_cols_.push_back(c);
  }
  range_col_ = s.IndexOf(options_.range_column);
  final_col_ = s.IndexOf(options_.final_column);
  if (range_col_ < 0 || final_col_ < 0)
    return InvalidArgument(options_.table_name + ": range or final column is missing");
  STRATA_ASSIGN_OR_RETURN(
      table_, delta::DeltaTable::CreateIfNotExists(
                  options_.path, s, {}, {{"delta.checkpointInterval", "10"}}, options_.table_name));
  STRATA_ASSIGN_OR_RETURN(writer_, ParquetWriter::Create());
  STRATA_ASSIGN_OR_RETURN(reader_, ParquetReader::Create(1));
  return Status::OK();
}

Result<int64_t> SessionUpsertSink::LastCommittedBatch(const std::string& query_id) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  return snapshot->TxnVersion(query_id).value_or(-1);
}

Result<SinkWriteStats> SessionUpsertSink::Commit(const BatchCommit& commit,
                                                 std::vector<RecordBatch>& batches) {
  SinkWriteStats stats;
  stats.table = options_.table_name;
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  if (IsBatchCommitted(*snapshot, commit)) {
    stats.skipped = true;
    return stats;
  }
  const size_t table_fields = options_.schema->num_fields();
  const size_t retraction_fields = SessionRetractionSchema()->num_fields();
  std::vector<int> retraction_key_cols(retraction_fields);
  for (size_t i = 0; i < retraction_fields; ++i) retraction_key_cols[i] = static_cast<int>(i);

  // The last table row per key wins. `gone`: the keys whose current row is removed, those
  // retracted (deleted unless also written) and those written.
  RecordBatch incoming(options_.schema);
  std::unordered_set<std::string> gone;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  {
    std::unordered_map<std::string, std::pair<size_t, size_t>> last;
    std::vector<std::string> order;
    for (size_t b = 0; b < batches.size(); ++b) {
      const RecordBatch& batch = batches[b];
      const size_t fields = batch.schema()->num_fields();
      if (fields != table_fields && fields != retraction_fields)
        return InvalidArgument(options_.table_name + ": a batch of " + std::to_string(fields) +
                               " columns is neither table rows nor retractions");
      const bool rows = fields == table_fields;
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        std::string key = RowKey(batch, rows ? key_cols_ : retraction_key_cols, r);
        const int64_t start = batch.column(rows ? range_col_ : 0).Int64(r);
        lo = std::min(lo, start);
        hi = std::max(hi, start);
        if (!rows) {
          gone.insert(std::move(key));
          continue;
        }
        auto [it, inserted] = last.try_emplace(key, b, r);
        if (inserted) {
          order.push_back(std::move(key));
        } else {
          it->second = {b, r};
        }
      }
    }
    for (const std::string& key : order) {
      auto [wb, wr] = last.at(key);
      for (size_t c = 0; c < incoming.num_columns(); ++c)
        incoming.column(c).AppendFrom(batches[wb].column(c), wr);
      gone.insert(key);  // retracted or not, its new row is written
    }
  }
  if (gone.empty() && commit.marks.empty()) return stats;

  auto txn = table_->StartTransaction(snapshot);
  CopyOnWriteTarget target{table_.get(), options_.schema, key_cols_, range_col_, final_col_};
  auto replaced = [&](const RecordBatch& b, size_t r) {
    return gone.count(RowKey(b, key_cols_, r)) > 0;
  };
  const std::string prefix =
      "part-" + std::to_string(commit.batch_id) + "-" + NewUuid().substr(0, 8);
  STRATA_ASSIGN_OR_RETURN(CopyOnWriteStats cow,
                          StageCopyOnWrite(target, *snapshot, *reader_, *writer_, incoming, lo, hi,
                                           replaced, prefix, txn.get()));
  stats.files = cow.files_added;
  stats.bytes = cow.bytes_added;
  stats.rows = static_cast<int64_t>(incoming.num_rows());
  txn->SetOperation("STREAMING UPDATE",
                    {{"outputMode", "Update"},
                     {"queryId", commit.query_id},
                     {"epochId", std::to_string(commit.batch_id)}},
                    {{"numAddedFiles", std::to_string(cow.files_added)},
                     {"numRemovedFiles", std::to_string(cow.files_removed)},
                     {"numUpdatedRows", std::to_string(incoming.num_rows())},
                     {"numRemovedRows", std::to_string(cow.rows_removed)},
                     {"numCopiedRows", std::to_string(cow.rows_copied)},
                     {"numOutputBytes", std::to_string(cow.bytes_added)}});
  STRATA_ASSIGN_OR_RETURN(auto version, CommitBatch(*table_, *txn, commit));
  if (!version) {
    stats = SinkWriteStats{options_.table_name};
    stats.skipped = true;
    return stats;
  }
  stats.version = *version;
  return stats;
}

}  // namespace strata
