#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace strata::server {

// Fan-out of Server-Sent Events to many subscribers, each with its own bounded queue.
//
// Publish() never blocks on a subscriber: when a subscriber's queue is full, its oldest event
// is dropped (and counted), so a slow client can only lose events, never slow the publisher
// (a pipeline query thread). Thread-safe: Publish, Subscribe, Next and Close from any thread.
class EventHub {
 public:
  class Subscription;

  explicit EventHub(size_t queue_capacity = 256, size_t max_subscribers = 64);
  ~EventHub();

  // Formats and queues "event: <type>\ndata: <data>\n\n" for every subscriber. `data` must not
  // contain newlines (JSON from JsonWriter never does).
  void Publish(const std::string& type, const std::string& data);

  // A new subscriber, or nullptr when max_subscribers are connected or the hub is closed.
  std::shared_ptr<Subscription> Subscribe();

  // Wakes every subscriber and makes Next() return nullopt from now on (server shutdown).
  void Close();

  size_t subscribers() const;
  int64_t published() const;
  int64_t dropped() const;

  // One subscriber's queue. Unsubscribes when destroyed.
  class Subscription {
   public:
    ~Subscription();
    // The next formatted event; waits up to timeout_ms. Returns "" on timeout (the caller
    // sends a heartbeat), nullopt once the hub is closed.
    std::optional<std::string> Next(int64_t timeout_ms);
    int64_t dropped() const;

   private:
    friend class EventHub;
    explicit Subscription(EventHub* hub) : hub_(hub) {}
    EventHub* hub_;                  // outlives the subscription (the server owns both)
    std::deque<std::string> queue_;  // guarded by hub_->mu_
    int64_t dropped_ = 0;            // guarded by hub_->mu_
  };

 private:
  void Unsubscribe(Subscription* s);

  const size_t capacity_;
  const size_t max_subscribers_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::vector<Subscription*> subs_;  // guarded by mu_
  bool closed_ = false;              // guarded by mu_
  int64_t published_ = 0;            // guarded by mu_
  int64_t dropped_ = 0;              // guarded by mu_
};

}  // namespace strata::server
