#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "stream/checkpoint.h"
#include "stream/processor.h"
#include "stream/progress.h"
#include "stream/sink.h"
#include "stream/source.h"
#include "stream/trigger.h"

namespace strata {

struct QueryOptions {
  std::string name;
  std::string checkpoint_dir;
  Trigger trigger;
  ReadLimit limit;
  // A batch that fails with a retryable error (Unavailable, IOError, Conflict) is retried this
  // many times, with exponential back-off from retry_backoff_ms, from the last committed state.
  int max_batch_retries = 5;
  int64_t retry_backoff_ms = 200;
  // A source or sink that is unavailable (brokers down) is waited for this long, retrying with
  // back-off (capped at 10 s), before the query fails.
  int64_t max_unavailable_ms = 10 * 60'000;
  size_t progress_history = 100;  // progress records kept in memory
  // A stateful query writes only what changed in a batch (a delta), and its whole state (a
  // snapshot) when the deltas since the last snapshot add up to at least that snapshot's size,
  // and at most every state_snapshot_interval batches. Checkpoint cost thus follows the change,
  // and a restart replays at most about twice the state.
  int64_t state_snapshot_interval = 10;
  // When the input has this timestamp column (e.g. kafka_timestamp), each batch reports the
  // time from it to the batch's commit (p50, p99, max): how long a record took from Kafka to
  // being visible in this query's tables. Empty: not measured.
  std::string latency_column = "kafka_timestamp";
  // A processing-time query whose source has a SignalKey starts a batch as soon as a query in
  // this process commits new data there (stream/commit_signal.h) instead of waiting for its
  // interval, but no sooner than this after its previous batch started, so that an upstream
  // that commits back to back does not multiply the batches. -1: a quarter of the interval.
  int64_t signal_spacing_ms = -1;
};

// A snapshot of a query's status, safe to read from any thread.
struct QueryStatusView {
  std::string id;
  std::string run_id;
  std::string name;
  QueryState state = QueryState::kInitializing;
  std::string message;  // the error when failed
  int64_t last_batch_id = -1;
  int64_t watermark_ms = 0;
  std::vector<QueryProgress> recent;  // oldest first
};

// A micro-batch streaming query: source -> processor -> sinks, with a checkpoint.
//
// Exactly-once protocol for batch N (see docs/architecture.md):
//   1. plan: the source range [start, end), the batch timestamp and watermark are written to
//      offsets/N before anything is read;
//   2. run: the range is read and processed from the state of batch N-1;
//   3. state: the processor's state after N is written to state/N (on another thread, while
//      step 4 runs);
//   4. sinks: each sink commits its rows with txn (query id, N), skipping a sink that already
//      holds N;
//   5. once state/N is durable, commits/N is written.
// A crash anywhere re-runs N from step 2 with the same plan; a committed batch never runs again.
//
// One query runs per checkpoint directory at a time: Initialize takes an exclusive lock on
// <checkpoint>/lock (flock), and a second query on the same directory (another process on
// shared storage) waits as a standby, in state initializing, until the holder's Run() ends or
// its process dies. In group mode the lock is on the member's own directory.
//
// Lifecycle: construct, then either Start() (a thread running the trigger loop) and later
// Stop()/AwaitTermination(), or Run() on the caller's thread (returns when an available-now
// query is done, or when stopped). View() is thread-safe; everything else is for the owner.
class StreamingQuery {
 public:
  StreamingQuery(QueryOptions options, std::unique_ptr<MicroBatchSource> source,
                 std::unique_ptr<BatchProcessor> processor,
                 std::vector<std::unique_ptr<MicroBatchSink>> sinks,
                 std::shared_ptr<QueryListener> listener = nullptr);
  ~StreamingQuery();
  StreamingQuery(const StreamingQuery&) = delete;
  StreamingQuery& operator=(const StreamingQuery&) = delete;

  // Runs the trigger loop on the calling thread until done (available-now), stopped, or failed.
  Status Run();
  // Runs Run() on a new thread.
  void Start();
  // Asks the loop to stop after the current batch and waits for it.
  void Stop();
  // Chains available-now queries that run at the same time: instead of fixing its end when it
  // starts, the query keeps reading until `upstream_done` (e.g. "the query writing my source
  // table has finished") was true before a plan that found nothing new. Set before Run/Start.
  void SetUpstream(std::function<bool()> upstream_done) {
    upstream_done_ = std::move(upstream_done);
  }
  // Waits for the thread started by Start(); returns how the query ended.
  Status AwaitTermination();

  QueryStatusView View() const;
  const std::string& name() const { return options_.name; }

 private:
  Status Initialize();
  // Group mode (source_->MemberName() not empty): the shared identity, the member's own
  // checkpoint directory and the source's MarkReader (see MicroBatchSource::MemberName).
  Status JoinGroup();
  // Plans and runs one batch. Sets *did_work to false when there was nothing to do.
  Status RunOneBatch(bool* did_work);
  Status ExecuteBatch(const PlannedBatch& plan, QueryProgress& progress);
  Status ResetProcessorToCommitted();
  // Remembers (a sample of) the input rows' latency_column timestamps.
  void SampleLatency(const RecordBatch& batch);
  void SetState(QueryState s, const std::string& message = "");
  void RecordProgress(QueryProgress p);
  bool SleepUnlessStopped(int64_t ms);
  // Waits until `interval_ms` after `start_ns` (MonotonicNanos), or, when the source's signal
  // rang since the last plan, until `spacing_ms` after `batch_ns` (the start of the last plan
  // that ran a batch with data: a plan that found nothing, or a no-data batch that only moved
  // the watermark, does not delay the next). Returns false when stopped.
  bool WaitForTrigger(int64_t start_ns, int64_t interval_ms, int64_t batch_ns, int64_t spacing_ms);
  // Rings the signal of sink `sink` when it committed data files, or found its commit made by
  // an earlier attempt.
  void NotifyReaders(size_t sink, const SinkWriteStats& stats);

  QueryOptions options_;
  std::unique_ptr<MicroBatchSource> source_;
  std::unique_ptr<BatchProcessor> processor_;
  std::vector<std::unique_ptr<MicroBatchSink>> sinks_;
  std::shared_ptr<QueryListener> listener_;
  Checkpoint checkpoint_;

  std::string query_id_;
  std::string run_id_;
  int64_t last_committed_ = -1;
  std::string next_start_;
  int64_t watermark_ms_ = 0;
  std::optional<PlannedBatch> pending_;  // planned but not committed before a restart
  std::optional<std::string> available_now_cap_;
  std::function<bool()> upstream_done_;
  int64_t last_state_snapshot_ = -1;      // batch of the newest full state in the checkpoint
  int64_t snapshot_bytes_ = 0;            // its size
  int64_t delta_bytes_ = 0;               // bytes of the deltas written after it
  std::vector<int64_t> latency_samples_;  // input timestamps (micros) of the current batch
  int64_t last_batch_start_ms_ = 0;
  bool behind_ = false;      // the last batch left data in the source
  bool had_data_ = false;    // the last batch read rows (it was not a no-data batch)
  std::string member_;       // group mode: this process's member name; "" otherwise
  std::string mark_prefix_;  // group mode: the shared query id that prefixes partition marks
  int fenced_in_a_row_ = 0;  // group mode: batches refused by the marks since the last commit
  int lock_fd_ = -1;         // holds <checkpoint>/lock while the query runs

  std::thread thread_;
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::condition_variable cv_;
  QueryState state_ = QueryState::kInitializing;  // guarded by mu_
  std::string message_;                           // guarded by mu_
  std::deque<QueryProgress> recent_;              // guarded by mu_
  Status final_status_;                           // guarded by mu_
  bool signaled_ = false;  // guarded by mu_: the source's signal rang since the last plan
};

}  // namespace strata
