#include "pipeline/pipeline.h"

#include <filesystem>

#include "connectors/delta_sink.h"
#include "connectors/delta_source.h"
#include "connectors/kafka_source.h"
#include "event/event_schema.h"
#include "lake/delta/table.h"
#include "pipeline/layers.h"
#include "pipeline/sessions.h"
#include "pipeline/upsert_sink.h"
#include "stream/checkpoint.h"

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
  auto snapshot = (*table)->LatestSnapshot();
  // A log without commits: a process died creating the table; EnsureTable creates it.
  if (snapshot.status().code() == StatusCode::kNotFound) return Status::OK();
  if (!snapshot.ok()) return snapshot.status().WithContext("table " + name);
  auto current = (*snapshot)->schema();
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
  delta::Metadata md = (*snapshot)->metadata();
  md.schema_string = schema.ToSparkJson();
  auto txn = (*table)->StartTransaction(*snapshot);
  txn->SetMetadata(std::move(md));
  txn->SetOperation("ADD COLUMNS");
  auto v = txn->Commit();
  return v.ok() ? Status::OK() : v.status().WithContext("table " + name + ": adding columns");
}

WatermarkPolicy ToWatermarkPolicy(const WatermarkConfig& rule) {
  return rule.policy == "max" ? WatermarkPolicy::kMax : WatermarkPolicy::kMin;
}

// The upsert keys of a window gold table; `partials`: its group-mode table of partial
// aggregates, one row per window, key and source partition (top-K is ranked on read).
std::vector<std::string> GoldKeyColumns(const GoldConfig& g, bool partials) {
  std::vector<std::string> keys = {"window_start", "window_end"};
  // A top-K table holds one row per rank: a key that drops out is overwritten (pipeline/top_k.h).
  if (g.top_k > 0 && !partials) {
    keys.push_back("rank");
  } else if (!g.key_column.empty()) {
    keys.push_back(g.key_column);
  }
  if (partials) keys.push_back(kSourcePartitionColumn);
  return keys;
}

SessionOptions SessionOptionsFor(const GoldConfig& g) {
  GoldOptions go = GoldOptionsFor(g);
  SessionOptions sn;
  sn.watermark_delay_ms = go.watermark_delay_ms;
  sn.watermark_policy = go.watermark_policy;
  sn.idle_timeout_ms = go.idle_timeout_ms;
  sn.output_mode = go.output_mode;
  sn.gap_ms = g.gap_ms;
  return sn;
}

// The schema of gold table `g`'s rows; in group mode its partial aggregates.
Result<SchemaPtr> GoldTableSchema(const GoldConfig& g, bool group_mode) {
  SchemaPtr schema;
  if (g.kind == "sessions") {
    STRATA_ASSIGN_OR_RETURN(auto sp, SessionProcessor::Create(SessionOptionsFor(g)));
    schema = sp->output_schema();
  } else {
    GoldOptions go = GoldOptionsFor(g);
    if (group_mode) go.top_k = 0;
    STRATA_ASSIGN_OR_RETURN(auto gp, GoldProcessor::Create(go));
    schema = gp->output_schema();
  }
  return group_mode ? WithSourcePartition(schema) : schema;
}

// A gold table written in one mode cannot take the other's rows (partials or whole rows).
Status CheckTableSchema(const std::string& name, const std::string& path, const Schema& schema,
                        bool group_mode) {
  STRATA_ASSIGN_OR_RETURN(auto table, delta::DeltaTable::Open(path));
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table->LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(Schema have, snapshot->schema());
  const bool has_partials = have.IndexOf(kSourcePartitionColumn) >= 0;
  if (has_partials == group_mode) return Status::OK();
  return InvalidArgument(
      "table " + name + " at " + path +
      (group_mode ? " was written by a single process; in a consumer group (kafka group.id) gold "
                    "tables hold partial aggregates per source partition: give it a new path "
                    "and checkpoint"
                  : " holds partial aggregates written in a consumer group (column " +
                        std::string(kSourcePartitionColumn) +
                        "): keep kafka group.id, or give it a new path and checkpoint"));
}

// A layer's checkpoint is one query's (single process) or per-partition sub-queries' (group).
Status CheckCheckpointMode(const std::string& name, const std::string& dir, bool group_mode) {
  std::error_code ec;
  if (!group_mode && std::filesystem::exists(dir + "/partitions", ec))
    return InvalidArgument("checkpoint " + dir + " of " + name +
                           " was written in a consumer group (it has partitions/): keep kafka "
                           "group.id (a group of one), or use a new checkpoint and table");
  if (group_mode) {
    Checkpoint single(dir);
    auto committed = single.LatestCommitted();
    if (committed.ok() && *committed >= 0)
      return InvalidArgument("checkpoint " + dir + " of " + name +
                             " was written by a single process: in a consumer group each "
                             "partition keeps its own checkpoint under partitions/; use a new "
                             "checkpoint and table for the group");
  }
  return Status::OK();
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
  if (IsGroupMode(c)) {
    if (options_.available_now)
      return InvalidArgument(
          "a pipeline in a consumer group (kafka group.id) has no end to run "
          "to: available-now is not supported");
    board_ = std::make_shared<AssignmentBoard>();
  }
  {
    // A single process after a group would resume from offsets the group never advanced.
    std::error_code ec;
    if (!group_mode() && std::filesystem::exists(c.bronze.checkpoint + "/members", ec))
      return InvalidArgument(
          "bronze checkpoint " + c.bronze.checkpoint +
          " was last run in a consumer group (it has members/): without kafka group.id this "
          "process would read again what the group ingested; keep group.id (a group of one), or "
          "use a new checkpoint with new tables");
  }

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
    ko.assignment_board = board_;
    ko.record_observer = options_.bronze_observer;
    QueryOptions qo;
    qo.name = ShortName(c.bronze.table);
    qo.checkpoint_dir = c.bronze.checkpoint;
    qo.trigger = LayerTrigger(c.bronze);
    qo.limit.max_rows = c.source.max_offsets_per_trigger;
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(MakeSink(c.bronze.table, c.bronze.path, BronzeSchema(), c.bronze.partition_by));
    queries_.push_back(std::make_unique<StreamingQuery>(
        qo, std::make_unique<KafkaSource>(ko, std::make_unique<BronzeDecoder>()),
        std::make_unique<BronzeProcessor>(), std::move(sinks), options_.listener));
  }

  // Silver: bronze -> silver (+ late, quarantine).
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
  // A checkpoint is either one query's or a directory of per-partition ones: switching between
  // the modes would start the other kind from nothing and write every row again.
  std::vector<std::pair<std::string, std::string>> layers = {
      {ShortName(c.silver.table), c.silver.checkpoint}};
  for (const GoldConfig* g : c.EnabledGoldTables())
    layers.emplace_back(ShortName(g->table), g->checkpoint);
  for (const auto& [name, dir] : layers)
    STRATA_RETURN_IF_ERROR(CheckCheckpointMode(name, dir, group_mode()));

  if (group_mode()) {
    const std::string name = ShortName(c.silver.table);
    PartitionedQueryOptions po;
    po.name = name;
    po.checkpoint_dir = c.silver.checkpoint;
    po.board = board_;
    po.make_query = [this](int32_t p, const std::string& n, const std::string& dir) {
      return MakeSilverQuery(p, n, dir);
    };
    partitioned_.push_back(std::make_unique<PartitionedQuery>(std::move(po)));
  } else {
    STRATA_ASSIGN_OR_RETURN(
        auto q, MakeSilverQuery(std::nullopt, ShortName(c.silver.table), c.silver.checkpoint));
    queries_.push_back(std::move(q));
  }

  // Gold: silver -> one query per enabled gold table.
  for (const GoldConfig* g : c.EnabledGoldTables()) {
    STRATA_ASSIGN_OR_RETURN(SchemaPtr schema, GoldTableSchema(*g, group_mode()));
    STRATA_RETURN_IF_ERROR(EnsureTable(g->table, g->path, schema, g->partition_by));
    STRATA_RETURN_IF_ERROR(CheckTableSchema(g->table, g->path, *schema, group_mode()));
    if (GoldOptionsFor(*g).output_mode == GoldOutputMode::kUpdate && !g->partition_by.empty())
      return InvalidArgument(g->table + ": outputMode update needs an unpartitioned table");
    if (group_mode()) {
      PartitionedQueryOptions po;
      po.name = ShortName(g->table);
      po.checkpoint_dir = g->checkpoint;
      po.board = board_;
      po.make_query = [this, g](int32_t p, const std::string& n, const std::string& dir) {
        return MakeGoldQuery(*g, p, n, dir);
      };
      partitioned_.push_back(std::make_unique<PartitionedQuery>(std::move(po)));
    } else {
      STRATA_ASSIGN_OR_RETURN(auto q,
                              MakeGoldQuery(*g, std::nullopt, ShortName(g->table), g->checkpoint));
      queries_.push_back(std::move(q));
    }
  }
  return Status::OK();
}

Result<std::unique_ptr<StreamingQuery>> Pipeline::MakeSilverQuery(
    std::optional<int32_t> partition, const std::string& name,
    const std::string& checkpoint) const {
  const auto& c = config_;
  DeltaSourceOptions so;
  so.table_name = c.bronze.table;
  so.path = c.bronze.path;
  so.schema = BronzeSchema();
  so.ignore_changes = c.silver.ignore_changes;
  so.partition_filter = partition;
  STRATA_ASSIGN_OR_RETURN(auto processor, SilverProcessor::Create(SilverOptionsFor(c.silver)));
  QueryOptions qo;
  qo.name = name;
  qo.checkpoint_dir = checkpoint;
  qo.trigger = LayerTrigger(c.silver);
  qo.limit.max_files = c.silver.max_files_per_trigger;
  std::vector<std::unique_ptr<MicroBatchSink>> sinks;
  sinks.push_back(MakeSink(c.silver.table, c.silver.path, SilverSchema(), c.silver.partition_by));
  sinks.push_back(MakeSink(c.silver.late_table, c.silver.late_path, SilverLateSchema(), {}));
  sinks.push_back(
      MakeSink(c.silver.quarantine_table, c.silver.quarantine_path, SilverQuarantineSchema(), {}));
  // The expectations' pass/fail counts: one more output, committed with the batch's txn like
  // the others, so each batch's counts are in the table exactly once.
  if (!c.silver.expectations.empty())
    sinks.push_back(
        MakeSink(c.silver.quality_table, c.silver.quality_path, SilverQualitySchema(), {}));
  return std::make_unique<StreamingQuery>(qo, std::make_unique<DeltaSource>(std::move(so)),
                                          std::move(processor), std::move(sinks),
                                          options_.listener);
}

Result<std::unique_ptr<StreamingQuery>> Pipeline::MakeGoldQuery(
    const GoldConfig& g, std::optional<int32_t> partition, const std::string& name,
    const std::string& checkpoint) const {
  const auto& c = config_;
  const bool partials = partition.has_value();
  GoldOptions go = GoldOptionsFor(g);
  // Partial counts cannot be ranked: every key's partial is kept, and reads rank the merged
  // counts (GroupGoldSelect).
  if (partials) go.top_k = 0;
  const bool sessions = g.kind == "sessions";
  std::unique_ptr<BatchProcessor> processor;
  SchemaPtr schema;
  // The silver columns the processor reads, and the one the query's latency is measured from.
  std::vector<std::string> input_columns;
  if (sessions) {
    STRATA_ASSIGN_OR_RETURN(auto sp, SessionProcessor::Create(SessionOptionsFor(g)));
    schema = sp->output_schema();
    input_columns = sp->InputColumns();
    processor = std::move(sp);
  } else {
    STRATA_ASSIGN_OR_RETURN(auto gp, GoldProcessor::Create(go));
    schema = gp->output_schema();
    input_columns = gp->InputColumns();
    processor = std::move(gp);
  }
  if (partials) {
    schema = WithSourcePartition(schema);
    processor = TagWithPartition(std::move(processor), *partition);
  }
  DeltaSourceOptions so;
  so.table_name = c.silver.table;
  so.path = c.silver.path;
  QueryOptions qo;
  input_columns.push_back(qo.latency_column);
  so.schema = std::make_shared<Schema>(SilverSchema()->Project(input_columns));
  so.ignore_changes = g.ignore_changes;
  so.partition_filter = partition;
  qo.name = name;
  qo.checkpoint_dir = checkpoint;
  qo.trigger = LayerTrigger(g);
  qo.limit.max_files = g.max_files_per_trigger;
  std::vector<std::unique_ptr<MicroBatchSink>> sinks;
  if (go.output_mode == GoldOutputMode::kUpdate) {
    UpsertSinkOptions uo;
    uo.table_name = g.table;
    uo.path = g.path;
    uo.schema = schema;
    uo.key_columns = GoldKeyColumns(g, partials);
    if (sessions) {
      // Keyed by (session_start, session_id); the processor retracts superseded rows.
      uo.key_columns = {"session_start", "session_id"};
      if (partials) uo.key_columns.push_back(kSourcePartitionColumn);
      uo.range_column = "session_start";
    }
    sinks.push_back(std::make_unique<UpsertDeltaSink>(std::move(uo)));
  } else {
    sinks.push_back(MakeSink(g.table, g.path, schema, g.partition_by));
  }
  return std::make_unique<StreamingQuery>(qo, std::make_unique<DeltaSource>(std::move(so)),
                                          std::move(processor), std::move(sinks),
                                          options_.listener);
}

Trigger Pipeline::LayerTrigger(const LayerConfig& layer) const {
  Trigger t = layer.trigger;
  if (options_.available_now) t.kind = Trigger::Kind::kAvailableNow;
  return t;
}

void Pipeline::Start() {
  for (auto& q : queries_) q->Start();
  for (auto& q : partitioned_) q->Start();
  reclaimer_.Start();
}

Status Pipeline::Stop() {
  // Bronze first: leaving the group moves this process's partitions to the others while the
  // partitioned queries finish their batches.
  for (auto& q : queries_) q->Stop();
  for (auto& q : partitioned_) q->Stop();
  reclaimer_.Stop();
  return FirstFailure();
}

Status Pipeline::FirstFailure() const {
  for (const auto& v : Queries()) {
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
  for (const auto& q : partitioned_) {
    auto views = q->Views();
    out.insert(out.end(), std::make_move_iterator(views.begin()),
               std::make_move_iterator(views.end()));
  }
  return out;
}

bool IsGroupMode(const PipelineConfig& config) {
  auto it = config.source.kafka.find("group.id");
  return it != config.source.kafka.end() && !it->second.empty();
}

}  // namespace strata

namespace strata {

std::optional<int64_t> GroupGoldWatermark(const PipelineConfig& config, const GoldConfig& g) {
  // The partitions that matter: those silver has a directory for (every owned partition gets
  // one when its sub-query starts). One whose silver committed batches but saw no event time is
  // empty and does not hold the others back; any other must have passed the window in gold.
  std::set<int32_t> partitions;
  for (int32_t p : PartitionDirs(config.silver.checkpoint)) partitions.insert(p);
  for (int32_t p : PartitionDirs(g.checkpoint)) partitions.insert(p);
  std::optional<int64_t> low;
  for (int32_t p : partitions) {
    const std::string silver_dir = PartitionCheckpointDir(config.silver.checkpoint, p);
    Checkpoint silver(silver_dir);
    auto committed = silver.LatestCommitted();
    if (committed.ok() && *committed >= 0) {
      auto batch = silver.LoadCommitted(*committed);
      if (batch.ok() && batch->next_watermark_ms == 0) continue;  // no event seen
    }
    auto wm = CommittedPartitionWatermark(g.checkpoint, p);
    if (!wm.ok() || *wm <= 0) return std::nullopt;
    low = low ? std::min(*low, *wm) : *wm;
  }
  return low;
}

std::string GroupGoldSelect(const GoldConfig& g, const std::string& partials_view,
                            std::optional<int64_t> group_watermark_ms) {
  const bool append = g.output_mode != "update";
  // Timestamps are compared in microseconds (epoch_us), the table's unit.
  const std::string final_expr =
      group_watermark_ms
          ? "(epoch_us(window_end) <= " + std::to_string(*group_watermark_ms * 1000) + ")"
          : "false";
  if (g.kind == "sessions") {
    // A session's events are one user's, so one partition's: its row is whole, and its own
    // partition's watermark decides is_final.
    return "SELECT * EXCLUDE (" + std::string(kSourcePartitionColumn) + ") FROM " + partials_view;
  }
  const std::string key = g.key_column.empty() ? "" : duck::QuoteIdentifier(g.key_column);
  std::string merged = "SELECT window_start, window_end, ";
  if (!key.empty()) merged += key + ", ";
  merged +=
      "CAST(sum(event_count) AS BIGINT) AS event_count, "
      "CAST(round(hll_merge_estimate(users_sketch)) AS BIGINT) AS unique_users, "
      "hll_merge(users_sketch) AS users_sketch, " +
      final_expr + " AS is_final";
  if (!g.value_column.empty()) {
    for (const std::string agg : {"sum", "min", "max"}) {
      const std::string col = duck::QuoteIdentifier(agg + "_" + g.value_column);
      merged += ", CAST(" + agg + "(" + col + ") AS BIGINT) AS " + col;
    }
  }
  merged += " FROM " + partials_view + " GROUP BY window_start, window_end";
  if (!key.empty()) merged += ", " + key;
  if (g.top_k > 0) {
    // Rank the merged counts: most events first, ties by key (bytewise, null first).
    merged =
        "SELECT *, CAST(row_number() OVER (PARTITION BY window_start, window_end ORDER BY "
        "event_count DESC, " +
        key + " ASC NULLS FIRST) AS INTEGER) AS rank FROM (" + merged + ")";
    merged = "SELECT * FROM (" + merged + ") WHERE rank <= " + std::to_string(g.top_k);
  }
  if (append) merged = "SELECT * FROM (" + merged + ") WHERE is_final";
  return merged;
}

std::map<std::string, sql::MergedView> GroupGoldViews(const PipelineConfig& config) {
  std::map<std::string, sql::MergedView> out;
  if (!IsGroupMode(config)) return out;
  auto shared = std::make_shared<const PipelineConfig>(config);
  for (const GoldConfig* g : shared->EnabledGoldTables()) {
    sql::MergedView view;
    view.partials_name = g->table + "_partials";
    view.select_sql = [shared, g](const std::string& partials) {
      return GroupGoldSelect(*g, partials, GroupGoldWatermark(*shared, *g));
    };
    out[g->table] = std::move(view);
  }
  return out;
}

}  // namespace strata
