// Group mode of the Kafka source: several bronze queries (one per simulated process) in one
// consumer group, writing one Delta table; the table's txn marks decide where each partition
// resumes, and a stale owner's commit is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "connectors/delta_sink.h"
#include "connectors/kafka_source.h"
#include "event/event_schema.h"
#include "kafka/embedded_cluster.h"
#include "kafka/group_member.h"
#include "kafka/producer.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"
#include "pipeline/layers.h"
#include "stream/streaming_query.h"

namespace strata {
namespace {

using std::chrono::steady_clock;

template <typename F>
bool WaitFor(F done, int seconds = 90) {
  auto deadline = steady_clock::now() + std::chrono::seconds(seconds);
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

class GroupSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_group_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    auto c = EmbeddedCluster::Start({1, {{"events", 6}}, 1});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    auto p = Producer::Create(cluster_->bootstrap_servers());
    ASSERT_TRUE(p.ok());
    producer_ = std::move(*p);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Produce(int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(
          producer_->Produce("events", "k" + std::to_string(produced_), "{}", produced_ % 6).ok());
      ++produced_;
    }
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(10)).ok());
  }

  std::map<std::string, std::string> Kafka() const {
    return {{"bootstrap.servers", cluster_->bootstrap_servers()},
            {"group.id", "bronze-group"},
            {"session.timeout.ms", "6000"}};
  }

  // One "process": a bronze query in the group, with the shared checkpoint and table (or, with
  // `group` false, a single-process bronze query).
  std::unique_ptr<StreamingQuery> Member(bool group = true,
                                         const std::string& starting_offsets = "earliest") {
    KafkaSourceOptions ko;
    ko.topic = "events";
    ko.kafka = Kafka();
    if (!group) ko.kafka.erase("group.id");
    ko.starting_offsets = starting_offsets;
    DeltaSinkOptions so;
    so.table_name = "catalog.streaming.bronze";
    so.path = dir_ + "/bronze";
    so.schema = BronzeSchema();
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    sinks.push_back(std::make_unique<DeltaSink>(std::move(so)));
    QueryOptions qo;
    qo.name = "bronze";
    qo.checkpoint_dir = dir_ + "/checkpoint";
    qo.trigger.interval_ms = 200;
    qo.limit.max_rows = 50;  // several batches, so hand-overs happen mid-stream
    return std::make_unique<StreamingQuery>(
        qo, std::make_unique<KafkaSource>(ko, std::make_unique<BronzeDecoder>()),
        std::make_unique<BronzeProcessor>(), std::move(sinks));
  }

  // (partition, offset) of every bronze row, with how often each occurs.
  std::map<std::pair<int, int64_t>, int> BronzeRows() {
    std::map<std::pair<int, int64_t>, int> out;
    auto engine = OpenCatalog({{"bronze", dir_ + "/bronze"}});
    if (!engine.ok()) return out;  // the table has no commit yet
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute("SELECT kafka_partition, kafka_offset FROM bronze", o);
    if (!r.ok()) return out;  // no rows yet
    for (const auto& row : r->rows) ++out[{std::stoi(*row[0]), std::stoll(*row[1])}];
    return out;
  }
  bool Complete() { return static_cast<int>(BronzeRows().size()) == produced_; }
  void ExpectExactlyOnce() {
    auto rows = BronzeRows();
    EXPECT_EQ(static_cast<int>(rows.size()), produced_);
    for (const auto& [key, n] : rows)
      EXPECT_EQ(n, 1) << "partition " << key.first << " offset " << key.second;
    // Per partition the offsets are 0..n-1: nothing skipped.
    std::map<int, int64_t> count;
    for (const auto& [key, n] : rows) ++count[key.first];
    for (const auto& [key, n] : rows) EXPECT_LT(key.second, count[key.first]);
  }

  std::string dir_;
  std::unique_ptr<EmbeddedCluster> cluster_;
  std::unique_ptr<Producer> producer_;
  int produced_ = 0;
};

TEST_F(GroupSourceTest, MembersShareThePartitionsAndHandThemOverWithoutLossOrDuplicates) {
  Produce(600);
  auto a = Member();
  a->Start();
  ASSERT_TRUE(WaitFor([&] { return BronzeRows().size() > 100; }));
  auto b = Member();  // joins while a is busy: partitions move to it
  b->Start();
  // Traffic continues until b has committed batches of its own partitions.
  ASSERT_TRUE(WaitFor([&] {
    Produce(30);
    return b->View().last_batch_id >= 0;
  })) << "the second member never got a partition";
  ASSERT_TRUE(WaitFor([&] { return Complete(); }));
  EXPECT_GE(a->View().last_batch_id, 0);
  // a leaves cleanly: b takes everything over from the marks.
  a->Stop();
  EXPECT_TRUE(a->AwaitTermination().ok());
  Produce(600);
  ASSERT_TRUE(WaitFor([&] { return Complete(); }));
  b->Stop();
  EXPECT_TRUE(b->AwaitTermination().ok());
  ExpectExactlyOnce();

  // The shared identity prefixes the marks; each member kept its own checkpoint.
  EXPECT_TRUE(std::filesystem::exists(dir_ + "/checkpoint/metadata"));
  int members = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir_ + "/checkpoint/members")) {
    EXPECT_TRUE(std::filesystem::exists(e.path() / "metadata"));
    ++members;
  }
  EXPECT_EQ(members, 2);
  // A restarted member resumes from the marks: nothing is read twice.
  auto c = Member();
  c->Start();
  Produce(300);
  ASSERT_TRUE(WaitFor([&] { return Complete(); }));
  c->Stop();
  ExpectExactlyOnce();
}

TEST_F(GroupSourceTest, ASecondQueryOnACheckpointStandsByUntilTheFirstStops) {
  Produce(300);
  auto first = Member(false);
  first->Start();
  ASSERT_TRUE(WaitFor([&] { return Complete(); }));
  auto standby = Member(false);
  standby->Start();
  // The standby has opened its source (and learned the log's end) before the holder reads
  // more: on taking over it must not mistake the holder's newer offsets for lost data.
  std::this_thread::sleep_for(std::chrono::seconds(1));
  Produce(300);
  ASSERT_TRUE(WaitFor([&] { return Complete(); }));
  EXPECT_EQ(standby->View().state, QueryState::kInitializing);
  EXPECT_EQ(standby->View().last_batch_id, -1);
  first->Stop();
  ASSERT_TRUE(first->AwaitTermination().ok());
  Produce(300);
  ASSERT_TRUE(WaitFor([&] { return Complete() && standby->View().last_batch_id >= 0; }));
  standby->Stop();
  ASSERT_TRUE(standby->AwaitTermination().ok());
  ExpectExactlyOnce();
}

TEST_F(GroupSourceTest, FencedMarksRefuseAStaleOwnersCommit) {
  DeltaSinkOptions so;
  so.table_name = "catalog.streaming.bronze";
  so.path = dir_ + "/bronze";
  so.schema = BronzeSchema();
  DeltaSink sink(so);
  ASSERT_TRUE(sink.Open().ok());
  auto commit = [&](const std::string& member, int64_t batch, int64_t expected, int64_t to) {
    BatchCommit c{member, batch, {{"kafka/c/events/0", to, true, expected}}, "group-query"};
    std::vector<RecordBatch> none;
    return sink.Commit(c, none);
  };
  // The first owner starts partition 0 (no mark yet) and moves it to 10.
  ASSERT_TRUE(commit("member-a", 0, -1, 10).ok());
  // A second process that planned from "no mark" at the same time is refused.
  auto stale = commit("member-b", 0, -1, 7);
  ASSERT_FALSE(stale.ok());
  EXPECT_EQ(stale.status().code(), StatusCode::kConflict);
  EXPECT_NE(stale.status().message().find("group-query/kafka/c/events/0"), std::string::npos);
  // Planned from the current mark, it commits; the old owner's next batch is then refused.
  ASSERT_TRUE(commit("member-b", 0, 10, 15).ok());
  EXPECT_EQ(commit("member-a", 1, 10, 20).status().code(), StatusCode::kConflict);
  auto versions = sink.MarkVersions({"group-query/kafka/c/events/0", "group-query/none"});
  ASSERT_TRUE(versions.ok());
  EXPECT_EQ((*versions)[0], std::optional<int64_t>(15));
  EXPECT_EQ((*versions)[1], std::nullopt);
}

TEST_F(GroupSourceTest, AvailableNowIsRefusedInGroupMode) {
  KafkaSourceOptions ko;
  ko.topic = "events";
  ko.kafka = Kafka();
  DeltaSinkOptions so;
  so.table_name = "catalog.streaming.bronze";
  so.path = dir_ + "/bronze";
  so.schema = BronzeSchema();
  std::vector<std::unique_ptr<MicroBatchSink>> sinks;
  sinks.push_back(std::make_unique<DeltaSink>(std::move(so)));
  QueryOptions qo;
  qo.name = "bronze";
  qo.checkpoint_dir = dir_ + "/checkpoint";
  qo.trigger.kind = Trigger::Kind::kAvailableNow;
  StreamingQuery q(qo, std::make_unique<KafkaSource>(ko, std::make_unique<BronzeDecoder>()),
                   std::make_unique<BronzeProcessor>(), std::move(sinks));
  Status st = q.Run();
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
}

// startingOffsets = "latest" is resolved once per partition and recorded in the table before
// anything is read: a member that stops (or dies) before reading anything leaves the marks, so
// the next owner starts where the first one would have, not at a later "latest".
TEST_F(GroupSourceTest, LatestIsRecordedAsAMarkBeforeAnythingIsRead) {
  Produce(60);  // before the group starts: "latest" skips these
  {
    auto first = Member(true, "latest");
    first->Start();
    ASSERT_TRUE(WaitFor([&] {
      auto table = delta::DeltaTable::Open(dir_ + "/bronze");
      if (!table.ok()) return false;
      auto snapshot = (*table)->LatestSnapshot();
      return snapshot.ok() && (*snapshot)->txns().size() >= 7;  // batch id + 6 partition marks
    }));
    first->Stop();
  }
  EXPECT_TRUE(BronzeRows().empty());
  Produce(60);  // after the marks: the next owner must read every one of these
  auto second = Member(true, "latest");
  second->Start();
  EXPECT_TRUE(WaitFor([&] { return BronzeRows().size() == 60u; }));
  second->Stop();
  auto rows = BronzeRows();
  EXPECT_EQ(rows.size(), 60u);
  for (const auto& [key, n] : rows) {
    EXPECT_EQ(n, 1);
    EXPECT_GE(key.second, 10) << "partition " << key.first << ": a record from before the start";
  }
}

}  // namespace
}  // namespace strata
