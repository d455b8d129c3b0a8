#include "kafka/embedded_cluster.h"

#include <librdkafka/rdkafka.h>
// rdkafka_mock.h must follow rdkafka.h.
#include <librdkafka/rdkafka_mock.h>

#include <mutex>
#include <set>

namespace strata {
namespace {

// The mock derives its cluster id from heap addresses, which can repeat once a cluster is
// destroyed; we keep the ids handed out in this process to guarantee they never repeat.
std::mutex& IdsMutex() {
  static std::mutex mu;
  return mu;
}
std::set<std::string>& IssuedIds() {
  static std::set<std::string> ids;
  return ids;
}

struct MockPair {
  rd_kafka_t* handle = nullptr;
  rd_kafka_mock_cluster_t* mock = nullptr;
  void Destroy() {
    if (mock != nullptr) rd_kafka_mock_cluster_destroy(mock);
    if (handle != nullptr) rd_kafka_destroy(handle);
    mock = nullptr;
    handle = nullptr;
  }
};

Result<MockPair> NewMock(int brokers) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  MockPair pair;
  pair.handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (pair.handle == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Internal(std::string("embedded Kafka: cannot create host handle: ") + errstr);
  }
  pair.mock = rd_kafka_mock_cluster_new(pair.handle, brokers);
  if (pair.mock == nullptr) {
    pair.Destroy();
    return Internal("embedded Kafka: cannot start a mock cluster of " + std::to_string(brokers) +
                    " brokers");
  }
  return pair;
}

// Asks the cluster itself for its id, as any client would.
Result<std::string> QueryClusterId(const std::string& bootstrap) {
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), errstr, sizeof(errstr));
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof(errstr));
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
  if (rk == nullptr) {
    rd_kafka_conf_destroy(conf);
    return Internal(std::string("embedded Kafka: cannot create client: ") + errstr);
  }
  char* id = rd_kafka_clusterid(rk, 10000);
  std::string out = id != nullptr ? id : "";
  if (id != nullptr) rd_kafka_mem_free(rk, id);
  rd_kafka_destroy(rk);
  if (out.empty()) return Unavailable("embedded Kafka at " + bootstrap + ": no cluster id");
  return out;
}

}  // namespace

Result<std::unique_ptr<EmbeddedCluster>> EmbeddedCluster::Start(EmbeddedClusterOptions options) {
  if (options.brokers < 1) return InvalidArgument("embedded Kafka: brokers must be >= 1");
  std::unique_ptr<EmbeddedCluster> cluster(new EmbeddedCluster());
  cluster->options_ = options;
  // Keep colliding clusters alive while retrying so the next one gets fresh addresses.
  std::vector<MockPair> rejected;
  for (int attempt = 0; attempt < 8; ++attempt) {
    STRATA_ASSIGN_OR_RETURN(MockPair pair, NewMock(options.brokers));
    std::string bootstrap = rd_kafka_mock_cluster_bootstraps(pair.mock);
    Result<std::string> id = QueryClusterId(bootstrap);
    if (!id.ok()) {
      pair.Destroy();
      for (auto& r : rejected) r.Destroy();
      return id.status();
    }
    std::lock_guard<std::mutex> lock(IdsMutex());
    if (IssuedIds().insert(*id).second) {
      cluster->handle_ = pair.handle;
      cluster->mock_ = pair.mock;
      cluster->bootstrap_ = std::move(bootstrap);
      cluster->cluster_id_ = std::move(*id);
      break;
    }
    rejected.push_back(pair);
  }
  for (auto& r : rejected) r.Destroy();
  if (cluster->mock_ == nullptr) return Internal("embedded Kafka: no fresh cluster id");
  for (const EmbeddedTopic& t : options.topics) {
    STRATA_RETURN_IF_ERROR(cluster->CreateTopic(t.name, t.partitions));
  }
  return cluster;
}

EmbeddedCluster::~EmbeddedCluster() {
  Stop();
}

Status EmbeddedCluster::CreateTopic(const std::string& name, int partitions) {
  if (mock_ == nullptr) return Unavailable("embedded Kafka is stopped");
  rd_kafka_resp_err_t err =
      rd_kafka_mock_topic_create(mock_, name.c_str(), partitions, options_.replication);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return Internal("embedded Kafka: cannot create topic " + name + ": " + rd_kafka_err2str(err));
  }
  return Status::OK();
}

Status EmbeddedCluster::SetBrokerDown(int32_t broker_id) {
  if (mock_ == nullptr) return Unavailable("embedded Kafka is stopped");
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_down(mock_, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InvalidArgument("embedded Kafka: broker " + std::to_string(broker_id) + ": " +
                           rd_kafka_err2str(err));
  }
  return Status::OK();
}

Status EmbeddedCluster::SetBrokerUp(int32_t broker_id) {
  if (mock_ == nullptr) return Unavailable("embedded Kafka is stopped");
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_up(mock_, broker_id);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InvalidArgument("embedded Kafka: broker " + std::to_string(broker_id) + ": " +
                           rd_kafka_err2str(err));
  }
  return Status::OK();
}

Status EmbeddedCluster::SetBrokerLatency(int32_t broker_id, int rtt_ms) {
  if (mock_ == nullptr) return Unavailable("embedded Kafka is stopped");
  rd_kafka_resp_err_t err = rd_kafka_mock_broker_set_rtt(mock_, broker_id, rtt_ms);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    return InvalidArgument("embedded Kafka: broker " + std::to_string(broker_id) + ": " +
                           rd_kafka_err2str(err));
  }
  return Status::OK();
}

void EmbeddedCluster::InjectErrors(int16_t api_key, const std::vector<int>& errors) {
  if (mock_ == nullptr || errors.empty()) return;
  std::vector<rd_kafka_resp_err_t> codes;
  codes.reserve(errors.size());
  for (int e : errors) codes.push_back(static_cast<rd_kafka_resp_err_t>(e));
  rd_kafka_mock_push_request_errors_array(mock_, api_key, codes.size(), codes.data());
}

void EmbeddedCluster::SetTopicError(const std::string& topic, int error) {
  if (mock_ == nullptr) return;
  rd_kafka_mock_topic_set_error(mock_, topic.c_str(), static_cast<rd_kafka_resp_err_t>(error));
}

void EmbeddedCluster::Stop() {
  if (mock_ != nullptr) rd_kafka_mock_cluster_destroy(mock_);
  if (handle_ != nullptr) rd_kafka_destroy(handle_);
  mock_ = nullptr;
  handle_ = nullptr;
  bootstrap_.clear();
}

}  // namespace strata
