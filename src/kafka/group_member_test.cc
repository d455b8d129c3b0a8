#include "kafka/group_member.h"

#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "kafka/embedded_cluster.h"

namespace strata {
namespace {

using std::chrono::steady_clock;

// Waits until `done` holds (the group protocol runs on librdkafka's threads); false after 60 s.
template <typename F>
bool WaitFor(F done) {
  auto deadline = steady_clock::now() + std::chrono::seconds(60);
  while (steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

std::map<std::string, std::string> GroupConfig(const EmbeddedCluster& c, const std::string& group,
                                               const std::string& strategy) {
  return {{"bootstrap.servers", c.bootstrap_servers()},
          {"group.id", group},
          {"partition.assignment.strategy", strategy},
          {"session.timeout.ms", "6000"}};
}

// Every partition owned by exactly one member.
bool Disjoint(const std::vector<const KafkaGroupMember*>& members, int partitions) {
  std::multiset<int32_t> all;
  for (const auto* m : members)
    for (int32_t p : m->Assignment().partitions) all.insert(p);
  if (static_cast<int>(all.size()) != partitions) return false;
  for (int p = 0; p < partitions; ++p)
    if (all.count(p) != 1) return false;
  return true;
}

class GroupMemberTest : public ::testing::TestWithParam<std::string> {};

TEST_P(GroupMemberTest, PartitionsSpreadAndMoveWhenAMemberLeaves) {
  auto cluster = EmbeddedCluster::Start({1, {{"events", 6}}});
  ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
  auto config = GroupConfig(**cluster, "g-" + GetParam(), GetParam());
  auto a = KafkaGroupMember::Create("events", "a", config);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  ASSERT_TRUE(WaitFor([&] { return (*a)->Assignment().partitions.size() == 6; }));
  EXPECT_FALSE((*a)->Assignment().member_id.empty());

  auto b = KafkaGroupMember::Create("events", "b", config);
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  ASSERT_TRUE(WaitFor([&] {
    return (*a)->Assignment().partitions.size() == 3 && (*b)->Assignment().partitions.size() == 3 &&
           Disjoint({a->get(), b->get()}, 6);
  })) << (*a)->Assignment().partitions.size()
      << " / " << (*b)->Assignment().partitions.size();
  EXPECT_EQ((*a)->Assignment().protocol,
            GetParam() == "cooperative-sticky" ? "COOPERATIVE" : "EAGER");

  // A clean leave hands its partitions over without waiting for the session timeout.
  (*b)->Close();
  EXPECT_TRUE((*b)->Assignment().partitions.empty());
  ASSERT_TRUE(WaitFor([&] { return (*a)->Assignment().partitions.size() == 6; }));
}

INSTANTIATE_TEST_SUITE_P(Strategies, GroupMemberTest,
                         ::testing::Values("cooperative-sticky", "range"));

TEST(GroupMemberConfigTest, GroupIdIsRequired) {
  auto m = KafkaGroupMember::Create("events", "a", {{"bootstrap.servers", "127.0.0.1:1"}});
  ASSERT_FALSE(m.ok());
  EXPECT_NE(m.status().message().find("group.id"), std::string::npos);
}

}  // namespace
}  // namespace strata
