#include "monitor/monitoring.h"

#include <cstdio>
#include <map>

#include "core/json_writer.h"
#include "core/time_util.h"
#include "stream/listeners.h"

namespace strata::monitor {
namespace {
std::string ShortName(const std::string& table) {
  return table.substr(table.rfind('.') + 1);
}
}  // namespace

Result<std::unique_ptr<Monitoring>> Monitoring::FromPipelineConfig(const PipelineConfig& pipeline) {
  MonitoringConfig c;
  if (!pipeline.source_file.empty()) {
    STRATA_ASSIGN_OR_RETURN(c, LoadMonitoringConfig(pipeline.source_file));
  } else {
    c.rules = DefaultRules();
  }
  return Create(pipeline, std::move(c));
}

Result<std::unique_ptr<Monitoring>> Monitoring::Create(const PipelineConfig& pipeline,
                                                       MonitoringConfig config) {
  std::unique_ptr<Monitoring> m(new Monitoring(std::move(config)));
  const MonitoringConfig& c = m->config_;
  std::vector<std::shared_ptr<QueryListener>> listeners;
  if (!c.webhooks.urls.empty()) {
    STRATA_ASSIGN_OR_RETURN(m->webhooks_, WebhookSender::Create(c.webhooks));
  }
  m->alerts_ = std::make_unique<AlertManager>(m->webhooks_.get());
  if (!c.progress_log.empty()) {
    STRATA_ASSIGN_OR_RETURN(m->progress_log_, ProgressLog::Open(c.progress_log));
    listeners.push_back(m->progress_log_);
  }
  if (c.progress_table) {
    m->progress_table_name_ = pipeline.ProgressTableName();
    m->progress_table_path_ = TablePathFor(pipeline.data_dir, m->progress_table_name_);
    STRATA_ASSIGN_OR_RETURN(m->progress_table_,
                            ProgressTable::Open(m->progress_table_path_, m->progress_table_name_,
                                                c.progress_table_commit_interval_ms));
    listeners.push_back(m->progress_table_);
  }
  std::map<std::string, std::pair<int64_t, int64_t>> gold_windows;
  for (const GoldConfig* g : pipeline.EnabledGoldTables())
    gold_windows[ShortName(g->table)] =
        g->kind == "sessions" ? std::pair<int64_t, int64_t>{0, 0}
                              : std::pair<int64_t, int64_t>{g->window_ms, g->slide_ms};
  m->health_ = std::make_shared<HealthMonitor>(c, m->alerts_.get(), std::move(gold_windows));
  listeners.push_back(m->health_);

  // The quality monitor judges an interval once the bronze query has surely read it: two
  // bronze triggers plus a margin after its end.
  const int64_t close_delay = 2 * pipeline.bronze.trigger.interval_ms + 2000;
  m->quality_ = std::make_shared<QualityMonitor>(c, m->alerts_.get(), close_delay);
  if (c.schema_drift_table) {
    m->drift_table_name_ = pipeline.SchemaDriftTableName();
    m->drift_table_path_ = TablePathFor(pipeline.data_dir, m->drift_table_name_);
    STRATA_ASSIGN_OR_RETURN(
        m->drift_table_,
        SchemaDriftTable::Open(m->drift_table_path_, m->drift_table_name_, c.quality_interval_ms,
                               static_cast<size_t>(c.drift_samples)));
    m->quality_->set_drift_table(m->drift_table_.get());
  }
  if (m->quality_->HasRules() || m->drift_table_)
    m->tap_ = std::make_shared<QualityTap>(m->quality_,
                                           std::min<int64_t>(1000, c.quality_interval_ms / 2));
  m->listener_ = std::make_shared<CompositeListener>(std::move(listeners));
  return m;
}

Monitoring::~Monitoring() {
  Stop();
}

void Monitoring::Start() {
  health_->Start();
}

void Monitoring::Stop() {
  if (health_) health_->Stop();
  if (tap_) tap_->Stop();
  if (drift_table_) drift_table_->Stop();
  if (progress_table_) progress_table_->Stop();
  if (webhooks_) webhooks_->Stop();
}

std::string Monitoring::AlertsJson() const {
  JsonWriter w;
  w.BeginObject();
  std::vector<Alert> all = alerts_->Snapshot();
  w.Key("active").BeginArray();
  for (const Alert& a : all)
    if (a.active()) w.Raw(a.ToJson());
  w.EndArray();
  w.Key("recent").BeginArray();
  for (const Alert& a : all)
    if (!a.active()) w.Raw(a.ToJson());
  w.EndArray();
  w.EndObject();
  return w.Take();
}

std::string Monitoring::PrometheusText() const {
  std::string out;
  auto family = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
  };
  auto sample = [&](const char* name, const std::string& labels, double v) {
    char num[64];
    std::snprintf(num, sizeof num, "%.17g", v);
    out += std::string(name) + (labels.empty() ? "" : "{" + labels + "}") + " " + num + "\n";
  };
  auto label = [](const char* k, const std::string& v) {
    std::string escaped;
    for (char c : v) {
      if (c == '\\' || c == '"') escaped += '\\';
      if (c == '\n') {
        escaped += "\\n";
        continue;
      }
      escaped += c;
    }
    return std::string(k) + "=\"" + escaped + "\"";
  };
  const std::vector<Freshness> fresh = FreshnessSnapshot();
  struct Gauge {
    const char* name;
    const char* help;
    int64_t Freshness::*field;
  };
  const Gauge gauges[] = {
      {"strata_freshness_window_age_seconds",
       "Age of the newest window the gold query's watermark has closed (now - its end).",
       &Freshness::age_ms},
      {"strata_freshness_latency_p50_seconds",
       "Kafka append to visible in the gold table, median of the last batch with input.",
       &Freshness::latency_p50_ms},
      {"strata_freshness_latency_p99_seconds",
       "Kafka append to visible in the gold table, 99th percentile of the last batch with input.",
       &Freshness::latency_p99_ms},
      {"strata_freshness_latency_max_seconds",
       "Kafka append to visible in the gold table, max of the last batch with input.",
       &Freshness::latency_max_ms}};
  for (const Gauge& g : gauges) {
    family(g.name, "gauge", g.help);
    for (const Freshness& f : fresh)
      if (f.*g.field >= 0) sample(g.name, label("query", f.query), (f.*g.field) / 1000.0);
  }
  // The data-quality tap's newest judged interval (when the tap runs).
  QualityInterval iv;
  if (tap_ && quality_->LastClosed(&iv)) {
    family("strata_quality_interval_records", "gauge",
           "Kafka records in the newest judged data-quality interval.");
    sample("strata_quality_interval_records", "", static_cast<double>(iv.records));
    family("strata_quality_parse_failure_rate", "gauge",
           "Records that are not JSON objects over all records, newest judged interval.");
    sample("strata_quality_parse_failure_rate", "",
           iv.records ? static_cast<double>(iv.parse_failures) / iv.records : 0.0);
    family("strata_quality_null_rate", "gauge",
           "Null-or-absent rate of an event field, newest judged interval.");
    if (iv.objects > 0)
      for (const auto& [field, n] : iv.nulls)
        sample("strata_quality_null_rate", label("field", field),
               static_cast<double>(n) / static_cast<double>(iv.objects));
  }
  family("strata_alerts_active", "gauge", "Alerts firing now, per rule and severity.");
  std::map<std::pair<std::string, std::string>, int> active;
  for (const Alert& a : alerts_->Active()) active[{a.rule, a.severity}] += 1;
  for (const auto& [key, n] : active)
    sample("strata_alerts_active", label("rule", key.first) + "," + label("severity", key.second),
           n);
  return out;
}

std::vector<Freshness> Monitoring::FreshnessSnapshot() const {
  return health_->FreshnessSnapshot(NowMillis());
}

}  // namespace strata::monitor
