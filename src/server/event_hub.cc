#include "server/event_hub.h"

#include <algorithm>
#include <chrono>

namespace strata::server {

EventHub::EventHub(size_t queue_capacity, size_t max_subscribers)
    : capacity_(std::max<size_t>(1, queue_capacity)), max_subscribers_(max_subscribers) {}

EventHub::~EventHub() {
  Close();
}

void EventHub::Publish(const std::string& type, const std::string& data) {
  std::string event;
  event.reserve(type.size() + data.size() + 16);
  event.append("event: ").append(type).append("\ndata: ").append(data).append("\n\n");
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (closed_) return;
    ++published_;
    for (Subscription* s : subs_) {
      if (s->queue_.size() >= capacity_) {
        s->queue_.pop_front();
        ++s->dropped_;
        ++dropped_;
      }
      s->queue_.push_back(event);
    }
  }
  cv_.notify_all();
}

std::shared_ptr<EventHub::Subscription> EventHub::Subscribe() {
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_ || subs_.size() >= max_subscribers_) return nullptr;
  std::shared_ptr<Subscription> s(new Subscription(this));
  subs_.push_back(s.get());
  return s;
}

void EventHub::Close() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  cv_.notify_all();
}

void EventHub::Unsubscribe(Subscription* s) {
  std::lock_guard<std::mutex> lock(mu_);
  subs_.erase(std::remove(subs_.begin(), subs_.end(), s), subs_.end());
}

size_t EventHub::subscribers() const {
  std::lock_guard<std::mutex> lock(mu_);
  return subs_.size();
}

int64_t EventHub::published() const {
  std::lock_guard<std::mutex> lock(mu_);
  return published_;
}

int64_t EventHub::dropped() const {
  std::lock_guard<std::mutex> lock(mu_);
  return dropped_;
}

EventHub::Subscription::~Subscription() {
  hub_->Unsubscribe(this);
}

std::optional<std::string> EventHub::Subscription::Next(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(hub_->mu_);
  hub_->cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                     [&] { return hub_->closed_ || !queue_.empty(); });
  if (hub_->closed_) return std::nullopt;
  if (queue_.empty()) return std::string();
  std::string event = std::move(queue_.front());
  queue_.pop_front();
  return event;
}

int64_t EventHub::Subscription::dropped() const {
  std::lock_guard<std::mutex> lock(hub_->mu_);
  return dropped_;
}

}  // namespace strata::server
