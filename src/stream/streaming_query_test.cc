#include "stream/streaming_query.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "stream/commit_signal.h"

namespace strata {
namespace {

// A source of the integers 0, 1, 2, ... up to `available`; the offset is {"n":N}.
class CountingSource : public MicroBatchSource {
 public:
  explicit CountingSource(std::atomic<int64_t>* available, std::string signal_key = "")
      : available_(available), signal_key_(std::move(signal_key)) {}
  std::string SignalKey() const override { return signal_key_; }
  std::string Description() const override { return "counting"; }
  std::string Identity() const override { return "counting"; }
  SchemaPtr schema() const override { return schema_; }
  Status Open() override { return Status::OK(); }
  Result<std::string> InitialOffset() override { return Offset(0); }
  Result<std::string> Reconcile(const std::string& offset) override { return offset; }
  Result<std::string> PlanEnd(const std::string& start, const ReadLimit& limit,
                              const std::string& cap) override {
    int64_t s = Parse(start), e = *available_;
    if (limit.max_rows > 0) e = std::min(e, s + limit.max_rows);
    if (!cap.empty()) e = std::min(e, Parse(cap));
    return Offset(e);
  }
  Status Read(const std::string& start, const std::string& end, int64_t,
              const Emit& emit) override {
    RecordBatch b(schema_);
    for (int64_t i = Parse(start); i < Parse(end); ++i) b.column(0).AppendInt64(i);
    return emit(std::move(b));
  }
  std::vector<PartitionPosition> Positions(const std::string& s, const std::string& e) override {
    return {{"p0", Parse(s), Parse(e), *available_}};
  }
  std::vector<PartitionMark> Marks(const std::string& end) override {
    return {{"counting-p0", Parse(end)}};
  }
  int64_t RowsBetween(const std::string& s, const std::string& e) override {
    return Parse(e) - Parse(s);
  }

 private:
  static std::string Offset(int64_t n) { return "{\"n\":" + std::to_string(n) + "}"; }
  static int64_t Parse(const std::string& o) { return std::stoll(o.substr(5)); }
  std::atomic<int64_t>* available_;
  std::string signal_key_;
  SchemaPtr schema_ = std::make_shared<Schema>(std::vector<Field>{{"n", TypeId::kInt64, false}});
};

// A table in memory that honours the txn contract; `fail_after_commit` simulates a crash
// right after the sink commit (before the checkpoint's commit record).
struct MemoryTable {
  std::vector<int64_t> rows;
  std::map<std::string, int64_t> txn;
  std::atomic<int> commits{0};  // read by the test thread while a query runs
  bool fail_after_commit = false;
  int fail_before_commit = 0;  // transient failures to inject
};

class MemorySink : public MicroBatchSink {
 public:
  explicit MemorySink(MemoryTable* t, std::string signal_key = "")
      : t_(t), signal_key_(std::move(signal_key)) {}
  std::string SignalKey() const override { return signal_key_; }
  std::string Description() const override { return "memory"; }
  SchemaPtr schema() const override { return nullptr; }
  Status Open() override { return Status::OK(); }
  Result<int64_t> LastCommittedBatch(const std::string& q) override {
    auto it = t_->txn.find(q);
    return it == t_->txn.end() ? -1 : it->second;
  }
  Result<SinkWriteStats> Commit(const BatchCommit& c, std::vector<RecordBatch>& batches) override {
    SinkWriteStats s;
    s.table = "memory";
    auto it = t_->txn.find(c.query_id);
    if (it != t_->txn.end() && it->second >= c.batch_id) {
      s.skipped = true;
      return s;
    }
    if (t_->fail_before_commit > 0) {
      --t_->fail_before_commit;
      return IOError("injected transient failure");
    }
    for (auto& b : batches)
      for (size_t i = 0; i < b.num_rows(); ++i) t_->rows.push_back(b.column(0).Int64(i));
    t_->txn[c.query_id] = c.batch_id;
    ++t_->commits;
    s.files = batches.empty() ? 0 : 1;
    if (t_->fail_after_commit) {
      t_->fail_after_commit = false;
      return Internal("injected crash after the sink commit");
    }
    s.rows = static_cast<int64_t>(t_->rows.size());
    return s;
  }

 private:
  MemoryTable* t_;
  std::string signal_key_;
};

// Passes rows through and keeps a running sum as state, emitted as a second output.
class SumProcessor : public BatchProcessor {
 public:
  Status BeginBatch(const BatchContext&) override { return Status::OK(); }
  Status Process(RecordBatch&& in, std::vector<std::vector<RecordBatch>>& out) override {
    for (size_t i = 0; i < in.num_rows(); ++i) sum_ += in.column(0).Int64(i);
    out[0].push_back(std::move(in));
    return Status::OK();
  }
  Status EndBatch(std::vector<std::vector<RecordBatch>>&, ProcessorMetrics&) override {
    return Status::OK();
  }
  int64_t NextWatermark(int64_t) override { return 0; }
  bool stateful() const override { return true; }
  // The full state is the sum; a delta is what the batch added.
  Status SaveState(bool full, StateSink& sink) override {
    std::string v = std::to_string(full ? sum_ : sum_ - saved_);
    if (full) v += std::string(padding_, ' ');  // a big state with small changes
    STRATA_RETURN_IF_ERROR(sink.Add({kGlobalStatePartition, v}));
    saved_ = sum_;
    ++(full ? fulls_ : deltas_);
    return Status::OK();
  }
  Status LoadState(const std::vector<StateBlob>& snapshot,
                   const std::vector<std::vector<StateBlob>>& deltas) override {
    sum_ = snapshot.empty() ? 0 : std::stoll(snapshot[0].bytes);
    for (const auto& d : deltas) sum_ += std::stoll(d[0].bytes);
    saved_ = sum_;
    return Status::OK();
  }
  int64_t saved_ = 0;
  size_t padding_ = 0;
  int fulls_ = 0;
  int deltas_ = 0;
  std::string Fingerprint() const override { return "sum"; }
  int64_t sum_ = 0;
};

class StreamingQueryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_query_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Runs an available-now query; returns its status and the final running sum.
  Status RunOnce(int64_t max_rows, int64_t* sum = nullptr, int snapshot_interval = 10,
                 size_t padding = 0) {
    QueryOptions o;
    o.name = "test";
    o.checkpoint_dir = dir_;
    o.trigger.kind = Trigger::Kind::kAvailableNow;
    o.limit.max_rows = max_rows;
    o.retry_backoff_ms = 1;
    o.state_snapshot_interval = snapshot_interval;
    auto proc = std::make_unique<SumProcessor>();
    SumProcessor* p = proc.get();
    p->padding_ = padding;
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(std::make_unique<MemorySink>(&table_));
    StreamingQuery q(o, std::make_unique<CountingSource>(&available_), std::move(proc),
                     std::move(sinks), listener_);
    Status st = q.Run();
    if (sum) *sum = p->sum_;
    fulls_ += p->fulls_;
    deltas_ += p->deltas_;
    return st;
  }

  std::string dir_;
  std::atomic<int64_t> available_{0};
  MemoryTable table_;
  int fulls_ = 0;
  int deltas_ = 0;
  int retries_ = 0;
  struct RetryCounter : QueryListener {
    int* n;
    explicit RetryCounter(int* count) : n(count) {}
    void OnBatchRetry(const std::string&, const std::string&, int64_t, int,
                      const Status&) override {
      ++*n;
    }
  };
  std::shared_ptr<QueryListener> listener_ = std::make_shared<RetryCounter>(&retries_);
};

int64_t SumTo(int64_t n) {
  return n * (n - 1) / 2;
}

TEST_F(StreamingQueryTest, AvailableNowReadsEverythingInLimitedBatches) {
  available_ = 25;
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(10, &sum).ok());
  EXPECT_EQ(table_.rows.size(), 25u);
  EXPECT_EQ(table_.commits, 3);  // 10 + 10 + 5
  EXPECT_EQ(sum, SumTo(25));
}

TEST_F(StreamingQueryTest, RestartResumesWithoutLossOrRepeat) {
  available_ = 7;
  ASSERT_TRUE(RunOnce(5).ok());
  available_ = 20;
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(5, &sum).ok());
  ASSERT_EQ(table_.rows.size(), 20u);
  for (int64_t i = 0; i < 20; ++i) EXPECT_EQ(table_.rows[i], i);
  EXPECT_EQ(sum, SumTo(20));  // state restored from the checkpoint, not recomputed
}

TEST_F(StreamingQueryTest, CrashAfterSinkCommitDoesNotDuplicate) {
  available_ = 12;
  table_.fail_after_commit = true;  // batch 0 reaches the table, then the "process dies"
  EXPECT_FALSE(RunOnce(5).ok());
  EXPECT_EQ(table_.rows.size(), 5u);
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(5, &sum).ok());  // re-runs batch 0 (skipped by txn), then 1 and 2
  ASSERT_EQ(table_.rows.size(), 12u);
  for (int64_t i = 0; i < 12; ++i) EXPECT_EQ(table_.rows[i], i);
  EXPECT_EQ(sum, SumTo(12));
}

TEST_F(StreamingQueryTest, TransientSinkFailureIsRetriedFromCommittedState) {
  available_ = 10;
  table_.fail_before_commit = 2;
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(4, &sum).ok());
  EXPECT_EQ(retries_, 2);  // each retry was reported to the listener
  EXPECT_EQ(table_.rows.size(), 10u);
  EXPECT_EQ(sum, SumTo(10));  // retried batches did not add twice to the state
}

TEST_F(StreamingQueryTest, StateIsSnapshotEveryNBatchesAndDeltasBetween) {
  available_ = 100;
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(10, &sum, /*snapshot_interval=*/4).ok());  // batches 0..9
  EXPECT_EQ(fulls_, 3);                                          // 0, 4, 8
  EXPECT_EQ(deltas_, 7);
  available_ = 130;
  ASSERT_TRUE(RunOnce(10, &sum, 4).ok());  // restored from snapshot 8 + deltas 9
  EXPECT_EQ(sum, SumTo(130));
  // Old state files are purged up to the newest snapshot a restart needs.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/0.snapshot"));
}

TEST_F(StreamingQueryTest, LargeStateWithSmallChangesIsNotSnapshotAgain) {
  available_ = 100;
  int64_t sum = 0;
  ASSERT_TRUE(RunOnce(10, &sum, /*snapshot_interval=*/2, /*padding=*/1000).ok());
  EXPECT_EQ(fulls_, 1);  // batch 0 only: ten deltas of a few bytes never outgrow 1000 bytes
  EXPECT_EQ(deltas_, 9);
  available_ = 150;
  ASSERT_TRUE(RunOnce(10, &sum, 2, 1000).ok());
  EXPECT_EQ(sum, SumTo(150));  // restored from snapshot 0 plus nine deltas
}

TEST_F(StreamingQueryTest, CorruptStateFileIsReportedNotMisread) {
  available_ = 20;
  ASSERT_TRUE(RunOnce(10).ok());
  std::string f = dir_ + "/state/1.delta";
  ASSERT_TRUE(std::filesystem::exists(f));
  std::filesystem::resize_file(f, std::filesystem::file_size(f) - 3);
  available_ = 30;
  Status st = RunOnce(10);
  EXPECT_EQ(st.code(), StatusCode::kCorruption) << st.ToString();
  EXPECT_NE(st.message().find("1.delta"), std::string::npos) << st.ToString();
}

TEST_F(StreamingQueryTest, ABehindQueryDoesNotWaitForItsTrigger) {
  available_ = 50;
  QueryOptions o;
  o.name = "test";
  o.checkpoint_dir = dir_;
  o.trigger.interval_ms = 60'000;  // would take minutes if it waited between batches
  o.limit.max_rows = 10;
  std::vector<std::unique_ptr<MicroBatchSink>> sinks;
  sinks.push_back(std::make_unique<MemorySink>(&table_));
  StreamingQuery q(o, std::make_unique<CountingSource>(&available_),
                   std::make_unique<SumProcessor>(), std::move(sinks));
  q.Start();
  for (int i = 0; i < 500 && table_.commits < 5; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  q.Stop();
  EXPECT_EQ(table_.commits, 5);
  EXPECT_EQ(table_.rows.size(), 50u);
}

TEST_F(StreamingQueryTest, AnUpstreamCommitInTheProcessStartsTheReadersBatch) {
  // Downstream: a processing-time query with an hour's interval, reading what an upstream
  // query (in this process) writes to the table "signal-test-table".
  const std::string key = "/signal-test-table";
  std::atomic<int64_t> downstream_available{0};
  QueryOptions o;
  o.name = "downstream";
  o.checkpoint_dir = dir_ + "/downstream";
  o.trigger.interval_ms = 3'600'000;
  // Spacing counts from the last batch that ran: the first plan, which found nothing, does
  // not hold the signal back.
  o.signal_spacing_ms = 60'000;
  std::vector<std::unique_ptr<MicroBatchSink>> sinks;
  sinks.push_back(std::make_unique<MemorySink>(&table_));
  StreamingQuery downstream(o, std::make_unique<CountingSource>(&downstream_available, key),
                            std::make_unique<SumProcessor>(), std::move(sinks));
  downstream.Start();
  for (int i = 0; i < 1000 && downstream.View().state != QueryState::kIdle; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(downstream.View().state, QueryState::kIdle);

  // New rows alone do not start a batch before the interval...
  downstream_available = 7;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_EQ(table_.commits, 0);

  // ...an upstream commit that wrote files to the table does.
  MemoryTable upstream_table;
  available_ = 3;
  QueryOptions u;
  u.name = "upstream";
  u.checkpoint_dir = dir_ + "/upstream";
  u.trigger.kind = Trigger::Kind::kAvailableNow;
  std::vector<std::unique_ptr<MicroBatchSink>> upstream_sinks;
  upstream_sinks.push_back(std::make_unique<MemorySink>(&upstream_table, key));
  StreamingQuery upstream(u, std::make_unique<CountingSource>(&available_),
                          std::make_unique<SumProcessor>(), std::move(upstream_sinks));
  ASSERT_TRUE(upstream.Run().ok());
  ASSERT_EQ(upstream_table.commits, 1);
  for (int i = 0; i < 3000 && downstream.View().recent.empty(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(table_.commits, 1);

  // A second commit right after that batch waits for the spacing (a minute here).
  downstream_available = 9;
  CommitSignals::Global().Notify(key);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  downstream.Stop();
  EXPECT_EQ(table_.commits, 1);
  EXPECT_EQ(table_.rows.size(), 7u);
  EXPECT_TRUE(downstream.AwaitTermination().ok());
}

TEST_F(StreamingQueryTest, CheckpointOfAnotherSourceIsRefused) {
  available_ = 3;
  ASSERT_TRUE(RunOnce(0).ok());
  std::string meta = dir_ + "/metadata";
  std::filesystem::remove(meta);
  Checkpoint c(dir_);
  ASSERT_TRUE(c.CreateMetadata({1, "qid", "test", "another-source", "sum"}).ok());
  Status st = RunOnce(0);
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.message().find("another-source"), std::string::npos);
}

}  // namespace
}  // namespace strata
