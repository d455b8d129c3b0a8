#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

struct rd_kafka_s;
struct rd_kafka_mock_cluster_s;

namespace strata {

struct EmbeddedTopic {
  std::string name;
  int partitions = 1;
};

struct EmbeddedClusterOptions {
  int brokers = 3;
  std::vector<EmbeddedTopic> topics = {{"clickstream-events", 12}};
  int replication = 1;  // clamped to `brokers` by the mock
};

// An in-process Kafka cluster (librdkafka's mock cluster) listening on 127.0.0.1 ephemeral
// ports, for tests, benchmarks and `strata` demos. Real clients connect to bootstrap_servers()
// over loopback sockets.
//
// Ownership: the cluster lives inside the process that called Start() and dies with it (or on
// Stop()/destruction); another process can use it only while this one runs. Its brokers run on
// one internal thread. Retention is the mock's: roughly 5 MiB or 100,000 message sets per
// partition, after which the oldest data is deleted (the log start offset moves up).
//
// Cost: the mock finds a fetch's start by walking the partition's list of message sets from the
// oldest (librdkafka 2.0's rd_kafka_mock_msgset_find), and returns at most one message set per
// partition per Fetch. Reading therefore costs about (message sets produced) x (message sets
// retained per partition): many partitions fed small batches (a short producer linger.ms, a low
// rate per partition) make its single thread the bottleneck (docs/benchmarks.md, "48
// partitions"). Producers that batch more per partition keep it cheap.
//
// Thread-safety: all methods may be called from any thread, but not concurrently with Stop().
class EmbeddedCluster {
 public:
  // Starts the brokers and creates the topics. Internal if librdkafka cannot create the cluster
  // or a topic.
  static Result<std::unique_ptr<EmbeddedCluster>> Start(EmbeddedClusterOptions options = {});

  ~EmbeddedCluster();
  EmbeddedCluster(const EmbeddedCluster&) = delete;
  EmbeddedCluster& operator=(const EmbeddedCluster&) = delete;

  // "127.0.0.1:port,127.0.0.1:port,..."; empty after Stop().
  const std::string& bootstrap_servers() const { return bootstrap_; }
  // The cluster id that clients see (Metadata ClusterId). Distinct for every cluster started
  // in this process.
  const std::string& cluster_id() const { return cluster_id_; }
  int broker_count() const { return options_.brokers; }

  // Creates another topic. Internal on failure (e.g. it already exists).
  Status CreateTopic(const std::string& name, int partitions);

  // Broker ids are 1..broker_count(). A down broker closes its connections and refuses new ones.
  Status SetBrokerDown(int32_t broker_id);
  Status SetBrokerUp(int32_t broker_id);

  // The next `errors.size()` requests of protocol API `api_key` (e.g. 1 = Fetch, 0 = Produce,
  // 3 = Metadata, 2 = ListOffsets) fail with these Kafka error codes, in order (any broker).
  void InjectErrors(int16_t api_key, const std::vector<int>& errors);
  // Every request about `topic` fails with `error` until called again with 0.
  void SetTopicError(const std::string& topic, int error);
  // Adds `rtt_ms` of latency to a broker's responses.
  Status SetBrokerLatency(int32_t broker_id, int rtt_ms);

  // Shuts down the brokers; clients see connection failures afterwards. Idempotent.
  void Stop();

 private:
  EmbeddedCluster() = default;

  EmbeddedClusterOptions options_;
  rd_kafka_s* handle_ = nullptr;             // owns the mock cluster's thread
  rd_kafka_mock_cluster_s* mock_ = nullptr;  // owned, destroyed before handle_
  std::string bootstrap_;
  std::string cluster_id_;
};

}  // namespace strata
