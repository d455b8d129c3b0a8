#include "lake/delta/actions.h"

#include <gtest/gtest.h>

#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

TEST(DeltaActionsTest, AddRoundTripKeepsAllFields) {
  AddFile a;
  a.path = "event_date=2026-11-24/part-0001%20x.parquet";
  a.partition_values = {{"event_date", "2026-11-24"}, {"country", std::nullopt}};
  a.size = 1234;
  a.modification_time = 1764000000123;
  a.data_change = true;
  a.stats = R"({"numRecords":3,"minValues":{"a":"x\"y"}})";
  a.tags = {{"INSERTION_TIME", "1"}};
  a.deletion_vector = DeletionVector{"u", "ab^-aqEH.-t@S}K{vb[*k^", 1, 36, 2};
  a.base_row_id = 7;
  std::string line = SerializeAction(a);
  auto parsed = ParseAction(line, "x.json", 1);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const auto& b = std::get<AddFile>(*parsed);
  EXPECT_EQ(b.path, a.path);
  EXPECT_EQ(b.partition_values, a.partition_values);
  EXPECT_EQ(b.size, 1234);
  EXPECT_EQ(b.modification_time, a.modification_time);
  EXPECT_EQ(b.stats, a.stats);
  EXPECT_EQ(b.tags, a.tags);
  ASSERT_TRUE(b.deletion_vector);
  EXPECT_EQ(b.deletion_vector->UniqueId(), "uab^-aqEH.-t@S}K{vb[*k^@1");
  EXPECT_EQ(b.deletion_vector->cardinality, 2);
  EXPECT_EQ(b.base_row_id, 7);
  EXPECT_NE(line.find("\"country\":null"), std::string::npos) << line;
}

TEST(DeltaActionsTest, MetadataProtocolTxnRoundTrip) {
  Metadata m;
  m.id = "id-1";
  m.name = "events";
  m.schema_string = R"({"type":"struct","fields":[]})";
  m.partition_columns = {"event_date"};
  m.configuration = {{"delta.checkpointInterval", "5"}};
  m.created_time = 42;
  auto pm = ParseAction(SerializeAction(m), "f", 0);
  ASSERT_TRUE(pm.ok());
  const auto& m2 = std::get<Metadata>(*pm);
  EXPECT_EQ(m2.id, "id-1");
  EXPECT_EQ(m2.name, "events");
  EXPECT_EQ(m2.schema_string, m.schema_string);
  EXPECT_EQ(m2.partition_columns, m.partition_columns);
  EXPECT_EQ(m2.configuration, m.configuration);
  EXPECT_EQ(m2.created_time, 42);

  Protocol p{3, 7, std::vector<std::string>{"deletionVectors"}, std::vector<std::string>{"x"}};
  auto pp = ParseAction(SerializeAction(p), "f", 0);
  ASSERT_TRUE(pp.ok());
  EXPECT_EQ(std::get<Protocol>(*pp).reader_features, p.reader_features);
  EXPECT_EQ(std::get<Protocol>(*pp).min_writer_version, 7);

  auto pt = ParseAction(SerializeAction(Txn{"app", 9, 100}), "f", 0);
  ASSERT_TRUE(pt.ok());
  EXPECT_EQ(std::get<Txn>(*pt).app_id, "app");
  EXPECT_EQ(std::get<Txn>(*pt).version, 9);
}

TEST(DeltaActionsTest, CommitInfoIsFreeForm) {
  auto a = ParseAction(
      R"({"commitInfo":{"timestamp":5,"operation":"WRITE","operationParameters":{"mode":"Append","n":3},"anything":{"nested":[1,2]},"engineInfo":"x"}})",
      "c.json", 4);
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  const auto& c = std::get<CommitInfo>(*a);
  EXPECT_EQ(c.timestamp, 5);
  EXPECT_EQ(c.operation, "WRITE");
  EXPECT_EQ(c.operation_parameters.at("mode"), "Append");
  EXPECT_EQ(c.operation_parameters.at("n"), "3");
  EXPECT_NE(c.raw.find("\"nested\":[1,2]"), std::string::npos);
}

TEST(DeltaActionsTest, KnownNonStateActionsParse) {
  EXPECT_TRUE(std::holds_alternative<AddCdcFile>(*ParseAction(
      R"({"cdc":{"path":"_change_data/x.parquet","partitionValues":{},"size":3,"dataChange":false}})",
      "f", 1)));
  EXPECT_TRUE(std::holds_alternative<CheckpointMetadata>(
      *ParseAction(R"({"checkpointMetadata":{"version":6}})", "f", 1)));
  EXPECT_TRUE(std::holds_alternative<SidecarFile>(*ParseAction(
      R"({"sidecar":{"path":"a.parquet","sizeInBytes":1,"modificationTime":2}})", "f", 1)));
}

TEST(DeltaActionsTest, UnknownActionIsCorruptionNamingFileAndVersion) {
  auto a = ParseAction(R"({"frobnicate":{"x":1}})", "_delta_log/00000000000000000003.json", 3);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
  EXPECT_NE(a.status().message().find("frobnicate"), std::string::npos);
  EXPECT_NE(a.status().message().find("00000000000000000003.json"), std::string::npos);
  EXPECT_NE(a.status().message().find("version 3"), std::string::npos);
}

TEST(DeltaActionsTest, TruncatedLineIsCorruptionWithLineNumber) {
  std::string content = SerializeAction(Txn{"a", 1, 1}) + "\n" + R"({"add":{"path":"x","si)";
  auto r = ParseActions(content, "/t/_delta_log/00000000000000000007.json", 7);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCorruption);
  EXPECT_NE(r.status().message().find("00000000000000000007.json"), std::string::npos);
  EXPECT_NE(r.status().message().find("line 2"), std::string::npos);
}

TEST(DeltaActionsTest, AddWithoutPathIsCorruption) {
  auto a = ParseAction(R"({"add":{"size":3}})", "f.json", 2);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), StatusCode::kCorruption);
}

TEST(DeltaActionsTest, SerializedCommitIsOneActionPerLine) {
  std::vector<Action> actions = {CommitInfo{}, testing::MakeAdd("a.parquet"),
                                 testing::MakeAdd("b.parquet")};
  std::string s = SerializeActions(actions);
  EXPECT_EQ(std::count(s.begin(), s.end(), '\n'), 3);
  auto back = ParseActions(s, "f", 0);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->size(), 3u);
}

}  // namespace
}  // namespace strata::delta
