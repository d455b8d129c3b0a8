#include "kafka/group_member.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstring>
#include <set>

#include "core/time_util.h"
#include "kafka/client_config.h"

namespace strata {

namespace {

constexpr int kPollMs = 100;
// How long leaving waits for the revocation of an unsubscribed member before closing anyway.
constexpr int64_t kUnsubscribeWaitMs = 10'000;

std::string PartitionList(const rd_kafka_topic_partition_list_t* parts) {
  std::string out;
  for (int i = 0; i < parts->cnt; ++i) {
    if (i) out += ",";
    out += std::to_string(parts->elems[i].partition);
  }
  return out;
}

}  // namespace

Result<std::unique_ptr<KafkaGroupMember>> KafkaGroupMember::Create(
    const std::string& topic, const std::string& member_name,
    const std::map<std::string, std::string>& config, std::shared_ptr<AssignmentBoard> board) {
  auto group = config.find("group.id");
  if (group == config.end() || group->second.empty())
    return InvalidArgument("kafka.group.id is not set: a group member needs a consumer group");
  std::map<std::string, std::string> props =
      kafka_internal::Overlay({{"partition.assignment.strategy", "cooperative-sticky"},
                               {"session.timeout.ms", "10000"},
                               {"heartbeat.interval.ms", "1000"},
                               {"reconnect.backoff.max.ms", "1000"},
                               {"client.id", "strata-" + member_name},
                               {"log_level", "3"}},
                              config);
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  props["enable.partition.eof"] = "false";
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status st = kafka_internal::ApplyConfig(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  std::unique_ptr<KafkaGroupMember> m(new KafkaGroupMember());
  m->topic_ = topic;
  m->member_name_ = member_name;
  m->group_id_ = group->second;
  m->board_ = std::move(board);
  rd_kafka_conf_set_opaque(conf, m.get());
  rd_kafka_conf_set_rebalance_cb(
      conf, [](rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* parts,
               void* opaque) { OnRebalance(rk, err, parts, opaque); });
  char errstr[512];
  m->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (m->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument("Kafka group consumer (group.id " + m->group_id_ + "): " + errstr);
  }
  rd_kafka_poll_set_consumer(m->rk_);
  rd_kafka_topic_partition_list_t* subscription = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(subscription, topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(m->rk_, subscription);
  rd_kafka_topic_partition_list_destroy(subscription);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_destroy(m->rk_);
    m->rk_ = nullptr;
    return InvalidArgument("subscribing group " + m->group_id_ + " to topic " + topic + ": " +
                           rd_kafka_err2str(err));
  }
  {
    std::lock_guard<std::mutex> lock(m->mu_);
    m->assignment_.protocol = rd_kafka_rebalance_protocol(m->rk_);
  }
  spdlog::info("kafka group {}: member {} joining ({} assignment)", m->group_id_, member_name,
               props["partition.assignment.strategy"]);
  m->thread_ = std::thread([p = m.get()] { p->PollLoop(); });
  return m;
}

KafkaGroupMember::~KafkaGroupMember() {
  Close();
}

void KafkaGroupMember::Close() {
  if (closed_) return;
  closed_ = true;
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (rk_ != nullptr) {
    rd_kafka_destroy(rk_);
    rk_ = nullptr;
  }
  if (board_) {
    std::lock_guard<std::mutex> lock(mu_);
    assignment_.partitions.clear();
    board_->Publish(assignment_);
  }
}

void AssignmentBoard::Publish(const GroupAssignment& assignment) {
  std::lock_guard<std::mutex> lock(mu_);
  assignment_ = assignment;
}

GroupAssignment AssignmentBoard::Get() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assignment_;
}

GroupAssignment KafkaGroupMember::Assignment() const {
  std::lock_guard<std::mutex> lock(mu_);
  return assignment_;
}

void KafkaGroupMember::PollLoop() {
  while (!stop_.load()) {
    rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, kPollMs);
    if (msg == nullptr) continue;
    if (msg->err != RD_KAFKA_RESP_ERR_NO_ERROR && msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
      spdlog::debug("kafka group {}: {}", group_id_, rd_kafka_message_errstr(msg));
    rd_kafka_message_destroy(msg);
  }
  // librdkafka before 2.4 can hang in rd_kafka_consumer_close when a rebalance is under way as
  // it closes (librdkafka issue 4527; Debian 12 ships 2.0.2): give up the subscription first
  // and serve the revocation here, so that the close finds nothing assigned.
  rd_kafka_resp_err_t err = rd_kafka_unsubscribe(rk_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    spdlog::warn("kafka group {}: unsubscribing: {}", group_id_, rd_kafka_err2str(err));
  const int64_t deadline = NowMillis() + kUnsubscribeWaitMs;
  while (NowMillis() < deadline) {
    rd_kafka_topic_partition_list_t* assigned = nullptr;
    if (rd_kafka_assignment(rk_, &assigned) == RD_KAFKA_RESP_ERR_NO_ERROR) {
      const bool empty = assigned->cnt == 0;
      rd_kafka_topic_partition_list_destroy(assigned);
      if (empty) break;
    }
    if (rd_kafka_message_t* msg = rd_kafka_consumer_poll(rk_, 20)) rd_kafka_message_destroy(msg);
  }
  // Leaves the group (a revocation still pending runs inside this call, on this thread).
  err = rd_kafka_consumer_close(rk_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    spdlog::warn("kafka group {}: leaving the group: {}", group_id_, rd_kafka_err2str(err));
  spdlog::info("kafka group {}: member {} left", group_id_, member_name_);
}

void KafkaGroupMember::OnRebalance(rd_kafka_t*, int err, rd_kafka_topic_partition_list_t* parts,
                                   void* opaque) {
  static_cast<KafkaGroupMember*>(opaque)->Rebalance(err, parts);
}

void KafkaGroupMember::Rebalance(int err, rd_kafka_topic_partition_list_t* parts) {
  const std::string protocol = rd_kafka_rebalance_protocol(rk_);
  const bool cooperative = protocol == "COOPERATIVE";
  std::set<int32_t> owned;
  {
    std::lock_guard<std::mutex> lock(mu_);
    owned.insert(assignment_.partitions.begin(), assignment_.partitions.end());
  }
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    // Fetching starts nowhere useful: the partitions are assigned at the log end and paused,
    // only to complete the protocol. Records are read elsewhere, from the table's marks.
    for (int i = 0; i < parts->cnt; ++i) parts->elems[i].offset = RD_KAFKA_OFFSET_END;
    if (cooperative) {
      rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_, parts);
      if (e != nullptr) {
        spdlog::warn("kafka group {}: incremental assign: {}", group_id_, rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      owned.clear();
      rd_kafka_resp_err_t e = rd_kafka_assign(rk_, parts);
      if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
        spdlog::warn("kafka group {}: assign: {}", group_id_, rd_kafka_err2str(e));
    }
    rd_kafka_pause_partitions(rk_, parts);
    for (int i = 0; i < parts->cnt; ++i) owned.insert(parts->elems[i].partition);
    spdlog::info("kafka group {}: member {} assigned partitions [{}]", group_id_, member_name_,
                 PartitionList(parts));
  } else {
    // Revoked (or lost): stop planning these partitions before giving them up. A batch already
    // planned with them can still commit only if no new owner committed them first (the
    // table's txn marks fence it), so nothing is written twice.
    const bool lost = err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS || rd_kafka_assignment_lost(rk_);
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      for (int i = 0; i < parts->cnt; ++i) owned.erase(parts->elems[i].partition);
    } else {
      owned.clear();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      assignment_.partitions.assign(owned.begin(), owned.end());
      if (board_) board_->Publish(assignment_);
    }
    if (cooperative && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS) {
      rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_, parts);
      if (e != nullptr) {
        spdlog::warn("kafka group {}: incremental unassign: {}", group_id_,
                     rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk_, nullptr);
    }
    spdlog::info("kafka group {}: member {} {} partitions [{}]", group_id_, member_name_,
                 lost ? "lost" : "revoked", PartitionList(parts));
  }
  char* member_id = rd_kafka_memberid(rk_);
  std::lock_guard<std::mutex> lock(mu_);
  assignment_.partitions.assign(owned.begin(), owned.end());
  ++assignment_.generation;
  ++assignment_.rebalances;
  assignment_.last_rebalance_ms = NowMillis();
  assignment_.protocol = protocol;
  if (member_id != nullptr) {
    assignment_.member_id = member_id;
    rd_kafka_mem_free(rk_, member_id);
  }
  if (board_) board_->Publish(assignment_);
}

}  // namespace strata
