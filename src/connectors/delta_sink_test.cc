#include "connectors/delta_sink.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"

namespace strata {
namespace {

class DeltaSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_sink_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<DeltaSink> Sink(SchemaPtr schema, bool merge) {
    DeltaSinkOptions o;
    o.table_name = "catalog.t.events";
    o.path = dir_;
    o.schema = std::move(schema);
    o.merge_schema = merge;
    return std::make_unique<DeltaSink>(std::move(o));
  }
  Status Write(DeltaSink& sink, int64_t batch_id, int64_t id) {
    RecordBatch b(sink.schema());
    b.column(0).AppendInt64(id);
    b.column(1).AppendString("x");
    for (size_t c = 2; c < b.num_columns(); ++c) b.column(c).AppendString("new");
    std::vector<RecordBatch> batches;
    batches.push_back(std::move(b));
    auto stats = sink.Commit({"query", batch_id, {}}, batches);
    return stats.ok() ? Status::OK() : stats.status();
  }
  std::string dir_;
};

SchemaPtr Base() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kInt64, false}, {"name", TypeId::kString, true}});
}
SchemaPtr Wider() {
  auto f = Base()->fields();
  f.push_back({"coupon", TypeId::kString, true});
  return std::make_shared<Schema>(std::move(f));
}

TEST_F(DeltaSinkTest, ReRunOfACommittedBatchIsSkipped) {
  auto sink = Sink(Base(), false);
  ASSERT_TRUE(sink->Open().ok());
  ASSERT_TRUE(Write(*sink, 0, 1).ok());
  ASSERT_TRUE(Write(*sink, 0, 1).ok());  // the same batch again: no second commit
  EXPECT_EQ(sink->LastCommittedBatch("query").value(), 0);
  auto snapshot = delta::DeltaTable::Open(dir_).value()->LatestSnapshot().value();
  EXPECT_EQ(snapshot->files().size(), 1u);
}

TEST_F(DeltaSinkTest, MergeSchemaAddsNullableColumnsOtherwiseRefuses) {
  auto first = Sink(Base(), false);
  ASSERT_TRUE(first->Open().ok());
  ASSERT_TRUE(Write(*first, 0, 1).ok());

  Status refused = Sink(Wider(), false)->Open();
  EXPECT_EQ(refused.code(), StatusCode::kInvalidArgument) << refused.ToString();

  auto wider = Sink(Wider(), true);
  Status opened = wider->Open();
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  ASSERT_TRUE(Write(*wider, 1, 2).ok());

  auto engine = OpenCatalog({{"catalog.t.events", dir_}});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  auto r = (*engine)->Execute("SELECT id, coupon FROM catalog.t.events ORDER BY id");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_FALSE(r->rows[0][1].has_value());  // written before the column existed
  EXPECT_EQ(r->rows[1][1].value_or(""), "new");

  // A changed type is refused even with mergeSchema.
  auto f = Base()->fields();
  f[1].type = TypeId::kInt64;
  Status type_change = Sink(std::make_shared<Schema>(f), true)->Open();
  EXPECT_EQ(type_change.code(), StatusCode::kInvalidArgument) << type_change.ToString();
  EXPECT_NE(type_change.message().find("name"), std::string::npos) << type_change.ToString();
}

}  // namespace
}  // namespace strata
