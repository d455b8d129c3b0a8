#include "pipeline/pipeline.h"

#include "connectors/delta_sink.h"
#include "connectors/delta_source.h"
#include "connectors/kafka_source.h"
#include "event/event_schema.h"
#include "lake/delta/table.h"
#include "pipeline/layers.h"
#include "pipeline/sessions.h"
#include "pipeline/upsert_sink.h"

namespace strata {

namespace {

std::string ShortName(const std::string& table) {
  return table.substr(table.rfind('.') + 1);
}

std::unique_ptr<MicroBatchSink> MakeSink(const std::string& name, const std::string& path,
                                         SchemaPtr schema,
                                         const std::vector<std::string>& partition_by) {
  DeltaSinkOptions o;
  o.table_name = name;
  o.path = path;
  o.schema = std::move(schema);
  o.partition_by = partition_by;
  return std::make_unique<DeltaSink>(std::move(o));
}

Status EnsureTable(const std::string& name, const std::string& path, const SchemaPtr& schema,
                   const std::vector<std::string>& partition_by) {
  auto t = delta::DeltaTable::CreateIfNotExists(path, *schema, partition_by,
                                                {{"delta.checkpointInterval", "10"}}, name);
  return t.ok() ? Status::OK() : t.status().WithContext("table " + name);
}

// Schema evolution for a table written by an older strata: when its columns are a prefix of
// `schema` and the others are nullable, commits the new schema (old files read the added columns
// as nulls). Nothing when the table does not exist or already has the schema.
Status AddMissingColumns(const std::string& name, const std::string& path, const Schema& schema) {
  auto table = delta::DeltaTable::Open(path);
  if (table.status().code() == StatusCode::kNotFound) return Status::OK();
  if (!table.ok()) return table.status().WithContext("table " + name);
  STRATA_ASSIGN_OR_RETURN(auto snapshot, (*table)->LatestSnapshot());
  auto current = snapshot->schema();
  if (!current.ok()) return current.status().WithContext("table " + name);
  if (current->num_fields() >= schema.num_fields()) return Status::OK();
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& want = schema.field(i);
    if (i < current->num_fields()) {
      const Field& have = current->field(i);
      if (have.name != want.name || have.type != want.type) return Status::OK();
    } else if (!want.nullable) {
      return Status::OK();
    }
  }
  delta::Metadata md = snapshot->metadata();
  md.schema_string = schema.ToSparkJson();
  auto txn = (*table)->StartTransaction(snapshot);
  txn->SetMetadata(std::move(md));
  txn->SetOperation("ADD COLUMNS");
  auto v = txn->Commit();
  return v.ok() ? Status::OK() : v.status().WithContext("table " + name + ": adding columns");
}

WatermarkPolicy ToWatermarkPolicy(const WatermarkConfig& rule) {
  return rule.policy == "max" ? WatermarkPolicy::kMax : WatermarkPolicy::kMin;
}

std::vector<std::string> GoldKeyColumns(const GoldConfig& g) {
  std::vector<std::string> keys = {"window_start", "window_end"};
  // A top-K table holds one row per rank: a key that drops out is overwritten (pipeline/top_k.h).
  if (g.top_k > 0) {
    keys.push_back("rank");
  } else if (!g.key_column.empty()) {
    keys.push_back(g.key_column);
  }
  return keys;
}

}  // namespace

SilverOptions SilverOptionsFor(const SilverConfig& c) {
  SilverOptions sv;
  sv.watermark_delay_ms = c.watermark_ms;
  sv.dedup_key = c.dedup_key;
  sv.watermark_policy = ToWatermarkPolicy(c.watermark_rule);
  sv.idle_timeout_ms = c.watermark_rule.idle_timeout_ms;
  sv.max_future_ms = c.max_future_ms;
  for (const auto& f : c.required_fields) sv.field_rules.push_back({f, true, {}});
  for (const auto& [f, values] : c.allowed_values) sv.field_rules.push_back({f, false, values});
  sv.enrichment.pages_path = c.pages_path;
  sv.enrichment.countries_path = c.countries_path;
  sv.event_types = c.event_types;
  sv.expectations = c.expectations;
  return sv;
}

GoldOptions GoldOptionsFor(const GoldConfig& g) {
  GoldOptions go;
  go.watermark_delay_ms = g.watermark_ms;
  go.watermark_policy = ToWatermarkPolicy(g.watermark_rule);
  go.idle_timeout_ms = g.watermark_rule.idle_timeout_ms;
  go.window_ms = g.window_ms;
  go.slide_ms = g.slide_ms;
  go.key_column = g.key_column;
  go.event_type_filter = g.event_type_filter;
  go.top_k = g.top_k;
  go.value_column = g.value_column;
  go.output_mode = g.output_mode == "update" ? GoldOutputMode::kUpdate : GoldOutputMode::kAppend;
  return go;
}

Pipeline::Pipeline(PipelineConfig config, PipelineOptions options)
    : config_(std::move(config)), options_(std::move(options)) {}

Pipeline::~Pipeline() {
  (void)Stop();
}

Result<std::unique_ptr<Pipeline>> Pipeline::Create(const PipelineConfig& config,
                                                   PipelineOptions options) {
  std::unique_ptr<Pipeline> p(new Pipeline(config, std::move(options)));
  STRATA_RETURN_IF_ERROR(p->Build());
  return p;
}

Status Pipeline::Build() {
  const auto& c = config_;
  auto trigger = [&](const LayerConfig& l) {
    Trigger t = l.trigger;
    if (options_.available_now) t.kind = Trigger::Kind::kAvailableNow;
    return t;
  };

  // Bronze: Kafka -> bronze table.
  {
    STRATA_RETURN_IF_ERROR(
        EnsureTable(c.bronze.table, c.bronze.path, BronzeSchema(), c.bronze.partition_by));
    KafkaSourceOptions ko;
    ko.topic = c.source.topic;
    ko.kafka = c.source.kafka;
    ko.starting_offsets = c.source.starting_offsets;
    ko.fail_on_data_loss = c.source.fail_on_data_loss;
    ko.on_cluster_change = c.source.on_cluster_change;
    QueryOptions qo;
    qo.name = ShortName(c.bronze.table);
    qo.checkpoint_dir = c.bronze.checkpoint;
    qo.trigger = trigger(c.bronze);
    qo.limit.max_rows = c.source.max_offsets_per_trigger;
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(MakeSink(c.bronze.table, c.bronze.path, BronzeSchema(), c.bronze.partition_by));
    queries_.push_back(std::make_unique<StreamingQuery>(
        qo, std::make_unique<KafkaSource>(ko, std::make_unique<BronzeDecoder>()),
        std::make_unique<BronzeProcessor>(), std::move(sinks), options_.listener));
  }

  // Silver: bronze -> silver (+ late, quarantine).
  {
    STRATA_RETURN_IF_ERROR(AddMissingColumns(c.silver.table, c.silver.path, *SilverSchema()));
    // Empty dimension tables until someone writes them (enrichment gives nulls meanwhile).
    if (!c.silver.pages_path.empty())
      STRATA_RETURN_IF_ERROR(
          EnsureTable(c.silver.pages_table, c.silver.pages_path, PagesDimensionSchema(), {}));
    if (!c.silver.countries_path.empty())
      STRATA_RETURN_IF_ERROR(EnsureTable(c.silver.countries_table, c.silver.countries_path,
                                         CountriesDimensionSchema(), {}));
    STRATA_RETURN_IF_ERROR(
        EnsureTable(c.silver.table, c.silver.path, SilverSchema(), c.silver.partition_by));
    STRATA_RETURN_IF_ERROR(
        EnsureTable(c.silver.late_table, c.silver.late_path, SilverLateSchema(), {}));
    STRATA_RETURN_IF_ERROR(EnsureTable(c.silver.quarantine_table, c.silver.quarantine_path,
                                       SilverQuarantineSchema(), {}));
    if (!c.silver.expectations.empty())
      STRATA_RETURN_IF_ERROR(
          EnsureTable(c.silver.quality_table, c.silver.quality_path, SilverQualitySchema(), {}));
    DeltaSourceOptions so;
    so.table_name = c.bronze.table;
    so.path = c.bronze.path;
    so.schema = BronzeSchema();
    so.ignore_changes = c.silver.ignore_changes;
    STRATA_ASSIGN_OR_RETURN(auto processor, SilverProcessor::Create(SilverOptionsFor(c.silver)));
    QueryOptions qo;
    qo.name = ShortName(c.silver.table);
    qo.checkpoint_dir = c.silver.checkpoint;
    qo.trigger = trigger(c.silver);
    qo.limit.max_files = c.silver.max_files_per_trigger;
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(MakeSink(c.silver.table, c.silver.path, SilverSchema(), c.silver.partition_by));
    sinks.push_back(MakeSink(c.silver.late_table, c.silver.late_path, SilverLateSchema(), {}));
    sinks.push_back(MakeSink(c.silver.quarantine_table, c.silver.quarantine_path,
                             SilverQuarantineSchema(), {}));
    // The expectations' pass/fail counts: one more output, committed with the batch's txn like
    // the others, so each batch's counts are in the table exactly once.
    if (!c.silver.expectations.empty())
      sinks.push_back(
          MakeSink(c.silver.quality_table, c.silver.quality_path, SilverQualitySchema(), {}));
    queries_.push_back(std::make_unique<StreamingQuery>(
        qo, std::make_unique<DeltaSource>(std::move(so)), std::move(processor), std::move(sinks),
        options_.listener));
  }

  // Gold: silver -> one query per enabled gold table.
  for (const GoldConfig* g : c.EnabledGoldTables()) {
    GoldOptions go = GoldOptionsFor(*g);
    const bool sessions = g->kind == "sessions";
    std::unique_ptr<BatchProcessor> processor;
    SchemaPtr schema;
    if (sessions) {
      SessionOptions sn;
      sn.watermark_delay_ms = go.watermark_delay_ms;
      sn.watermark_policy = go.watermark_policy;
      sn.idle_timeout_ms = go.idle_timeout_ms;
      sn.output_mode = go.output_mode;
      sn.gap_ms = g->gap_ms;
      STRATA_ASSIGN_OR_RETURN(auto sp, SessionProcessor::Create(sn));
      schema = sp->output_schema();
      processor = std::move(sp);
    } else {
      STRATA_ASSIGN_OR_RETURN(auto gp, GoldProcessor::Create(go));
      schema = gp->output_schema();
      processor = std::move(gp);
    }
    STRATA_RETURN_IF_ERROR(EnsureTable(g->table, g->path, schema, g->partition_by));
    DeltaSourceOptions so;
    so.table_name = c.silver.table;
    so.path = c.silver.path;
    so.schema = SilverSchema();
    so.ignore_changes = g->ignore_changes;
    QueryOptions qo;
    qo.name = ShortName(g->table);
    qo.checkpoint_dir = g->checkpoint;
    qo.trigger = trigger(*g);
    qo.limit.max_files = g->max_files_per_trigger;
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    if (go.output_mode == GoldOutputMode::kUpdate) {
      if (!g->partition_by.empty())
        return InvalidArgument(g->table + ": outputMode update needs an unpartitioned table");
      UpsertSinkOptions uo;
      uo.table_name = g->table;
      uo.path = g->path;
      uo.schema = schema;
      uo.key_columns = GoldKeyColumns(*g);
      if (sessions) {
        // Keyed by (session_start, session_id); the processor retracts superseded rows.
        uo.key_columns = {"session_start", "session_id"};
        uo.range_column = "session_start";
      }
      sinks.push_back(std::make_unique<UpsertDeltaSink>(std::move(uo)));
    } else {
      sinks.push_back(MakeSink(g->table, g->path, schema, g->partition_by));
    }
    queries_.push_back(std::make_unique<StreamingQuery>(
        qo, std::make_unique<DeltaSource>(std::move(so)), std::move(processor), std::move(sinks),
        options_.listener));
  }
  return Status::OK();
}

void Pipeline::Start() {
  for (auto& q : queries_) q->Start();
}

Status Pipeline::Stop() {
  for (auto& q : queries_) q->Stop();
  return FirstFailure();
}

Status Pipeline::FirstFailure() const {
  for (const auto& q : queries_) {
    auto v = q->View();
    if (v.state == QueryState::kFailed) return Internal(v.name + ": " + v.message);
  }
  return Status::OK();
}

Status Pipeline::RunAvailableNow() {
  // Every layer at once, as in streaming: silver reads bronze while bronze still writes, and
  // each downstream query finishes once its upstream has finished and it has caught up.
  // queries_ holds bronze, then silver, then the gold queries (which all read silver).
  auto finished = [](StreamingQuery* q) {
    return [q] {
      QueryState s = q->View().state;
      return s == QueryState::kStopped || s == QueryState::kFailed;
    };
  };
  for (size_t i = 1; i < queries_.size(); ++i)
    queries_[i]->SetUpstream(finished(queries_[i == 1 ? 0 : 1].get()));
  for (auto& q : queries_) q->Start();
  Status first;
  for (auto& q : queries_) {
    Status st = q->AwaitTermination();
    if (!st.ok() && first.ok()) first = st;
  }
  return first;
}

std::vector<QueryStatusView> Pipeline::Queries() const {
  std::vector<QueryStatusView> out;
  for (const auto& q : queries_) out.push_back(q->View());
  return out;
}

}  // namespace strata
