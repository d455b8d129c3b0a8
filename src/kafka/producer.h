#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"

struct rd_kafka_s;
struct rd_kafka_topic_s;

namespace strata {

// A Kafka producer (librdkafka) with strata's defaults: keyed records go to the partition the
// Java client would choose (partitioner=murmur2_random), lz4 compression, linger.ms=5. Every
// librdkafka property in the passthrough map overrides these defaults.
//
// Thread-safety: Produce() and Flush() may be called from several threads at once; the
// counters are atomic. Destruction flushes for at most 10 s, then drops what is left.
class Producer {
 public:
  // InvalidArgument for a property librdkafka rejects.
  static Result<std::unique_ptr<Producer>> Create(
      const std::string& bootstrap, const std::map<std::string, std::string>& config = {});
  ~Producer();
  Producer(const Producer&) = delete;
  Producer& operator=(const Producer&) = delete;

  // Enqueues one record (the bytes are copied) and returns without waiting for the broker.
  // When librdkafka's local queue is full it serves delivery reports and retries until there
  // is room, or returns Cancelled once the flag given to set_cancel_flag() is true. `partition` -1
  // lets the partitioner choose from the key. Errors that retrying cannot fix (unknown topic,
  // record too large) are returned; broker-side failures surface later in delivery_errors().
  Status Produce(std::string_view topic, std::string_view key, std::string_view value,
                 int32_t partition = -1);

  // A flag (owned by the caller, outliving the producer) that stops Produce() from waiting for
  // queue room; nullptr to clear.
  void set_cancel_flag(const std::atomic<bool>* cancel) { cancel_ = cancel; }

  // Serves delivery reports without blocking. Produce() does this now and then by itself.
  void Poll();

  // Waits until every enqueued record is delivered or failed. Unavailable naming the
  // bootstrap servers and the count still in flight if `timeout` passes first.
  Status Flush(std::chrono::milliseconds timeout);

  // Records acknowledged by the broker / failed for good (after librdkafka's retries).
  uint64_t delivered() const { return delivered_.load(std::memory_order_relaxed); }
  uint64_t delivery_errors() const { return delivery_errors_.load(std::memory_order_relaxed); }
  // The last delivery error's text, for a log line ("" if none).
  std::string last_delivery_error() const;

 private:
  Producer() = default;
  static void OnDelivery(rd_kafka_s* rk, const void* msg, void* opaque);
  rd_kafka_topic_s* TopicHandle(std::string_view topic);

  rd_kafka_s* rk_ = nullptr;
  std::mutex topics_mu_;
  std::map<std::string, rd_kafka_topic_s*, std::less<>> topics_;  // guarded by topics_mu_
  std::string bootstrap_;
  std::atomic<uint64_t> delivered_{0};
  std::atomic<uint64_t> delivery_errors_{0};
  std::atomic<uint64_t> produced_since_poll_{0};
  std::atomic<int> last_error_code_{0};
  const std::atomic<bool>* cancel_ = nullptr;
};

}  // namespace strata
