#include "pipeline/layers.h"

#include <algorithm>
#include <map>
#include <optional>

#include "core/json_writer.h"
#include "core/time_util.h"
#include "event/bronze_builder.h"
#include "event/event_schema.h"
#include "operators/dedup.h"
#include "operators/state_codec.h"
#include "operators/watermark.h"
#include "operators/window_aggregator.h"
#include "pipeline/processor_state.h"
#include "pipeline/top_k.h"

namespace strata {

namespace {

constexpr int64_t kMicrosPerHour = 3'600'000'000LL;

using processor_state::ToMicros;
using processor_state::ToMillis;

// Silver columns, in order; the late table adds two, quarantine has its own.
namespace silver {
constexpr int kEventId = 0, kUserId = 1, kSessionId = 2, kEventType = 3, kPageUrl = 4,
              kReferrer = 5, kDeviceType = 6, kCountry = 7, kEventTimestamp = 8, kProperties = 9,
              kEventTime = 10, kEventDate = 11, kEventHour = 12, kKafkaPartition = 13,
              kKafkaOffset = 14, kKafkaTimestamp = 15, kNumColumns = 16;
// Silver only (not the late table): the enrichment columns after the base ones.
constexpr int kPageCategory = 16, kProduct = 17, kRegion = 18;
}  // namespace silver

std::vector<Field> SilverBaseFields() {
  return {
      {"event_id", TypeId::kString, false},       {"user_id", TypeId::kString, false},
      {"session_id", TypeId::kString, true},      {"event_type", TypeId::kString, false},
      {"page_url", TypeId::kString, true},        {"referrer", TypeId::kString, true},
      {"device_type", TypeId::kString, true},     {"country", TypeId::kString, true},
      {"event_timestamp", TypeId::kInt64, false}, {"properties", TypeId::kString, true},
      {"event_time", TypeId::kTimestamp, false},  {"event_date", TypeId::kDate, false},
      {"event_hour", TypeId::kInt32, false},      {"kafka_partition", TypeId::kInt32, false},
      {"kafka_offset", TypeId::kInt64, false},    {"kafka_timestamp", TypeId::kTimestamp, true}};
}

std::vector<Field> SilverFields() {
  auto f = SilverBaseFields();
  f.push_back({"page_category", TypeId::kString, true});
  f.push_back({"product", TypeId::kString, true});
  f.push_back({"region", TypeId::kString, true});
  return f;
}

// Appends bronze rows rows[0..n) to a silver-shaped batch (the first 16 columns of `out`): the
// event columns by column-wise gathers, then event_time, event_date and event_hour.
void AppendSilverRows(const RecordBatch& in, const uint32_t* rows, size_t n, RecordBatch& out) {
  static constexpr int kCopied[][2] = {{bronze::kEventId, silver::kEventId},
                                       {bronze::kUserId, silver::kUserId},
                                       {bronze::kSessionId, silver::kSessionId},
                                       {bronze::kEventType, silver::kEventType},
                                       {bronze::kPageUrl, silver::kPageUrl},
                                       {bronze::kReferrer, silver::kReferrer},
                                       {bronze::kDeviceType, silver::kDeviceType},
                                       {bronze::kCountry, silver::kCountry},
                                       {bronze::kEventTimestamp, silver::kEventTimestamp},
                                       {bronze::kProperties, silver::kProperties},
                                       {bronze::kKafkaPartition, silver::kKafkaPartition},
                                       {bronze::kKafkaOffset, silver::kKafkaOffset},
                                       {bronze::kKafkaTimestamp, silver::kKafkaTimestamp}};
  if (n == 0) return;
  for (const auto& [from, to] : kCopied) out.column(to).AppendRows(in.column(from), rows, n);
  const int64_t* ts = in.column(bronze::kEventTimestamp).int64_data();
  Column& event_time = out.column(silver::kEventTime);
  Column& event_date = out.column(silver::kEventDate);
  Column& event_hour = out.column(silver::kEventHour);
  event_time.Reserve(event_time.size() + n);
  event_date.Reserve(event_date.size() + n);
  event_hour.Reserve(event_hour.size() + n);
  for (size_t i = 0; i < n; ++i) {
    const int64_t micros = ts[rows[i]] * 1000;
    event_time.AppendInt64(micros);
    event_date.AppendInt32(DaysFromMicros(micros));
    int64_t hour = (micros / kMicrosPerHour) % 24;
    if (hour < 0) hour += 24;
    event_hour.AppendInt32(static_cast<int32_t>(hour));
  }
}

// The event columns of bronze row `r` as a JSON object, for error messages.
std::string RowSample(const RecordBatch& in, size_t r) {
  static constexpr int kShown[] = {
      bronze::kEventId,        bronze::kUserId,     bronze::kSessionId,      bronze::kEventType,
      bronze::kPageUrl,        bronze::kReferrer,   bronze::kDeviceType,     bronze::kCountry,
      bronze::kEventTimestamp, bronze::kProperties, bronze::kKafkaPartition, bronze::kKafkaOffset};
  JsonWriter w;
  w.BeginObject();
  for (int c : kShown) {
    const Column& col = in.column(c);
    w.Key(in.schema()->field(c).name);
    if (col.IsNull(r)) {
      w.Null();
    } else if (col.type() == TypeId::kString) {
      w.String(col.String(r));
    } else if (col.type() == TypeId::kInt32) {
      w.Int(col.Int32(r));
    } else {
      w.Int(col.Int64(r));
    }
  }
  w.EndObject();
  return w.Take();
}

using processor_state::Collect;
using processor_state::NewTracker;
using processor_state::SavePartitions;
using processor_state::StateHistory;

}  // namespace

SchemaPtr SilverSchema() {
  static const SchemaPtr schema = std::make_shared<Schema>(SilverFields());
  return schema;
}

SchemaPtr SilverLateSchema() {
  static const SchemaPtr schema = [] {
    auto f = SilverBaseFields();
    f.push_back({"watermark", TypeId::kTimestamp, false});
    f.push_back({"late_by_ms", TypeId::kInt64, false});
    return std::make_shared<Schema>(std::move(f));
  }();
  return schema;
}

SchemaPtr SilverQuarantineSchema() {
  static const SchemaPtr schema =
      std::make_shared<Schema>(std::vector<Field>{{"event_id", TypeId::kString, true},
                                                  {"user_id", TypeId::kString, true},
                                                  {"event_type", TypeId::kString, true},
                                                  {"event_timestamp", TypeId::kInt64, true},
                                                  {"kafka_partition", TypeId::kInt32, false},
                                                  {"kafka_offset", TypeId::kInt64, false},
                                                  {"kafka_timestamp", TypeId::kTimestamp, true},
                                                  {"raw_value", TypeId::kString, true},
                                                  {"rule", TypeId::kString, false},
                                                  {"reason", TypeId::kString, false},
                                                  {"quarantined_at", TypeId::kTimestamp, false}});
  return schema;
}

SchemaPtr SilverQualitySchema() {
  static const SchemaPtr schema =
      std::make_shared<Schema>(std::vector<Field>{{"batch_id", TypeId::kInt64, false},
                                                  {"timestamp", TypeId::kTimestamp, false},
                                                  {"expectation", TypeId::kString, false},
                                                  {"action", TypeId::kString, false},
                                                  {"passed", TypeId::kInt64, false},
                                                  {"failed", TypeId::kInt64, false}});
  return schema;
}

// ---------------------------------------------------------------------------------------------
// Bronze

BronzeDecoder::BronzeDecoder() : builder_(std::make_unique<BronzeBatchBuilder>()) {}
BronzeDecoder::~BronzeDecoder() = default;
SchemaPtr BronzeDecoder::schema() const {
  return BronzeSchema();
}
Status BronzeDecoder::Decode(std::string_view topic, const KafkaRecord* records, size_t count,
                             int64_t ingestion_ms) {
  builder_->set_ingestion_timestamp_micros(ingestion_ms * 1000);
  return builder_->OnRecords(topic, records, count);
}
size_t BronzeDecoder::buffered_rows() const {
  return builder_->num_rows();
}
RecordBatch BronzeDecoder::Finish() {
  return builder_->Finish();
}

Status BronzeProcessor::Process(RecordBatch&& input,
                                std::vector<std::vector<RecordBatch>>& outputs) {
  rows_ += static_cast<int64_t>(input.num_rows());
  errors_ +=
      static_cast<int64_t>(input.num_rows() - input.column(bronze::kParseError).null_count());
  outputs[0].push_back(std::move(input));
  return Status::OK();
}

Status BronzeProcessor::EndBatch(std::vector<std::vector<RecordBatch>>&, ProcessorMetrics& m) {
  m.rows_quarantined = errors_;  // rows kept with a parse error
  rows_ = errors_ = 0;
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Silver

SilverProcessor::SilverProcessor(const SilverOptions& options) : options_(options) {
  sorted_types_ = options_.event_types;
  std::sort(sorted_types_.begin(), sorted_types_.end());
}
SilverProcessor::~SilverProcessor() = default;

Result<std::unique_ptr<SilverProcessor>> SilverProcessor::Create(const SilverOptions& options) {
  std::unique_ptr<SilverProcessor> p(new SilverProcessor(options));
  if (!options.enrichment.pages_path.empty())
    p->pages_ =
        std::make_unique<DimensionTable>(options.enrichment.pages_path, "page_url",
                                         std::vector<std::string>{"page_category", "product"});
  if (!options.enrichment.countries_path.empty())
    p->countries_ = std::make_unique<DimensionTable>(options.enrichment.countries_path, "country",
                                                     std::vector<std::string>{"region"});
  for (const auto& rule : options.field_rules) {
    int c = BronzeSchema()->IndexOf(rule.field);
    if (c < 0 || BronzeSchema()->field(c).type != TypeId::kString)
      return InvalidArgument("silver validation rule: '" + rule.field +
                             "' is not a string column of bronze");
    CompiledRule cr{c, rule.field + "_required", rule.field + "_allowed", rule.required,
                    rule.allowed};
    std::sort(cr.sorted_allowed.begin(), cr.sorted_allowed.end());
    p->rules_.push_back(std::move(cr));
  }
  STRATA_ASSIGN_OR_RETURN(
      p->expectations_,
      CompileExpectations(options.expectations, BronzeSchema(), "silver.expectations"));
  p->expectation_counts_.resize(p->expectations_.size());
  STRATA_RETURN_IF_ERROR(p->LoadState({}, {}));
  return p;
}

std::string SilverProcessor::Fingerprint() const {
  return "silver/v1 dedup=" + options_.dedup_key +
         " watermark=" + std::to_string(options_.watermark_delay_ms) + "ms";
}

Status SilverProcessor::BeginBatch(const BatchContext& ctx) {
  ctx_ = ctx;
  watermark_micros_ = ToMicros(ctx.watermark_ms);
  if (watermark_micros_ != kNoWatermark) dedup_->Evict(watermark_micros_);
  batch_metrics_ = ProcessorMetrics{};
  expectation_counts_.assign(expectations_.size(), ExpectationCount{});
  dropped_before_ = dedup_->stats().duplicates_dropped;
  if (pages_) STRATA_RETURN_IF_ERROR(pages_->Refresh());
  if (countries_) STRATA_RETURN_IF_ERROR(countries_->Refresh());
  return Status::OK();
}

Status SilverProcessor::Process(RecordBatch&& in, std::vector<std::vector<RecordBatch>>& outputs) {
  const size_t n = in.num_rows();
  const Column& parse_error = in.column(bronze::kParseError);
  const Column& event_id = in.column(bronze::kEventId);
  const Column& user_id = in.column(bronze::kUserId);
  const Column& event_type = in.column(bronze::kEventType);
  const Column& event_ts = in.column(bronze::kEventTimestamp);

  RecordBatch quarantine(SilverQuarantineSchema());
  const int64_t now_micros = ctx_.batch_timestamp_ms * 1000;

  // Quarantined rows are rare: appended one by one, with their rule and reason.
  auto quarantine_row = [&](size_t r, std::string_view rule, std::string_view reason) {
    static constexpr int kCopied[][2] = {{bronze::kEventId, 0},        {bronze::kUserId, 1},
                                         {bronze::kEventType, 2},      {bronze::kEventTimestamp, 3},
                                         {bronze::kKafkaPartition, 4}, {bronze::kKafkaOffset, 5},
                                         {bronze::kKafkaTimestamp, 6}, {bronze::kRawValue, 7}};
    for (const auto& [from, to] : kCopied) quarantine.column(to).AppendFrom(in.column(from), r);
    quarantine.column(8).AppendString(rule);
    quarantine.column(9).AppendString(reason);
    quarantine.column(10).AppendInt64(now_micros);
  };

  // 1. Built-in validation: checked_[r] = 1 for the rows that pass.
  checked_.assign(n, 0);
  for (size_t r = 0; r < n; ++r) {
    if (parse_error.IsValid(r)) {
      quarantine_row(r, "parse_error", parse_error.String(r));
      continue;
    }
    if (event_id.IsNull(r) || event_id.String(r).empty()) {
      quarantine_row(r, "event_id_required", "event_id is null or empty");
      continue;
    }
    if (user_id.IsNull(r) || user_id.String(r).empty()) {
      quarantine_row(r, "user_id_required", "user_id is null or empty");
      continue;
    }
    if (event_type.IsNull(r) ||
        !std::binary_search(sorted_types_.begin(), sorted_types_.end(), event_type.String(r))) {
      quarantine_row(
          r, "event_type_allowed",
          event_type.IsNull(r) ? std::string_view("event_type is null") : event_type.String(r));
      continue;
    }
    if (event_ts.IsNull(r)) {
      quarantine_row(r, "event_timestamp_required", "event_timestamp is null");
      continue;
    }
    bool broken = false;
    for (const auto& rule : rules_) {
      const Column& col = in.column(rule.column);
      const bool empty = col.IsNull(r) || col.String(r).empty();
      if (rule.required && empty) {
        quarantine_row(r, rule.required_rule, "field is null or empty");
        broken = true;
        break;
      }
      if (!empty && !rule.sorted_allowed.empty() &&
          !std::binary_search(rule.sorted_allowed.begin(), rule.sorted_allowed.end(),
                              col.String(r))) {
        quarantine_row(r, rule.allowed_rule, col.String(r));
        broken = true;
        break;
      }
    }
    if (broken) continue;
    if (options_.max_future_ms > 0 &&
        event_ts.Int64(r) * 1000 > now_micros + options_.max_future_ms * 1000) {
      quarantine_row(r, "event_time_future", "event time is beyond the allowed future bound");
      continue;
    }
    checked_[r] = 1;
  }
  keep_ = checked_;

  // 1b. Expectations, a column at a time.
  if (!expectations_.empty()) STRATA_RETURN_IF_ERROR(ApplyExpectations(in, quarantine));

  // 2-3. Destinations of the kept rows: late (below the watermark) or on time.
  on_time_rows_.clear();
  late_rows_.clear();
  on_time_rows_.reserve(n);
  const int64_t* ts = event_ts.int64_data();
  int64_t max_event_ms = batch_metrics_.max_event_time_ms;
  for (size_t r = 0; r < n; ++r) {
    if (!keep_[r]) continue;
    const int64_t t = ts[r] * 1000;
    if (watermark_micros_ != kNoWatermark && t < watermark_micros_) {
      late_rows_.push_back(static_cast<uint32_t>(r));
    } else {
      on_time_rows_.push_back(static_cast<uint32_t>(r));
      max_event_ms = std::max(max_event_ms, ts[r]);
    }
  }
  batch_metrics_.max_event_time_ms = max_event_ms;

  RecordBatch late(SilverLateSchema());
  if (!late_rows_.empty()) {
    AppendSilverRows(in, late_rows_.data(), late_rows_.size(), late);
    for (uint32_t r : late_rows_) {
      late.column(silver::kNumColumns).AppendInt64(watermark_micros_);
      late.column(silver::kNumColumns + 1).AppendInt64((watermark_micros_ - ts[r] * 1000) / 1000);
    }
  }

  // 4. Watermark and dedup on the on-time rows' key, event time and partition only (a narrow
  // batch), so that only the kept rows are gathered into silver, once.
  const int key_col = in.schema()->IndexOf(options_.dedup_key);
  if (key_col < 0 || in.column(key_col).type() != TypeId::kString) {
    return InvalidArgument("silver dedup key '" + options_.dedup_key +
                           "' is not a string column of bronze");
  }
  const size_t m = on_time_rows_.size();
  RecordBatch dedup_in(
      std::make_shared<Schema>(std::vector<Field>{{options_.dedup_key, TypeId::kString, true},
                                                  {"event_time", TypeId::kTimestamp, false},
                                                  {"kafka_partition", TypeId::kInt32, false}}));
  dedup_in.column(0).AppendRows(in.column(key_col), on_time_rows_.data(), m);
  Column& dedup_time = dedup_in.column(1);
  dedup_time.Reserve(m);
  for (uint32_t r : on_time_rows_) dedup_time.AppendInt64(ts[r] * 1000);
  dedup_in.column(2).AppendRows(in.column(bronze::kKafkaPartition), on_time_rows_.data(), m);
  STRATA_RETURN_IF_ERROR(
      tracker_->ObserveBatch(dedup_in, "event_time", "kafka_partition", now_micros));
  std::vector<uint32_t> kept;
  kept.reserve(m);
  STRATA_RETURN_IF_ERROR(
      dedup_->Process(dedup_in, options_.dedup_key, "event_time", "kafka_partition", &kept));
  // kept indexes dedup_in; turn it into bronze rows (in place).
  for (uint32_t& k : kept) k = on_time_rows_[k];

  // 5. The kept rows, gathered once, then enriched.
  RecordBatch on_time(SilverSchema());
  AppendSilverRows(in, kept.data(), kept.size(), on_time);
  Enrich(on_time);
  batch_metrics_.rows_late += static_cast<int64_t>(late.num_rows());
  batch_metrics_.rows_quarantined += static_cast<int64_t>(quarantine.num_rows());
  if (on_time.num_rows()) outputs[0].push_back(std::move(on_time));
  if (late.num_rows()) outputs[1].push_back(std::move(late));
  if (quarantine.num_rows()) outputs[2].push_back(std::move(quarantine));
  return Status::OK();
}

Status SilverProcessor::ApplyExpectations(const RecordBatch& in, RecordBatch& quarantine) {
  const size_t n = in.num_rows();
  const int64_t now_micros = ctx_.batch_timestamp_ms * 1000;
  const uint8_t* checked = checked_.data();
  for (size_t e = 0; e < expectations_.size(); ++e) {
    const Expectation& x = expectations_[e];
    x.predicate.Evaluate(in, &pass_);
    const uint8_t* pass = pass_.data();
    int64_t passed = 0, checked_rows = 0;
    for (size_t r = 0; r < n; ++r) {
      checked_rows += checked[r];
      passed += checked[r] & pass[r];
    }
    const int64_t failed = checked_rows - passed;
    expectation_counts_[e].passed += passed;
    expectation_counts_[e].failed += failed;
    if (failed == 0 || x.action == ExpectationAction::kWarn) continue;
    if (x.action == ExpectationAction::kFail) {
      size_t first = 0;
      while (!(checked[first] && !pass[first])) ++first;
      return InvalidArgument("silver expectation '" + x.name + "' (action fail, " +
                             x.predicate.text() + ") failed for " + std::to_string(failed) +
                             " of " + std::to_string(checked_rows) +
                             " rows; first failing row: " + RowSample(in, first) +
                             "; the batch is not committed (change or remove the expectation "
                             "to go on)");
    }
    // Drop: rows still kept that fail go to quarantine under this expectation's name.
    dropped_rows_.clear();
    for (size_t r = 0; r < n; ++r) {
      if (keep_[r] && !pass[r]) {
        dropped_rows_.push_back(static_cast<uint32_t>(r));
        keep_[r] = 0;
      }
    }
    if (dropped_rows_.empty()) continue;
    static constexpr int kCopied[][2] = {{bronze::kEventId, 0},        {bronze::kUserId, 1},
                                         {bronze::kEventType, 2},      {bronze::kEventTimestamp, 3},
                                         {bronze::kKafkaPartition, 4}, {bronze::kKafkaOffset, 5},
                                         {bronze::kKafkaTimestamp, 6}, {bronze::kRawValue, 7}};
    const uint32_t* rows = dropped_rows_.data();
    const size_t k = dropped_rows_.size();
    for (const auto& [from, to] : kCopied)
      quarantine.column(to).AppendRows(in.column(from), rows, k);
    const std::string reason = "failed expectation: " + x.predicate.text();
    for (size_t i = 0; i < k; ++i) {
      quarantine.column(8).AppendString(x.name);
      quarantine.column(9).AppendString(reason);
      quarantine.column(10).AppendInt64(now_micros);
    }
  }
  return Status::OK();
}

void SilverProcessor::Enrich(RecordBatch& rows) const {
  const size_t n = rows.num_rows();
  // Looks `key_col` up in `dim` once per row and appends value outs[i].first of the match to
  // column outs[i].second (null if none).
  auto join = [&](const DimensionTable* dim, int key_col,
                  std::initializer_list<std::pair<size_t, int>> outs) {
    const Column& key = rows.column(key_col);
    for (size_t r = 0; r < n; ++r) {
      const std::vector<std::optional<std::string>>* values =
          dim && key.IsValid(r) ? dim->Find(key.String(r)) : nullptr;
      for (const auto& [v, out_col] : outs) {
        Column& out = rows.column(out_col);
        if (values && (*values)[v]) {
          out.AppendString(*(*values)[v]);
        } else {
          out.AppendNull();
        }
      }
    }
  };
  join(pages_.get(), silver::kPageUrl, {{0, silver::kPageCategory}, {1, silver::kProduct}});
  join(countries_.get(), silver::kCountry, {{0, silver::kRegion}});
}

Status SilverProcessor::EndBatch(std::vector<std::vector<RecordBatch>>& outputs,
                                 ProcessorMetrics& m) {
  DedupStats s = dedup_->stats();
  m = batch_metrics_;
  if (!expectations_.empty()) {
    RecordBatch quality(SilverQualitySchema());
    for (size_t e = 0; e < expectations_.size(); ++e) {
      const char* action = ExpectationActionName(expectations_[e].action);
      const ExpectationCount& c = expectation_counts_[e];
      quality.column(0).AppendInt64(ctx_.batch_id);
      quality.column(1).AppendInt64(ctx_.batch_timestamp_ms * 1000);
      quality.column(2).AppendString(expectations_[e].name);
      quality.column(3).AppendString(action);
      quality.column(4).AppendInt64(c.passed);
      quality.column(5).AppendInt64(c.failed);
      m.expectations.push_back({expectations_[e].name, action, c.passed, c.failed});
    }
    if (outputs.size() > 3) outputs[3].push_back(std::move(quality));
  }
  m.state_rows = static_cast<int64_t>(s.keys);
  m.state_bytes = static_cast<int64_t>(s.bytes);
  m.rows_dropped_duplicates = static_cast<int64_t>(s.duplicates_dropped - dropped_before_);
  return Status::OK();
}

int64_t SilverProcessor::NextWatermark(int64_t now_ms) {
  return ToMillis(tracker_->AdvanceWatermark(now_ms * 1000));
}

Status SilverProcessor::SaveState(bool full, StateSink& sink) {
  STRATA_RETURN_IF_ERROR(sink.Add({kGlobalStatePartition, tracker_->Serialize()}));
  return SavePartitions(*dedup_, full, sink);
}

Status SilverProcessor::LoadState(const std::vector<StateBlob>& snapshot,
                                  const std::vector<std::vector<StateBlob>>& deltas) {
  STRATA_ASSIGN_OR_RETURN(
      WatermarkTracker tracker,
      NewTracker(options_.watermark_delay_ms, options_.watermark_policy, options_.idle_timeout_ms));
  DedupOptions d;
  d.delay_ms = options_.watermark_delay_ms;
  d.drop_late_rows = false;  // late rows are routed to the late table before dedup
  STRATA_ASSIGN_OR_RETURN(auto dedup, Deduplicator::Create(d));
  StateHistory h = Collect(snapshot, deltas);
  if (!h.global.empty()) STRATA_RETURN_IF_ERROR(tracker.Restore(h.global));
  for (const auto& [p, part] : h.partitions) {
    STRATA_RETURN_IF_ERROR(dedup->Restore(p, part.snapshot, part.deltas, tracker.watermark()));
  }
  dedup->MarkCheckpointed();
  tracker_ = std::make_unique<WatermarkTracker>(std::move(tracker));
  dedup_ = std::move(dedup);
  return Status::OK();
}

// ---------------------------------------------------------------------------------------------
// Gold

GoldProcessor::GoldProcessor(const GoldOptions& options) : options_(options) {}
GoldProcessor::~GoldProcessor() = default;

Result<std::unique_ptr<GoldProcessor>> GoldProcessor::Create(const GoldOptions& options) {
  if (options.top_k > 0 && options.key_column.empty())
    return InvalidArgument("gold topK: the table has no key column to rank");
  std::unique_ptr<GoldProcessor> p(new GoldProcessor(options));
  STRATA_RETURN_IF_ERROR(p->LoadState({}, {}));
  return p;
}

SchemaPtr GoldProcessor::output_schema() const {
  return top_k_schema_ ? top_k_schema_ : agg_->output_schema();
}

std::vector<std::string> GoldProcessor::InputColumns() const {
  std::vector<std::string> columns = {"event_time", "kafka_partition", options_.distinct_column};
  if (!options_.key_column.empty()) columns.push_back(options_.key_column);
  if (!options_.value_column.empty()) columns.push_back(options_.value_column);
  if (!options_.event_type_filter.empty()) columns.push_back("event_type");
  return columns;
}

std::string GoldProcessor::Fingerprint() const {
  return "gold/v1 window=" + std::to_string(options_.window_ms) +
         "ms slide=" + std::to_string(options_.slide_ms) + "ms key=" + options_.key_column +
         " distinct=" + options_.distinct_column +
         " watermark=" + std::to_string(options_.watermark_delay_ms) + "ms" +
         (options_.event_type_filter.empty() ? "" : " filter=" + options_.event_type_filter) +
         (options_.top_k > 0 ? " topK=" + std::to_string(options_.top_k) : "") +
         (options_.value_column.empty() ? "" : " value=" + options_.value_column);
}

Status GoldProcessor::BeginBatch(const BatchContext& ctx) {
  ctx_ = ctx;
  watermark_micros_ = ToMicros(ctx.watermark_ms);
  dropped_before_ = agg_->rows_dropped_by_watermark();
  max_event_time_ms_ = -1;
  return Status::OK();
}

Status GoldProcessor::Process(RecordBatch&& all, std::vector<std::vector<RecordBatch>>&) {
  std::optional<RecordBatch> filtered;
  if (!options_.event_type_filter.empty()) {
    int c = all.schema()->IndexOf("event_type");
    if (c < 0) return InvalidArgument("gold input has no event_type column to filter on");
    const Column& type = all.column(c);
    std::vector<uint32_t> keep;
    keep.reserve(all.num_rows());
    for (size_t r = 0; r < all.num_rows(); ++r)
      if (type.IsValid(r) && type.String(r) == options_.event_type_filter)
        keep.push_back(static_cast<uint32_t>(r));
    filtered = all.Take(keep);
  }
  const RecordBatch& in = filtered ? *filtered : all;
  STRATA_RETURN_IF_ERROR(agg_->Process(in, watermark_micros_));
  STRATA_RETURN_IF_ERROR(
      tracker_->ObserveBatch(in, "event_time", "kafka_partition", ctx_.batch_timestamp_ms * 1000));
  const Column& et = in.column("event_time");
  for (size_t r = 0; r < in.num_rows(); ++r)
    if (et.IsValid(r)) max_event_time_ms_ = std::max(max_event_time_ms_, et.Int64(r) / 1000);
  return Status::OK();
}

Status GoldProcessor::EndBatch(std::vector<std::vector<RecordBatch>>& outputs,
                               ProcessorMetrics& m) {
  if (options_.output_mode == GoldOutputMode::kUpdate) {
    // Before EmitFinal, so that a window both changed and final in this batch is written as
    // provisional first and then replaced by its final row.
    RecordBatch updated = agg_->EmitUpdated();
    m.rows_updated = static_cast<int64_t>(updated.num_rows());
    if (top_k_) updated = top_k_->Update(updated);
    if (updated.num_rows()) outputs[0].push_back(std::move(updated));
  }
  if (watermark_micros_ != kNoWatermark) {
    RecordBatch final_rows = agg_->EmitFinal(watermark_micros_);
    if (top_k_) final_rows = top_k_->Final(final_rows);
    if (final_rows.num_rows()) outputs[0].push_back(std::move(final_rows));
    last_emitted_watermark_ms_ = ctx_.watermark_ms;
  }
  WindowAggregatorStats s = agg_->stats();
  m.state_rows = static_cast<int64_t>(s.groups);
  m.state_bytes = static_cast<int64_t>(s.bytes);
  m.rows_dropped_by_watermark = static_cast<int64_t>(s.rows_dropped_by_watermark - dropped_before_);
  m.max_event_time_ms = max_event_time_ms_;
  return Status::OK();
}

int64_t GoldProcessor::NextWatermark(int64_t now_ms) {
  return ToMillis(tracker_->AdvanceWatermark(now_ms * 1000));
}

bool GoldProcessor::WantsNoDataBatch(int64_t watermark_ms) const {
  return watermark_ms > last_emitted_watermark_ms_ && agg_->group_count() > 0;
}

Status GoldProcessor::SaveState(bool full, StateSink& sink) {
  state_codec::Writer w("GLD2", 1);
  w.I64(last_emitted_watermark_ms_);
  w.Bytes(tracker_->Serialize());
  STRATA_RETURN_IF_ERROR(sink.Add({kGlobalStatePartition, w.Finish()}));
  return SavePartitions(*agg_, full, sink);
}

Status GoldProcessor::LoadState(const std::vector<StateBlob>& snapshot,
                                const std::vector<std::vector<StateBlob>>& deltas) {
  STRATA_ASSIGN_OR_RETURN(
      WatermarkTracker tracker,
      NewTracker(options_.watermark_delay_ms, options_.watermark_policy, options_.idle_timeout_ms));
  WindowAggregatorOptions ao;
  ao.size_micros = options_.window_ms * 1000;
  ao.slide_micros = options_.slide_ms * 1000;
  ao.event_time_column = "event_time";
  ao.partition_column = "kafka_partition";
  ao.key_column = options_.key_column;
  ao.distinct_column = options_.distinct_column;
  ao.value_column = options_.value_column;
  STRATA_ASSIGN_OR_RETURN(auto agg, WindowAggregator::Create(ao));
  int64_t last_emitted = 0;
  StateHistory h = Collect(snapshot, deltas);
  if (!h.global.empty()) {
    state_codec::Reader r(h.global, "gold state");
    STRATA_RETURN_IF_ERROR(r.Open("GLD2", 1));
    std::string_view blob;
    if (!r.I64(&last_emitted) || !r.Bytes(&blob)) return r.Truncated();
    STRATA_RETURN_IF_ERROR(tracker.Restore(blob));
  }
  for (const auto& [p, part] : h.partitions) {
    STRATA_RETURN_IF_ERROR(agg->Restore(p, part.snapshot, part.deltas, ToMicros(last_emitted)));
  }
  agg->MarkCheckpointed();
  if (options_.top_k > 0) {
    top_k_schema_ = TopKSchema(agg->output_schema());
    top_k_ = std::make_unique<TopKTracker>(top_k_schema_, options_.top_k);
  }
  tracker_ = std::make_unique<WatermarkTracker>(std::move(tracker));
  agg_ = std::move(agg);
  last_emitted_watermark_ms_ = last_emitted;
  return Status::OK();
}

}  // namespace strata
