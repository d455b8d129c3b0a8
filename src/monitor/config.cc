#include "monitor/config.h"

#include <toml++/toml.h>

#include <set>

#include "core/file_util.h"
#include "stream/trigger.h"

namespace strata::monitor {
namespace {

// Reads the keys of one TOML table, remembering which were read so that the rest can be
// reported as unknown. Every error names the full key.
class Keys {
 public:
  Keys(const toml::table* t, std::string prefix) : t_(t), prefix_(std::move(prefix)) {}

  std::string Name(std::string_view key) const { return prefix_ + "." + std::string(key); }

  Status Str(const char* key, std::string* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_string()) return Type(key, "a string");
    *out = n->as_string()->get();
    return Status::OK();
  }
  Status Bool(const char* key, bool* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_boolean()) return Type(key, "a boolean");
    *out = n->as_boolean()->get();
    return Status::OK();
  }
  template <typename T>
  Status Int(const char* key, T* out, int64_t min) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_integer()) return Type(key, "an integer");
    const int64_t v = n->as_integer()->get();
    if (v < min) return InvalidArgument(Name(key) + ": must be >= " + std::to_string(min));
    *out = static_cast<T>(v);
    return Status::OK();
  }
  Status Num(const char* key, double* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (n->is_integer())
      *out = static_cast<double>(n->as_integer()->get());
    else if (n->is_floating_point())
      *out = n->as_floating_point()->get();
    else
      return Type(key, "a number");
    if (*out < 0) return InvalidArgument(Name(key) + ": must be >= 0");
    return Status::OK();
  }
  Status Duration(const char* key, int64_t* out) {
    std::string text;
    if (!Has(key)) return Status::OK();
    STRATA_RETURN_IF_ERROR(Str(key, &text));
    auto ms = ParseDurationMs(text);
    if (!ms.ok()) return InvalidArgument(Name(key) + ": " + ms.status().message());
    *out = *ms;
    return Status::OK();
  }
  Status Strings(const char* key, std::vector<std::string>* out) {
    const toml::node* n = Take(key);
    if (!n) return Status::OK();
    if (!n->is_array()) return Type(key, "an array of strings");
    out->clear();
    for (const auto& e : *n->as_array()) {
      if (!e.is_string()) return Type(key, "an array of strings");
      out->push_back(e.as_string()->get());
    }
    return Status::OK();
  }
  bool Has(const char* key) const { return t_ && t_->get(key); }
  const toml::node* Take(const char* key) {
    used_.insert(key);
    return t_ ? t_->get(key) : nullptr;
  }
  Status Finish() const {
    if (!t_) return Status::OK();
    for (const auto& [k, v] : *t_)
      if (!used_.count(std::string(k.str())))
        return InvalidArgument("unknown key '" + Name(k.str()) + "'");
    return Status::OK();
  }

 private:
  Status Type(const char* key, const char* what) const {
    return InvalidArgument(Name(key) + ": expected " + what);
  }
  const toml::table* t_;
  std::string prefix_;
  std::set<std::string> used_;
};

Status ParseRule(const toml::table& t, const std::string& prefix, RuleConfig* r) {
  Keys k(&t, prefix);
  STRATA_RETURN_IF_ERROR(k.Str("type", &r->type));
  bool known = false;
  for (const char* type : kRuleTypes) known = known || r->type == type;
  if (!known) {
    std::string list;
    for (const char* type : kRuleTypes) list += (list.empty() ? "" : ", ") + std::string(type);
    return InvalidArgument(k.Name("type") + ": '" + r->type + "' is not one of " + list);
  }
  r->name = r->type;
  STRATA_RETURN_IF_ERROR(k.Str("name", &r->name));
  STRATA_RETURN_IF_ERROR(k.Str("severity", &r->severity));
  if (r->severity != "warning" && r->severity != "critical")
    return InvalidArgument(k.Name("severity") + ": '" + r->severity +
                           "' is not one of warning, critical");
  STRATA_RETURN_IF_ERROR(k.Str("query", &r->query));
  STRATA_RETURN_IF_ERROR(k.Num("ratio", &r->ratio));
  STRATA_RETURN_IF_ERROR(k.Duration("for", &r->for_ms));
  STRATA_RETURN_IF_ERROR(k.Int("threshold", &r->threshold, 0));
  STRATA_RETURN_IF_ERROR(k.Int("growingBatches", &r->growing_batches, 0));
  STRATA_RETURN_IF_ERROR(k.Duration("maxDelay", &r->threshold_ms));
  STRATA_RETURN_IF_ERROR(k.Num("stddevs", &r->stddevs));
  if (r->type == "null_rate") r->fraction = 0.1;  // an absolute rise of the null rate
  STRATA_RETURN_IF_ERROR(k.Num("fraction", &r->fraction));
  STRATA_RETURN_IF_ERROR(k.Num("maxRate", &r->max_rate));
  STRATA_RETURN_IF_ERROR(k.Num("maxDistance", &r->max_distance));
  STRATA_RETURN_IF_ERROR(k.Int("intervals", &r->intervals, 1));
  STRATA_RETURN_IF_ERROR(k.Strings("columns", &r->columns));
  return k.Finish();
}

}  // namespace

std::vector<RuleConfig> DefaultRules() {
  std::vector<RuleConfig> rules;
  for (const char* type : {"falling_behind", "batch_failed", "query_stopped"}) {
    RuleConfig r;
    r.type = r.name = type;
    if (r.type != "falling_behind") r.severity = "critical";
    rules.push_back(r);
  }
  return rules;
}

Result<MonitoringConfig> ParseMonitoringConfig(const std::string& toml_text,
                                               const std::string& source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(source_name + ": " + std::string(e.description()));
  }
  MonitoringConfig c;
  const toml::node* mon = root.get("monitoring");
  if (mon && !mon->is_table()) return InvalidArgument("monitoring: expected a table");
  Keys m(mon ? mon->as_table() : nullptr, "monitoring");
  STRATA_RETURN_IF_ERROR(m.Str("progressLog", &c.progress_log));
  STRATA_RETURN_IF_ERROR(m.Bool("progressTable", &c.progress_table));
  STRATA_RETURN_IF_ERROR(
      m.Duration("progressTableCommitInterval", &c.progress_table_commit_interval_ms));
  STRATA_RETURN_IF_ERROR(m.Duration("evaluationInterval", &c.evaluation_interval_ms));
  STRATA_RETURN_IF_ERROR(m.Duration("qualityInterval", &c.quality_interval_ms));
  STRATA_RETURN_IF_ERROR(m.Int("baselineMinIntervals", &c.baseline_min_intervals, 1));
  STRATA_RETURN_IF_ERROR(m.Int("baselineMaxIntervals", &c.baseline_max_intervals, 2));
  STRATA_RETURN_IF_ERROR(m.Bool("timeOfDayBaseline", &c.time_of_day_baseline));
  STRATA_RETURN_IF_ERROR(m.Int("driftSamples", &c.drift_samples, 0));
  STRATA_RETURN_IF_ERROR(m.Bool("schemaDriftTable", &c.schema_drift_table));
  STRATA_RETURN_IF_ERROR(m.Finish());
  if (c.evaluation_interval_ms <= 0)
    return InvalidArgument("monitoring.evaluationInterval: must be > 0");
  if (c.quality_interval_ms <= 0) return InvalidArgument("monitoring.qualityInterval: must be > 0");

  const toml::node* al = root.get("alerts");
  if (al && !al->is_table()) return InvalidArgument("alerts: expected a table");
  Keys a(al ? al->as_table() : nullptr, "alerts");
  STRATA_RETURN_IF_ERROR(a.Strings("webhooks", &c.webhooks.urls));
  STRATA_RETURN_IF_ERROR(a.Int("webhookMaxAttempts", &c.webhooks.max_attempts, 1));
  STRATA_RETURN_IF_ERROR(a.Duration("webhookBackoff", &c.webhooks.initial_backoff_ms));
  STRATA_RETURN_IF_ERROR(a.Duration("webhookMaxBackoff", &c.webhooks.max_backoff_ms));
  STRATA_RETURN_IF_ERROR(a.Duration("webhookTimeout", &c.webhooks.timeout_ms));
  STRATA_RETURN_IF_ERROR(a.Int("webhookQueue", &c.webhooks.max_queue, 1));
  const toml::node* rules = a.Take("rules");
  if (rules) {
    if (!rules->is_array_of_tables())
      return InvalidArgument("alerts.rules: expected [[alerts.rules]] tables");
    int i = 0;
    for (const auto& e : *rules->as_array()) {
      RuleConfig r;
      STRATA_RETURN_IF_ERROR(
          ParseRule(*e.as_table(), "alerts.rules[" + std::to_string(i++) + "]", &r));
      c.rules.push_back(std::move(r));
    }
  } else {
    c.rules = DefaultRules();
  }
  STRATA_RETURN_IF_ERROR(a.Finish());
  std::set<std::string> names;
  for (const auto& r : c.rules)
    if (!names.insert(r.name).second)
      return InvalidArgument("alerts.rules: duplicate rule name '" + r.name + "'");
  return c;
}

Result<MonitoringConfig> LoadMonitoringConfig(const std::string& path) {
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  return ParseMonitoringConfig(text, path);
}

}  // namespace strata::monitor
