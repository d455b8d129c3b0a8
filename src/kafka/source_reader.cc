#include "kafka/source_reader.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <cstring>

#include "kafka/client_config.h"

namespace strata {
namespace {

constexpr size_t kBatchMessages = 10000;
constexpr int kMaxWaitMs = 100;  // longest single wait, so errors are served regularly

bool IsUnknownTopic(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART ||
         err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC || err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION;
}

}  // namespace

Result<std::unique_ptr<KafkaReader>> KafkaReader::Create(
    const std::string& bootstrap, const std::map<std::string, std::string>& config) {
  std::map<std::string, std::string> props =
      kafka_internal::Overlay({{"bootstrap.servers", bootstrap},
                               {"group.id", "strata-reader"},
                               {"fetch.wait.max.ms", "10"},
                               {"enable.partition.eof", "true"},
                               {"reconnect.backoff.max.ms", "1000"},
                               // Room to prefetch a whole micro-batch: when the consumer queue
                               // is over these limits, librdkafka 2.0 stops fetching and only
                               // looks again at its next idle wakeup (~1 s), which throttles a
                               // reader whose sink is slower than the network.
                               {"queued.min.messages", "1000000"},
                               {"queued.max.messages.kbytes", "262144"},
                               {"log_level", "3"}},
                              config);
  props["enable.auto.commit"] = "false";
  props["enable.auto.offset.store"] = "false";
  props["auto.offset.reset"] = "error";
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  Status st = kafka_internal::ApplyConfig(conf, props);
  if (!st.ok()) {
    rd_kafka_conf_destroy(conf);
    return st;
  }
  std::unique_ptr<KafkaReader> reader(new KafkaReader());
  reader->bootstrap_ = props["bootstrap.servers"];
  rd_kafka_conf_set_opaque(conf, reader.get());
  rd_kafka_conf_set_error_cb(conf, [](rd_kafka_t* rk, int err, const char* reason, void* op) {
    OnError(rk, err, reason, op);
  });
  char errstr[512];
  reader->rk_ = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
  if (reader->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return InvalidArgument(std::string("Kafka consumer for ") + bootstrap + ": " + errstr);
  }
  reader->queue_ = rd_kafka_queue_get_consumer(reader->rk_);
  reader->msgs_.resize(kBatchMessages);
  reader->records_.reserve(kBatchMessages);
  return reader;
}

KafkaReader::~KafkaReader() {
  if (queue_ != nullptr) rd_kafka_queue_destroy(queue_);
  if (rk_ != nullptr) {
    rd_kafka_consumer_close(rk_);
    rd_kafka_destroy(rk_);
  }
}

void KafkaReader::OnError(rd_kafka_t*, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaReader*>(opaque);
  std::lock_guard<std::mutex> lock(self->error_mu_);
  self->last_error_ = std::string(rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err))) + ": " +
                      (reason != nullptr ? reason : "");
}

std::string KafkaReader::LastError() {
  std::lock_guard<std::mutex> lock(error_mu_);
  return last_error_.empty() ? "none" : last_error_;
}

Result<TopicInfo> KafkaReader::Describe(const std::string& topic,
                                        std::chrono::milliseconds timeout) {
  rd_kafka_topic_t* rkt = rd_kafka_topic_new(rk_, topic.c_str(), nullptr);
  if (rkt == nullptr) return InvalidArgument("Kafka topic name '" + topic + "' rejected");
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err = rd_kafka_metadata(rk_, 0, rkt, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(rkt);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Unavailable("Kafka at " + bootstrap_ + ": metadata of topic " + topic + ": " +
                       rd_kafka_err2str(err) + " (last error: " + LastError() + ")");
  }
  TopicInfo info;
  info.topic = topic;
  Status st;
  if (md->topic_cnt < 1) {
    st = NotFound("Kafka topic " + topic + " at " + bootstrap_ + " does not exist");
  } else if (md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    rd_kafka_resp_err_t terr = md->topics[0].err;
    std::string what = "Kafka topic " + topic + " at " + bootstrap_ + ": " + rd_kafka_err2str(terr);
    st = IsUnknownTopic(terr) ? NotFound(what) : Unavailable(what);
  } else {
    for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
      info.partitions.push_back(md->topics[0].partitions[i].id);
    }
    std::sort(info.partitions.begin(), info.partitions.end());
    if (info.partitions.empty()) {
      st = NotFound("Kafka topic " + topic + " at " + bootstrap_ + " has no partitions");
    }
  }
  rd_kafka_metadata_destroy(md);
  if (!st.ok()) return st;
  char* id = rd_kafka_clusterid(rk_, static_cast<int>(timeout.count()));
  if (id != nullptr) {
    info.cluster_id = id;
    rd_kafka_mem_free(rk_, id);
  }
  return info;
}

Result<std::vector<PartitionOffsets>> KafkaReader::Watermarks(
    const std::string& topic, const std::vector<int32_t>& partitions,
    std::chrono::milliseconds timeout) {
  // Two ListOffsets requests for all partitions at once (earliest, then latest), rather than a
  // round trip per partition: with 48 partitions that is the difference between ~2 ms and
  // ~100 ms per plan.
  std::vector<PartitionOffsets> out(partitions.size());
  for (int which = 0; which < 2; ++which) {
    rd_kafka_topic_partition_list_t* list =
        rd_kafka_topic_partition_list_new(static_cast<int>(partitions.size()));
    for (int32_t p : partitions) {
      rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset =
          which == 0 ? RD_KAFKA_OFFSET_BEGINNING : RD_KAFKA_OFFSET_END;
    }
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(rk_, list, static_cast<int>(timeout.count()));
    for (int i = 0; err == RD_KAFKA_RESP_ERR_NO_ERROR && i < list->cnt; ++i) {
      if (list->elems[i].err != RD_KAFKA_RESP_ERR_NO_ERROR) err = list->elems[i].err;
    }
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_topic_partition_list_destroy(list);
      std::string what =
          "Kafka at " + bootstrap_ + ": watermarks of " + topic + ": " + rd_kafka_err2str(err);
      if (IsUnknownTopic(err)) return NotFound(what);
      return Unavailable(what);
    }
    for (size_t i = 0; i < partitions.size(); ++i) {
      const rd_kafka_topic_partition_t* e =
          rd_kafka_topic_partition_list_find(list, topic.c_str(), partitions[i]);
      out[i].partition = partitions[i];
      (which == 0 ? out[i].low : out[i].high) = e ? e->offset : 0;
    }
    rd_kafka_topic_partition_list_destroy(list);
  }
  return out;
}

Status KafkaReader::DataLossStatus(const std::string& topic, int32_t partition, int64_t offset,
                                   const std::string& reason) {
  const PartitionState& s = states_[slot_of_partition_[partition]];
  std::string msg = "Kafka topic " + topic + " partition " + std::to_string(partition) +
                    ": planned offsets [" + std::to_string(s.next) + ", " + std::to_string(s.end) +
                    ") are not all available";
  int64_t low = 0, high = 0;
  if (rd_kafka_query_watermark_offsets(rk_, topic.c_str(), partition, &low, &high, 2000) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    msg += "; the log now holds [" + std::to_string(low) + ", " + std::to_string(high) + ")";
  }
  msg += " (offset " + std::to_string(offset) + ": " + reason + ")";
  return DataLoss(std::move(msg));
}

void KafkaReader::DestroyBatch(size_t n) {
  for (size_t i = 0; i < n; ++i) rd_kafka_message_destroy(msgs_[i]);
}

Status KafkaReader::ReadRange(const std::string& topic, const std::vector<PartitionRange>& ranges,
                              RecordSink& sink, std::chrono::steady_clock::time_point deadline) {
  states_.clear();
  std::fill(slot_of_partition_.begin(), slot_of_partition_.end(), -1);
  size_t remaining = 0;
  rd_kafka_topic_partition_list_t* assignment =
      rd_kafka_topic_partition_list_new(static_cast<int>(ranges.size()));
  for (const PartitionRange& r : ranges) {
    std::string where = "Kafka read of " + topic + " partition " + std::to_string(r.partition);
    if (r.partition < 0 || r.start < 0 || r.start > r.end) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return InvalidArgument(where + ": bad range [" + std::to_string(r.start) + ", " +
                             std::to_string(r.end) + ")");
    }
    if (static_cast<size_t>(r.partition) >= slot_of_partition_.size()) {
      slot_of_partition_.resize(r.partition + 1, -1);
    }
    if (slot_of_partition_[r.partition] != -1) {
      rd_kafka_topic_partition_list_destroy(assignment);
      return InvalidArgument(where + ": listed twice");
    }
    slot_of_partition_[r.partition] = static_cast<int>(states_.size());
    states_.push_back({r.start, r.end, r.start == r.end});
    if (r.start == r.end) continue;
    rd_kafka_topic_partition_list_add(assignment, topic.c_str(), r.partition)->offset = r.start;
    ++remaining;
  }
  if (remaining == 0) {
    rd_kafka_topic_partition_list_destroy(assignment);
    return Status::OK();
  }
  // A pause from an earlier call sticks to the partition. Lift it before assigning: the
  // fetch start that assign() sends then wakes the broker thread with the partition fetchable
  // (a resume sent after it would only be noticed at the broker thread's next idle wakeup).
  rd_kafka_resp_err_t err = rd_kafka_resume_partitions(rk_, assignment);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) err = rd_kafka_assign(rk_, assignment);
  rd_kafka_topic_partition_list_destroy(assignment);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Internal("Kafka read of " + topic + ": assign failed: " + rd_kafka_err2str(err));
  }

  Status result;
  const rd_kafka_topic_t* topic_handle = nullptr;  // the last handle verified to be `topic`
  while (remaining > 0 && result.ok()) {
    auto now = std::chrono::steady_clock::now();
    if (now >= deadline) break;
    int wait_ms = static_cast<int>(std::min<int64_t>(
        kMaxWaitMs,
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now).count() + 1));
    // consume_batch_queue waits for a full batch or the whole timeout, so only drain what is
    // ready with it, and block for the first message alone.
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data(), msgs_.size());
    if (n == 0) {
      rd_kafka_message_t* first = rd_kafka_consume_queue(queue_, wait_ms);
      if (first != nullptr) {
        msgs_[0] = first;
        ssize_t more = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data() + 1, msgs_.size() - 1);
        n = 1 + std::max<ssize_t>(more, 0);
      }
    }
    rd_kafka_poll(rk_, 0);  // serves error_cb
    if (n <= 0) continue;
    records_.clear();
    rd_kafka_topic_partition_list_t* finished = nullptr;
    for (ssize_t i = 0; i < n && result.ok(); ++i) {
      const rd_kafka_message_t* m = msgs_[i];
      if (m->rkt != topic_handle && m->rkt != nullptr) {
        if (std::strcmp(rd_kafka_topic_name(m->rkt), topic.c_str()) != 0) continue;
        topic_handle = m->rkt;
      }
      int slot = (m->rkt != nullptr && m->partition >= 0 &&
                  static_cast<size_t>(m->partition) < slot_of_partition_.size())
                     ? slot_of_partition_[m->partition]
                     : -1;
      if (m->err != RD_KAFKA_RESP_ERR_NO_ERROR) {
        if (slot < 0) {  // a client-wide error: keep it for the timeout message
          std::lock_guard<std::mutex> lock(error_mu_);
          last_error_ = std::string(rd_kafka_err2name(m->err)) + ": " + rd_kafka_message_errstr(m);
          continue;
        }
        PartitionState& s = states_[slot];
        if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
          if (!s.done && m->offset >= s.end) {
            s.done = true;
            --remaining;
          }
        } else if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET ||
                   m->err == RD_KAFKA_RESP_ERR_OFFSET_OUT_OF_RANGE) {
          if (!s.done) {
            result = DataLossStatus(topic, m->partition, m->offset, rd_kafka_message_errstr(m));
          }
        } else if (IsUnknownTopic(m->err)) {
          result = NotFound("Kafka topic " + topic + " partition " + std::to_string(m->partition) +
                            " at " + bootstrap_ + ": " + rd_kafka_message_errstr(m));
        } else {
          std::lock_guard<std::mutex> lock(error_mu_);
          last_error_ = std::string(rd_kafka_err2name(m->err)) + ": " + rd_kafka_message_errstr(m);
        }
        continue;
      }
      if (slot < 0) continue;
      PartitionState& s = states_[slot];
      if (s.done || m->offset < s.next || m->offset >= s.end) continue;
      KafkaRecord& r = records_.emplace_back();
      r.has_key = m->key != nullptr;
      r.key = r.has_key ? std::string_view(static_cast<const char*>(m->key), m->key_len)
                        : std::string_view();
      r.has_value = m->payload != nullptr;
      r.value = r.has_value ? std::string_view(static_cast<const char*>(m->payload), m->len)
                            : std::string_view();
      r.offset = m->offset;
      r.partition = m->partition;
      rd_kafka_timestamp_type_t ts_type;
      r.timestamp_ms = rd_kafka_message_timestamp(m, &ts_type);
      s.next = m->offset + 1;
      if (s.next >= s.end) {
        s.done = true;
        --remaining;
        if (finished == nullptr) finished = rd_kafka_topic_partition_list_new(4);
        rd_kafka_topic_partition_list_add(finished, topic.c_str(), m->partition);
      }
    }
    if (result.ok() && !records_.empty()) {
      result = sink.OnRecords(topic, records_.data(), records_.size());
    }
    if (finished != nullptr) {  // stop fetching what we no longer need
      rd_kafka_pause_partitions(rk_, finished);
      rd_kafka_topic_partition_list_destroy(finished);
    }
    records_.clear();
    DestroyBatch(static_cast<size_t>(n));
  }

  if (result.ok() && remaining > 0) {
    for (const PartitionRange& r : ranges) {
      const PartitionState& s = states_[slot_of_partition_[r.partition]];
      if (s.done) continue;
      result =
          Unavailable("Kafka at " + bootstrap_ + ": read of topic " + topic +
                      " not finished by the deadline (partition " + std::to_string(r.partition) +
                      " at offset " + std::to_string(s.next) + " of [" + std::to_string(r.start) +
                      ", " + std::to_string(r.end) + "), " + std::to_string(remaining) +
                      " partition(s) unfinished; last error: " + LastError() + ")");
      break;
    }
  }
  // Drop the assignment and whatever was prefetched for it, so the next call starts clean.
  rd_kafka_assign(rk_, nullptr);
  for (;;) {
    ssize_t n = rd_kafka_consume_batch_queue(queue_, 0, msgs_.data(), msgs_.size());
    if (n <= 0) break;
    DestroyBatch(static_cast<size_t>(n));
  }
  return result;
}

}  // namespace strata
