#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "monitor/alerts.h"

namespace strata::monitor {

// One [[alerts.rules]] entry. `type` selects the rule; the other fields are its parameters
// (each type reads only the ones it needs, docs/monitoring.md).
struct RuleConfig {
  std::string name;                    // default: the type
  std::string type;                    // see kRuleTypes
  std::string severity = "warning";    // "warning" or "critical"
  std::string query;                   // only this query (its table's short name); "" = all
  double ratio = 1.5;                  // falling_behind: input rate / processing rate
  int64_t for_ms = 60'000;             // falling_behind, no_data: how long it must hold
  int64_t threshold = 0;               // kafka_lag: records (0 = no absolute threshold)
  int growing_batches = 0;             // kafka_lag: lag grew over this many batches (0 = off)
  int64_t threshold_ms = 15 * 60'000;  // watermark_delay
  double stddevs = 4.0;                // volume, null_rate: deviation from the baseline
  double fraction = 0.5;               // volume: relative drop/spike; null_rate: absolute rise
  double max_rate = 0.05;              // parse_failures: failed / total records
  double max_distance = 0.2;           // event_type_mix: total variation distance
  int intervals = 2;  // volume, event_type_mix: consecutive anomalous intervals before firing
  std::vector<std::string> columns;  // null_rate: fields watched ([] = every known field)
};

// The [monitoring] and [alerts] sections of the pipeline TOML.
struct MonitoringConfig {
  std::string progress_log;     // JSON-lines file of listener events ("" = off)
  bool progress_table = false;  // a Delta table <catalog>.<schema>.<pipeline>_progress
  int64_t progress_table_commit_interval_ms = 10'000;
  int64_t evaluation_interval_ms = 5'000;  // timer of the rules
  int64_t quality_interval_ms = 10'000;    // data-quality interval (one observation)
  int baseline_min_intervals = 6;          // observations before volume/null/mix rules judge
  int baseline_max_intervals = 360;        // observations kept in a baseline
  bool time_of_day_baseline = true;        // compare with the same hour once a day's history exists
  int drift_samples = 5;                   // first offending records kept per schema-drift alert
  // The Delta table <bronze table>_schema_drift: the first drift_samples records per drift
  // subject (needs the quality tap, which then runs even without data-quality rules).
  bool schema_drift_table = true;
  std::vector<RuleConfig> rules;    // [[alerts.rules]]; none given = DefaultRules()
  WebhookSender::Options webhooks;  // [alerts] webhooks, webhookMaxAttempts, ...
};

inline constexpr const char* kRuleTypes[] = {
    "falling_behind", "kafka_lag", "watermark_delay", "batch_failed",   "query_stopped", "no_data",
    "volume",         "null_rate", "event_type_mix",  "parse_failures", "schema_drift"};

std::vector<RuleConfig> DefaultRules();

// Parses the [monitoring] and [alerts] sections of a pipeline TOML document (other sections are
// ignored: ParsePipelineConfig reads them). Unknown keys, wrong types and bad values are
// InvalidArgument naming the key (e.g. "alerts.rules[2].ratio").
Result<MonitoringConfig> ParseMonitoringConfig(const std::string& toml_text,
                                               const std::string& source_name = "config");
Result<MonitoringConfig> LoadMonitoringConfig(const std::string& path);

}  // namespace strata::monitor
