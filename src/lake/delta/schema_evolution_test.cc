#include <gtest/gtest.h>

#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using testing::EventSchema;
using testing::MakeAdd;
using testing::TempDir;

class DeltaSchemaEvolutionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto t = DeltaTable::CreateIfNotExists(dir_.Sub("t"), EventSchema(), {"event_date"}, {});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    table_ = std::move(t).value();
  }
  std::vector<Field> Fields() { return EventSchema().fields(); }

  TempDir dir_;
  std::unique_ptr<DeltaTable> table_;
};

TEST_F(DeltaSchemaEvolutionTest, MergeSchemaAddsNullableColumnInTheSameCommit) {
  auto fields = Fields();
  fields.push_back({"referrer", TypeId::kString, true});
  Schema wider(fields);
  auto txn = table_->StartTransaction();
  ASSERT_TRUE(txn.ok());
  ASSERT_TRUE((*txn)->EvolveSchema(wider, /*merge_schema=*/true).ok());
  (*txn)->AddFile(MakeAdd("a.parquet"));
  auto v = (*txn)->Commit();
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  auto actions = table_->ReadCommitActions(*v);
  ASSERT_TRUE(actions.ok());
  bool has_metadata = false, has_add = false;
  for (const auto& a : *actions) {
    has_metadata |= std::holds_alternative<Metadata>(a);
    has_add |= std::holds_alternative<AddFile>(a);
  }
  EXPECT_TRUE(has_metadata && has_add);
  auto fresh = DeltaTable::Open(dir_.Sub("t"));
  ASSERT_TRUE(fresh.ok());
  auto snap = (*fresh)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  auto schema = (*snap)->schema();
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(*schema, wider);
  EXPECT_EQ((*snap)->partition_columns(), std::vector<std::string>{"event_date"});
  // The same schema again: no metadata change.
  auto txn2 = table_->StartTransaction();
  ASSERT_TRUE(txn2.ok());
  ASSERT_TRUE((*txn2)->EvolveSchema(wider, true).ok());
  (*txn2)->AddFile(MakeAdd("b.parquet"));
  auto v2 = (*txn2)->Commit();
  ASSERT_TRUE(v2.ok());
  auto actions2 = table_->ReadCommitActions(*v2);
  ASSERT_TRUE(actions2.ok());
  for (const auto& a : *actions2) EXPECT_FALSE(std::holds_alternative<Metadata>(a));
}

TEST_F(DeltaSchemaEvolutionTest, RefusesEveryOtherChangeNamingTheColumn) {
  auto expect_refused = [&](const Schema& s, bool merge, const std::string& column) {
    auto txn = table_->StartTransaction();
    ASSERT_TRUE(txn.ok());
    Status st = (*txn)->EvolveSchema(s, merge);
    EXPECT_EQ(st.code(), StatusCode::kInvalidArgument) << st.ToString();
    EXPECT_NE(st.message().find("'" + column + "'"), std::string::npos) << st.ToString();
  };
  auto fields = Fields();
  fields.push_back({"referrer", TypeId::kString, true});
  expect_refused(Schema(fields), /*merge=*/false, "referrer");  // new column without mergeSchema
  fields.back().nullable = false;
  expect_refused(Schema(fields), true, "referrer");  // non-nullable new column
  fields = Fields();
  fields[1].type = TypeId::kString;
  expect_refused(Schema(fields), true, "user_id");  // type change
  fields = Fields();
  fields[0].nullable = true;
  expect_refused(Schema(fields), true, "event_id");  // nullable data into a NOT NULL column
  fields = Fields();
  fields.erase(fields.begin());
  expect_refused(Schema(fields), true, "event_id");  // a NOT NULL column missing
  // Nothing was committed by the refused attempts.
  auto snap = table_->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->version(), 0);
  // Dropping a nullable column from the data is fine (it reads as null).
  fields = Fields();
  fields.pop_back();
  auto txn = table_->StartTransaction();
  ASSERT_TRUE(txn.ok());
  EXPECT_TRUE((*txn)->EvolveSchema(Schema(fields), false).ok());
}

}  // namespace
}  // namespace strata::delta
