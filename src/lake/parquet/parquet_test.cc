#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "duck/chunk.h"
#include "duck/duck.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class ParquetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata_parquet_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  std::string dir_;
};

SchemaPtr AllTypesSchema() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", TypeId::kInt64},
      {"flag", TypeId::kBool},
      {"small", TypeId::kInt32},
      {"ratio", TypeId::kDouble},
      {"name", TypeId::kString},
      {"payload", TypeId::kBinary},
      {"ts", TypeId::kTimestamp},
      {"day", TypeId::kDate},
  });
}

// Row i: every 7th value of each nullable column is null; strings cycle through empty, short
// (inlined by DuckDB) and long (heap) values; binaries contain zero bytes.
RecordBatch MakeAllTypes(size_t rows) {
  RecordBatch b(AllTypesSchema());
  b.Reserve(rows);
  const int64_t base_ts = 1795000000000000;  // 2026-11-18
  for (size_t i = 0; i < rows; ++i) {
    bool null = i % 7 == 3;
    b.column(0).AppendInt64(static_cast<int64_t>(i));
    null ? b.column(1).AppendNull() : b.column(1).AppendBool(i % 2 == 0);
    null ? b.column(2).AppendNull() : b.column(2).AppendInt32(static_cast<int32_t>(i) - 1000);
    null ? b.column(3).AppendNull() : b.column(3).AppendDouble(static_cast<double>(i) * 0.25);
    if (null) {
      b.column(4).AppendNull();
      b.column(5).AppendNull();
    } else {
      switch (i % 3) {
        case 0:
          b.column(4).AppendString("");
          break;
        case 1:
          b.column(4).AppendString("u" + std::to_string(i));
          break;
        default:
          b.column(4).AppendString("a-longer-string-that-is-not-inlined-" + std::to_string(i));
      }
      std::string bin("\x00\x01", 2);
      bin += std::to_string(i);
      b.column(5).AppendString(bin);
    }
    null ? b.column(6).AppendNull()
         : b.column(6).AppendInt64(base_ts + static_cast<int64_t>(i) * 1000003);
    null ? b.column(7).AppendNull()
         : b.column(7).AppendInt32(20000 + static_cast<int32_t>(i % 400));
  }
  return b;
}

void ExpectSameRows(const RecordBatch& a, const RecordBatch& b) {
  ASSERT_EQ(a.num_rows(), b.num_rows());
  ASSERT_EQ(a.num_columns(), b.num_columns());
  for (size_t c = 0; c < a.num_columns(); ++c) {
    const Column& x = a.column(c);
    const Column& y = b.column(c);
    const std::string& name = a.schema()->field(c).name;
    for (size_t r = 0; r < a.num_rows(); ++r) {
      ASSERT_EQ(x.IsNull(r), y.IsNull(r)) << name << " row " << r;
      if (x.IsNull(r)) continue;
      switch (x.type()) {
        case TypeId::kBool:
          ASSERT_EQ(x.Bool(r), y.Bool(r)) << name << r;
          break;
        case TypeId::kInt32:
        case TypeId::kDate:
          ASSERT_EQ(x.Int32(r), y.Int32(r)) << name << r;
          break;
        case TypeId::kInt64:
        case TypeId::kTimestamp:
          ASSERT_EQ(x.Int64(r), y.Int64(r)) << name << r;
          break;
        case TypeId::kDouble:
          ASSERT_EQ(x.Double(r), y.Double(r)) << name << r;
          break;
        case TypeId::kString:
        case TypeId::kBinary:
          ASSERT_EQ(x.String(r), y.String(r)) << name << r;
          break;
      }
    }
  }
}

std::shared_ptr<duck::Database> OpenDb() {
  auto db = duck::Database::Open();
  EXPECT_TRUE(db.ok());
  return *db;
}

TEST_F(ParquetTest, RoundTripsEveryTypeWithNullsAndEmptyStrings) {
  RecordBatch batch = MakeAllTypes(5000);  // spans several DuckDB vectors
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  ParquetWriteOptions opts;
  opts.preserve_order = true;
  opts.row_group_size = 2048;
  auto info = (*writer)->Write(batch, Path("all.parquet"), opts);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_rows, 5000);
  EXPECT_EQ(info->size_bytes, static_cast<int64_t>(fs::file_size(Path("all.parquet"))));

  auto back = ReadParquetFiles({Path("all.parquet")}, AllTypesSchema());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameRows(batch, *back);
}

// duck/chunk.h on its own: a batch appended to a DuckDB table through the appender and fetched
// back chunk by chunk is unchanged.
TEST_F(ParquetTest, ChunkConversionRoundTripsThroughADuckDbTable) {
  RecordBatch batch = MakeAllTypes(4100);
  auto conn = duck::Connection::Open(OpenDb());
  ASSERT_TRUE(conn.ok());
  std::string ddl = "CREATE TABLE t (";
  for (size_t i = 0; i < batch.num_columns(); ++i) {
    const Field& f = batch.schema()->field(i);
    ddl += (i ? ", " : "") + duck::QuoteIdentifier(f.name) + " " + duck::DuckTypeName(f.type);
  }
  ASSERT_TRUE((*conn)->Execute(ddl + ")").ok());
  duckdb_appender appender;
  ASSERT_EQ(duckdb_appender_create((*conn)->raw(), nullptr, "t", &appender), DuckDBSuccess);
  Status st = duck::AppendBatch(appender, batch);
  duckdb_appender_destroy(&appender);
  ASSERT_TRUE(st.ok()) << st.ToString();

  auto result = (*conn)->Query("SELECT * FROM t ORDER BY id");
  ASSERT_TRUE(result.ok());
  RecordBatch back(AllTypesSchema());
  while (duckdb_data_chunk chunk = duckdb_fetch_chunk(*result->raw())) {
    Status s = duck::AppendChunk(chunk, &back);
    duckdb_destroy_data_chunk(&chunk);
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  ExpectSameRows(batch, back);

  // A type mismatch names the column and both types.
  auto wrong = (*conn)->Query("SELECT name AS id FROM t");
  ASSERT_TRUE(wrong.ok());
  RecordBatch ints(std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kInt64}}));
  duckdb_data_chunk chunk = duckdb_fetch_chunk(*wrong->raw());
  ASSERT_NE(chunk, nullptr);
  Status s = duck::AppendChunk(chunk, &ints);
  duckdb_destroy_data_chunk(&chunk);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("column id has DuckDB type VARCHAR, expected BIGINT"),
            std::string::npos)
      << s.message();
}

TEST_F(ParquetTest, EveryCodecRoundTripsUnordered) {
  RecordBatch batch = MakeAllTypes(9000);
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  for (ParquetCodec codec : {ParquetCodec::kZstd, ParquetCodec::kSnappy, ParquetCodec::kLz4,
                             ParquetCodec::kUncompressed}) {
    ParquetWriteOptions opts;
    opts.codec = codec;
    opts.threads = 2;
    opts.dictionary = codec != ParquetCodec::kLz4;
    std::string path = Path(std::string(ParquetCodecName(codec)) + ".parquet");
    auto info = (*writer)->Write(batch, path, opts);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    auto back = ReadParquetFiles({path}, AllTypesSchema());
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    // Parallel encoding may reorder rows: put them back by id.
    std::vector<uint32_t> order(back->num_rows());
    for (size_t r = 0; r < back->num_rows(); ++r)
      order[static_cast<size_t>(back->column(0).Int64(r))] = static_cast<uint32_t>(r);
    ExpectSameRows(batch, back->Take(order));
  }
}

TEST_F(ParquetTest, DuckDbAggregatesOverTheWrittenFile) {
  RecordBatch batch = MakeAllTypes(3000);
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(batch, Path("agg.parquet")).ok());
  auto conn = duck::Connection::Open(OpenDb());
  ASSERT_TRUE(conn.ok());
  ASSERT_TRUE((*conn)->Execute("SET TimeZone='UTC'").ok());
  auto r = (*conn)->Query(
      "SELECT count(*), count(name), min(id), max(id), min(small), max(small), "
      "CAST(min(ts) AS VARCHAR), max(day), count(*) FILTER (WHERE name = '') FROM " +
      duck::QuoteLiteral(Path("agg.parquet")));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  size_t nulls = 0, empties = 0;
  for (size_t i = 0; i < 3000; ++i) {
    if (i % 7 == 3)
      ++nulls;
    else if (i % 3 == 0)
      ++empties;
  }
  EXPECT_EQ(r->GetInt64(0, 0), 3000);
  EXPECT_EQ(r->GetInt64(1, 0), static_cast<int64_t>(3000 - nulls));
  EXPECT_EQ(r->GetInt64(2, 0), 0);
  EXPECT_EQ(r->GetInt64(3, 0), 2999);
  EXPECT_EQ(r->GetInt64(4, 0), -1000);
  EXPECT_EQ(r->GetInt64(5, 0), 2998 - 1000);  // row 2999 is null
  EXPECT_EQ(r->GetString(6, 0), "2026-11-18 11:06:40+00");
  EXPECT_EQ(r->GetString(7, 0), "2025-11-07");  // day 20399
  EXPECT_EQ(r->GetInt64(8, 0), static_cast<int64_t>(empties));
}

TEST_F(ParquetTest, ParquetSchemaHasTheRightLogicalTypes) {
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  auto conn = duck::Connection::Open(OpenDb());
  ASSERT_TRUE(conn.ok());
  for (ParquetEngine engine : {ParquetEngine::kNative, ParquetEngine::kDuckDB}) {
    SCOPED_TRACE(engine == ParquetEngine::kNative ? "native" : "duckdb");
    ParquetWriteOptions opts;
    opts.engine = engine;
    ASSERT_TRUE((*writer)->Write(MakeAllTypes(10), Path("schema.parquet"), opts).ok());
    // Converted (legacy) type and logical type of each leaf, as DuckDB reads them.
    auto r = (*conn)->Query(
        "SELECT name, type, coalesce(converted_type, ''), "
        "coalesce(CAST(logical_type AS VARCHAR), '') FROM parquet_schema(" +
        duck::QuoteLiteral(Path("schema.parquet")) + ") WHERE type IS NOT NULL");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    struct Leaf {
      std::string type, converted, logical;
    };
    std::map<std::string, Leaf> cols;
    for (size_t i = 0; i < r->row_count(); ++i)
      cols[r->GetString(0, i)] = {r->GetString(1, i), r->GetString(2, i), r->GetString(3, i)};
    ASSERT_EQ(cols.size(), 8u);
    EXPECT_EQ(cols["id"].type, "INT64");
    EXPECT_EQ(cols["flag"].type, "BOOLEAN");
    EXPECT_EQ(cols["small"].type, "INT32");
    EXPECT_EQ(cols["ratio"].type, "DOUBLE");
    EXPECT_EQ(cols["name"].type, "BYTE_ARRAY");
    EXPECT_EQ(cols["name"].converted, "UTF8");
    EXPECT_TRUE(cols["name"].logical.empty() || cols["name"].logical == "StringType()")
        << cols["name"].logical;
    EXPECT_EQ(cols["payload"].type, "BYTE_ARRAY");
    EXPECT_EQ(cols["payload"].converted, "");
    EXPECT_EQ(cols["payload"].logical, "");
    EXPECT_EQ(cols["ts"].type, "INT64");
    EXPECT_EQ(cols["ts"].converted, "TIMESTAMP_MICROS");
    EXPECT_NE(cols["ts"].logical.find("isAdjustedToUTC=1"), std::string::npos)
        << cols["ts"].logical;
    EXPECT_NE(cols["ts"].logical.find("MICROS=MicroSeconds()"), std::string::npos)
        << cols["ts"].logical;
    EXPECT_EQ(cols["day"].type, "INT32");
    EXPECT_EQ(cols["day"].converted, "DATE");
    EXPECT_TRUE(cols["day"].logical.empty() || cols["day"].logical == "DateType()")
        << cols["day"].logical;
  }
}

TEST_F(ParquetTest, WriteRowsWritesTheSelectionInOrder) {
  RecordBatch batch = MakeAllTypes(100);
  std::vector<uint32_t> rows = {99, 3, 50, 0, 7};
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ParquetWriteOptions opts;
  opts.preserve_order = true;
  auto info = (*writer)->WriteRows(batch, rows, Path("sel.parquet"), opts);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_rows, 5);
  auto back = ReadParquetFiles({Path("sel.parquet")}, AllTypesSchema());
  ASSERT_TRUE(back.ok());
  ExpectSameRows(batch.Take(rows), *back);

  auto bad = (*writer)->WriteRows(batch, {100}, Path("bad.parquet"), opts);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(fs::exists(Path("bad.parquet")));
}

TEST_F(ParquetTest, EmptyBatchWritesAValidFile) {
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  auto info = (*writer)->Write(RecordBatch(AllTypesSchema()), Path("empty.parquet"));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->num_rows, 0);
  auto back = ReadParquetFiles({Path("empty.parquet")}, AllTypesSchema());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->num_rows(), 0u);
}

// The final name must never point at a partial file: a concurrent observer that sees the
// name sees the complete file of the old or the new write, never anything else.
TEST_F(ParquetTest, FinalNameOnlyEverHoldsCompleteFiles) {
  RecordBatch small = MakeAllTypes(10);
  RecordBatch big = MakeAllTypes(300000);
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  const std::string path = Path("atomic.parquet");
  std::atomic<bool> done{false};
  std::vector<int64_t> seen;
  std::thread observer([&] {
    while (!done.load()) {
      struct stat sb;
      if (::stat(path.c_str(), &sb) == 0) {
        if (seen.empty() || seen.back() != sb.st_size) seen.push_back(sb.st_size);
      }
    }
  });
  // First a big file under a fresh name (DuckDB itself would write it in place), then a small
  // one replacing it.
  auto first = (*writer)->Write(big, path);
  auto second = (*writer)->Write(small, path);
  done = true;
  observer.join();
  ASSERT_TRUE(first.ok() && second.ok());
  for (int64_t size : seen) {
    EXPECT_TRUE(size == first->size_bytes || size == second->size_bytes)
        << "observed a partial file of " << size << " bytes";
  }
  // No temporaries are left behind.
  size_t entries = 0;
  for (const auto& e : fs::directory_iterator(dir_)) {
    ++entries;
    EXPECT_EQ(e.path().filename(), "atomic.parquet");
  }
  EXPECT_EQ(entries, 1u);
  auto back = ReadParquetFiles({path}, AllTypesSchema());
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->num_rows(), 10u);
}

TEST_F(ParquetTest, FailedWriteLeavesNothingBehind) {
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  auto r = (*writer)->Write(MakeAllTypes(10), Path("no/such/dir/x.parquet"));
  EXPECT_EQ(r.status().code(), StatusCode::kIOError);
  EXPECT_NE(r.status().message().find("x.parquet"), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(fs::is_empty(dir_));
  // The writer is still usable after a failure.
  EXPECT_TRUE((*writer)->Write(MakeAllTypes(10), Path("ok.parquet")).ok());
}

TEST_F(ParquetTest, MissingColumnsReadAsNullsAndTypesWiden) {
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  auto narrow = std::make_shared<Schema>(std::vector<Field>{{"id", TypeId::kInt32}});
  RecordBatch a(narrow);
  a.column(0).AppendInt32(1);
  a.column(0).AppendInt32(2);
  ASSERT_TRUE((*writer)->Write(a, Path("a.parquet")).ok());
  auto wide = std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kInt64}, {"name", TypeId::kString}});
  RecordBatch b(wide);
  b.column(0).AppendInt64(3);
  b.column(1).AppendString("three");
  ASSERT_TRUE((*writer)->Write(b, Path("b.parquet")).ok());

  auto want = std::make_shared<Schema>(std::vector<Field>{
      {"id", TypeId::kInt64}, {"name", TypeId::kString}, {"absent", TypeId::kDouble}});
  ParquetWriteOptions keep;
  auto r = ReadParquetFiles({Path("a.parquet"), Path("b.parquet")}, want);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->num_rows(), 3u);
  int64_t sum = 0;
  size_t named = 0;
  for (size_t i = 0; i < 3; ++i) {
    sum += r->column(0).Int64(i);
    EXPECT_TRUE(r->column(2).IsNull(i));
    if (!r->column(1).IsNull(i)) {
      ++named;
      EXPECT_EQ(r->column(1).String(i), "three");
      EXPECT_EQ(r->column(0).Int64(i), 3);
    }
  }
  EXPECT_EQ(sum, 6);
  EXPECT_EQ(named, 1u);
}

TEST_F(ParquetTest, WrongTypeNamesFileAndColumn) {
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(MakeAllTypes(5), Path("t.parquet")).ok());
  auto want = std::make_shared<Schema>(std::vector<Field>{{"name", TypeId::kInt64}});
  auto r = ReadParquetFiles({Path("t.parquet")}, want);
  ASSERT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("t.parquet"), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("column name"), std::string::npos) << r.status().message();

  auto missing = ReadParquetFiles({Path("nope.parquet")}, want);
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("nope.parquet"), std::string::npos);
}

TEST_F(ParquetTest, ScanYieldsBoundedBatches) {
  RecordBatch batch = MakeAllTypes(20000);
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ParquetWriteOptions opts;
  opts.preserve_order = true;
  ASSERT_TRUE((*writer)->Write(batch, Path("s1.parquet"), opts).ok());
  ASSERT_TRUE((*writer)->Write(batch, Path("s2.parquet"), opts).ok());
  size_t total = 0, batches = 0, max_rows = 0;
  int64_t id_sum = 0;
  Status st = ScanParquetFiles({Path("s1.parquet"), Path("s2.parquet")}, AllTypesSchema(), 5000,
                               [&](RecordBatch&& b) {
                                 ++batches;
                                 total += b.num_rows();
                                 max_rows = std::max(max_rows, b.num_rows());
                                 for (size_t i = 0; i < b.num_rows(); ++i)
                                   id_sum += b.column(0).Int64(i);
                                 return Status::OK();
                               });
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(total, 40000u);
  EXPECT_GE(batches, 6u);
  // A batch is flushed as soon as it reaches the bound, so it exceeds it by less than a vector.
  EXPECT_LT(max_rows, 5000u + 2048u);
  EXPECT_EQ(id_sum, 2 * (19999LL * 20000 / 2));

  // A callback error stops the scan and is returned.
  Status stop = ScanParquetFiles({Path("s1.parquet")}, AllTypesSchema(), 2048,
                                 [](RecordBatch&&) { return Cancelled("enough"); });
  EXPECT_EQ(stop.code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace strata
