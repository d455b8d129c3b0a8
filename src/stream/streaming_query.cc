#include "stream/streaming_query.h"

#include <fcntl.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <future>

#include "core/crash_point.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "stream/commit_signal.h"

namespace strata {

namespace {

int64_t ElapsedMs(int64_t start_ns) {
  return (MonotonicNanos() - start_ns) / 1'000'000;
}

bool IsRetryable(const Status& st) {
  return st.code() == StatusCode::kUnavailable || st.code() == StatusCode::kIOError ||
         st.code() == StatusCode::kConflict;
}

// An exclusive advisory lock on <dir>/lock: the descriptor holding it, or -1 when another
// process (or another query of this one) holds it. IOError naming the file otherwise.
Result<int> TryLockCheckpoint(const std::string& dir) {
  STRATA_RETURN_IF_ERROR(CreateDirectories(dir));
  const std::string path = dir + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("opening " + path + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) == 0) return fd;
  int err = errno;
  ::close(fd);
  if (err == EWOULDBLOCK) return -1;
  return IOError("locking " + path + ": " + std::strerror(err));
}

}  // namespace

StreamingQuery::StreamingQuery(QueryOptions options, std::unique_ptr<MicroBatchSource> source,
                               std::unique_ptr<BatchProcessor> processor,
                               std::vector<std::unique_ptr<MicroBatchSink>> sinks,
                               std::shared_ptr<QueryListener> listener)
    : options_(std::move(options)),
      source_(std::move(source)),
      processor_(std::move(processor)),
      sinks_(std::move(sinks)),
      listener_(std::move(listener)),
      checkpoint_(options_.checkpoint_dir),
      run_id_(NewUuid()) {}

StreamingQuery::~StreamingQuery() {
  Stop();
  if (lock_fd_ >= 0) ::close(lock_fd_);
}

void StreamingQuery::SetState(QueryState s, const std::string& message) {
  std::lock_guard<std::mutex> lock(mu_);
  state_ = s;
  message_ = message;
}

QueryStatusView StreamingQuery::View() const {
  std::lock_guard<std::mutex> lock(mu_);
  QueryStatusView v;
  v.id = query_id_;
  v.run_id = run_id_;
  v.name = options_.name;
  v.state = state_;
  v.message = message_;
  v.last_batch_id = last_committed_;
  v.watermark_ms = watermark_ms_;
  v.recent.assign(recent_.begin(), recent_.end());
  return v;
}

void StreamingQuery::RecordProgress(QueryProgress p) {
  if (listener_) listener_->OnQueryProgress(p);
  std::lock_guard<std::mutex> lock(mu_);
  recent_.push_back(std::move(p));
  while (recent_.size() > options_.progress_history) recent_.pop_front();
}

bool StreamingQuery::SleepUnlessStopped(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [this] { return stop_.load(); });
  return !stop_.load();
}

bool StreamingQuery::WaitForTrigger(int64_t start_ns, int64_t interval_ms, int64_t batch_ns,
                                    int64_t spacing_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  int64_t wait = interval_ms - ElapsedMs(start_ns);
  if (wait > 0) {
    cv_.wait_for(lock, std::chrono::milliseconds(wait),
                 [this] { return stop_.load() || signaled_; });
  }
  if (signaled_) {
    wait = spacing_ms - ElapsedMs(batch_ns);
    if (wait > 0)
      cv_.wait_for(lock, std::chrono::milliseconds(wait), [this] { return stop_.load(); });
  }
  return !stop_.load();
}

void StreamingQuery::NotifyReaders(size_t sink, const SinkWriteStats& stats) {
  // A skipped commit is one an earlier attempt made (which may have failed before ringing);
  // a spurious ring costs the reader one empty plan.
  if (!stats.skipped && stats.files == 0) return;
  const std::string key = sinks_[sink]->SignalKey();
  if (!key.empty()) CommitSignals::Global().Notify(key);
}

Status StreamingQuery::Initialize() {
  STRATA_RETURN_IF_ERROR(
      source_->Open().WithContext(options_.name + ": source " + source_->Description()));
  for (auto& sink : sinks_)
    STRATA_RETURN_IF_ERROR(
        sink->Open().WithContext(options_.name + ": sink " + sink->Description()));
  member_ = source_->MemberName();
  if (!member_.empty()) STRATA_RETURN_IF_ERROR(JoinGroup());
  // One running query per checkpoint: another one (a second process on shared storage) waits
  // here as a standby and takes over when the holder stops or dies (the lock dies with it).
  bool waiting = false;
  while (lock_fd_ < 0) {
    STRATA_ASSIGN_OR_RETURN(lock_fd_, TryLockCheckpoint(checkpoint_.dir()));
    if (lock_fd_ >= 0) break;
    if (!waiting) {
      spdlog::info("{}: checkpoint {} is in use by another query; standing by until it is free",
                   options_.name, checkpoint_.dir());
      waiting = true;
    }
    if (!SleepUnlessStopped(500)) return Status::OK();  // stopped while standing by
  }
  if (waiting) spdlog::info("{}: took over checkpoint {}", options_.name, checkpoint_.dir());

  auto meta = checkpoint_.LoadMetadata();
  if (!meta.ok() && meta.status().code() != StatusCode::kNotFound) return meta.status();
  if (!meta.ok()) {
    CheckpointMetadata m;
    m.query_id = NewUuid();
    m.name = options_.name;
    m.source = source_->Identity();
    m.fingerprint = processor_->Fingerprint();
    STRATA_RETURN_IF_ERROR(checkpoint_.CreateMetadata(m));
    std::lock_guard<std::mutex> lock(mu_);
    query_id_ = m.query_id;
  } else {
    if (meta->source != source_->Identity()) {
      return InvalidArgument("checkpoint " + checkpoint_.dir() + " belongs to a query reading '" +
                             meta->source + "', but this query reads '" + source_->Identity() +
                             "'; use a new checkpointLocation");
    }
    if (meta->fingerprint != processor_->Fingerprint()) {
      return InvalidArgument("checkpoint " + checkpoint_.dir() +
                             " was written by a query with other keys or windows (" +
                             meta->fingerprint + ", now " + processor_->Fingerprint() +
                             "); its state cannot be reused: use a new checkpointLocation");
    }
    std::lock_guard<std::mutex> lock(mu_);
    query_id_ = meta->query_id;
  }

  STRATA_ASSIGN_OR_RETURN(int64_t committed, checkpoint_.LatestCommitted());
  STRATA_ASSIGN_OR_RETURN(int64_t planned, checkpoint_.LatestPlanned());
  if (planned > committed + 1 || (committed >= 0 && planned < committed)) {
    return Corruption("checkpoint " + checkpoint_.dir() + " has planned batch " +
                      std::to_string(planned) + " but committed batch " +
                      std::to_string(committed));
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_committed_ = committed;
  }
  if (committed >= 0) {
    STRATA_ASSIGN_OR_RETURN(PlannedBatch last, checkpoint_.LoadPlanned(committed));
    STRATA_ASSIGN_OR_RETURN(CommittedBatch c, checkpoint_.LoadCommitted(committed));
    next_start_ = last.end;
    std::lock_guard<std::mutex> lock(mu_);
    watermark_ms_ = c.next_watermark_ms;
  } else {
    STRATA_ASSIGN_OR_RETURN(next_start_, source_->InitialOffset());
  }
  STRATA_RETURN_IF_ERROR(ResetProcessorToCommitted());

  if (planned == committed + 1 && planned >= 0) {
    STRATA_ASSIGN_OR_RETURN(PlannedBatch p, checkpoint_.LoadPlanned(planned));
    pending_ = std::move(p);
  }
  // Group mode: the partitions of a batch planned before a restart may belong to another member
  // now; the next plan starts from the table's marks instead.
  if (!member_.empty()) pending_.reset();
  // The source may have been replaced (another Kafka cluster); it decides what our offsets mean.
  STRATA_ASSIGN_OR_RETURN(std::string reconciled, source_->Reconcile(next_start_));
  if (reconciled != next_start_) {
    spdlog::warn("{}: source offsets reset to {} (checkpoint had {})", options_.name, reconciled,
                 next_start_);
    next_start_ = reconciled;
    pending_.reset();  // its range belongs to the old source
  }
  if (pending_) {
    spdlog::info("{}: re-running batch {} planned before the restart", options_.name,
                 pending_->batch_id);
  }
  if (options_.trigger.kind == Trigger::Kind::kAvailableNow && !upstream_done_) {
    STRATA_ASSIGN_OR_RETURN(std::string cap, source_->PlanEnd(next_start_, ReadLimit{}, ""));
    available_now_cap_ = std::move(cap);
  }
  return Status::OK();
}

Status StreamingQuery::JoinGroup() {
  if (options_.trigger.kind == Trigger::Kind::kAvailableNow) {
    return InvalidArgument(options_.name + ": " + source_->Description() +
                           " is read by a group of processes, which has no end to run to; "
                           "available-now needs a single process (no group.id)");
  }
  if (sinks_.size() != 1) {
    return InvalidArgument(options_.name +
                           ": group mode needs exactly one sink (it holds the "
                           "partition marks), this query has " +
                           std::to_string(sinks_.size()));
  }
  // The query's identity is the group's: its id prefixes the partition marks that every member
  // reads and writes. The first member to start creates it (put-if-absent), the others load it.
  Checkpoint shared(options_.checkpoint_dir);
  auto meta = shared.LoadMetadata();
  if (meta.status().code() == StatusCode::kNotFound) {
    CheckpointMetadata m;
    m.query_id = NewUuid();
    m.name = options_.name;
    m.source = source_->Identity();
    m.fingerprint = processor_->Fingerprint();
    Status st = shared.CreateMetadata(m);
    if (!st.ok() && st.code() != StatusCode::kAlreadyExists) return st;
    meta = shared.LoadMetadata();
  }
  if (!meta.ok()) return meta.status();
  if (meta->source != source_->Identity()) {
    return InvalidArgument("checkpoint " + shared.dir() + " belongs to a query reading '" +
                           meta->source + "', but this query reads '" + source_->Identity() +
                           "'; use a new checkpointLocation");
  }
  mark_prefix_ = meta->query_id;
  checkpoint_ = Checkpoint(options_.checkpoint_dir + "/members/" + member_);
  MicroBatchSink* sink = sinks_[0].get();
  std::string prefix = mark_prefix_;
  source_->SetMarkReader([sink, prefix](const std::vector<std::string>& app_ids) {
    std::vector<std::string> full;
    full.reserve(app_ids.size());
    for (const auto& id : app_ids) full.push_back(prefix + "/" + id);
    return sink->MarkVersions(full);
  });
  spdlog::info("{}: member {} of the group reading {}; checkpoint {}", options_.name, member_,
               source_->Description(), checkpoint_.dir());
  return Status::OK();
}

Status StreamingQuery::ResetProcessorToCommitted() {
  if (!processor_->stateful()) return Status::OK();
  std::vector<StateBlob> snapshot;
  std::vector<std::vector<StateBlob>> deltas;
  if (last_committed_ >= 0) {
    STRATA_RETURN_IF_ERROR(
        checkpoint_.LoadState(last_committed_, &snapshot, &deltas, &last_state_snapshot_));
  } else {
    last_state_snapshot_ = -1;
  }
  snapshot_bytes_ = delta_bytes_ = 0;
  for (const auto& b : snapshot) snapshot_bytes_ += static_cast<int64_t>(b.bytes.size());
  for (const auto& d : deltas)
    for (const auto& b : d) delta_bytes_ += static_cast<int64_t>(b.bytes.size());
  return processor_->LoadState(snapshot, deltas)
      .WithContext(options_.name + ": restoring the state of batch " +
                   std::to_string(last_committed_));
}

Status StreamingQuery::RunOneBatch(bool* did_work) {
  *did_work = false;
  int64_t t0 = MonotonicNanos();
  QueryProgress progress;
  PlannedBatch plan;
  if (pending_) {
    plan = std::move(*pending_);
    pending_.reset();
  } else {
    const std::string cap = available_now_cap_ ? *available_now_cap_ : std::string();
    STRATA_ASSIGN_OR_RETURN(std::string end, source_->PlanEnd(next_start_, options_.limit, cap));
    bool no_data = end == next_start_;
    if (no_data && !processor_->WantsNoDataBatch(watermark_ms_)) return Status::OK();
    plan.batch_id = last_committed_ + 1;
    plan.batch_timestamp_ms = NowMillis();
    plan.watermark_ms = watermark_ms_;
    plan.start = next_start_;
    plan.end = std::move(end);
    progress.duration_ms["latestOffset"] = ElapsedMs(t0);
    int64_t t_wal = MonotonicNanos();
    STRATA_RETURN_IF_ERROR(checkpoint_.WritePlanned(plan));
    CrashPoint("query.after_plan");
    progress.duration_ms["walCommit"] = ElapsedMs(t_wal);
  }
  *did_work = true;
  had_data_ = plan.start != plan.end;

  Status st;
  int64_t unavailable_since = 0;
  for (int attempt = 0;; ++attempt) {
    st = ExecuteBatch(plan, progress);
    if (st.ok() || !IsRetryable(st) || stop_.load()) break;
    if (!member_.empty() && st.code() == StatusCode::kConflict &&
        ++fenced_in_a_row_ <= 4 * (options_.max_batch_retries + 1)) {
      // Group mode: a partition of this batch moved to another member, which committed it
      // first, so the table refused the whole batch. Plan again from the table's marks (and
      // the current assignment); the batch id stays the same.
      spdlog::info("{}: batch {} refused by the partition marks ({}); planning it again",
                   options_.name, plan.batch_id, st.message());
      STRATA_RETURN_IF_ERROR(ResetProcessorToCommitted());
      behind_ = true;
      SleepUnlessStopped(options_.retry_backoff_ms);
      return Status::OK();
    }
    const bool unavailable = st.code() == StatusCode::kUnavailable;
    if (unavailable) {
      if (unavailable_since == 0) unavailable_since = MonotonicNanos();
      if (ElapsedMs(unavailable_since) >= options_.max_unavailable_ms) break;
    } else if (attempt >= options_.max_batch_retries) {
      break;
    }
    int64_t backoff = std::min<int64_t>(10'000, options_.retry_backoff_ms << std::min(attempt, 6));
    spdlog::warn("{}: batch {} failed ({}), retry {} in {} ms", options_.name, plan.batch_id,
                 st.ToString(), attempt + 1, backoff);
    if (listener_)
      listener_->OnBatchRetry(query_id_, options_.name, plan.batch_id, attempt + 1, st);
    STRATA_RETURN_IF_ERROR(ResetProcessorToCommitted());
    if (!SleepUnlessStopped(backoff)) break;
  }
  if (st.ok()) fenced_in_a_row_ = 0;
  if (!st.ok()) {
    // Leave the plan in the checkpoint: a restart re-runs it with the same range.
    return st.WithContext(options_.name + ": batch " + std::to_string(plan.batch_id));
  }
  progress.duration_ms["triggerExecution"] = ElapsedMs(t0);
  int64_t total_ms = std::max<int64_t>(1, progress.duration_ms["triggerExecution"]);
  progress.processed_rows_per_second = progress.num_input_rows * 1000.0 / total_ms;
  int64_t since_last =
      last_batch_start_ms_ > 0 ? plan.batch_timestamp_ms - last_batch_start_ms_ : 0;
  progress.input_rows_per_second =
      since_last > 0 ? progress.num_input_rows * 1000.0 / since_last : 0.0;
  last_batch_start_ms_ = plan.batch_timestamp_ms;
  behind_ = progress.source_lag > 0;
  RecordProgress(std::move(progress));
  return Status::OK();
}

void StreamingQuery::SampleLatency(const RecordBatch& batch) {
  constexpr size_t kMaxLatencySamples = 1 << 16;
  int c = options_.latency_column.empty() ? -1 : batch.schema()->IndexOf(options_.latency_column);
  if (c < 0 || batch.column(c).type() != TypeId::kTimestamp) return;
  const Column& ts = batch.column(c);
  size_t step = 1 + batch.num_rows() / (kMaxLatencySamples / 8);
  for (size_t r = 0; r < ts.size() && latency_samples_.size() < kMaxLatencySamples; r += step)
    if (ts.IsValid(r)) latency_samples_.push_back(ts.Int64(r));
}

Status StreamingQuery::ExecuteBatch(const PlannedBatch& plan, QueryProgress& progress) {
  BatchContext ctx;
  ctx.batch_id = plan.batch_id;
  ctx.batch_timestamp_ms = plan.batch_timestamp_ms;
  ctx.watermark_ms = plan.watermark_ms;
  ctx.no_data = plan.start == plan.end;

  std::vector<std::vector<RecordBatch>> outputs(sinks_.size());
  STRATA_RETURN_IF_ERROR(processor_->BeginBatch(ctx));
  latency_samples_.clear();
  int64_t rows = 0;
  int64_t t_read = MonotonicNanos();
  int64_t process_ns = 0;
  if (!ctx.no_data) {
    STRATA_RETURN_IF_ERROR(
        source_->Read(plan.start, plan.end, plan.batch_timestamp_ms, [&](RecordBatch&& batch) {
          rows += static_cast<int64_t>(batch.num_rows());
          SampleLatency(batch);
          int64_t tp = MonotonicNanos();
          Status s = processor_->Process(std::move(batch), outputs);
          process_ns += MonotonicNanos() - tp;
          return s;
        }));
  }
  ProcessorMetrics metrics;
  int64_t tp = MonotonicNanos();
  STRATA_RETURN_IF_ERROR(processor_->EndBatch(outputs, metrics));
  process_ns += MonotonicNanos() - tp;
  int64_t read_ms = ElapsedMs(t_read) - process_ns / 1'000'000;
  int64_t next_watermark = std::max(plan.watermark_ms, processor_->NextWatermark(NowMillis()));

  int64_t t_state = MonotonicNanos();
  bool full_state = false;
  // The state is serialized and written while the sinks commit (it must only be durable before
  // commits/N: a crash before that re-runs batch N from state N-1, and the sinks skip it). The
  // processor is not touched again until the write is done; blobs go to the file one at a
  // time, so a large snapshot is never held whole in memory.
  std::future<Status> state_written;
  int64_t state_bytes = 0;
  if (processor_->stateful()) {
    full_state = last_state_snapshot_ < 0 ||
                 (plan.batch_id - last_state_snapshot_ >= options_.state_snapshot_interval &&
                  delta_bytes_ >= snapshot_bytes_);
    state_written = std::async(
        std::launch::async, [this, id = plan.batch_id, full_state, &state_bytes]() -> Status {
          STRATA_ASSIGN_OR_RETURN(auto writer, checkpoint_.BeginState(id, full_state));
          STRATA_RETURN_IF_ERROR(processor_->SaveState(full_state, *writer));
          state_bytes = writer->blob_bytes();
          return writer->Finish();
        });
  }
  int64_t state_ms = ElapsedMs(t_state);

  int64_t t_sink = MonotonicNanos();
  BatchCommit commit;
  commit.query_id = query_id_;
  commit.batch_id = plan.batch_id;
  commit.marks = source_->Marks(plan.end);
  commit.mark_prefix = mark_prefix_;
  for (size_t i = 0; i < sinks_.size(); ++i) {
    auto stats = sinks_[i]->Commit(commit, outputs[i]);
    if (!stats.ok()) return stats.status().WithContext("sink " + sinks_[i]->Description());
    NotifyReaders(i, *stats);
    progress.num_output_rows += stats->rows;
    progress.tables.push_back(std::move(*stats));
  }
  int64_t sink_ms = ElapsedMs(t_sink);
  if (state_written.valid()) {
    // What the state write took beyond the sinks' commits counts as state time.
    int64_t t_wait = MonotonicNanos();
    STRATA_RETURN_IF_ERROR(state_written.get());
    state_ms += ElapsedMs(t_wait);
    if (full_state) {
      snapshot_bytes_ = state_bytes;
      delta_bytes_ = 0;
    } else {
      delta_bytes_ += state_bytes;
    }
  }
  if (!latency_samples_.empty()) {
    // Visible since the sinks committed: latency = commit time - Kafka timestamp.
    int64_t committed_us = NowMicros();
    for (auto& t : latency_samples_) t = std::max<int64_t>(0, committed_us - t) / 1000;
    auto at = [&](double q) {
      size_t k = std::min(latency_samples_.size() - 1,
                          static_cast<size_t>(q * static_cast<double>(latency_samples_.size())));
      std::nth_element(latency_samples_.begin(), latency_samples_.begin() + k,
                       latency_samples_.end());
      return latency_samples_[k];
    };
    progress.latency_p50_ms = at(0.5);
    progress.latency_p99_ms = at(0.99);
    progress.latency_max_ms = *std::max_element(latency_samples_.begin(), latency_samples_.end());
  }

  int64_t t_commit = MonotonicNanos();
  CrashPoint("query.before_commit_record");
  STRATA_RETURN_IF_ERROR(checkpoint_.WriteCommitted({plan.batch_id, next_watermark}));
  if (full_state || plan.batch_id % 20 == 0)
    STRATA_RETURN_IF_ERROR(checkpoint_.Purge(plan.batch_id));
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_committed_ = plan.batch_id;
    watermark_ms_ = next_watermark;
  }
  if (full_state) last_state_snapshot_ = plan.batch_id;
  next_start_ = plan.end;

  progress.id = query_id_;
  progress.run_id = run_id_;
  progress.name = options_.name;
  progress.timestamp_ms = plan.batch_timestamp_ms;
  progress.batch_id = plan.batch_id;
  progress.num_input_rows = rows;
  progress.no_data_batch = ctx.no_data;
  progress.duration_ms["getBatch"] = read_ms;
  progress.duration_ms["addBatch"] = process_ns / 1'000'000 + sink_ms;
  progress.duration_ms["stateCommit"] = state_ms;
  progress.duration_ms["commitOffsets"] = ElapsedMs(t_commit);
  progress.watermark_ms = plan.watermark_ms;
  progress.max_event_time_ms = metrics.max_event_time_ms;
  progress.state = metrics;
  progress.state_file_bytes = processor_->stateful() ? checkpoint_.StateBytes(plan.batch_id) : 0;
  progress.stateful = processor_->stateful();
  progress.source_description = source_->Description();
  progress.start_offset = plan.start;
  progress.end_offset = plan.end;
  progress.partitions = source_->Positions(plan.start, plan.end);
  for (const auto& p : progress.partitions)
    if (p.latest >= 0) progress.source_lag += std::max<int64_t>(0, p.latest - p.end);
  progress.sink_description.clear();
  for (size_t i = 0; i < sinks_.size(); ++i) {
    if (i) progress.sink_description += ", ";
    progress.sink_description += sinks_[i]->Description();
  }
  return Status::OK();
}

Status StreamingQuery::Run() {
  SetState(QueryState::kInitializing);
  Status st = Initialize();
  if (st.ok()) {
    if (listener_) listener_->OnQueryStarted(query_id_, run_id_, options_.name);
    SetState(QueryState::kActive);
    const bool available_now = options_.trigger.kind == Trigger::Kind::kAvailableNow;
    const int64_t interval = options_.trigger.interval_ms;
    const int64_t spacing = options_.signal_spacing_ms >= 0
                                ? std::min(options_.signal_spacing_ms, interval)
                                : interval / 4;
    // Subscribed until the loop ends (the callback holds `this`).
    std::optional<ScopedSubscription> subscription;
    if (const std::string key = source_->SignalKey(); !key.empty()) {
      CommitSignals& signals = CommitSignals::Global();
      subscription.emplace(&signals, signals.Subscribe(key, [this] {
        std::lock_guard<std::mutex> lock(mu_);
        signaled_ = true;
        cv_.notify_all();
      }));
    }
    int64_t last_batch_ns = 0;  // when the plan of the last batch with data started
    while (!stop_.load()) {
      int64_t t0 = MonotonicNanos();
      bool did_work = false;
      {
        // A commit upstream from here on may hold rows this batch's plan does not see.
        std::lock_guard<std::mutex> lock(mu_);
        signaled_ = false;
      }
      // Read before planning: if upstream had finished before a plan that found nothing new,
      // nothing more can come.
      const bool upstream_finished = !upstream_done_ || upstream_done_();
      st = RunOneBatch(&did_work);
      if (!st.ok()) break;
      if (!did_work) {
        if (available_now && upstream_finished) break;
        if (available_now) {
          WaitForTrigger(MonotonicNanos(), 20, 0, 0);
          continue;
        }
        SetState(QueryState::kIdle);
        if (listener_) listener_->OnQueryIdle(query_id_, options_.name, NowMillis());
      } else {
        SetState(QueryState::kActive);
      }
      if (available_now) continue;
      // Adaptive: a query that is behind (its read limit left data in the source) starts the
      // next batch at once, which then takes what accumulated, up to the limit; one that is
      // caught up waits for the trigger interval, or less when an upstream query in this
      // process commits to its source (the source's signal).
      if (did_work && had_data_) last_batch_ns = t0;
      if (did_work && behind_) continue;
      if (!WaitForTrigger(t0, interval, last_batch_ns, spacing)) break;
    }
  }
  if (st.ok()) {
    SetState(QueryState::kStopped);
  } else {
    spdlog::error("query {} failed: {}", options_.name, st.ToString());
    SetState(QueryState::kFailed, st.ToString());
  }
  source_->Close();
  if (lock_fd_ >= 0) {
    ::close(lock_fd_);
    lock_fd_ = -1;
  }
  if (listener_) listener_->OnQueryTerminated(query_id_, options_.name, st);
  {
    std::lock_guard<std::mutex> lock(mu_);
    final_status_ = st;
  }
  return st;
}

void StreamingQuery::Start() {
  thread_ = std::thread([this] {
    // The query's name on its thread (top -H, perf, gdb); Linux keeps 15 characters.
    pthread_setname_np(pthread_self(), options_.name.substr(0, 15).c_str());
    (void)Run();
  });
}

void StreamingQuery::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_.store(true);
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Status StreamingQuery::AwaitTermination() {
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  return final_status_;
}

}  // namespace strata
