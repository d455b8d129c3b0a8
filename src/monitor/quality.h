#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "monitor/alerts.h"
#include "monitor/config.h"
#include "monitor/drift_table.h"
#include "stream/progress.h"

namespace strata {
class KafkaReader;
}

namespace strata::monitor {

// What one quality interval saw (records bucketed by their Kafka timestamp).
struct QualityInterval {
  int64_t start_ms = 0;
  int64_t records = 0;
  int64_t parse_failures = 0;                  // values that are not a JSON object
  int64_t objects = 0;                         // values that are
  std::map<std::string, int64_t> nulls;        // per known field: absent or null
  std::map<std::string, int64_t> absent;       // per known field: key absent
  std::map<std::string, int64_t> wrong_type;   // per known field: present with another type
  std::map<std::string, int64_t> event_types;  // event_type values (strings)
  std::map<std::string, int64_t> new_fields;   // top-level keys outside the event schema
  std::map<std::string, std::vector<std::string>> samples;  // drift subject -> first records
  // With a drift table: per known field, the first record of the interval without it.
  std::map<std::string, DriftRecord> missing_samples;
};

// Data-quality monitors over raw event JSON (the Kafka record values the bronze query reads):
// volume against a learned baseline (per hour of day once a day of history exists), null rate
// per field against its baseline, event_type mix shift (total variation distance), parse-failure
// rate, and schema drift (new fields, missing fields, type changes, with the first offending
// records in the alert's details). Rules come from the config (types volume, null_rate,
// event_type_mix, parse_failures, schema_drift); each raises/resolves alerts via AlertManager.
// Thread-safe (one lock); Observe is meant for one feeding thread.
class QualityMonitor {
 public:
  // `close_delay_ms`: an interval is judged once the clock is this far past its end (records of
  // a closed interval count into the oldest open one).
  QualityMonitor(const MonitoringConfig& config, AlertManager* alerts, int64_t close_delay_ms);

  // Counts one record; `timestamp_ms` is its Kafka timestamp (or the read time); `partition`
  // and `offset` locate it in Kafka for the drift table (-1 when unknown).
  void Observe(std::string_view value, int64_t timestamp_ms, int32_t partition = -1,
               int64_t offset = -1);
  // Also writes what schema-drift detection finds (new fields, type changes, missing fields;
  // whether or not a schema_drift rule is configured) to `table`, which must outlive this
  // monitor. Call before the first Observe.
  void set_drift_table(SchemaDriftTable* table) { drift_table_ = table; }
  // Judges every interval that ended at or before now_ms - close_delay_ms (empty intervals
  // included, once the first record was seen).
  void CloseIntervals(int64_t now_ms);
  // Closed intervals, oldest first (bounded by baseline_max_intervals).
  std::vector<QualityInterval> History() const;
  // The newest closed interval; false when none is closed yet.
  bool LastClosed(QualityInterval* out) const;
  bool HasRules() const { return !rules_.empty(); }

 private:
  struct Baseline {
    std::deque<double> values;
    void Add(double v, size_t max) {
      values.push_back(v);
      while (values.size() > max) values.pop_front();
    }
    double Mean() const;
    double StdDev() const;
  };
  void Judge(QualityInterval& iv);
  QualityInterval& IntervalFor(int64_t ts);

  std::vector<RuleConfig> rules_;
  int64_t interval_ms_;
  int64_t close_delay_ms_;
  size_t min_intervals_;
  size_t max_intervals_;
  bool time_of_day_;
  size_t drift_samples_;
  AlertManager* alerts_;
  SchemaDriftTable* drift_table_ = nullptr;

  mutable std::mutex mu_;
  std::map<int64_t, QualityInterval> open_;  // guarded by mu_, by start
  int64_t next_close_ms_ = -1;               // start of the oldest interval not closed yet
  bool first_interval_ = true;               // the first one is partial: not learned from
  Baseline volume_;
  std::map<int, Baseline> volume_by_hour_;
  std::map<std::string, Baseline> null_rates_;
  std::deque<std::map<std::string, int64_t>> mix_history_;
  std::map<std::string, std::vector<std::string>> drift_samples_kept_;  // active drift subjects
  std::deque<QualityInterval> history_;
  std::map<std::string, int> anomalous_runs_;  // rule name -> consecutive anomalous intervals
};

// Feeds a QualityMonitor from Kafka: a listener on the bronze query that, for each progress
// event, reads the same offset ranges again (its own KafkaReader, on its own thread) and
// observes every record, so that the engine needs no change and the monitor sees the producers'
// JSON as it is (bronze keeps only the known fields). A bounded queue of pending ranges (oldest
// dropped, counted) keeps it from ever blocking the pipeline. Also closes quality intervals on
// a timer. Thread-safe.
class KafkaQualityTap : public QueryListener {
 public:
  // `query_name`: the bronze query; `topic`, `bootstrap`, `kafka_config`: its source.
  static Result<std::shared_ptr<KafkaQualityTap>> Create(
      std::shared_ptr<QualityMonitor> monitor, std::string query_name, std::string topic,
      const std::string& bootstrap, const std::map<std::string, std::string>& kafka_config,
      int64_t tick_ms);
  ~KafkaQualityTap() override;
  void Stop();

  void OnQueryProgress(const QueryProgress& progress) override;
  uint64_t dropped_ranges() const;

 private:
  KafkaQualityTap(std::shared_ptr<QualityMonitor> monitor, std::string query_name,
                  std::string topic, std::unique_ptr<KafkaReader> reader, int64_t tick_ms);
  void Loop();

  std::shared_ptr<QualityMonitor> monitor_;
  std::string query_name_;
  std::string topic_;
  std::unique_ptr<KafkaReader> reader_;
  int64_t tick_ms_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::vector<PartitionPosition>> pending_;  // guarded by mu_
  uint64_t dropped_ = 0;                                // guarded by mu_
  bool stop_ = false;                                   // guarded by mu_
  std::thread thread_;
};

}  // namespace strata::monitor
