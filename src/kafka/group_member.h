#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/status.h"

struct rd_kafka_s;
struct rd_kafka_topic_partition_list_s;

namespace strata {

// What a member of a consumer group knows about its share of the topic.
struct GroupAssignment {
  std::vector<int32_t> partitions;  // ascending: the partitions this process owns now
  int64_t generation = 0;           // +1 on every change of `partitions`
  int64_t rebalances = 0;           // assignment or revocation callbacks served
  int64_t last_rebalance_ms = 0;    // wall-clock time of the last one, 0 if none
  std::string protocol;             // "COOPERATIVE" or "EAGER" (librdkafka's name)
  std::string member_id;            // the coordinator's member id, "" before the first join
};

// The current assignment of a process's group member, readable by other parts of the process
// (the partitioned silver and gold queries) independently of the member's lifetime: the member
// publishes every change, and an empty partition list once it has left the group.
// Thread-safe.
class AssignmentBoard {
 public:
  void Publish(const GroupAssignment& assignment);
  GroupAssignment Get() const;

 private:
  mutable std::mutex mu_;
  GroupAssignment assignment_;  // guarded by mu_
};

// One process's membership of a Kafka consumer group, used only to learn which partitions the
// process owns: the group coordinator spreads the topic's partitions over the members and moves
// them when a member joins, leaves or stops heartbeating. It never consumes records and never
// commits offsets: partitions are assigned at the end of the log and paused at once; records
// are read by a KafkaReader with exact offset ranges that the caller takes from its own durable
// marks (the bronze table's txn actions), so a new owner always knows where to start before it
// reads anything.
//
// Rebalancing is cooperative (partition.assignment.strategy = cooperative-sticky) unless the
// config says otherwise: a rebalance revokes only the partitions that move. The eager
// strategies (range, roundrobin) work too: every rebalance then revokes everything first.
//
// Lifecycle: Create() subscribes and starts a thread that serves the group protocol
// (rd_kafka_consumer_poll) every ~100 ms; Close() (or the destructor) leaves the group
// cleanly, so that the partitions move at once instead of after session.timeout.ms.
// Thread-safety: Assignment() and member_name() from any thread; Close() from the owner.
class KafkaGroupMember {
 public:
  // `config` holds librdkafka properties including group.id (required: InvalidArgument when
  // missing) and bootstrap.servers; strata's defaults (cooperative-sticky, session.timeout.ms
  // 10000, heartbeat.interval.ms 1000) are overridden by it. enable.auto.commit is forced off.
  // `member_name` names this process in logs and client.id. `board`, when given, receives
  // every assignment change. InvalidArgument for a property librdkafka rejects or a failed
  // subscription.
  static Result<std::unique_ptr<KafkaGroupMember>> Create(
      const std::string& topic, const std::string& member_name,
      const std::map<std::string, std::string>& config,
      std::shared_ptr<AssignmentBoard> board = nullptr);
  ~KafkaGroupMember();
  KafkaGroupMember(const KafkaGroupMember&) = delete;
  KafkaGroupMember& operator=(const KafkaGroupMember&) = delete;

  // A consistent copy of the current assignment.
  GroupAssignment Assignment() const;
  const std::string& member_name() const { return member_name_; }
  const std::string& group_id() const { return group_id_; }

  // Leaves the group (the revocation callback runs first) and stops the thread. Idempotent.
  void Close();

 private:
  KafkaGroupMember() = default;
  static void OnRebalance(rd_kafka_s* rk, int err, rd_kafka_topic_partition_list_s* parts,
                          void* opaque);
  void Rebalance(int err, rd_kafka_topic_partition_list_s* parts);
  void PollLoop();

  rd_kafka_s* rk_ = nullptr;
  std::string topic_;
  std::string member_name_;
  std::string group_id_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  bool closed_ = false;
  mutable std::mutex mu_;
  GroupAssignment assignment_;  // guarded by mu_
  std::shared_ptr<AssignmentBoard> board_;
};

}  // namespace strata
