#pragma once

#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "monitor/alerts.h"
#include "monitor/config.h"
#include "stream/progress.h"

namespace strata::monitor {

// Appends every listener event as one JSON line to a file:
//   {"event":"started","id":..,"runId":..,"name":..,"time_ms":..}
//   {"event":"progress","progress":<QueryProgress::ToJson()>}
//   {"event":"idle","id":..,"name":..,"time_ms":..}
//   {"event":"terminated","id":..,"name":..,"status":"ok"|<message>,"time_ms":..}
// Thread-safe (one lock around each write + flush). A write error is logged once, not returned.
class ProgressLog : public QueryListener {
 public:
  // IOError naming the file when it cannot be opened for appending.
  static Result<std::shared_ptr<ProgressLog>> Open(const std::string& path);
  ~ProgressLog() override;

  void OnQueryStarted(const std::string& id, const std::string& run_id,
                      const std::string& name) override;
  void OnQueryProgress(const QueryProgress& progress) override;
  void OnQueryIdle(const std::string& id, const std::string& name, int64_t now_ms) override;
  void OnQueryTerminated(const std::string& id, const std::string& name,
                         const Status& status) override;

 private:
  ProgressLog(std::string path, FILE* f) : path_(std::move(path)), file_(f) {}
  void Write(const std::string& line);
  std::string path_;
  std::mutex mu_;
  FILE* file_;  // guarded by mu_
  bool failed_ = false;
};

// End-to-end freshness of one gold query, from its progress events.
struct Freshness {
  std::string query;
  // End of the newest window its watermark has closed (so final, in append mode), and its age
  // (now - end); -1 before the first watermark.
  int64_t newest_complete_window_end_ms = -1;
  int64_t age_ms = -1;
  // Kafka append -> visible in this query's table, of its last batch with input (-1: unknown).
  int64_t latency_p50_ms = -1;
  int64_t latency_p99_ms = -1;
  int64_t latency_max_ms = -1;
  int64_t updated_ms = 0;  // time of the progress event these come from
};

// Evaluates the query-health rules (falling_behind, kafka_lag, watermark_delay, batch_failed,
// query_stopped, no_data) on every listener event and on a timer, raising and resolving alerts
// through an AlertManager; tracks freshness per gold query. Thread-safe: events come from the
// query threads, Evaluate() from the timer thread or a test, snapshots from anywhere. Never
// blocks the caller beyond its own short lock (webhooks are posted asynchronously).
class HealthMonitor : public QueryListener {
 public:
  // `gold_windows`: query name -> (window_ms, slide_ms) of the gold queries, for freshness; (0, 0)
  // for a session table, whose sessions are final once they end at or before the watermark.
  // `alerts` must outlive the monitor.
  HealthMonitor(const MonitoringConfig& config, AlertManager* alerts,
                std::map<std::string, std::pair<int64_t, int64_t>> gold_windows = {});
  ~HealthMonitor() override;

  // Starts / stops the timer thread evaluating the rules every evaluation_interval_ms. After
  // Stop(), events are ignored (a shutdown is not reported as a stopped query); before Start(),
  // a query ending normally is not reported either (e.g. an available-now run finishing).
  void Start();
  void Stop();

  void OnQueryStarted(const std::string& id, const std::string& run_id,
                      const std::string& name) override;
  void OnQueryProgress(const QueryProgress& progress) override;
  void OnQueryIdle(const std::string& id, const std::string& name, int64_t now_ms) override;
  // A retried batch raises the batch_failed alert; the next successful batch resolves it.
  void OnBatchRetry(const std::string& id, const std::string& name, int64_t batch_id, int attempt,
                    const Status& error) override;
  void OnQueryTerminated(const std::string& id, const std::string& name,
                         const Status& status) override;

  // Evaluates the time-based conditions at `now_ms`.
  void Evaluate(int64_t now_ms);
  std::vector<Freshness> FreshnessSnapshot(int64_t now_ms) const;

 private:
  struct QueryHealth {
    bool running = false;
    int64_t started_ms = 0;
    int64_t last_data_ms = 0;     // last batch with input rows (or start)
    int64_t behind_since_ms = 0;  // first of the current run of falling-behind batches
    double behind_ratio = 0;
    std::deque<int64_t> lags;  // source lag of the recent batches with a known lag
    int64_t watermark_ms = 0;
    Freshness freshness;
  };
  bool Applies(const RuleConfig& r, const std::string& query) const {
    return r.query.empty() || r.query == query;
  }
  void EvaluateLocked(const std::string& name, QueryHealth& h, int64_t now_ms);

  std::vector<RuleConfig> rules_;
  int64_t interval_ms_;
  AlertManager* alerts_;
  std::map<std::string, std::pair<int64_t, int64_t>> gold_windows_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, QueryHealth> queries_;  // guarded by mu_, by query name
  bool stopped_ = false;                        // guarded by mu_
  std::thread thread_;
};

}  // namespace strata::monitor
