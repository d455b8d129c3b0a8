#pragma once

#include <memory>
#include <string>
#include <vector>

#include "monitor/alerts.h"
#include "monitor/config.h"
#include "monitor/drift_table.h"
#include "monitor/health.h"
#include "monitor/progress_table.h"
#include "monitor/quality.h"
#include "pipeline/config.h"
#include "stream/progress.h"

namespace strata::monitor {

// Everything issue 6 runs beside a pipeline, wired from the config: the progress log, the
// health rules with their timer, freshness per gold table, the data-quality monitors fed with the
// records the bronze query reads, alerts and webhooks. Pass listener() to the pipeline (e.g. in a
// CompositeListener) and record_observer() as PipelineOptions::bronze_observer; the server reads
// AlertsJson()/FreshnessSnapshot() (thread-safe).
// Lifecycle: Create, Start, then Stop before the pipeline stops (so that a shutdown is not
// reported as a stopped query); the destructor stops too.
class Monitoring {
 public:
  // Errors: the progress log or the drift table cannot be opened, a webhook URL is invalid;
  // each names the thing.
  static Result<std::unique_ptr<Monitoring>> Create(const PipelineConfig& pipeline,
                                                    MonitoringConfig config);
  // Reads [monitoring]/[alerts] from the pipeline's file (pipeline.source_file), or the defaults
  // when it has none.
  static Result<std::unique_ptr<Monitoring>> FromPipelineConfig(const PipelineConfig& pipeline);
  ~Monitoring();

  std::shared_ptr<QueryListener> listener() const { return listener_; }
  // The data-quality tap, for PipelineOptions::bronze_observer; null when no quality rule and
  // no drift table is configured.
  std::shared_ptr<RecordObserver> record_observer() const { return tap_; }
  void Start();
  void Stop();

  AlertManager& alerts() { return *alerts_; }
  // {"active":[...],"recent":[...]} with Alert::ToJson() objects, newest first.
  std::string AlertsJson() const;
  std::vector<Freshness> FreshnessSnapshot() const;
  // Prometheus text (for the server's /metrics): per gold query the age of its newest complete
  // window and the Kafka-to-visible latency (strata_freshness_*), and the active alerts per rule
  // and severity (strata_alerts_active). Thread-safe.
  std::string PrometheusText() const;
  const MonitoringConfig& config() const { return config_; }
  // The progress table's catalog name and directory ("" when off).
  const std::string& progress_table_name() const { return progress_table_name_; }
  const std::string& progress_table_path() const { return progress_table_path_; }
  // The schema-drift table ("" when off).
  const std::string& drift_table_name() const { return drift_table_name_; }
  const std::string& drift_table_path() const { return drift_table_path_; }

 private:
  explicit Monitoring(MonitoringConfig config) : config_(std::move(config)) {}

  MonitoringConfig config_;
  std::string progress_table_name_, progress_table_path_;
  std::string drift_table_name_, drift_table_path_;
  std::unique_ptr<WebhookSender> webhooks_;
  std::unique_ptr<AlertManager> alerts_;
  std::shared_ptr<ProgressLog> progress_log_;
  std::shared_ptr<ProgressTable> progress_table_;
  std::unique_ptr<SchemaDriftTable> drift_table_;
  std::shared_ptr<HealthMonitor> health_;
  std::shared_ptr<QualityMonitor> quality_;
  std::shared_ptr<QualityTap> tap_;
  std::shared_ptr<QueryListener> listener_;
};

}  // namespace strata::monitor
