#include "server/event_hub.h"

#include <gtest/gtest.h>

#include <thread>

namespace strata::server {
namespace {

TEST(ServerEventHub, DeliversEventsInOrderToEverySubscriber) {
  EventHub hub(8, 4);
  auto a = hub.Subscribe();
  auto b = hub.Subscribe();
  ASSERT_TRUE(a && b);
  hub.Publish("progress", "{\"n\":1}");
  hub.Publish("commit", "{\"n\":2}");
  for (auto* s : {a.get(), b.get()}) {
    EXPECT_EQ(*s->Next(1000), "event: progress\ndata: {\"n\":1}\n\n");
    EXPECT_EQ(*s->Next(1000), "event: commit\ndata: {\"n\":2}\n\n");
  }
  EXPECT_EQ(hub.published(), 2);
}

TEST(ServerEventHub, SlowSubscriberLosesOldestEventsOnly) {
  EventHub hub(3, 4);
  auto s = hub.Subscribe();
  for (int i = 0; i < 10; ++i) hub.Publish("e", std::to_string(i));
  EXPECT_EQ(s->dropped(), 7);
  EXPECT_EQ(hub.dropped(), 7);
  EXPECT_EQ(*s->Next(0), "event: e\ndata: 7\n\n");
  EXPECT_EQ(*s->Next(0), "event: e\ndata: 8\n\n");
  EXPECT_EQ(*s->Next(0), "event: e\ndata: 9\n\n");
  EXPECT_EQ(*s->Next(0), "");  // timeout: nothing queued
}

TEST(ServerEventHub, LimitsSubscribersAndUnsubscribesOnDestruction) {
  EventHub hub(4, 2);
  auto a = hub.Subscribe();
  auto b = hub.Subscribe();
  EXPECT_EQ(hub.Subscribe(), nullptr);
  EXPECT_EQ(hub.subscribers(), 2u);
  a.reset();
  EXPECT_EQ(hub.subscribers(), 1u);
  EXPECT_NE(hub.Subscribe(), nullptr);
}

TEST(ServerEventHub, CloseWakesAWaitingSubscriber) {
  EventHub hub(4, 2);
  auto s = hub.Subscribe();
  std::optional<std::string> got = std::string("unset");
  std::thread waiter([&] { got = s->Next(60'000); });
  hub.Close();
  waiter.join();
  EXPECT_FALSE(got.has_value());
  EXPECT_EQ(hub.Subscribe(), nullptr);
}

}  // namespace
}  // namespace strata::server
