#include "kafka/producer.h"

#include <librdkafka/rdkafka.h>

#include "kafka/client_config.h"

namespace strata {

Result<std::unique_ptr<Producer>> Producer::Create(
    const std::string& bootstrap, const std::map<std::string, std::string>& config) {
  std::map<std::string, std::string> props =
      kafka_internal::Overlay({{"bootstrap.servers", bootstrap},
                               {"partitioner", "murmur2_random"},
                               {"compression.type", "lz4"},
                               {"linger.ms", "5"},
                               {"batch.num.messages", "10000"},
                               {"queue.buffering.max.messages", "500000"},
                               {"log_level", "3"}},
                              config);
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status st = kafka_internal::ApplyConfig(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  std::unique_ptr<Producer> p(new Producer());
  p->bootstrap_ = props["bootstrap.servers"];
  rd_kafka_conf_set_opaque(conf, p.get());
  rd_kafka_conf_set_dr_msg_cb(
      conf, [](rd_kafka_t* rk, const rd_kafka_message_t* m, void* op) { OnDelivery(rk, m, op); });
  char errstr[512];
  p->rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (p->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("Kafka producer for ") + bootstrap + ": " + errstr);
  }
  return p;
}

Producer::~Producer() {
  if (rk_ == nullptr) return;
  rd_kafka_flush(rk_, 10000);
  for (auto& [name, rkt] : topics_) rd_kafka_topic_destroy(rkt);
  rd_kafka_destroy(rk_);
}

void Producer::OnDelivery(rd_kafka_t*, const void* msg, void* opaque) {
  auto* self = static_cast<Producer*>(opaque);
  const auto* m = static_cast<const rd_kafka_message_t*>(msg);
  if (m->err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    self->delivered_.fetch_add(1, std::memory_order_relaxed);
  } else {
    self->delivery_errors_.fetch_add(1, std::memory_order_relaxed);
    self->last_error_code_.store(m->err, std::memory_order_relaxed);
  }
}

std::string Producer::last_delivery_error() const {
  int code = last_error_code_.load(std::memory_order_relaxed);
  return code == 0 ? "" : rd_kafka_err2str(static_cast<rd_kafka_resp_err_t>(code));
}

rd_kafka_topic_t* Producer::TopicHandle(std::string_view topic) {
  std::lock_guard<std::mutex> lock(topics_mu_);
  auto it = topics_.find(topic);
  if (it != topics_.end()) return it->second;
  std::string name(topic);
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, name.c_str(), nullptr);
  if (rkt != nullptr) topics_.emplace(std::move(name), rkt);
  return rkt;
}

void Producer::Poll() {
  rd_kafka_poll(rk_, 0);
}

Status Producer::Produce(std::string_view topic, std::string_view key, std::string_view value,
                         int32_t partition) {
  rd_kafka_topic_t* rkt = TopicHandle(topic);
  if (rkt == nullptr) {
    return InvalidArgument("Kafka produce: bad topic name '" + std::string(topic) + "'");
  }
  for (;;) {
    rd_kafka_resp_err_t err = rd_kafka_producev(
        rk_, RD_KAFKA_V_RKT(rkt),
        RD_KAFKA_V_PARTITION(partition < 0 ? RD_KAFKA_PARTITION_UA : partition),
        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(const_cast<char*>(key.data()), key.size()),
        RD_KAFKA_V_VALUE(const_cast<char*>(value.data()), value.size()), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR) break;
    if (err == RD_KAFKA_RESP_ERR__QUEUE_FULL) {
      if (cancel_ != nullptr && cancel_->load(std::memory_order_relaxed)) {
        return Cancelled("Kafka produce to " + std::string(topic) + " at " + bootstrap_ +
                         ": cancelled while the local queue was full");
      }
      rd_kafka_poll(rk_, 5);
      continue;
    }
    return InvalidArgument("Kafka produce to " + std::string(topic) + " at " + bootstrap_ + ": " +
                           rd_kafka_err2str(err));
  }
  if (produced_since_poll_.fetch_add(1, std::memory_order_relaxed) % 1024 == 1023) {
    rd_kafka_poll(rk_, 0);
  }
  return Status::OK();
}

Status Producer::Flush(std::chrono::milliseconds timeout) {
  rd_kafka_resp_err_t err = rd_kafka_flush(rk_, static_cast<int>(timeout.count()));
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) return Status::OK();
  return Unavailable("Kafka at " + bootstrap_ + ": " + std::to_string(rd_kafka_outq_len(rk_)) +
                     " records still undelivered after " + std::to_string(timeout.count()) + " ms");
}

}  // namespace strata
