#include "stream/trigger.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(TriggerTest, ParsesSparkDurations) {
  EXPECT_EQ(ParseDurationMs("10 seconds").value(), 10'000);
  EXPECT_EQ(ParseDurationMs("1 minute").value(), 60'000);
  EXPECT_EQ(ParseDurationMs("5 minutes").value(), 300'000);
  EXPECT_EQ(ParseDurationMs("500 ms").value(), 500);
  EXPECT_EQ(ParseDurationMs("0").value(), 0);
  EXPECT_EQ(ParseDurationMs("1.5 s").value(), 1500);
}

TEST(TriggerTest, RejectsBadDurations) {
  EXPECT_FALSE(ParseDurationMs("ten seconds").ok());
  EXPECT_FALSE(ParseDurationMs("10 fortnights").ok());
  EXPECT_FALSE(ParseDurationMs("-1 s").ok());
  EXPECT_NE(ParseDurationMs("10 fortnights").status().message().find("fortnights"),
            std::string::npos);
}

}  // namespace
}  // namespace strata
