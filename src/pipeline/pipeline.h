#pragma once

#include <memory>
#include <string>
#include <vector>

#include "pipeline/config.h"
#include "pipeline/layers.h"
#include "stream/streaming_query.h"

namespace strata {

// The processor options of a layer's config, shared by the streaming queries and reprocessing
// (pipeline/reprocess.h), so that both apply the same rules.
SilverOptions SilverOptionsFor(const SilverConfig& c);
GoldOptions GoldOptionsFor(const GoldConfig& g);

struct PipelineOptions {
  // Every query uses an available-now trigger: bronze, then silver, then gold, each processing
  // what its source holds when it starts.
  bool available_now = false;
  std::shared_ptr<QueryListener> listener;
};

// The medallion pipeline of one config: three streaming queries (Kafka -> bronze -> silver ->
// gold), each with its own checkpoint, reading the previous layer as a Delta stream.
// Create() creates every table that does not exist yet, so that each query can open its source.
// Thread-safety: Start/Stop/Run from one thread; Queries() and FirstFailure() from any.
class Pipeline {
 public:
  static Result<std::unique_ptr<Pipeline>> Create(const PipelineConfig& config,
                                                  PipelineOptions options = {});
  ~Pipeline();

  // Runs the three queries on their own threads.
  void Start();
  // Stops all queries after their current batch; returns the first failure, if any.
  Status Stop();
  // Available-now: runs bronze, silver and gold to completion in that order.
  Status RunAvailableNow();
  // The first query that failed, or OK.
  Status FirstFailure() const;

  std::vector<QueryStatusView> Queries() const;
  const PipelineConfig& config() const { return config_; }

 private:
  Pipeline(PipelineConfig config, PipelineOptions options);
  Status Build();

  PipelineConfig config_;
  PipelineOptions options_;
  std::vector<std::unique_ptr<StreamingQuery>> queries_;  // bronze, silver, gold
};

}  // namespace strata
