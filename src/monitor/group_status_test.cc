#include "monitor/group_status.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/file_util.h"
#include "core/time_util.h"
#include "lake/delta/maintenance.h"
#include "stream/checkpoint.h"

namespace strata::monitor {
namespace {

namespace fs = std::filesystem;

class GroupStatusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata-group-status-XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    bronze_ = dir_ + "/checkpoints/bronze";
  }
  void TearDown() override { fs::remove_all(dir_); }

  static std::string Host() {
    char buf[256] = {0};
    ::gethostname(buf, sizeof buf - 1);
    return buf;
  }

  GroupMemberStatus Member(const std::string& name, int64_t written_ms,
                           std::vector<MemberPartition> partitions) {
    GroupMemberStatus s;
    s.member = name;
    s.group_id = "g1";
    s.pid = ::getpid();
    s.host = Host();
    s.listen = "127.0.0.1:1234";
    s.written_ms = written_ms;
    s.interval_ms = 2000;
    s.rebalances = 2;
    s.last_rebalance_ms = written_ms - 5000;
    s.partitions = std::move(partitions);
    return s;
  }

  // A committed batch `id` with `watermark_ms` in <layer>/partitions/<p>.
  void CommitPartitionBatch(const std::string& layer, int32_t p, int64_t id, int64_t watermark) {
    Checkpoint cp(layer + "/partitions/" + std::to_string(p));
    ASSERT_TRUE(CreateDirectories(cp.dir() + "/offsets").ok());
    ASSERT_TRUE(CreateDirectories(cp.dir() + "/commits").ok());
    Status st = cp.WritePlanned({id, 1000, watermark, "{}", "{}"});
    ASSERT_TRUE(st.ok()) << st.ToString();
    ASSERT_TRUE(cp.WriteCommitted({id, watermark}).ok());
  }

  static QueryProgress Progress(int64_t ts, int64_t rebalances,
                                std::vector<PartitionPosition> partitions) {
    QueryProgress p;
    p.name = "bronze_clickstream";
    p.timestamp_ms = ts;
    p.source_description = "kafka[clickstream-events] group g1 member m-1 (" +
                           std::to_string(rebalances) + " rebalances)";
    p.partitions = std::move(partitions);
    return p;
  }

  std::string dir_;
  std::string bronze_;
};

TEST_F(GroupStatusTest, MemberStatusRoundTripsThroughItsFile) {
  GroupMemberStatus s = Member("m-1", 1'700'000'000'000, {{0, 10, 15, 5, 1}, {3, 7, 7, 0, 2}});
  s.stopped = true;
  ASSERT_TRUE(WriteMemberStatus(bronze_, s).ok());
  const std::string path = MemberStatusPath(bronze_, "m-1");
  EXPECT_EQ(path, bronze_ + "/members/m-1/status.json");
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  auto back = ParseGroupMemberStatus(*text, path);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->ToJson(), s.ToJson());
  EXPECT_TRUE(back->stopped);
  ASSERT_EQ(back->partitions.size(), 2u);
  EXPECT_EQ(back->partitions[0].lag, 5);
  EXPECT_EQ(back->partitions[1].partition, 3);

  auto bad = ParseGroupMemberStatus("{\"member\":\"m-1\"}", path);
  ASSERT_EQ(bad.status().code(), StatusCode::kCorruption);
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_EQ(WriteMemberStatus(bronze_, Member("../x", 1, {})).code(), StatusCode::kInvalidArgument);
}

TEST_F(GroupStatusTest, MemberStatusComesFromTheBronzeQuerysProgress) {
  QueryStatusView v;
  v.name = "bronze_clickstream";
  EXPECT_FALSE(MemberStatusFromView(v).has_value());  // no batch yet
  v.recent.push_back(
      Progress(1000, 2, {{"clickstream-events-4", 0, 50, 80}, {"clickstream-events-1", 5, 9, -1}}));
  v.recent.push_back(Progress(2000, 3, {}));  // no partitions named: the previous batch's stand
  auto s = MemberStatusFromView(v);
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->member, "m-1");
  EXPECT_EQ(s->group_id, "g1");
  EXPECT_EQ(s->rebalances, 3);
  ASSERT_EQ(s->partitions.size(), 2u);
  EXPECT_EQ(s->partitions[0].partition, 1);
  EXPECT_EQ(s->partitions[0].committed, 9);
  EXPECT_EQ(s->partitions[0].lag, -1);  // high watermark unknown
  EXPECT_EQ(s->partitions[1].partition, 4);
  EXPECT_EQ(s->partitions[1].high_watermark, 80);
  EXPECT_EQ(s->partitions[1].lag, 30);
  EXPECT_EQ(s->partitions[1].as_of_ms, 1000);

  QueryStatusView single;
  single.recent.push_back(Progress(1000, 0, {}));
  single.recent.back().source_description = "kafka[clickstream-events]";
  EXPECT_FALSE(MemberStatusFromView(single).has_value());
  // Ownership from the sub-queries of a partitioned layer: 4 is kept (with bronze's offsets),
  // 1 was revoked, 7 is new (no batch of it yet).
  GroupMemberStatus owned = *s;
  OwnPartitions(owned, {4, 7}, 5000);
  ASSERT_EQ(owned.partitions.size(), 2u);
  EXPECT_EQ(owned.partitions[0].partition, 4);
  EXPECT_EQ(owned.partitions[0].lag, 30);
  EXPECT_EQ(owned.partitions[0].as_of_ms, 5000);
  EXPECT_EQ(owned.partitions[1].partition, 7);
  EXPECT_EQ(owned.partitions[1].committed, -1);
  EXPECT_EQ(owned.partitions[1].lag, -1);
  EXPECT_EQ(PartitionOfSubQuery("silver_clickstream[p12]", "silver_clickstream"), 12);
  EXPECT_EQ(PartitionOfSubQuery("silver_clickstream", "silver_clickstream"), -1);
  EXPECT_EQ(PartitionOfSubQuery("silver_clickstream[px]", "silver_clickstream"), -1);
  EXPECT_EQ(PartitionOfSubQuery("gold_x[p1]", "silver_clickstream"), -1);
  EXPECT_EQ(PartitionOfPosition("clickstream-events-12"), 12);
  EXPECT_EQ(PartitionOfPosition("delta-version"), -1);
}

TEST_F(GroupStatusTest, ReadsMembersPartitionOwnersAndLayerWatermarks) {
  const int64_t now = NowMillis();
  // alive, owns 0 and 1
  ASSERT_TRUE(
      WriteMemberStatus(
          bronze_, Member("m-a", now - 500, {{0, 10, 12, 2, now - 900}, {1, 20, 20, 0, now - 900}}))
          .ok());
  // alive too, but its claim on 1 is older (it has not run a batch since 1 moved)
  ASSERT_TRUE(
      WriteMemberStatus(bronze_, Member("m-b", now - 100, {{1, 15, 20, 5, now - 60'000}})).ok());
  // its file is too old: stale
  ASSERT_TRUE(WriteMemberStatus(bronze_, Member("m-c", now - 60'000, {{4, 1, 1, 0, 1}})).ok());
  // its pid has ended on this host: dead
  pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_GT(child, 0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  GroupMemberStatus dead = Member("m-d", now - 100, {{2, 3, 9, 6, now - 200}});
  dead.pid = child;
  ASSERT_TRUE(WriteMemberStatus(bronze_, dead).ok());
  // stopped cleanly
  GroupMemberStatus stopped = Member("m-e", now - 100, {});
  stopped.stopped = true;
  ASSERT_TRUE(WriteMemberStatus(bronze_, stopped).ok());
  // stopped long ago: left out
  GroupMemberStatus old = Member("m-0", now - 2 * 3'600'000, {{5, 1, 1, 0, 1}});
  old.stopped = true;
  ASSERT_TRUE(WriteMemberStatus(bronze_, old).ok());
  // a member directory without a status file (no batch yet) is skipped
  ASSERT_TRUE(CreateDirectories(bronze_ + "/members/m-f").ok());

  const std::string silver = dir_ + "/checkpoints/silver";
  const std::string gold = dir_ + "/checkpoints/gold";
  CommitPartitionBatch(silver, 0, 1, 111'000);
  CommitPartitionBatch(silver, 0, 2, 222'000);
  ASSERT_TRUE(CreateDirectories(silver + "/partitions/3").ok());  // nothing committed yet
  CommitPartitionBatch(gold, 1, 7, 60'000);

  GroupStatusOptions o;
  o.bronze_checkpoint = bronze_;
  o.layers = {{"silver_clickstream", silver}, {"events_per_minute", gold}};
  o.now_ms = now;
  auto g = ReadGroupStatus(o);
  ASSERT_TRUE(g.ok()) << g.status().ToString();
  EXPECT_EQ(g->group_id, "g1");
  EXPECT_EQ(g->forgotten, 1);
  ASSERT_EQ(g->members.size(), 5u);
  EXPECT_EQ(g->members[0].status.member, "m-a");
  EXPECT_EQ(g->members[0].state, "alive");
  EXPECT_EQ(g->members[1].status.member, "m-b");
  EXPECT_TRUE(g->members[1].alive);
  EXPECT_EQ(g->members[2].status.member, "m-c");
  EXPECT_EQ(g->members[2].state, "stale");
  EXPECT_EQ(g->members[3].state, "dead");
  EXPECT_EQ(g->members[4].state, "stopped");
  EXPECT_FALSE(g->members[4].alive);

  ASSERT_EQ(g->partitions.size(), 5u);  // 0, 1 (members), 2, 4 (gone members), 3 (silver dir)
  auto part = [&](int32_t p) {
    return *std::find_if(g->partitions.begin(), g->partitions.end(),
                         [&](const auto& x) { return x.partition == p; });
  };
  EXPECT_EQ(part(0).owner, "m-a");
  EXPECT_EQ(part(0).lag, 2);
  EXPECT_EQ(part(0).watermarks, (std::vector<int64_t>{222'000, -1}));
  EXPECT_EQ(part(1).owner, "m-a");  // the newer claim
  EXPECT_EQ(part(1).watermarks, (std::vector<int64_t>{-1, 60'000}));
  EXPECT_EQ(part(2).owner, "");
  EXPECT_EQ(part(3).watermarks, (std::vector<int64_t>{0, -1}));
  EXPECT_EQ(g->unowned, (std::vector<int32_t>{2, 3, 4}));

  const std::string json = g->ToJson();
  EXPECT_NE(json.find("\"member\":\"m-d\",\"state\":\"dead\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"unowned\":[2,3,4]"), std::string::npos) << json;
  EXPECT_NE(json.find("\"watermarks\":{\"silver_clickstream\":222000,\"events_per_minute\":null}"),
            std::string::npos)
      << json;
  const std::string text = g->ToText();
  EXPECT_EQ(g->last_rebalance_ms, now - 100 - 5000);  // m-b's, m-d's or m-e's
  EXPECT_NE(text.find("group g1: 2 members alive, 3 gone, 5 partitions, 3 unowned, last rebalance"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("unowned: 2, 3, 4"), std::string::npos) << text;
  EXPECT_NE(text.find("owns: 0 (lag 2), 1 (lag 0)"), std::string::npos) << text;
}

TEST_F(GroupStatusTest, AMissingMembersDirectoryIsAnEmptyGroup) {
  GroupStatusOptions o;
  o.bronze_checkpoint = bronze_;
  auto g = ReadGroupStatus(o);
  ASSERT_TRUE(g.ok());
  EXPECT_TRUE(g->members.empty());
  EXPECT_TRUE(g->partitions.empty());
}

TEST_F(GroupStatusTest, WriterWritesTheMemberFileAndAStoppedOneOnStop) {
  std::vector<QueryProgress> recent;
  std::mutex mu;
  auto queries = [&] {
    std::lock_guard<std::mutex> lock(mu);
    QueryStatusView bronze;
    bronze.name = "bronze_clickstream";
    bronze.recent = recent;
    QueryStatusView p0, p2;
    p0.name = "silver_clickstream[p0]";
    p2.name = "silver_clickstream[p2]";
    return std::vector<QueryStatusView>{bronze, p0, p2};
  };
  GroupStatusWriter writer(
      {bronze_, "bronze_clickstream", "127.0.0.1:9999", 50, "silver_clickstream"}, queries);
  auto none = writer.WriteOnce(false);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(*none);  // no batch yet: the member is not known
  {
    std::lock_guard<std::mutex> lock(mu);
    recent.push_back(Progress(1000, 2, {{"clickstream-events-0", 0, 5, 5}}));
    recent.push_back(Progress(2000, 3, {{"clickstream-events-0", 5, 8, 9}}));
    recent.push_back(Progress(3000, 3, {{"clickstream-events-0", 8, 9, 9}}));
  }
  writer.Start();
  const std::string path = MemberStatusPath(bronze_, "m-1");
  for (int i = 0; i < 200 && !fs::exists(path); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto text = ReadFile(path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  auto s = ParseGroupMemberStatus(*text, path);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->pid, ::getpid());
  EXPECT_EQ(s->listen, "127.0.0.1:9999");
  EXPECT_EQ(s->rebalances, 3);
  EXPECT_EQ(s->last_rebalance_ms, 2000);  // the first batch after the third rebalance
  EXPECT_FALSE(s->stopped);
  ASSERT_EQ(s->partitions.size(), 2u);  // its silver sub-queries: 0 and 2
  EXPECT_EQ(s->partitions[0].committed, 9);
  EXPECT_EQ(s->partitions[0].lag, 0);
  EXPECT_EQ(s->partitions[1].partition, 2);
  EXPECT_EQ(s->partitions[1].lag, -1);  // bronze has read nothing of it yet
  // The process's maintenance leases now name the member.
  auto lease = delta::MaintenanceLease::TryAcquire(dir_ + "/table", "test");
  ASSERT_TRUE(lease.ok() && *lease);
  EXPECT_EQ((*lease)->holder().member, "m-1");

  writer.Stop();
  text = ReadFile(path);
  ASSERT_TRUE(text.ok());
  s = ParseGroupMemberStatus(*text, path);
  ASSERT_TRUE(s.ok());
  EXPECT_TRUE(s->stopped);
  EXPECT_TRUE(s->partitions.empty());
  GroupStatusOptions o;
  o.bronze_checkpoint = bronze_;
  auto g = ReadGroupStatus(o);
  ASSERT_TRUE(g.ok());
  ASSERT_EQ(g->members.size(), 1u);
  EXPECT_EQ(g->members[0].state, "stopped");
  EXPECT_EQ(g->unowned, (std::vector<int32_t>{}));
}

}  // namespace
}  // namespace strata::monitor
