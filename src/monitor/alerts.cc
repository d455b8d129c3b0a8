#include "monitor/alerts.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "core/json_writer.h"
#include "core/time_util.h"

namespace strata::monitor {

std::string Alert::ToJson() const {
  JsonWriter w;
  w.BeginObject();
  w.Key("id").String(id);
  w.Key("rule").String(rule);
  w.Key("type").String(type);
  w.Key("severity").String(severity);
  w.Key("subject").String(subject);
  w.Key("message").String(message);
  w.Key("status").String(active() ? "firing" : "resolved");
  w.Key("start").String(FormatTimestampMicros(start_ms * 1000));
  w.Key("start_ms").Int(start_ms);
  if (active()) {
    w.Key("end").Null();
    w.Key("end_ms").Null();
  } else {
    w.Key("end").String(FormatTimestampMicros(end_ms * 1000));
    w.Key("end_ms").Int(end_ms);
  }
  w.Key("details");
  if (details_json.empty())
    w.BeginObject().EndObject();
  else
    w.Raw(details_json);
  w.EndObject();
  return w.Take();
}

// ---------------------------------------------------------------------------------------------

Result<std::unique_ptr<WebhookSender>> WebhookSender::Create(Options options) {
  std::vector<Target> targets;
  for (const std::string& url : options.urls) {
    static constexpr std::string_view kScheme = "http://";
    if (url.compare(0, kScheme.size(), kScheme) != 0)
      return InvalidArgument("webhook url '" + url + "': only http:// is supported");
    std::string rest = url.substr(kScheme.size());
    Target t;
    t.url = url;
    size_t slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    t.path = slash == std::string::npos ? "/" : rest.substr(slash);
    size_t colon = hostport.rfind(':');
    t.host = hostport.substr(0, colon);
    if (colon != std::string::npos) {
      const std::string port = hostport.substr(colon + 1);
      if (port.empty() || port.size() > 5 ||
          !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return InvalidArgument("webhook url '" + url + "': bad port");
      t.port = std::stoi(port);
    }
    if (t.host.empty()) return InvalidArgument("webhook url '" + url + "': no host");
    targets.push_back(std::move(t));
  }
  if (options.max_attempts < 1) return InvalidArgument("webhook max attempts must be >= 1");
  return std::unique_ptr<WebhookSender>(new WebhookSender(std::move(options), std::move(targets)));
}

WebhookSender::WebhookSender(Options options, std::vector<Target> targets)
    : options_(std::move(options)), targets_(std::move(targets)) {
  thread_ = std::thread([this] { Loop(); });
}

WebhookSender::~WebhookSender() {
  Stop();
}

void WebhookSender::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      if (!thread_.joinable()) return;
    } else {
      stopping_ = true;
      drain_deadline_ms_ = NowMillis() + options_.drain_timeout_ms;
    }
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void WebhookSender::Post(std::string body) {
  if (targets_.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    for (size_t i = 0; i < targets_.size(); ++i) {
      if (queue_.size() >= options_.max_queue) {
        queue_.pop_front();
        ++stats_.dropped;
      }
      queue_.push_back(Delivery{i, body, 0, 0});
    }
  }
  cv_.notify_all();
}

WebhookSender::Stats WebhookSender::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

bool WebhookSender::Send(const Target& t, const std::string& body) {
  httplib::Client client(t.host, t.port);
  const auto timeout = std::chrono::milliseconds(options_.timeout_ms);
  client.set_connection_timeout(timeout);
  client.set_read_timeout(timeout);
  client.set_write_timeout(timeout);
  auto res = client.Post(t.path, body, "application/json");
  if (!res) {
    spdlog::warn("webhook {}: {}", t.url, httplib::to_string(res.error()));
    return false;
  }
  if (res->status < 200 || res->status >= 300) {
    spdlog::warn("webhook {}: HTTP {}", t.url, res->status);
    return false;
  }
  return true;
}

void WebhookSender::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    if (stopping_ && (queue_.empty() || NowMillis() >= drain_deadline_ms_)) break;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    // The delivery due first (retries wait for their back-off; others keep their order).
    auto due = std::min_element(queue_.begin(), queue_.end(), [](const auto& a, const auto& b) {
      return a.not_before_ms < b.not_before_ms;
    });
    const int64_t now = NowMillis();
    if (due->not_before_ms > now) {
      int64_t wait = due->not_before_ms - now;
      if (stopping_) wait = std::min(wait, std::max<int64_t>(0, drain_deadline_ms_ - now));
      cv_.wait_for(lock, std::chrono::milliseconds(std::max<int64_t>(wait, 1)));
      continue;
    }
    Delivery d = std::move(*due);
    queue_.erase(due);
    ++stats_.attempts;
    lock.unlock();
    const bool ok = Send(targets_[d.target], d.body);
    lock.lock();
    if (ok) {
      ++stats_.delivered;
      continue;
    }
    if (++d.attempts >= options_.max_attempts) {
      ++stats_.failed;
      spdlog::error("webhook {}: giving up after {} attempts", targets_[d.target].url, d.attempts);
      continue;
    }
    int64_t backoff = options_.initial_backoff_ms;
    for (int i = 1; i < d.attempts && backoff < options_.max_backoff_ms; ++i) backoff *= 2;
    d.not_before_ms = NowMillis() + std::min(backoff, options_.max_backoff_ms);
    queue_.push_back(std::move(d));
  }
}

// ---------------------------------------------------------------------------------------------

std::string AlertManager::Raise(const std::string& rule, const std::string& type,
                                const std::string& severity, const std::string& subject,
                                const std::string& message, const std::string& details_json) {
  std::string body;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto key = std::make_pair(rule, subject);
    auto it = active_.find(key);
    if (it != active_.end()) {
      it->second.message = message;
      it->second.details_json = details_json;
      return it->second.id;
    }
    Alert a;
    a.id = rule + "-" + std::to_string(next_id_++);
    a.rule = rule;
    a.type = type;
    a.severity = severity;
    a.subject = subject;
    a.message = message;
    a.start_ms = NowMillis();
    a.details_json = details_json;
    ++fired_;
    id = a.id;
    body = a.ToJson();
    active_.emplace(key, std::move(a));
  }
  if (severity == "critical")
    spdlog::error("ALERT {} [{}] {}: {}", id, rule, subject, message);
  else
    spdlog::warn("ALERT {} [{}] {}: {}", id, rule, subject, message);
  if (webhooks_) webhooks_->Post(std::move(body));
  return id;
}

void AlertManager::Resolve(const std::string& rule, const std::string& subject) {
  std::string body;
  std::string id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = active_.find(std::make_pair(rule, subject));
    if (it == active_.end()) return;
    Alert a = std::move(it->second);
    active_.erase(it);
    a.end_ms = std::max(NowMillis(), a.start_ms);
    id = a.id;
    body = a.ToJson();
    resolved_.push_front(std::move(a));
    while (resolved_.size() > history_limit_) resolved_.pop_back();
  }
  spdlog::info("RESOLVED {} [{}] {}", id, rule, subject);
  if (webhooks_) webhooks_->Post(std::move(body));
}

bool AlertManager::IsActive(const std::string& rule, const std::string& subject) const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_.count(std::make_pair(rule, subject)) > 0;
}

std::vector<Alert> AlertManager::Active() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  for (const auto& [k, a] : active_) out.push_back(a);
  std::sort(out.begin(), out.end(),
            [](const Alert& a, const Alert& b) { return a.start_ms > b.start_ms; });
  return out;
}

std::vector<Alert> AlertManager::Snapshot() const {
  std::vector<Alert> out = Active();
  std::lock_guard<std::mutex> lock(mu_);
  out.insert(out.end(), resolved_.begin(), resolved_.end());
  return out;
}

uint64_t AlertManager::fired_total() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

}  // namespace strata::monitor
