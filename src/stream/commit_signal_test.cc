#include "stream/commit_signal.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace strata {
namespace {

TEST(CommitSignalsTest, NotifyRunsOnlyTheSubscriptionsOfItsKey) {
  CommitSignals signals;
  int a = 0, b = 0;
  int64_t sa = signals.Subscribe("/t/a", [&] { ++a; });
  int64_t sb = signals.Subscribe("/t/b", [&] { ++b; });
  signals.Notify("/t/a");
  signals.Notify("/t/a");
  signals.Notify("/t/c");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 0);
  signals.Unsubscribe(sa);
  signals.Notify("/t/a");
  signals.Notify("/t/b");
  EXPECT_EQ(a, 2);
  EXPECT_EQ(b, 1);
  signals.Unsubscribe(sb);
  signals.Unsubscribe(sb);  // twice: nothing
}

TEST(CommitSignalsTest, ATableNamedTwoWaysHasOneKey) {
  const std::string cwd = std::filesystem::current_path().string();
  EXPECT_EQ(TableSignalKey("data/bronze/"), TableSignalKey(cwd + "/data/./x/../bronze"));
  EXPECT_EQ(TableSignalKey("/data/bronze//"), "/data/bronze");
  EXPECT_NE(TableSignalKey("/data/bronze"), TableSignalKey("/data/silver"));
}

}  // namespace
}  // namespace strata
