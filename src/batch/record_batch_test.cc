#include "batch/record_batch.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

SchemaPtr TestSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kString, false},
                                                     {"n", TypeId::kInt64, true},
                                                     {"t", TypeId::kTimestamp, true}});
}

TEST(RecordBatchTest, AppendAndTake) {
  RecordBatch b(TestSchema());
  b.Reserve(4);
  for (int i = 0; i < 4; ++i) {
    b.column(0).AppendString("id" + std::to_string(i));
    if (i == 2)
      b.column(1).AppendNull();
    else
      b.column(1).AppendInt64(i * 10);
    b.column(2).AppendInt64(1000 + i);
  }
  ASSERT_TRUE(b.Validate().ok());
  EXPECT_EQ(b.num_rows(), 4u);
  EXPECT_EQ(b.column(1).null_count(), 1u);

  RecordBatch t = b.Take({3, 2, 0});
  EXPECT_EQ(t.num_rows(), 3u);
  EXPECT_EQ(t.column(0).String(0), "id3");
  EXPECT_TRUE(t.column(1).IsNull(1));
  EXPECT_EQ(t.column(1).Int64(2), 0);
  EXPECT_EQ(t.column("t").Int64(0), 1003);
}

TEST(RecordBatchTest, AppendRowsKeepsValuesNullsAndOrder) {
  Column src(TypeId::kString);
  src.AppendString("a");
  src.AppendNull();
  src.AppendString("");
  src.AppendString("dddd");
  Column dst(TypeId::kString);
  dst.AppendString("x");
  uint32_t rows[] = {3, 1, 0, 3, 2};
  dst.AppendRows(src, rows, 5);
  ASSERT_EQ(dst.size(), 6u);
  EXPECT_EQ(dst.String(0), "x");
  EXPECT_EQ(dst.String(1), "dddd");
  EXPECT_TRUE(dst.IsNull(2));
  EXPECT_EQ(dst.String(3), "a");
  EXPECT_EQ(dst.String(4), "dddd");
  EXPECT_EQ(dst.String(5), "");
  EXPECT_EQ(dst.null_count(), 1u);

  Column ints(TypeId::kInt64);
  ints.AppendInt64(7);
  ints.AppendNull();
  Column out(TypeId::kInt64);
  uint32_t r2[] = {1, 0};
  out.AppendRows(ints, r2, 2);
  EXPECT_TRUE(out.IsNull(0));
  EXPECT_EQ(out.Int64(1), 7);
  EXPECT_EQ(out.null_count(), 1u);
}

TEST(RecordBatchTest, ValidateCatchesRaggedColumns) {
  RecordBatch b(TestSchema());
  b.column(0).AppendString("x");
  EXPECT_FALSE(b.Validate().ok());
}

TEST(RecordBatchTest, SelectCopiesTheProjectedColumns) {
  RecordBatch b(TestSchema());
  for (int i = 0; i < 3; ++i) {
    b.column(0).AppendString("id" + std::to_string(i));
    b.column(1).AppendInt64(i);
    b.column(2).AppendNull();
  }
  auto part = std::make_shared<Schema>(TestSchema()->Project({"t", "id", "absent"}));
  ASSERT_EQ(part->num_fields(), 2u);
  EXPECT_EQ(part->field(0).name, "id");  // the schema's order, not the list's
  EXPECT_EQ(part->field(1).name, "t");
  std::vector<int> at = TestSchema()->IndicesOf(*part);
  EXPECT_EQ(at, (std::vector<int>{0, 2}));
  RecordBatch s = b.Select(part, at);
  ASSERT_TRUE(s.Validate().ok());
  EXPECT_EQ(s.num_columns(), 2u);
  EXPECT_EQ(s.column(0).String(1), "id1");
  EXPECT_EQ(s.column(1).null_count(), 3u);
  b.column(0).AppendString("later");  // a copy: the source may change
  EXPECT_EQ(s.num_rows(), 3u);
  // A field missing, or of another type, is no projection.
  Schema other({{"id", TypeId::kInt64, false}});
  EXPECT_TRUE(TestSchema()->IndicesOf(other).empty());
  EXPECT_TRUE(TestSchema()->IndicesOf(Schema({{"x", TypeId::kString, true}})).empty());
}

TEST(SchemaTest, SparkJsonRoundTrip) {
  Schema s = *TestSchema();
  std::string json = s.ToSparkJson();
  EXPECT_EQ(
      json,
      R"({"type":"struct","fields":[{"name":"id","type":"string","nullable":false,"metadata":{}},)"
      R"({"name":"n","type":"long","nullable":true,"metadata":{}},)"
      R"({"name":"t","type":"timestamp","nullable":true,"metadata":{}}]})");
  auto back = Schema::FromSparkJson(json);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_TRUE(*back == s);
}

TEST(SchemaTest, NestedTypeIsNotSupported) {
  auto r = Schema::FromSparkJson(
      R"({"type":"struct","fields":[{"name":"s","type":{"type":"struct","fields":[]},"nullable":true,"metadata":{}}]})");
  EXPECT_EQ(r.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace strata
