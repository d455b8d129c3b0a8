#include "lake/delta/scan.h"

#include <gtest/gtest.h>

#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using delta::testing::EventSchema;
using delta::testing::TempDir;

constexpr int64_t kDay = 86400LL * 1000000;

TEST(DeltaScanTest, ParsesTimestampForms) {
  EXPECT_EQ(ParseTimestampMicros("1970-01-02"), kDay);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01 00:00:01"), 1000000);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T00:00:01.5Z"), 1500000);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01T01:00:00.000+01:00"), 0);
  EXPECT_EQ(ParseTimestampMicros("1970-01-01 00:00:00.123456"), 123456);
  EXPECT_EQ(ParseTimestampMicros("2026-11-24T06:34:14.123Z"), 1795502054123000);
  EXPECT_EQ(ParseTimestampMicros("nope"), std::nullopt);
  EXPECT_EQ(ParseTimestampMicros("2026-13-01"), std::nullopt);
}

delta::AddFile Add(const std::string& path, const std::optional<std::string>& date,
                   const std::optional<std::string>& stats) {
  delta::AddFile a;
  a.path = path;
  a.size = 100;
  a.modification_time = 1;
  a.partition_values["event_date"] = date;
  a.stats = stats;
  return a;
}

TEST(DeltaScanTest, PrunesByPartitionValueAndStats) {
  TempDir dir;
  auto table = delta::DeltaTable::CreateIfNotExists(dir.path(), EventSchema(), {"event_date"}, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto txn = (*table)->StartTransaction();
  ASSERT_TRUE(txn.ok());
  auto stats = [](const std::string& lo, const std::string& hi, int nulls) {
    return "{\"numRecords\":10,\"minValues\":{\"ts\":\"" + lo + "\"},\"maxValues\":{\"ts\":\"" +
           hi + "\"},\"nullCount\":{\"ts\":" + std::to_string(nulls) + "}}";
  };
  (*txn)->AddFile(Add("d1-early", "2026-11-23",
                      stats("2026-11-23T00:00:00.000Z", "2026-11-23T05:00:00.000Z", 0)));
  (*txn)->AddFile(Add("d1-late", "2026-11-23",
                      stats("2026-11-23T20:00:00.000Z", "2026-11-23T23:59:59.999Z", 0)));
  (*txn)->AddFile(Add("d2-nostats", "2026-11-24", std::nullopt));
  (*txn)->AddFile(Add("d2-allnull", "2026-11-24", "{\"numRecords\":10,\"nullCount\":{\"ts\":10}}"));
  (*txn)->AddFile(Add("null-part", std::nullopt, std::nullopt));
  ASSERT_TRUE((*txn)->Commit().ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());

  auto names = [&](const TimeRange& r) {
    auto files = PruneFiles(**snap, r);
    EXPECT_TRUE(files.ok()) << files.status().ToString();
    std::vector<std::string> out;
    if (files.ok())
      for (const auto& f : *files) out.push_back(f.path);
    return out;
  };
  int64_t d1 = *ParseTimestampMicros("2026-11-23");
  // Stats on ts: the 20:00-24:00 range keeps only the late file of day 1 and the stat-less one.
  EXPECT_EQ(names({"ts", d1 + 20 * 3600LL * 1000000, d1 + kDay}),
            (std::vector<std::string>{"d1-late", "d2-nostats", "null-part"}));
  // Max is truncated to ms: a range starting within the last millisecond still keeps the file.
  EXPECT_EQ(names({"ts", d1 + 5 * 3600LL * 1000000 + 500, d1 + 6 * 3600LL * 1000000}),
            (std::vector<std::string>{"d1-early", "d2-nostats", "null-part"}));
  // The date partition: day 2 only; a null partition value never matches.
  EXPECT_EQ(names({"event_date", d1 + kDay, d1 + 2 * kDay}),
            (std::vector<std::string>{"d2-allnull", "d2-nostats"}));
  EXPECT_EQ(names({"event_date", d1 + kDay - 1, std::nullopt}),
            (std::vector<std::string>{"d1-early", "d1-late", "d2-allnull", "d2-nostats"}));
  EXPECT_EQ(names({"event_date", std::nullopt, std::nullopt}).size(), 4u);
  EXPECT_EQ(PruneFiles(**snap, {"nope", 0, 1}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace strata::delta
