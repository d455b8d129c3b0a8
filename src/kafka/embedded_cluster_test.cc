#include "kafka/embedded_cluster.h"

#include <gtest/gtest.h>

#include "kafka/source_reader.h"

namespace strata {
namespace {

TEST(EmbeddedClusterTest, StartsOnLoopbackWithTopicsAndDistinctIds) {
  auto a = EmbeddedCluster::Start({3, {{"clickstream-events", 12}}, 1});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = EmbeddedCluster::Start({1, {{"other", 2}}, 1});
  ASSERT_TRUE(b.ok()) << b.status().ToString();
  EXPECT_NE((*a)->bootstrap_servers().find("127.0.0.1:"), std::string::npos);
  EXPECT_FALSE((*a)->cluster_id().empty());
  EXPECT_NE((*a)->cluster_id(), (*b)->cluster_id());

  auto reader = KafkaReader::Create((*a)->bootstrap_servers());
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto info = (*reader)->Describe("clickstream-events", std::chrono::seconds(10));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->partitions.size(), 12u);
  EXPECT_EQ(info->cluster_id, (*a)->cluster_id());
}

TEST(EmbeddedClusterTest, IdsDoNotRepeatAfterStop) {
  std::string previous;
  for (int i = 0; i < 3; ++i) {
    auto c = EmbeddedCluster::Start({1, {{"t", 1}}, 1});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_NE((*c)->cluster_id(), previous);
    previous = (*c)->cluster_id();
    (*c)->Stop();
    EXPECT_TRUE((*c)->bootstrap_servers().empty());
  }
}

TEST(EmbeddedClusterTest, BrokerIdsAreChecked) {
  auto c = EmbeddedCluster::Start({2, {}, 1});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE((*c)->SetBrokerDown(1).ok());
  EXPECT_TRUE((*c)->SetBrokerUp(1).ok());
  EXPECT_FALSE((*c)->SetBrokerDown(7).ok());
  EXPECT_TRUE((*c)->CreateTopic("later", 3).ok());
}

}  // namespace
}  // namespace strata
