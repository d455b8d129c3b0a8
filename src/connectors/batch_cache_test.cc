#include "connectors/batch_cache.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "connectors/delta_sink.h"
#include "connectors/delta_source.h"

namespace strata {
namespace {

SchemaPtr IdSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kInt64, false}});
}

CommittedBatchCache::Batches Rows(int64_t n) {
  auto b = std::make_shared<RecordBatch>(IdSchema());
  for (int64_t i = 0; i < n; ++i) b->column(0).AppendInt64(i);
  return {b};
}

// A fresh directory for a table, named after the running test.
std::string TableDir() {
  std::string dir = (std::filesystem::temp_directory_path() /
                     ("strata_batch_cache_" + std::to_string(::getpid()) + "_" +
                      ::testing::UnitTest::GetInstance()->current_test_info()->name()))
                        .string();
  std::filesystem::remove_all(dir);
  return dir;
}

DeltaSinkOptions SinkAt(const std::string& dir, SchemaPtr schema) {
  DeltaSinkOptions o;
  o.table_name = "catalog.t.rows";
  o.path = dir;
  o.schema = std::move(schema);
  return o;
}

DeltaSourceOptions SourceAt(const std::string& dir, SchemaPtr schema) {
  DeltaSourceOptions o;
  o.table_name = "catalog.t.rows";
  o.path = dir;
  o.schema = std::move(schema);
  return o;
}

bool Cached(CommittedBatchCache& cache, const std::string& table, int64_t version) {
  return cache.Get(table, version, 1).has_value();
}

TEST(CommittedBatchCacheTest, EvictsLeastRecentlyUsedBeyondItsCapacity) {
  size_t one = Rows(1000)[0]->MemoryBytes();
  CommittedBatchCache cache(one * 2);
  cache.Put("t", 0, 1, Rows(1000));
  cache.Put("t", 1, 1, Rows(1000));
  EXPECT_TRUE(Cached(cache, "t", 0));  // now the most recently used
  cache.Put("t", 2, 1, Rows(1000));
  EXPECT_TRUE(Cached(cache, "t", 0));
  EXPECT_FALSE(Cached(cache, "t", 1));
  EXPECT_TRUE(Cached(cache, "t", 2));
  EXPECT_EQ(cache.bytes(), one * 2);
  // A commit with another file count is not the cached one.
  EXPECT_FALSE(cache.Get("t", 2, 2).has_value());
}

TEST(CommittedBatchCacheTest, DropsCommitsEveryReaderOfTheTableHasPassed) {
  CommittedBatchCache cache(64 << 20);
  for (int64_t v = 0; v < 4; ++v) {
    cache.Put("a", v, 1, Rows(10));
    cache.Put("b", v, 1, Rows(10));
  }
  const size_t all = cache.bytes();
  int64_t r1 = cache.AddReader("a");
  int64_t r2 = cache.AddReader("a");
  cache.ReaderAt(r1, 3);
  // r2 has not said where it is: it may still ask for anything.
  for (int64_t v = 0; v < 4; ++v) EXPECT_TRUE(Cached(cache, "a", v)) << v;
  cache.ReaderAt(r2, 2);
  EXPECT_FALSE(Cached(cache, "a", 0));
  EXPECT_FALSE(Cached(cache, "a", 1));
  EXPECT_TRUE(Cached(cache, "a", 2));
  EXPECT_TRUE(Cached(cache, "a", 3));
  // Another table's commits are its own readers' business.
  for (int64_t v = 0; v < 4; ++v) EXPECT_TRUE(Cached(cache, "b", v)) << v;
  EXPECT_LT(cache.bytes(), all);
  // When the slower reader goes, the other's position decides.
  cache.RemoveReader(r2);
  EXPECT_FALSE(Cached(cache, "a", 2));
  EXPECT_TRUE(Cached(cache, "a", 3));
  cache.ReaderAt(r1, 4);
  EXPECT_FALSE(Cached(cache, "a", 3));
  cache.RemoveReader(r1);
  // With no readers left, table b's commits stay until the LRU bound takes them.
  EXPECT_EQ(cache.bytes(), all / 2);
  cache.ReaderAt(r1, 10);  // a removed id is ignored
  EXPECT_EQ(cache.bytes(), all / 2);
}

TEST(CommittedBatchCacheTest, DeltaSourceReleasesTheCommitsItHasRead) {
  std::string dir = TableDir();
  DeltaSink sink(SinkAt(dir, IdSchema()));
  ASSERT_TRUE(sink.Open().ok());
  auto commit = [&](int64_t batch_id) {
    std::vector<RecordBatch> batches;
    batches.push_back(Rows(100)[0]->Clone());
    ASSERT_TRUE(sink.Commit({"writer", batch_id, {}}, batches).ok());
  };
  DeltaSource source(SourceAt(dir, IdSchema()));
  ASSERT_TRUE(source.Open().ok());
  auto& cache = CommittedBatchCache::Global();
  ReadLimit one_file;
  one_file.max_files = 1;
  auto read = [&](const std::string& from, const std::string& to) {
    int64_t rows = 0;
    ASSERT_TRUE(source
                    .Read(from, to, 0,
                          [&](RecordBatch&& b) {
                            rows += static_cast<int64_t>(b.num_rows());
                            return Status::OK();
                          })
                    .ok());
    EXPECT_EQ(rows, 100);
  };
  commit(0);
  commit(1);
  std::string start = source.InitialOffset().value();
  std::string first = source.PlanEnd(start, one_file, "").value();
  read(start, first);
  std::string second = source.PlanEnd(first, one_file, "").value();
  ASSERT_NE(second, first);
  const uint64_t misses = cache.misses();
  // The first commit with data was served from memory, and is kept until the source reads on
  // (a retried batch reads it again).
  read(start, first);
  EXPECT_EQ(cache.misses(), misses);
  read(first, second);
  EXPECT_EQ(cache.misses(), misses);
  // Reading the second batch moved the source past the first: it has left the cache.
  read(start, first);
  EXPECT_EQ(cache.misses(), misses + 1);
  std::filesystem::remove_all(dir);
}

TEST(CommittedBatchCacheTest, AProjectingSourceReadsTheSameRowsFromMemoryAndFromFiles) {
  std::string dir = TableDir();
  auto wide = std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kInt64, false},
                                                          {"name", TypeId::kString, true},
                                                          {"score", TypeId::kDouble, true}});
  DeltaSink sink(SinkAt(dir, wide));
  ASSERT_TRUE(sink.Open().ok());
  RecordBatch rows(wide);
  for (int64_t i = 0; i < 50; ++i) {
    rows.column(0).AppendInt64(i);
    if (i % 7 == 0)
      rows.column(1).AppendNull();
    else
      rows.column(1).AppendString("n" + std::to_string(i));
    rows.column(2).AppendDouble(i * 0.5);
  }
  std::vector<RecordBatch> batches;
  batches.push_back(rows.Clone());
  ASSERT_TRUE(sink.Commit({"writer", 0, {}}, batches).ok());

  // (id, name) as read through a source that wants only those two columns.
  auto read = [&] {
    DeltaSource source(SourceAt(dir, std::make_shared<Schema>(wide->Project({"name", "id"}))));
    EXPECT_TRUE(source.Open().ok());
    std::string start = source.InitialOffset().value();
    std::string end = source.PlanEnd(start, ReadLimit{}, "").value();
    std::vector<std::string> out;
    EXPECT_TRUE(source
                    .Read(start, end, 0,
                          [&](RecordBatch&& b) {
                            EXPECT_EQ(b.num_columns(), 2u);
                            for (size_t r = 0; r < b.num_rows(); ++r) {
                              out.push_back(std::to_string(b.column(0).Int64(r)) + "=" +
                                            (b.column(1).IsValid(r)
                                                 ? std::string(b.column(1).String(r))
                                                 : "null"));
                            }
                            return Status::OK();
                          })
                    .ok());
    std::sort(out.begin(), out.end());
    return out;
  };
  auto& cache = CommittedBatchCache::Global();
  const uint64_t hits = cache.hits();
  std::vector<std::string> from_memory = read();
  EXPECT_EQ(cache.hits(), hits + 1);
  ASSERT_EQ(from_memory.size(), 50u);
  EXPECT_EQ(from_memory[0], "0=null");
  cache.set_capacity(0);
  const uint64_t misses = cache.misses();
  std::vector<std::string> from_files = read();
  EXPECT_EQ(cache.misses(), misses + 1);
  cache.set_capacity(512 << 20);
  EXPECT_EQ(from_files, from_memory);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace strata
