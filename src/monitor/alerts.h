#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

namespace strata::monitor {

// One alert: raised by a rule for a subject (a query, a table, a column), active until the
// condition clears, then resolved (end_ms set).
struct Alert {
  std::string id;        // unique per firing ("<rule>-<n>")
  std::string rule;      // the rule's name (from the config, or its type)
  std::string type;      // falling_behind, kafka_lag, ..., schema_drift
  std::string severity;  // "warning" or "critical"
  std::string subject;   // what it is about: a query name, "bronze.country", ...
  std::string message;
  int64_t start_ms = 0;
  int64_t end_ms = 0;        // 0 while active
  std::string details_json;  // a JSON object with rule-specific data, or empty

  bool active() const { return end_ms == 0; }
  // {"id","rule","type","severity","subject","message","status":"firing"|"resolved",
  //  "start","end"(null while firing),"details"}; times as ISO-8601 UTC and *_ms.
  std::string ToJson() const;
};

// Posts JSON bodies to webhook URLs (http://host:port/path) on its own thread, with retries and
// exponential back-off. Post() never blocks: when the bounded queue is full, the oldest pending
// delivery is dropped (and counted). Thread-safe. Stop() (or the destructor) waits at most
// `drain_timeout_ms` for pending deliveries, then abandons them.
class WebhookSender {
 public:
  struct Options {
    std::vector<std::string> urls;
    int max_attempts = 5;
    int64_t initial_backoff_ms = 500;
    int64_t max_backoff_ms = 30'000;
    int64_t timeout_ms = 5'000;
    size_t max_queue = 1000;
    int64_t drain_timeout_ms = 2'000;
  };
  struct Stats {
    uint64_t delivered = 0;
    uint64_t attempts = 0;
    uint64_t failed = 0;   // gave up after max_attempts
    uint64_t dropped = 0;  // queue full
  };

  // InvalidArgument names a URL that is not http://host[:port][/path].
  static Result<std::unique_ptr<WebhookSender>> Create(Options options);
  ~WebhookSender();
  WebhookSender(const WebhookSender&) = delete;
  WebhookSender& operator=(const WebhookSender&) = delete;

  void Post(std::string body);
  Stats stats() const;
  void Stop();

 private:
  struct Target {
    std::string url, host, path;
    int port = 80;
  };
  struct Delivery {
    size_t target;
    std::string body;
    int attempts = 0;
    int64_t not_before_ms = 0;
  };
  explicit WebhookSender(Options options, std::vector<Target> targets);
  void Loop();
  bool Send(const Target& t, const std::string& body);

  Options options_;
  std::vector<Target> targets_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Delivery> queue_;  // guarded by mu_
  Stats stats_;                 // guarded by mu_
  bool stopping_ = false;       // guarded by mu_
  int64_t drain_deadline_ms_ = 0;
  std::thread thread_;
};

// The alerts of one process: raises and resolves them, logs each change (spdlog), keeps the
// active ones and a bounded history for readers (the server/dashboard), and hands every change
// to an optional WebhookSender. Thread-safe; Raise/Resolve return quickly.
class AlertManager {
 public:
  explicit AlertManager(WebhookSender* webhooks = nullptr, size_t history = 200)
      : webhooks_(webhooks), history_limit_(history) {}

  // Fires an alert for (rule, subject) unless one is already active (then only its message and
  // details are refreshed). Returns the alert's id.
  std::string Raise(const std::string& rule, const std::string& type, const std::string& severity,
                    const std::string& subject, const std::string& message,
                    const std::string& details_json = "");
  // Resolves the active alert of (rule, subject), if any.
  void Resolve(const std::string& rule, const std::string& subject);
  bool IsActive(const std::string& rule, const std::string& subject) const;

  std::vector<Alert> Active() const;
  // Active alerts and the resolved ones kept, newest first.
  std::vector<Alert> Snapshot() const;
  uint64_t fired_total() const;

 private:
  WebhookSender* webhooks_;
  size_t history_limit_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, Alert> active_;  // guarded by mu_
  std::deque<Alert> resolved_;                                   // guarded by mu_, newest first
  uint64_t next_id_ = 1;                                         // guarded by mu_
  uint64_t fired_ = 0;                                           // guarded by mu_
};

}  // namespace strata::monitor
