#pragma once

#include <array>
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

#include "kafka/record.h"
#include "monitor/alerts.h"
#include "monitor/config.h"
#include "monitor/drift_table.h"
#include "stream/progress.h"

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
  // Counts `count` records under one lock (a record without a timestamp counts at `now_ms`).
  void ObserveBatch(const KafkaRecord* records, size_t count, int64_t now_ms);
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
  static constexpr size_t kKnownFields = 10;
  // An interval being counted: per-field counters in arrays and event types in a map searched
  // by string_view, folded into a QualityInterval when it closes.
  struct OpenInterval {
    QualityInterval iv;
    std::array<int64_t, kKnownFields> absent{}, nulls{}, wrong_type{};
    std::array<bool, kKnownFields> missing_sampled{};
    std::map<std::string, int64_t, std::less<>> event_types;
  };
  struct Parser;
  void ObserveLocked(Parser& parser, std::string_view value, int64_t timestamp_ms,
                     int32_t partition, int64_t offset);
  void Judge(QualityInterval& iv);
  OpenInterval& IntervalFor(int64_t ts);
  static void Fold(OpenInterval& open);

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
  std::map<int64_t, OpenInterval> open_;  // guarded by mu_, by start
  OpenInterval* last_open_ = nullptr;     // guarded by mu_: the interval of the last record
  int64_t next_close_ms_ = -1;            // start of the oldest interval not closed yet
  bool first_interval_ = true;            // the first one is partial: not learned from
  Baseline volume_;
  std::map<int, Baseline> volume_by_hour_;
  std::map<std::string, Baseline> null_rates_;
  std::deque<std::map<std::string, int64_t>> mix_history_;
  std::map<std::string, std::vector<std::string>> drift_samples_kept_;  // active drift subjects
  std::deque<QualityInterval> history_;
  std::map<std::string, int> anomalous_runs_;  // rule name -> consecutive anomalous intervals
};

// Feeds a QualityMonitor with the records the bronze query reads (PipelineOptions::
// bronze_observer), so the monitor sees the producers' JSON as it is (bronze keeps only the
// known fields) without reading Kafka a second time. ObserveRecords copies each record not seen
// before (per partition, offsets above the highest one seen: a retried or replayed batch is not
// counted twice) into a pending buffer and returns; the tap's own thread parses and counts them,
// and closes quality intervals on a timer. When more than `max_pending_bytes` wait (the monitor
// is behind), new records are dropped and counted rather than ever blocking the reader.
// Thread-safe.
class QualityTap : public RecordObserver {
 public:
  QualityTap(std::shared_ptr<QualityMonitor> monitor, int64_t tick_ms,
             size_t max_pending_bytes = size_t{64} << 20);
  ~QualityTap() override;
  // Stops the thread after the records already pending; later records are ignored.
  void Stop();

  void ObserveRecords(std::string_view topic, const KafkaRecord* records, size_t count) override;
  // Records counted into the monitor, and records dropped because the monitor was behind.
  uint64_t observed_records() const;
  uint64_t dropped_records() const;

 private:
  struct Pending {
    std::string bytes;                  // the values, back to back
    std::vector<size_t> value_offsets;  // where each record's value starts in bytes
    std::vector<KafkaRecord> records;   // values empty until handed to the monitor
  };
  void Loop();

  std::shared_ptr<QualityMonitor> monitor_;
  int64_t tick_ms_;
  size_t max_pending_bytes_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  Pending pending_;                   // guarded by mu_
  std::vector<int64_t> next_offset_;  // guarded by mu_: per partition, first unseen
  uint64_t observed_ = 0;             // guarded by mu_
  uint64_t dropped_ = 0;              // guarded by mu_
  bool stop_ = false;                 // guarded by mu_
  std::thread thread_;
};

}  // namespace strata::monitor
