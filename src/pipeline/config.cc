#include "pipeline/config.h"

#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "core/file_util.h"
#include "event/event_schema.h"
#include "pipeline/layers.h"

namespace strata {

namespace {

namespace fs = std::filesystem;

// Reads one TOML table strictly: every key must be consumed, or Finish() names the first
// unknown one.
class TableReader {
 public:
  TableReader(const toml::table* table, std::string prefix)
      : table_(table), prefix_(std::move(prefix)) {}

  Status String(const char* key, std::string* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_string()) return TypeError(key, "a string");
    *out = n->as_string()->get();
    return Status::OK();
  }
  Status Int(const char* key, int64_t* out, int64_t min_value = 0) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_integer()) return TypeError(key, "an integer");
    int64_t v = n->as_integer()->get();
    if (v < min_value)
      return InvalidArgument(Name(key) + ": must be at least " + std::to_string(min_value));
    *out = v;
    return Status::OK();
  }
  Status Bool(const char* key, bool* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_boolean()) return TypeError(key, "true or false");
    *out = n->as_boolean()->get();
    return Status::OK();
  }
  Status Duration(const char* key, int64_t* out_ms) {
    std::string text;
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_string()) return TypeError(key, "a duration string such as \"10 seconds\"");
    auto ms = ParseDurationMs(n->as_string()->get());
    if (!ms.ok()) return InvalidArgument(Name(key) + ": " + ms.status().message());
    *out_ms = *ms;
    return Status::OK();
  }
  Status StringList(const char* key, std::vector<std::string>* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_array()) return TypeError(key, "an array of strings");
    out->clear();
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) return TypeError(key, "an array of strings");
      out->push_back(e.as_string()->get());
    }
    return Status::OK();
  }
  Status OneOf(const char* key, std::string* out, std::initializer_list<const char*> allowed) {
    STRATA_RETURN_IF_ERROR(String(key, out));
    for (const char* a : allowed)
      if (*out == a) return Status::OK();
    std::string list;
    for (const char* a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
    return InvalidArgument(Name(key) + ": '" + *out + "' is not one of " + list);
  }
  // A nested table [prefix.key], or nullptr when absent; InvalidArgument when `key` is not a
  // table.
  Result<const toml::table*> Sub(const char* key) {
    const toml::node* n = Take(key);
    if (!n) return static_cast<const toml::table*>(nullptr);
    if (!n->is_table()) return TypeError(key, "a table");
    return n->as_table();
  }
  // An array of tables [[prefix.key]], or nullptr when absent.
  Result<const toml::array*> TableArray(const char* key) {
    const toml::node* n = Take(key);
    if (!n) return static_cast<const toml::array*>(nullptr);
    if (!n->is_array_of_tables()) return TypeError(key, "[[tables]]");
    return n->as_array();
  }
  bool Has(const char* key) const { return table_ && table_->get(key) != nullptr; }
  Status Finish() const {
    if (!table_) return Status::OK();
    for (const auto& [k, v] : *table_) {
      if (!used_.count(std::string(k.str())))
        return InvalidArgument("unknown key '" + Name(std::string(k.str()).c_str()) + "'");
    }
    return Status::OK();
  }
  std::string Name(const char* key) const { return prefix_ + "." + key; }

 private:
  const toml::node* Take(const char* key) {
    if (!table_) return nullptr;
    used_.insert(key);
    return table_->get(key);
  }
  Status TypeError(const char* key, const char* expected) const {
    return InvalidArgument(Name(key) + ": expected " + expected);
  }
  const toml::table* table_;
  std::string prefix_;
  std::set<std::string> used_;
};

// Flattens nested tables into dotted keys, so that both `"security.protocol" = ...` inside
// [kafka] and `kafka.security.protocol = ...` at the top level work.
Status FlattenKafka(const toml::table& t, const std::string& prefix,
                    std::map<std::string, std::string>* out) {
  for (const auto& [k, v] : t) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (v.is_table()) {
      STRATA_RETURN_IF_ERROR(FlattenKafka(*v.as_table(), key, out));
    } else if (v.is_string()) {
      (*out)[key] = v.as_string()->get();
    } else if (v.is_integer()) {
      (*out)[key] = std::to_string(v.as_integer()->get());
    } else if (v.is_boolean()) {
      (*out)[key] = v.as_boolean()->get() ? "true" : "false";
    } else {
      return InvalidArgument("kafka." + key + ": expected a string, integer or boolean");
    }
  }
  return Status::OK();
}

// toml++ reports syntax errors by exception in this build; turn them into a Status here.
Result<toml::table> ParseToml(const std::string& text, const std::string& source_name) {
  try {
    return toml::parse(text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ":" << e.source().begin.line << ": " << e.description();
    return InvalidArgument(msg.str());
  }
}

Result<std::map<std::string, std::string>> LoadSecretsFile(const std::string& path) {
  std::map<std::string, std::string> out;
  if (path.empty()) return out;
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  auto parsed = ParseToml(text, path);
  if (!parsed.ok()) return parsed.status().WithContext("secrets file");
  for (const auto& [k, v] : *parsed) {
    if (!v.is_string())
      return InvalidArgument("secrets file " + path + ": " + std::string(k.str()) +
                             " must be a string");
    out[std::string(k.str())] = v.as_string()->get();
  }
  return out;
}

// Replaces every ${secret:NAME} in `value`. Sets *secret when any was found.
Result<std::string> ResolveSecrets(const std::string& key, const std::string& value,
                                   const std::map<std::string, std::string>& file_secrets,
                                   bool* secret) {
  std::string out;
  size_t pos = 0;
  while (true) {
    size_t b = value.find("${secret:", pos);
    if (b == std::string::npos) break;
    size_t e = value.find('}', b);
    if (e == std::string::npos)
      return InvalidArgument("kafka." + key + ": unterminated ${secret:...}");
    std::string name = value.substr(b + 9, e - b - 9);
    out += value.substr(pos, b - pos);
    if (const char* env = std::getenv(name.c_str())) {
      out += env;
    } else if (auto it = file_secrets.find(name); it != file_secrets.end()) {
      out += it->second;
    } else {
      return InvalidArgument("kafka." + key + ": secret '" + name +
                             "' is not set (define the environment variable " + name +
                             " or put it in pipeline.secrets_file)");
    }
    *secret = true;
    pos = e + 1;
  }
  out += value.substr(pos);
  return out;
}

std::string Resolve(const std::string& base, const std::string& p) {
  if (p.empty() || fs::path(p).is_absolute()) return p;
  return (fs::path(base) / p).lexically_normal().string();
}

Status ReadLayer(TableReader& r, LayerConfig* layer) {
  STRATA_RETURN_IF_ERROR(r.String("table", &layer->table));
  STRATA_RETURN_IF_ERROR(r.Bool("ignoreChanges", &layer->ignore_changes));
  STRATA_RETURN_IF_ERROR(r.String("path", &layer->path));
  STRATA_RETURN_IF_ERROR(r.String("checkpointLocation", &layer->checkpoint));
  std::string trigger;
  STRATA_RETURN_IF_ERROR(r.String("trigger", &trigger));
  if (trigger == "availableNow") {
    layer->trigger.kind = Trigger::Kind::kAvailableNow;
  } else if (!trigger.empty()) {
    auto ms = ParseDurationMs(trigger);
    if (!ms.ok()) return InvalidArgument(r.Name("trigger") + ": " + ms.status().message());
    layer->trigger.kind = Trigger::Kind::kProcessingTime;
    layer->trigger.interval_ms = *ms;
  }
  STRATA_RETURN_IF_ERROR(r.StringList("partitionBy", &layer->partition_by));
  if (layer->table.empty()) return InvalidArgument(r.Name("table") + ": must not be empty");
  if (std::count(layer->table.begin(), layer->table.end(), '.') != 2)
    return InvalidArgument(r.Name("table") + ": '" + layer->table +
                           "' is not a catalog.schema.table name");
  return Status::OK();
}

// String fields of the event that validation rules may name.
constexpr const char* kValidatedFields[] = {"event_id", "user_id",  "session_id",  "event_type",
                                            "page_url", "referrer", "device_type", "country"};

Status ReadWatermarkRule(TableReader& r, WatermarkConfig* rule) {
  STRATA_RETURN_IF_ERROR(r.OneOf("watermarkPolicy", &rule->policy, {"min", "max"}));
  STRATA_RETURN_IF_ERROR(r.Duration("idleTimeout", &rule->idle_timeout_ms));
  return Status::OK();
}

// The keys of one gold table, [gold] or [gold.<name>]; `g` holds the defaults.
Status ReadGold(TableReader& r, GoldConfig* g) {
  STRATA_RETURN_IF_ERROR(r.Bool("enabled", &g->enabled));
  STRATA_RETURN_IF_ERROR(ReadLayer(r, g));
  STRATA_RETURN_IF_ERROR(r.Duration("watermark", &g->watermark_ms));
  STRATA_RETURN_IF_ERROR(ReadWatermarkRule(r, &g->watermark_rule));
  // The kind is fixed by the section; `kind` may only restate it.
  std::string kind = g->kind;
  STRATA_RETURN_IF_ERROR(r.OneOf("kind", &kind, {"window", "sessions"}));
  if (kind != g->kind)
    return InvalidArgument(r.Name("kind") + ": this table is of kind '" + g->kind +
                           "' (only [gold.sessions] is a session table)");
  if (g->kind == "sessions") {
    for (const char* key : {"window", "slide", "groupBy", "eventType", "valueColumn"})
      if (r.Has(key))
        return InvalidArgument(r.Name(key) + ": not a key of a session table (use gap)");
    STRATA_RETURN_IF_ERROR(r.Duration("gap", &g->gap_ms));
    if (g->gap_ms <= 0) return InvalidArgument(r.Name("gap") + ": must be positive");
  } else if (r.Has("gap")) {
    return InvalidArgument(r.Name("gap") + ": only for kind = \"sessions\"");
  }
  if (r.Has("window")) {
    STRATA_RETURN_IF_ERROR(r.Duration("window", &g->window_ms));
    g->slide_ms = g->window_ms;
  }
  STRATA_RETURN_IF_ERROR(r.Duration("slide", &g->slide_ms));
  // What a window table aggregates: the group key and value columns must be silver's.
  const Schema& silver = *SilverSchema();
  auto is_column = [&silver](const std::string& name, TypeId type) {
    const int i = silver.IndexOf(name);
    return i >= 0 && silver.field(i).type == type;
  };
  STRATA_RETURN_IF_ERROR(r.String("groupBy", &g->key_column));
  if (!g->key_column.empty() && !is_column(g->key_column, TypeId::kString))
    return InvalidArgument(r.Name("groupBy") + ": '" + g->key_column +
                           "' is not a string column of silver");
  STRATA_RETURN_IF_ERROR(r.String("eventType", &g->event_type_filter));
  STRATA_RETURN_IF_ERROR(r.String("valueColumn", &g->value_column));
  if (!g->value_column.empty() && !is_column(g->value_column, TypeId::kInt64))
    return InvalidArgument(r.Name("valueColumn") + ": '" + g->value_column +
                           "' is not a bigint column of silver");
  STRATA_RETURN_IF_ERROR(r.OneOf("outputMode", &g->output_mode, {"append", "update"}));
  STRATA_RETURN_IF_ERROR(r.Int("maxFilesPerTrigger", &g->max_files_per_trigger, 1));
  STRATA_RETURN_IF_ERROR(r.Int("topK", &g->top_k, 0));
  if (g->top_k > 0 && g->kind == "sessions")
    return InvalidArgument(r.Name("topK") + ": not a key of a session table");
  if (g->top_k > 0 && g->key_column.empty())
    return InvalidArgument(r.Name("topK") + ": the table has no key column to rank");
  if (g->window_ms <= 0) return InvalidArgument(r.Name("window") + ": must be positive");
  if (g->slide_ms <= 0 || g->slide_ms > g->window_ms || g->window_ms % g->slide_ms != 0)
    return InvalidArgument(r.Name("slide") +
                           ": must be positive, at most the window, and divide it");
  return Status::OK();
}

// The gold tables besides [gold], with their defaults (docs/tables.md).
std::vector<GoldConfig> DefaultGoldTables() {
  std::vector<GoldConfig> out(4);
  out[0].name = "active_users_per_minute";
  out[0].table = "catalog.streaming.gold_active_users_per_minute";
  out[0].key_column = "";
  out[1].name = "active_users_5m";
  out[1].table = "catalog.streaming.gold_active_users_5m";
  out[1].key_column = "";
  out[1].window_ms = 5 * 60'000;
  out[1].slide_ms = 60'000;
  out[2].name = "page_views_per_minute";
  out[2].table = "catalog.streaming.gold_page_views_per_minute";
  out[2].key_column = "page_url";
  out[2].event_type_filter = "page_view";
  // Off unless its section is present (the demo turns it on).
  out[3].name = "sessions";
  out[3].table = "catalog.streaming.gold_sessions";
  out[3].kind = "sessions";
  out[3].enabled = false;
  GoldConfig& top = out.emplace_back();
  top.name = "top_pages";
  top.table = "catalog.streaming.gold_top_pages_per_minute";
  top.key_column = "page_url";
  top.event_type_filter = "page_view";
  top.top_k = 10;
  return out;
}

const toml::table* SubTable(const toml::table& root, const char* key, Status* st) {
  const toml::node* n = root.get(key);
  if (!n) return nullptr;
  if (!n->is_table())
    *st = InvalidArgument(std::string(key) + ": expected a table ([" + key + "])");
  return n->as_table();
}

}  // namespace

std::string TablePathFor(const std::string& data_dir, const std::string& table_name) {
  fs::path p(data_dir);
  std::stringstream ss(table_name);
  std::string part;
  while (std::getline(ss, part, '.')) p /= part;
  return p.lexically_normal().string();
}

std::map<std::string, std::string> PipelineConfig::Tables() const {
  std::map<std::string, std::string> out = {{bronze.table, bronze.path},
                                            {silver.table, silver.path},
                                            {silver.late_table, silver.late_path},
                                            {silver.quarantine_table, silver.quarantine_path},
                                            {gold.table, gold.path}};
  for (const auto& g : gold_tables)
    if (g.enabled) out[g.table] = g.path;
  if (!silver.pages_table.empty()) out[silver.pages_table] = silver.pages_path;
  if (!silver.countries_table.empty()) out[silver.countries_table] = silver.countries_path;
  out[silver.quality_table] = silver.quality_path;
  out[ProgressTableName()] = TablePathFor(data_dir, ProgressTableName());
  out[SchemaDriftTableName()] = TablePathFor(data_dir, SchemaDriftTableName());
  return out;
}

std::string PipelineConfig::ProgressTableName() const {
  return bronze.table.substr(0, bronze.table.rfind('.') + 1) + name + "_progress";
}

std::string PipelineConfig::SchemaDriftTableName() const {
  return bronze.table + "_schema_drift";
}

std::vector<const GoldConfig*> PipelineConfig::EnabledGoldTables() const {
  std::vector<const GoldConfig*> out;
  if (gold.enabled) out.push_back(&gold);
  for (const auto& g : gold_tables)
    if (g.enabled) out.push_back(&g);
  return out;
}

std::map<std::string, std::string> PipelineConfig::RedactedKafka() const {
  auto out = source.kafka;
  for (const auto& k : source.secret_keys) out[k] = "***";
  for (auto& [k, v] : out)
    if (k.find("password") != std::string::npos || k.find("jaas") != std::string::npos) v = "***";
  return out;
}

Result<PipelineConfig> ParsePipelineConfig(const std::string& toml_text,
                                           const std::string& source_name) {
  STRATA_ASSIGN_OR_RETURN(const toml::table root, ParseToml(toml_text, source_name));
  PipelineConfig c;
  c.bronze.table = "catalog.streaming.bronze_clickstream";
  c.bronze.trigger.interval_ms = 10'000;
  c.bronze.partition_by = {"event_date"};
  c.silver.table = "catalog.streaming.silver_clickstream";
  c.silver.trigger.interval_ms = 10'000;
  c.silver.partition_by = {"event_date"};
  c.gold.table = "catalog.streaming.gold_events_per_minute";
  c.gold.trigger.interval_ms = 30'000;

  for (const auto& [k, v] : root) {
    static const std::set<std::string> kSections = {"pipeline", "kafka",      "source",
                                                    "bronze",   "silver",     "gold",
                                                    "server",   "monitoring", "alerts"};
    if (!kSections.count(std::string(k.str())))
      return InvalidArgument(source_name + ": unknown section or key '" + std::string(k.str()) +
                             "'");
  }
  Status st;
  std::string secrets_file;
  {
    TableReader r(SubTable(root, "pipeline", &st), "pipeline");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(r.String("name", &c.name));
    STRATA_RETURN_IF_ERROR(r.String("data_dir", &c.data_dir));
    STRATA_RETURN_IF_ERROR(r.String("secrets_file", &secrets_file));
    STRATA_RETURN_IF_ERROR(r.Finish());
  }
  {
    const toml::table* kafka = SubTable(root, "kafka", &st);
    STRATA_RETURN_IF_ERROR(st);
    std::map<std::string, std::string> raw;
    if (kafka) STRATA_RETURN_IF_ERROR(FlattenKafka(*kafka, "", &raw));
    STRATA_ASSIGN_OR_RETURN(auto file_secrets, LoadSecretsFile(secrets_file));
    for (const auto& [k, v] : raw) {
      bool secret = false;
      STRATA_ASSIGN_OR_RETURN(std::string resolved, ResolveSecrets(k, v, file_secrets, &secret));
      c.source.kafka[k] = std::move(resolved);
      if (secret) c.source.secret_keys.insert(k);
    }
  }
  {
    TableReader r(SubTable(root, "source", &st), "source");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(r.String("topic", &c.source.topic));
    STRATA_RETURN_IF_ERROR(r.String("startingOffsets", &c.source.starting_offsets));
    STRATA_RETURN_IF_ERROR(r.Int("maxOffsetsPerTrigger", &c.source.max_offsets_per_trigger, 1));
    STRATA_RETURN_IF_ERROR(r.Bool("failOnDataLoss", &c.source.fail_on_data_loss));
    STRATA_RETURN_IF_ERROR(
        r.OneOf("onClusterChange", &c.source.on_cluster_change, {"fail", "reset"}));
    STRATA_RETURN_IF_ERROR(r.Finish());
    const std::string& so = c.source.starting_offsets;
    if (so != "earliest" && so != "latest" && (so.empty() || so[0] != '{'))
      return InvalidArgument("source.startingOffsets: '" + so +
                             "' is not earliest, latest or a JSON object of offsets");
    if (c.source.topic.empty()) return InvalidArgument("source.topic: must not be empty");
  }
  {
    TableReader r(SubTable(root, "bronze", &st), "bronze");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(ReadLayer(r, &c.bronze));
    if (c.bronze.ignore_changes)
      return InvalidArgument("bronze.ignoreChanges: bronze reads Kafka, not a Delta table");
    STRATA_RETURN_IF_ERROR(r.Finish());
  }
  {
    TableReader r(SubTable(root, "silver", &st), "silver");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(ReadLayer(r, &c.silver));
    STRATA_RETURN_IF_ERROR(r.Duration("watermark", &c.silver.watermark_ms));
    STRATA_RETURN_IF_ERROR(r.String("dedupKey", &c.silver.dedup_key));
    STRATA_RETURN_IF_ERROR(r.StringList("eventTypes", &c.silver.event_types));
    STRATA_RETURN_IF_ERROR(r.String("lateTable", &c.silver.late_table));
    STRATA_RETURN_IF_ERROR(r.String("quarantineTable", &c.silver.quarantine_table));
    STRATA_RETURN_IF_ERROR(r.Int("maxFilesPerTrigger", &c.silver.max_files_per_trigger, 1));
    STRATA_RETURN_IF_ERROR(ReadWatermarkRule(r, &c.silver.watermark_rule));
    STRATA_RETURN_IF_ERROR(r.StringList("requiredFields", &c.silver.required_fields));
    STRATA_RETURN_IF_ERROR(r.Duration("maxFutureTime", &c.silver.max_future_ms));
    STRATA_RETURN_IF_ERROR(r.String("pagesTable", &c.silver.pages_table));
    STRATA_RETURN_IF_ERROR(r.String("countriesTable", &c.silver.countries_table));
    STRATA_RETURN_IF_ERROR(r.String("qualityTable", &c.silver.quality_table));
    STRATA_ASSIGN_OR_RETURN(const toml::array* expectations, r.TableArray("expectations"));
    if (expectations) {
      for (size_t i = 0; i < expectations->size(); ++i) {
        TableReader er((*expectations)[i].as_table(),
                       "silver.expectations[" + std::to_string(i) + "]");
        ExpectationConfig e;
        STRATA_RETURN_IF_ERROR(er.String("name", &e.name));
        STRATA_RETURN_IF_ERROR(er.String("expr", &e.expr));
        STRATA_RETURN_IF_ERROR(er.String("action", &e.action));
        STRATA_RETURN_IF_ERROR(er.Finish());
        c.silver.expectations.push_back(std::move(e));
      }
      // Compiled here only to report errors with their key; SilverProcessor compiles again.
      STRATA_RETURN_IF_ERROR(
          CompileExpectations(c.silver.expectations, BronzeSchema(), "silver.expectations")
              .status());
    }
    STRATA_ASSIGN_OR_RETURN(const toml::table* allowed, r.Sub("allowedValues"));
    if (allowed) {
      TableReader ar(allowed, "silver.allowedValues");
      for (const char* f : kValidatedFields) {
        std::vector<std::string> values;
        if (!ar.Has(f)) continue;
        STRATA_RETURN_IF_ERROR(ar.StringList(f, &values));
        c.silver.allowed_values[f] = std::move(values);
      }
      STRATA_RETURN_IF_ERROR(ar.Finish());
    }
    STRATA_RETURN_IF_ERROR(r.Finish());
    for (const auto& f : c.silver.required_fields) {
      if (std::find(std::begin(kValidatedFields), std::end(kValidatedFields), f) ==
          std::end(kValidatedFields))
        return InvalidArgument("silver.requiredFields: '" + f +
                               "' is not a string field of the event");
    }
    static const std::set<std::string> kDedupKeys = {"event_id", "user_id", "session_id"};
    if (!kDedupKeys.count(c.silver.dedup_key))
      return InvalidArgument("silver.dedupKey: '" + c.silver.dedup_key +
                             "' is not a string column of the event (event_id, user_id, "
                             "session_id)");
    if (c.silver.event_types.empty())
      return InvalidArgument("silver.eventTypes: must list at least one event type");
  }
  {
    TableReader r(SubTable(root, "gold", &st), "gold");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(ReadGold(r, &c.gold));
    c.gold.name = "";
    c.gold_tables = DefaultGoldTables();
    // Each table inherits the [gold] rules unless its section overrides them.
    auto inherit = [&c](GoldConfig& g) {
      g.trigger = c.gold.trigger;
      g.watermark_ms = c.gold.watermark_ms;
      g.watermark_rule = c.gold.watermark_rule;
      g.output_mode = c.gold.output_mode;
      g.max_files_per_trigger = c.gold.max_files_per_trigger;
    };
    for (auto& g : c.gold_tables) {
      inherit(g);
      STRATA_ASSIGN_OR_RETURN(const toml::table* sub, r.Sub(g.name.c_str()));
      if (sub && g.kind == "sessions") g.enabled = true;  // the section turns it on
      TableReader gr(sub, "gold." + g.name);
      STRATA_RETURN_IF_ERROR(ReadGold(gr, &g));
      STRATA_RETURN_IF_ERROR(gr.Finish());
    }
    // Any other [gold.<name>] section is a window table of the user's own, by default
    // catalog.streaming.gold_<name>, aggregating like [gold] unless it says otherwise.
    if (const toml::table* gold_root = SubTable(root, "gold", &st)) {
      for (const auto& [key, node] : *gold_root) {
        const std::string name(key.str());
        if (!node.is_table() || std::any_of(c.gold_tables.begin(), c.gold_tables.end(),
                                            [&](const GoldConfig& g) { return g.name == name; }))
          continue;
        const bool plain = !name.empty() && std::all_of(name.begin(), name.end(), [](char ch) {
          return std::islower(static_cast<unsigned char>(ch)) ||
                 std::isdigit(static_cast<unsigned char>(ch)) || ch == '_';
        });
        if (!plain)
          return InvalidArgument("gold." + name +
                                 ": a gold table's section name may hold only a-z, 0-9 and _");
        GoldConfig g;
        g.name = name;
        g.table = "catalog.streaming.gold_" + name;
        g.window_ms = c.gold.window_ms;
        g.slide_ms = c.gold.slide_ms;
        g.key_column = c.gold.key_column;
        inherit(g);
        STRATA_ASSIGN_OR_RETURN(const toml::table* sub, r.Sub(name.c_str()));
        TableReader gr(sub, "gold." + name);
        STRATA_RETURN_IF_ERROR(ReadGold(gr, &g));
        STRATA_RETURN_IF_ERROR(gr.Finish());
        c.gold_tables.push_back(std::move(g));
      }
    }
    STRATA_RETURN_IF_ERROR(r.Finish());
  }
  {
    TableReader r(SubTable(root, "server", &st), "server");
    STRATA_RETURN_IF_ERROR(st);
    STRATA_RETURN_IF_ERROR(r.String("listen", &c.server.listen));
    STRATA_RETURN_IF_ERROR(r.String("authToken", &c.server.auth_token));
    STRATA_RETURN_IF_ERROR(r.Finish());
  }

  // Derived names and paths.
  if (c.silver.late_table.empty()) c.silver.late_table = c.silver.table + "_late";
  if (c.silver.quarantine_table.empty()) c.silver.quarantine_table = c.silver.table + "_quarantine";
  if (c.silver.quality_table.empty()) c.silver.quality_table = c.silver.table + "_quality";
  auto table_path = [&](LayerConfig& l) {
    l.path = l.path.empty() ? TablePathFor(c.data_dir, l.table) : Resolve(c.data_dir, l.path);
  };
  table_path(c.bronze);
  table_path(c.silver);
  table_path(c.gold);
  for (auto& g : c.gold_tables) table_path(g);
  c.silver.late_path = TablePathFor(c.data_dir, c.silver.late_table);
  c.silver.quarantine_path = TablePathFor(c.data_dir, c.silver.quarantine_table);
  c.silver.quality_path = TablePathFor(c.data_dir, c.silver.quality_table);
  if (!c.silver.pages_table.empty())
    c.silver.pages_path = TablePathFor(c.data_dir, c.silver.pages_table);
  if (!c.silver.countries_table.empty())
    c.silver.countries_path = TablePathFor(c.data_dir, c.silver.countries_table);
  auto checkpoint_path = [&](LayerConfig& l) {
    std::string short_name = l.table.substr(l.table.rfind('.') + 1);
    l.checkpoint =
        l.checkpoint.empty()
            ? (fs::path(c.data_dir) / "_checkpoints" / short_name).lexically_normal().string()
            : Resolve(c.data_dir, l.checkpoint);
  };
  checkpoint_path(c.bronze);
  checkpoint_path(c.silver);
  checkpoint_path(c.gold);
  for (auto& g : c.gold_tables) checkpoint_path(g);
  std::set<std::string> checkpoints = {c.bronze.checkpoint, c.silver.checkpoint, c.gold.checkpoint};
  for (const auto& g : c.gold_tables) checkpoints.insert(g.checkpoint);
  if (checkpoints.size() != 3 + c.gold_tables.size())
    return InvalidArgument("checkpointLocation: each query needs its own checkpoint directory");
  return c;
}

Result<PipelineConfig> LoadPipelineConfig(const std::string& path) {
  auto text = ReadFile(path);
  if (!text.ok())
    return InvalidArgument("cannot read config " + path + ": " + text.status().message());
  STRATA_ASSIGN_OR_RETURN(PipelineConfig c, ParsePipelineConfig(*text, path));
  c.source_file = path;
  return c;
}

PipelineConfig DefaultPipelineConfig() {
  return ParsePipelineConfig("").value();
}

}  // namespace strata
