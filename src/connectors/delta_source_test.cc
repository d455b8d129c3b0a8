#include "connectors/delta_source.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "connectors/batch_cache.h"
#include "connectors/delta_sink.h"
#include "lake/delta/maintenance.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"

namespace strata {
namespace {

SchemaPtr IdSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kInt64, false}});
}

class DeltaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_dsrc_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    // Read from files, not from the in-process cache of committed batches.
    CommittedBatchCache::Global().set_capacity(0);
    DeltaSinkOptions o;
    o.table_name = "catalog.t.ids";
    o.path = dir_;
    o.schema = IdSchema();
    sink_ = std::make_unique<DeltaSink>(o);
    ASSERT_TRUE(sink_->Open().ok());
  }
  void TearDown() override {
    CommittedBatchCache::Global().set_capacity(512 << 20);
    std::filesystem::remove_all(dir_);
  }
  // One commit with one file holding ids [from, to).
  void Append(int64_t batch_id, int64_t from, int64_t to) {
    RecordBatch b(IdSchema());
    for (int64_t i = from; i < to; ++i) b.column(0).AppendInt64(i);
    std::vector<RecordBatch> batches;
    batches.push_back(std::move(b));
    ASSERT_TRUE(sink_->Commit({"writer", batch_id, {}}, batches).ok());
  }
  std::unique_ptr<DeltaSource> Source(bool ignore_changes = false) {
    DeltaSourceOptions o;
    o.table_name = "catalog.t.ids";
    o.path = dir_;
    o.schema = IdSchema();
    o.ignore_changes = ignore_changes;
    auto s = std::make_unique<DeltaSource>(o);
    EXPECT_TRUE(s->Open().ok());
    return s;
  }
  std::vector<int64_t> Read(DeltaSource& s, const std::string& a, const std::string& b) {
    std::vector<int64_t> ids;
    Status st = s.Read(a, b, 0, [&](RecordBatch&& batch) {
      for (size_t i = 0; i < batch.num_rows(); ++i) ids.push_back(batch.column(0).Int64(i));
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::sort(ids.begin(), ids.end());
    return ids;
  }
  std::string dir_;
  std::unique_ptr<DeltaSink> sink_;
};

TEST_F(DeltaSourceTest, ReadsCommitsInOrderWithinTheFileLimit) {
  Append(0, 0, 10);
  Append(1, 10, 20);
  Append(2, 20, 30);
  auto s = Source();
  std::string start = s->InitialOffset().value();
  ReadLimit two_files;
  two_files.max_files = 2;
  std::string mid = s->PlanEnd(start, two_files, "").value();
  std::string end = s->PlanEnd(mid, two_files, "").value();
  EXPECT_EQ(s->PlanEnd(end, two_files, "").value(), end);  // nothing more
  auto first = Read(*s, start, mid);
  auto second = Read(*s, mid, end);
  ASSERT_EQ(first.size(), 20u);
  ASSERT_EQ(second.size(), 10u);
  EXPECT_EQ(first.front(), 0);
  EXPECT_EQ(second.front(), 20);
  EXPECT_EQ(s->RowsBetween(start, end), 30);
}

TEST_F(DeltaSourceTest, CompactionCommitsAreNotReadAgain) {
  Append(0, 0, 10);
  Append(1, 10, 20);
  auto s = Source();
  std::string start = s->InitialOffset().value();
  std::string end = s->PlanEnd(start, {}, "").value();
  auto table = delta::DeltaTable::Open(dir_).value();
  delta::OptimizeOptions opt;
  auto optimized = delta::Optimize(*table, opt);
  ASSERT_TRUE(optimized.ok()) << optimized.status().ToString();
  ASSERT_GT(table->LatestSnapshot().value()->version(), 2);
  EXPECT_EQ(s->PlanEnd(end, {}, "").value(), end);  // the rewrite carries no new data
  Append(2, 20, 25);
  std::string next = s->PlanEnd(end, {}, "").value();
  EXPECT_EQ(Read(*s, end, next), (std::vector<int64_t>{20, 21, 22, 23, 24}));
}

TEST_F(DeltaSourceTest, NonAppendChangesFailUnlessIgnored) {
  Append(0, 0, 10);
  auto table = delta::DeltaTable::Open(dir_).value();
  auto snapshot = table->LatestSnapshot().value();
  auto txn = table->StartTransaction(snapshot);
  delta::RemoveFile remove;
  remove.path = snapshot->files()[0].path;
  remove.data_change = true;  // a DELETE
  txn->RemoveFile(remove);
  txn->SetOperation("DELETE");
  ASSERT_TRUE(txn->Commit().ok());

  auto strict = Source();
  auto st = strict->PlanEnd(strict->InitialOffset().value(), {}, "");
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument) << st.status().ToString();
  EXPECT_NE(st.status().message().find("ignoreChanges"), std::string::npos);

  auto lenient = Source(/*ignore_changes=*/true);
  std::string start = lenient->InitialOffset().value();
  auto end = lenient->PlanEnd(start, {}, "");
  ASSERT_TRUE(end.ok()) << end.status().ToString();
  EXPECT_EQ(Read(*lenient, start, *end).size(), 10u);  // the appended file, read once
}

TEST_F(DeltaSourceTest, OffsetsOfARecreatedTableAreRefused) {
  Append(0, 0, 10);
  auto s = Source();
  std::string old = s->InitialOffset().value();
  std::filesystem::remove_all(dir_);
  DeltaSinkOptions o;
  o.table_name = "catalog.t.ids";
  o.path = dir_;
  o.schema = IdSchema();
  DeltaSink again(o);
  ASSERT_TRUE(again.Open().ok());
  auto fresh = Source();
  auto st = fresh->Reconcile(old);
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("recreated"), std::string::npos);
}

}  // namespace
}  // namespace strata

namespace strata {
namespace {

SchemaPtr PartitionedSchema() {
  return std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kInt64, false}, {"kafka_partition", TypeId::kInt32, true}});
}

class PartitionFilterTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_dsrc_part_" + std::to_string(::getpid()) + (GetParam() ? "_cached" : "")))
               .string();
    std::filesystem::remove_all(dir_);
    // Both paths: rows from the in-process cache of committed batches, and from the files.
    CommittedBatchCache::Global().set_capacity(GetParam() ? 64 << 20 : 0);
    DeltaSinkOptions o;
    o.table_name = "catalog.t.events";
    o.path = dir_;
    o.schema = PartitionedSchema();
    sink_ = std::make_unique<DeltaSink>(o);
    ASSERT_TRUE(sink_->Open().ok());
  }
  void TearDown() override {
    CommittedBatchCache::Global().set_capacity(512 << 20);
    std::filesystem::remove_all(dir_);
  }
  // One commit of rows (id, partition).
  void Append(int64_t batch_id, const std::vector<std::pair<int64_t, int32_t>>& rows) {
    RecordBatch b(PartitionedSchema());
    for (auto [id, p] : rows) {
      b.column(0).AppendInt64(id);
      b.column(1).AppendInt32(p);
    }
    std::vector<RecordBatch> batches;
    batches.push_back(std::move(b));
    ASSERT_TRUE(sink_->Commit({"writer", batch_id, {}}, batches).ok());
  }
  std::unique_ptr<DeltaSource> Source(int32_t partition) {
    DeltaSourceOptions o;
    o.table_name = "catalog.t.events";
    o.path = dir_;
    o.schema = PartitionedSchema();
    o.partition_filter = partition;
    auto s = std::make_unique<DeltaSource>(o);
    EXPECT_TRUE(s->Open().ok());
    return s;
  }
  std::vector<int64_t> Read(DeltaSource& s, const std::string& a, const std::string& b,
                            int32_t partition) {
    std::vector<int64_t> ids;
    Status st = s.Read(a, b, 0, [&](RecordBatch&& batch) {
      for (size_t i = 0; i < batch.num_rows(); ++i) {
        EXPECT_EQ(batch.column(1).Int32(i), partition);
        ids.push_back(batch.column(0).Int64(i));
      }
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    return ids;
  }
  std::string dir_;
  std::unique_ptr<DeltaSink> sink_;
};

TEST_P(PartitionFilterTest, ReadsOnlyItsPartitionAndPlansOnlyForFilesThatMayHoldIt) {
  Append(0, {{1, 0}, {2, 0}});          // partition 0 only
  Append(1, {{3, 1}, {4, 1}});          // partition 1 only
  Append(2, {{5, 0}, {6, 1}, {7, 0}});  // both
  ReadLimit one_file;
  one_file.max_files = 1;

  auto p1 = Source(1);
  EXPECT_NE(p1->Identity(), Source(0)->Identity());
  std::string start = p1->InitialOffset().value();
  // The first file that may hold partition 1 is commit 1's: the batch spans commits 0 and 1.
  std::string mid = p1->PlanEnd(start, one_file, "").value();
  ASSERT_NE(mid, start);
  EXPECT_EQ(Read(*p1, start, mid, 1), (std::vector<int64_t>{3, 4}));
  std::string end = p1->PlanEnd(mid, one_file, "").value();
  ASSERT_NE(end, mid);
  EXPECT_EQ(Read(*p1, mid, end, 1), (std::vector<int64_t>{6}));
  EXPECT_EQ(p1->PlanEnd(end, one_file, "").value(), end);

  auto p0 = Source(0);
  std::string s0 = p0->InitialOffset().value();
  std::string e0 = p0->PlanEnd(s0, {}, "").value();
  EXPECT_EQ(Read(*p0, s0, e0, 0), (std::vector<int64_t>{1, 2, 5, 7}));

  // A partition without rows: no batch, however often it plans, and none after more commits
  // without it; the first commit with it gives a batch that spans the ones before.
  auto p2 = Source(2);
  std::string s2 = p2->InitialOffset().value();
  EXPECT_EQ(p2->PlanEnd(s2, {}, "").value(), s2);
  EXPECT_EQ(p2->PlanEnd(s2, {}, "").value(), s2);
  Append(3, {{8, 0}});
  EXPECT_EQ(p2->PlanEnd(s2, {}, "").value(), s2);
  Append(4, {{9, 2}, {10, 1}});
  std::string e2 = p2->PlanEnd(s2, {}, "").value();
  ASSERT_NE(e2, s2);
  EXPECT_EQ(Read(*p2, s2, e2, 2), (std::vector<int64_t>{9}));
}

INSTANTIATE_TEST_SUITE_P(FilesAndCache, PartitionFilterTest, ::testing::Bool());

}  // namespace
}  // namespace strata
