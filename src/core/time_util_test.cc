#include "core/time_util.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(TimeUtilTest, FormatsUtc) {
  EXPECT_EQ(FormatTimestampMicros(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(FormatTimestampMicros(1'700'000'000'123'000LL), "2023-11-14T22:13:20.123Z");
}

TEST(TimeUtilTest, DaysFloorBeforeEpoch) {
  EXPECT_EQ(DaysFromMicros(0), 0);
  EXPECT_EQ(DaysFromMicros(-1), -1);
  EXPECT_EQ(DaysFromMicros(86'400'000'000LL), 1);
  EXPECT_EQ(FormatDate(19675), "2023-11-14");
}

}  // namespace
}  // namespace strata
