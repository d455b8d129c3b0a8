#include "lake/delta/stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "lake/delta/partition_values.h"

namespace strata::delta {
namespace {

std::shared_ptr<const Schema> AllTypes() {
  return std::make_shared<const Schema>(std::vector<Field>{{"id", TypeId::kInt64},
                                                           {"name", TypeId::kString},
                                                           {"ts", TypeId::kTimestamp},
                                                           {"day", TypeId::kDate},
                                                           {"score", TypeId::kDouble},
                                                           {"flag", TypeId::kBool},
                                                           {"blob", TypeId::kBinary},
                                                           {"n", TypeId::kInt32}});
}

TEST(DeltaStatsTest, AllTypesWithNulls) {
  RecordBatch b(AllTypes());
  // 2026-11-24T06:34:14.123456Z and 2026-11-24T06:34:15.000001Z
  const int64_t t1 = 1795502054123456, t2 = 1795502055000001;
  b.column(0).AppendInt64(5);
  b.column(0).AppendInt64(-3);
  b.column(0).AppendNull();
  b.column(1).AppendString("pear");
  b.column(1).AppendNull();
  b.column(1).AppendString("apple");
  b.column(2).AppendInt64(t2);
  b.column(2).AppendInt64(t1);
  b.column(2).AppendNull();
  b.column(3).AppendInt32(20781);
  b.column(3).AppendInt32(20780);
  b.column(3).AppendInt32(20782);
  b.column(4).AppendDouble(1.5);
  b.column(4).AppendDouble(std::nan(""));
  b.column(4).AppendDouble(-2.25);
  b.column(5).AppendBool(true);
  b.column(5).AppendNull();
  b.column(5).AppendBool(false);
  b.column(6).AppendString("\x01\x02");
  b.column(6).AppendNull();
  b.column(6).AppendString("\xff");
  b.column(7).AppendNull();
  b.column(7).AppendNull();
  b.column(7).AppendNull();
  ASSERT_TRUE(b.Validate().ok());
  std::string json = ComputeStatsJson(b);
  EXPECT_EQ(
      json,
      R"({"numRecords":3,)"
      R"("minValues":{"id":-3,"name":"apple","ts":"2026-11-24T06:34:14.123Z","day":"2026-11-23","score":-2.25},)"
      R"("maxValues":{"id":5,"name":"pear","ts":"2026-11-24T06:34:15.001Z","day":"2026-11-25","score":1.5},)"
      R"("nullCount":{"id":1,"name":1,"ts":1,"day":0,"score":0,"flag":1,"blob":1,"n":3}})");
}

TEST(DeltaStatsTest, IndexedColumnLimitAndSkippedColumns) {
  RecordBatch b(AllTypes());
  for (size_t c = 0; c < b.num_columns(); ++c) b.column(c).AppendNull();
  std::string json = ComputeStatsJson(b, 2, {"id"});
  EXPECT_EQ(json,
            R"({"numRecords":1,"minValues":{},"maxValues":{},"nullCount":{"name":1,"ts":1}})");
}

TEST(DeltaStatsTest, LongStringsAreTruncatedAsBounds) {
  std::string long_a(40, 'a');
  EXPECT_EQ(TruncateMinString(long_a), std::string(32, 'a'));
  std::string max;
  ASSERT_TRUE(TruncateMaxString(long_a, &max));
  EXPECT_EQ(max, std::string(32, 'a') + "\xF4\x8F\xBF\xBF");
  EXPECT_GT(max, long_a);
  EXPECT_LE(TruncateMinString(long_a), long_a);
  // Multi-byte characters are never cut in the middle: 33 x "é" (2 bytes each).
  std::string e;
  for (int i = 0; i < 33; ++i) e += "\xC3\xA9";
  EXPECT_EQ(TruncateMinString(e).size(), 64u);
  // No valid upper bound when the cut lands on U+10FFFF.
  std::string edge = std::string(32, 'z') + "\xF4\x8F\xBF\xBF" + "z";
  EXPECT_FALSE(TruncateMaxString(edge, &max));
  // Short strings are kept.
  ASSERT_TRUE(TruncateMaxString("short", &max));
  EXPECT_EQ(max, "short");
}

TEST(DeltaPartitionValuesTest, Serialization) {
  Column date(TypeId::kDate);
  date.AppendInt32(20781);
  date.AppendNull();
  auto v = SerializePartitionValue(date, 0);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, std::optional<std::string>("2026-11-24"));
  auto n = SerializePartitionValue(date, 1);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, std::nullopt);
  Column ts(TypeId::kTimestamp);
  ts.AppendInt64(1795502054123456);
  EXPECT_EQ(*SerializePartitionValue(ts, 0),
            std::optional<std::string>("2026-11-24T06:34:14.123456Z"));
  Column b(TypeId::kBool);
  b.AppendBool(true);
  EXPECT_EQ(*SerializePartitionValue(b, 0), std::optional<std::string>("true"));
  Column bin(TypeId::kBinary);
  bin.AppendString("x");
  EXPECT_EQ(SerializePartitionValue(bin, 0).status().code(), StatusCode::kNotSupported);
}

TEST(DeltaPartitionValuesTest, DirectoriesAndUrlEncoding) {
  PartitionValues pv = {{"event_date", "2026-11-24"}, {"country", std::nullopt}};
  EXPECT_EQ(PartitionDirectory({"event_date", "country"}, pv),
            "event_date=2026-11-24/country=__HIVE_DEFAULT_PARTITION__/");
  PartitionValues odd = {{"t", "1970-01-01 00:00:00"}, {"s", "a/b=c%"}};
  std::string dir = PartitionDirectory({"t", "s"}, odd);
  EXPECT_EQ(dir, "t=1970-01-01 00%3A00%3A00/s=a%2Fb%3Dc%25/");
  std::string log_path = UrlEncodePath(dir + "part-0.parquet");
  EXPECT_EQ(log_path, "t=1970-01-01%2000%253A00%253A00/s=a%252Fb%253Dc%2525/part-0.parquet");
  EXPECT_EQ(UrlDecode(log_path), dir + "part-0.parquet");
  std::string emoji = "data=\xF0\x9F\x98\x88/x y.parquet";
  EXPECT_EQ(UrlDecode(UrlEncodePath(emoji)), emoji);
  EXPECT_EQ(UrlDecode("bad%zz%4"), "bad%zz%4");
}

}  // namespace
}  // namespace strata::delta
