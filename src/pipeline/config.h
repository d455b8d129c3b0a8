#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/expectations.h"
#include "stream/trigger.h"

namespace strata {

// The Kafka source of the bronze query (Spark's Kafka source options).
struct SourceConfig {
  std::string topic = "clickstream-events";
  // Every [kafka] key, passed to librdkafka as it is ("bootstrap.servers", "security.protocol").
  std::map<std::string, std::string> kafka;
  // Keys of `kafka` whose values came from ${secret:...}: never print their values.
  std::set<std::string> secret_keys;
  std::string starting_offsets = "latest";  // "earliest", "latest" or {"topic":{"0":23,...}}
  int64_t max_offsets_per_trigger = 100'000;
  bool fail_on_data_loss = true;
  // What to do when the cluster id differs from the checkpoint's: "fail", or "reset" to start
  // over from startingOffsets on the new cluster (the embedded demo cluster is new every run).
  std::string on_cluster_change = "fail";
};

struct LayerConfig {
  std::string table;       // catalog name, e.g. "catalog.streaming.bronze_clickstream"
  std::string path;        // table directory
  std::string checkpoint;  // checkpoint directory
  Trigger trigger;
  std::vector<std::string> partition_by;
  // Silver and gold read the previous layer as a Delta stream: a commit that removes data
  // (DELETE, UPDATE, overwrite) stops the query unless this is set, in which case its removes
  // are ignored and its new files read.
  bool ignore_changes = false;
};

// Watermark rules shared by silver and gold (operators/watermark.h): "min" lets the slowest
// Kafka partition hold the watermark back, "max" lets the fastest drive it; idle_timeout_ms > 0
// stops a partition without data for that long (processing time) from holding it back.
struct WatermarkConfig {
  std::string policy = "min";
  int64_t idle_timeout_ms = 0;
};

struct SilverConfig : LayerConfig {
  int64_t watermark_ms = 10 * 60'000;
  WatermarkConfig watermark_rule;
  // Validation beyond the built-in rules (ids present, known event type): fields that must be
  // non-empty, allowed values per field, and how far in the future (relative to the batch's
  // processing time) an event time may be (0 = unchecked).
  std::vector<std::string> required_fields;
  std::map<std::string, std::vector<std::string>> allowed_values;
  int64_t max_future_ms = 0;
  // Dimension tables for enrichment (catalog names; "" turns the join off), read from
  // <data_dir>/<catalog>/<schema>/<table>.
  std::string pages_table = "catalog.dimensions.pages";
  std::string countries_table = "catalog.dimensions.countries";
  std::string pages_path, countries_path;
  std::string dedup_key = "event_id";
  std::vector<std::string> event_types = {"page_view", "click", "scroll", "purchase",
                                          "add_to_cart"};
  std::string late_table, late_path;
  std::string quarantine_table, quarantine_path;
  int64_t max_files_per_trigger = 1000;
  // [[silver.expectations]] (pipeline/expectations.h), checked when parsed; their pass/fail
  // counts per batch go to quality_table (default: <table>_quality).
  std::vector<ExpectationConfig> expectations;
  std::string quality_table, quality_path;
};

struct GoldConfig : LayerConfig {
  std::string name = "events_per_minute";  // the [gold.<name>] section ("" for [gold])
  bool enabled = true;
  int64_t watermark_ms = 5 * 60'000;
  WatermarkConfig watermark_rule;
  int64_t window_ms = 60'000;
  int64_t slide_ms = 60'000;
  // "append": one final row per window once the watermark passes its end; "update": every
  // trigger upserts the windows that changed (is_final = false until final).
  std::string output_mode = "append";
  int64_t max_files_per_trigger = 1000;
  std::string key_column = "event_type";  // group key (`groupBy`); empty = one group per window
  std::string event_type_filter;          // only rows of this event type (`eventType`); "" = all
  // A bigint column of silver (`valueColumn`): the table gets sum_<c>, min_<c> and max_<c>
  // per window and key. Empty = none.
  std::string value_column;
  // > 0: each window keeps only the top_k keys by event_count, ties by key (`topK`; needs a key
  // column; the table gets a `rank` column, pipeline/top_k.h).
  int64_t top_k = 0;
  // "window" (event-time windows, the keys above) or "sessions" ([gold.sessions] only: session
  // windows per session_id that close after `gap_ms` without events; pipeline/sessions.h).
  std::string kind = "window";
  int64_t gap_ms = 30 * 60'000;
};

struct ServerConfig {
  std::string listen = "127.0.0.1:8080";
  std::string auth_token;
};

struct PipelineConfig {
  std::string name = "clickstream";
  std::string data_dir = "./strata-data";
  std::string source_file;  // the file it was loaded from; empty when parsed from text
  SourceConfig source;
  LayerConfig bronze;
  SilverConfig silver;
  GoldConfig gold;
  // The other gold tables ([gold.<name>] sections), in a fixed order; disabled ones included.
  std::vector<GoldConfig> gold_tables;
  ServerConfig server;

  // [gold] followed by the enabled [gold.<name>] tables.
  std::vector<const GoldConfig*> EnabledGoldTables() const;

  // Every table of the pipeline: catalog name -> directory. Includes the monitoring tables
  // (progress, schema drift) and the expectations' quality table, which exist only when
  // enabled (OpenCatalog skips tables that do not exist).
  std::map<std::string, std::string> Tables() const;
  // <catalog>.<schema of bronze>.<name>_progress, written when [monitoring] progressTable is on.
  std::string ProgressTableName() const;
  // <bronze table>_schema_drift, written by the monitoring's schema-drift detection.
  std::string SchemaDriftTableName() const;
  // The [kafka] settings with secret values replaced by "***", for logs and status output.
  std::map<std::string, std::string> RedactedKafka() const;
};

// Parses a pipeline TOML document. Unknown keys, wrong types and bad values are errors that
// name the key ("bronze.trigger: 'ten seconds' is not a duration"). Relative paths are resolved
// against data_dir. ${secret:NAME} in a [kafka] value is taken from the environment variable
// NAME or from the file given by pipeline.secrets_file (NAME = "value" lines, TOML).
Result<PipelineConfig> ParsePipelineConfig(const std::string& toml_text,
                                           const std::string& source_name = "<config>");
Result<PipelineConfig> LoadPipelineConfig(const std::string& path);
// The defaults, as ParsePipelineConfig("") gives them.
PipelineConfig DefaultPipelineConfig();

// "catalog.streaming.x" -> "<data_dir>/catalog/streaming/x".
std::string TablePathFor(const std::string& data_dir, const std::string& table_name);

}  // namespace strata
