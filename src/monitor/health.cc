#include "monitor/health.h"

#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>

#include "core/json_writer.h"
#include "core/time_util.h"

namespace strata::monitor {

// ---------------------------------------------------------------------------------------------
// ProgressLog

Result<std::shared_ptr<ProgressLog>> ProgressLog::Open(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "a");
  if (!f) return IOError("progress log '" + path + "': " + std::strerror(errno));
  return std::shared_ptr<ProgressLog>(new ProgressLog(path, f));
}

ProgressLog::~ProgressLog() {
  if (file_) std::fclose(file_);
}

void ProgressLog::Write(const std::string& line) {
  std::lock_guard<std::mutex> lock(mu_);
  if (std::fwrite(line.data(), 1, line.size(), file_) != line.size() ||
      std::fputc('\n', file_) == EOF || std::fflush(file_) != 0) {
    if (!failed_) spdlog::error("progress log '{}': write failed: {}", path_, std::strerror(errno));
    failed_ = true;
  }
}

void ProgressLog::OnQueryStarted(const std::string& id, const std::string& run_id,
                                 const std::string& name) {
  JsonWriter w;
  w.BeginObject();
  w.Key("event").String("started");
  w.Key("id").String(id);
  w.Key("runId").String(run_id);
  w.Key("name").String(name);
  w.Key("time_ms").Int(NowMillis());
  w.EndObject();
  Write(w.str());
}

void ProgressLog::OnQueryProgress(const QueryProgress& progress) {
  JsonWriter w;
  w.BeginObject();
  w.Key("event").String("progress");
  w.Key("progress").Raw(progress.ToJson());
  w.EndObject();
  Write(w.str());
}

void ProgressLog::OnQueryIdle(const std::string& id, const std::string& name, int64_t now_ms) {
  JsonWriter w;
  w.BeginObject();
  w.Key("event").String("idle");
  w.Key("id").String(id);
  w.Key("name").String(name);
  w.Key("time_ms").Int(now_ms);
  w.EndObject();
  Write(w.str());
}

void ProgressLog::OnQueryTerminated(const std::string& id, const std::string& name,
                                    const Status& status) {
  JsonWriter w;
  w.BeginObject();
  w.Key("event").String("terminated");
  w.Key("id").String(id);
  w.Key("name").String(name);
  w.Key("status").String(status.ok() ? "ok" : status.ToString());
  w.Key("time_ms").Int(NowMillis());
  w.EndObject();
  Write(w.str());
}

// ---------------------------------------------------------------------------------------------
// HealthMonitor

HealthMonitor::HealthMonitor(const MonitoringConfig& config, AlertManager* alerts,
                             std::map<std::string, std::pair<int64_t, int64_t>> gold_windows)
    : rules_(config.rules),
      interval_ms_(config.evaluation_interval_ms),
      alerts_(alerts),
      gold_windows_(std::move(gold_windows)) {}

HealthMonitor::~HealthMonitor() {
  Stop();
}

void HealthMonitor::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable() || stopped_) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stopped_) {
      cv_.wait_for(lock, std::chrono::milliseconds(interval_ms_));
      if (stopped_) break;
      const int64_t now = NowMillis();
      for (auto& [name, h] : queries_) EvaluateLocked(name, h, now);
    }
  });
}

void HealthMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopped_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthMonitor::OnQueryStarted(const std::string& id, const std::string& run_id,
                                   const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  QueryHealth& h = queries_[name];
  h.running = true;
  h.started_ms = h.last_data_ms = NowMillis();
  h.behind_since_ms = 0;
  h.lags.clear();
  for (const RuleConfig& r : rules_)
    if ((r.type == "batch_failed" || r.type == "query_stopped") && Applies(r, name))
      alerts_->Resolve(r.name, name);
}

void HealthMonitor::OnBatchRetry(const std::string&, const std::string& name, int64_t batch_id,
                                 int attempt, const Status& error) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  for (const RuleConfig& r : rules_) {
    if (r.type != "batch_failed" || !Applies(r, name)) continue;
    JsonWriter d;
    d.BeginObject().Key("batchId").Int(batch_id).Key("attempt").Int(attempt);
    d.Key("error").String(error.ToString()).EndObject();
    alerts_->Raise(r.name, r.type, r.severity, name,
                   "query " + name + ": batch " + std::to_string(batch_id) +
                       " failed and is retried (attempt " + std::to_string(attempt) +
                       "): " + error.ToString(),
                   d.str());
  }
}

void HealthMonitor::OnQueryProgress(const QueryProgress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  for (const RuleConfig& r : rules_)
    if (r.type == "batch_failed" && Applies(r, p.name)) alerts_->Resolve(r.name, p.name);
  const int64_t now = NowMillis();
  QueryHealth& h = queries_[p.name];
  if (!h.running) {
    h.running = true;
    h.started_ms = now;
  }
  if (p.num_input_rows > 0) {
    h.last_data_ms = now;
    // Falling behind: data arrives faster than the query processes it.
    const double ratio =
        p.processed_rows_per_second > 0 ? p.input_rows_per_second / p.processed_rows_per_second : 0;
    h.behind_ratio = ratio;
    bool behind = false;
    for (const RuleConfig& r : rules_)
      if (r.type == "falling_behind" && Applies(r, p.name) && ratio > r.ratio) behind = true;
    if (!behind)
      h.behind_since_ms = 0;
    else if (h.behind_since_ms == 0)
      h.behind_since_ms = now;
  }
  if (!p.partitions.empty()) {
    h.lags.push_back(p.source_lag);
    while (h.lags.size() > 64) h.lags.pop_front();
  }
  if (p.watermark_ms > 0) h.watermark_ms = p.watermark_ms;

  auto gw = gold_windows_.find(p.name);
  if (gw == gold_windows_.end()) {
    // A partition's sub-query of a gold table in a consumer group: "<table>[p<N>]".
    auto bracket = p.name.rfind("[p");
    if (bracket != std::string::npos && p.name.back() == ']')
      gw = gold_windows_.find(p.name.substr(0, bracket));
  }
  if (gw != gold_windows_.end()) {
    Freshness& f = h.freshness;
    f.query = p.name;
    f.updated_ms = now;
    const auto [window, slide] = gw->second;
    if (p.watermark_ms > 0 && window == 0) {
      // A session table: every session ending at or before the watermark is final.
      f.newest_complete_window_end_ms = p.watermark_ms;
    } else if (p.watermark_ms > 0 && slide > 0 && p.watermark_ms >= window) {
      // Windows are [k * slide, k * slide + window); the newest one ending at or before the
      // watermark is closed.
      const int64_t k = (p.watermark_ms - window) / slide;
      f.newest_complete_window_end_ms = k * slide + window;
    }
    if (p.latency_p50_ms >= 0) {
      f.latency_p50_ms = p.latency_p50_ms;
      f.latency_p99_ms = p.latency_p99_ms;
      f.latency_max_ms = p.latency_max_ms;
    }
  }
  EvaluateLocked(p.name, h, now);
}

void HealthMonitor::OnQueryIdle(const std::string&, const std::string& name, int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  QueryHealth& h = queries_[name];
  // An idle query has caught up: it is not behind, and its lag (if any) is not growing.
  h.behind_since_ms = 0;
  EvaluateLocked(name, h, now_ms);
}

void HealthMonitor::OnQueryTerminated(const std::string&, const std::string& name,
                                      const Status& status) {
  std::lock_guard<std::mutex> lock(mu_);
  if (stopped_) return;
  QueryHealth& h = queries_[name];
  h.running = false;
  for (const RuleConfig& r : rules_) {
    if (!Applies(r, name)) continue;
    if (r.type == "batch_failed" && !status.ok()) {
      JsonWriter d;
      d.BeginObject().Key("error").String(status.ToString()).EndObject();
      alerts_->Raise(r.name, r.type, r.severity, name,
                     "query " + name + " failed: " + status.ToString(), d.str());
    } else if (r.type == "query_stopped" && thread_.joinable()) {
      alerts_->Raise(r.name, r.type, r.severity, name,
                     "query " + name + (status.ok() ? " stopped" : " terminated with an error"));
    }
  }
}

void HealthMonitor::Evaluate(int64_t now_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [name, h] : queries_) EvaluateLocked(name, h, now_ms);
}

void HealthMonitor::EvaluateLocked(const std::string& name, QueryHealth& h, int64_t now_ms) {
  for (const RuleConfig& r : rules_) {
    if (!Applies(r, name)) continue;
    if (r.type == "falling_behind") {
      if (h.running && h.behind_since_ms > 0 && now_ms - h.behind_since_ms >= r.for_ms) {
        char msg[160];
        std::snprintf(msg, sizeof msg,
                      "query %s falling behind: input/processing rate %.2f > %.2f for %lld s",
                      name.c_str(), h.behind_ratio, r.ratio,
                      static_cast<long long>((now_ms - h.behind_since_ms) / 1000));
        alerts_->Raise(r.name, r.type, r.severity, name, msg);
      } else if (h.behind_since_ms == 0 || !h.running) {
        alerts_->Resolve(r.name, name);
      }
    } else if (r.type == "kafka_lag") {
      if (h.lags.empty()) continue;
      const int64_t lag = h.lags.back();
      bool growing = false;
      if (r.growing_batches > 0 && h.lags.size() > static_cast<size_t>(r.growing_batches)) {
        growing = true;
        for (size_t i = h.lags.size() - r.growing_batches; i < h.lags.size(); ++i)
          growing = growing && h.lags[i] > h.lags[i - 1];
      }
      const bool over = r.threshold > 0 && lag > r.threshold;
      if (over || growing) {
        JsonWriter d;
        d.BeginObject().Key("lag").Int(lag).Key("threshold").Int(r.threshold).EndObject();
        alerts_->Raise(
            r.name, r.type, r.severity, name,
            "query " + name + " Kafka lag " + std::to_string(lag) +
                (over ? " above " + std::to_string(r.threshold)
                      : " growing over " + std::to_string(r.growing_batches) + " batches"),
            d.str());
      } else {
        alerts_->Resolve(r.name, name);
      }
    } else if (r.type == "watermark_delay") {
      if (h.watermark_ms <= 0) continue;
      const int64_t delay = now_ms - h.watermark_ms;
      if (h.running && delay > r.threshold_ms)
        alerts_->Raise(r.name, r.type, r.severity, name,
                       "query " + name + " watermark " + std::to_string(delay / 1000) +
                           " s behind the clock (max " + std::to_string(r.threshold_ms / 1000) +
                           " s)");
      else
        alerts_->Resolve(r.name, name);
    } else if (r.type == "no_data") {
      if (h.running && now_ms - h.last_data_ms >= r.for_ms)
        alerts_->Raise(r.name, r.type, r.severity, name,
                       "query " + name + " has read no data for " +
                           std::to_string((now_ms - h.last_data_ms) / 1000) + " s");
      else
        alerts_->Resolve(r.name, name);
    }
  }
}

std::vector<Freshness> HealthMonitor::FreshnessSnapshot(int64_t now_ms) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Freshness> out;
  for (const auto& [name, h] : queries_) {
    if (!gold_windows_.count(name)) continue;
    Freshness f = h.freshness;
    f.query = name;
    if (f.newest_complete_window_end_ms >= 0) f.age_ms = now_ms - f.newest_complete_window_end_ms;
    out.push_back(f);
  }
  return out;
}

}  // namespace strata::monitor
