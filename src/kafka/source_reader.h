#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "kafka/record.h"

struct rd_kafka_s;
struct rd_kafka_queue_s;
struct rd_kafka_message_s;

namespace strata {

// Offset semantics used throughout strata: an offset that is stored, committed or planned as a
// start is "the next one to read", i.e. the last processed offset + 1. A range [start, end)
// covers the records with start <= offset < end; an empty range has start == end.

struct TopicInfo {
  std::string topic;
  std::vector<int32_t> partitions;  // ascending
  std::string cluster_id;           // Kafka's ClusterId; "" if the broker does not tell
};

struct PartitionOffsets {
  int32_t partition = 0;
  int64_t low = 0;   // log start offset: the oldest offset still readable
  int64_t high = 0;  // high watermark: the offset the next written record will get
};

struct PartitionRange {
  int32_t partition = 0;
  int64_t start = 0;  // first offset to deliver
  int64_t end = 0;    // exclusive
};

// The read side of a Kafka streaming source, built for exactly-once micro-batches: the engine
// plans an offset range per partition from Watermarks(), records the plan durably, then calls
// ReadRange() with exactly that plan; after a crash it calls ReadRange() with the same plan and
// gets the same records. Nothing is ever committed to Kafka (enable.auto.commit=false) and no
// offset is ever reset silently (auto.offset.reset=error): a planned offset that no longer
// exists is DataLoss.
//
// Lifecycle: Create() once, then Describe/Watermarks/ReadRange as many times as needed; the
// connections are kept between calls. Thread-safety: one call at a time (not thread-safe).
class KafkaReader {
 public:
  // Every librdkafka consumer property in `config` passes through and overrides strata's
  // defaults (fetch.wait.max.ms=10, enable.partition.eof=true, reconnect.backoff.max.ms=1000,
  // queued.min.messages=1000000, queued.max.messages.kbytes=262144 (a read may prefetch up to
  // 256 MiB), group.id=strata-reader; the
  // group is never joined nor committed to). enable.auto.commit and auto.offset.reset are
  // forced to false/error. InvalidArgument for a property librdkafka rejects.
  static Result<std::unique_ptr<KafkaReader>> Create(
      const std::string& bootstrap, const std::map<std::string, std::string>& config = {});
  ~KafkaReader();
  KafkaReader(const KafkaReader&) = delete;
  KafkaReader& operator=(const KafkaReader&) = delete;

  // Partitions and cluster id of `topic`. NotFound if the topic does not exist, Unavailable
  // (naming the bootstrap servers) if no broker answers within `timeout`.
  Result<TopicInfo> Describe(const std::string& topic, std::chrono::milliseconds timeout);

  // Low and high watermarks of each listed partition, in the same order. Unavailable if a
  // broker does not answer within `timeout` (per partition).
  Result<std::vector<PartitionOffsets>> Watermarks(const std::string& topic,
                                                   const std::vector<int32_t>& partitions,
                                                   std::chrono::milliseconds timeout);

  // Delivers every record of `topic` with start <= offset < end for each range to `sink`, then
  // returns OK. Records outside the ranges are never delivered; within a partition they come in
  // offset order, each exactly once per call. A partition is finished when the record at end-1
  // was delivered or the consumer reached the end of the partition's log at a position >= end
  // (offsets may have gaps, e.g. transaction markers). Errors:
  //   DataLoss     a start offset below the log start (deleted by retention) or beyond the log
  //                end; the message names topic, partition and offsets.
  //   Unavailable  not finished by `deadline` (brokers unreachable or too slow); the message
  //                names the bootstrap servers and the partition that did not finish.
  //   InvalidArgument  a range with start > end or a partition listed twice.
  //   whatever the sink returns (the read stops there).
  // An error can come after the sink already got records (of other partitions, or the first
  // offsets of the failing one); a caller that needs all-or-nothing discards them.
  // Record views are valid only during the OnRecords call that delivers them.
  Status ReadRange(const std::string& topic, const std::vector<PartitionRange>& ranges,
                   RecordSink& sink, std::chrono::steady_clock::time_point deadline);

  const std::string& bootstrap_servers() const { return bootstrap_; }

 private:
  struct PartitionState {
    int64_t next = 0;  // next offset to deliver
    int64_t end = 0;
    bool done = false;
  };

  KafkaReader() = default;
  static void OnError(rd_kafka_s* rk, int err, const char* reason, void* opaque);
  std::string LastError();
  Status DataLossStatus(const std::string& topic, int32_t partition, int64_t offset,
                        const std::string& reason);
  void DestroyBatch(size_t n);

  rd_kafka_s* rk_ = nullptr;
  rd_kafka_queue_s* queue_ = nullptr;  // the consumer queue
  std::string bootstrap_;
  std::vector<rd_kafka_message_s*> msgs_;  // reused across calls
  std::vector<KafkaRecord> records_;       // reused across calls
  std::vector<int> slot_of_partition_;     // partition id -> index into states_, -1 if none
  std::vector<PartitionState> states_;
  std::mutex error_mu_;
  std::string last_error_;  // guarded by error_mu_
};

}  // namespace strata
