#include "lake/parquet/native_parquet_writer.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "duck/duck.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "lake/parquet/thrift_compact.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class NativeParquetWriterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata_native_pq_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto db = duck::Database::Open();
    ASSERT_TRUE(db.ok());
    auto conn = duck::Connection::Open(*db);
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(*conn);
    ASSERT_TRUE(conn_->Execute("SET TimeZone='UTC'").ok());
  }
  void TearDown() override {
    conn_.reset();
    fs::remove_all(dir_);
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

  duck::Result Query(const std::string& sql) {
    auto r = conn_->Query(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? std::move(*r) : duck::Result();
  }

  std::string dir_;
  std::unique_ptr<duck::Connection> conn_;
};

SchemaPtr TestSchema() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", TypeId::kInt64},
      {"flag", TypeId::kBool},
      {"small", TypeId::kInt32},
      {"ratio", TypeId::kDouble},
      {"name", TypeId::kString},     // low cardinality, runs, non-ASCII, empty
      {"uniq", TypeId::kString},     // every value distinct
      {"payload", TypeId::kBinary},  // zero bytes
      {"ts", TypeId::kTimestamp},
      {"day", TypeId::kDate},
      {"nothing", TypeId::kString},  // all null
      {"none64", TypeId::kInt64},    // all null
  });
}

const char* const kNames[] = {"", "été", "北京", "a", "zz", "clickstream", "\xF0\x9F\x9A\x80"};

// Nulls come in runs and alone, so definition levels mix RLE and bit-packed runs.
bool NullAt(size_t i) {
  return (i / 37) % 4 == 1 || i % 11 == 5;
}

RecordBatch MakeBatch(size_t rows) {
  RecordBatch b(TestSchema());
  b.Reserve(rows);
  const int64_t base_ts = 1795000000000000;
  for (size_t i = 0; i < rows; ++i) {
    bool null = NullAt(i);
    b.column(0).AppendInt64(static_cast<int64_t>(i) - 17);
    null ? b.column(1).AppendNull() : b.column(1).AppendBool((i / 3) % 2 == 0);
    null ? b.column(2).AppendNull() : b.column(2).AppendInt32(static_cast<int32_t>(i % 500) - 250);
    null ? b.column(3).AppendNull() : b.column(3).AppendDouble(static_cast<double>(i) * -0.5 + 3);
    null ? b.column(4).AppendNull() : b.column(4).AppendString(kNames[(i / 20) % 7]);
    b.column(5).AppendString("user-" + std::to_string(i * 7919) + "-" + std::to_string(i));
    if (null) {
      b.column(6).AppendNull();
    } else {
      std::string bin("\x00\xff", 2);
      bin += std::to_string(i);
      b.column(6).AppendString(bin);
    }
    null ? b.column(7).AppendNull()
         : b.column(7).AppendInt64(base_ts + static_cast<int64_t>(i) * 999);
    null ? b.column(8).AppendNull()
         : b.column(8).AppendInt32(20000 + static_cast<int32_t>(i % 300));
    b.column(9).AppendNull();
    b.column(10).AppendNull();
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
          ASSERT_EQ(x.Bool(r), y.Bool(r)) << name << " row " << r;
          break;
        case TypeId::kInt32:
        case TypeId::kDate:
          ASSERT_EQ(x.Int32(r), y.Int32(r)) << name << " row " << r;
          break;
        case TypeId::kInt64:
        case TypeId::kTimestamp:
          ASSERT_EQ(x.Int64(r), y.Int64(r)) << name << " row " << r;
          break;
        case TypeId::kDouble:
          ASSERT_EQ(x.Double(r), y.Double(r)) << name << " row " << r;
          break;
        case TypeId::kString:
        case TypeId::kBinary:
          ASSERT_EQ(x.String(r), y.String(r)) << name << " row " << r;
          break;
      }
    }
  }
}

void WriteOk(NativeParquetWriter& w, const RecordBatch& batch, const std::vector<uint32_t>* rows,
             const std::string& path, const NativeParquetOptions& opts) {
  auto size = w.WriteFile(batch, rows, path, opts);
  ASSERT_TRUE(size.ok()) << size.status().ToString();
  EXPECT_EQ(*size, static_cast<int64_t>(fs::file_size(path)));
}

void ExpectReadsBack(const RecordBatch& want, const std::string& path) {
  auto back = ReadParquetFiles({path}, want.schema());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSameRows(want, *back);
}

TEST(ThriftCompactTest, EncodesFieldsListsAndStopsPerTheSpec) {
  std::string out;
  thrift::CompactWriter w(&out);
  w.BeginStruct();
  w.FieldI32(1, -1);    // short form: delta 1, type i32; zigzag(-1) = 1
  w.FieldI64(17, 300);  // delta 16: long form, type then zigzag id; zigzag(300) = 600
  w.FieldBool(18, true);
  w.FieldListBegin(19, thrift::CType::kI32, 20);  // 20 >= 15: size in a varint
  for (int i = 0; i < 20; ++i) w.ListI32(i - 10);
  w.FieldStructBegin(20);
  w.FieldBinary(2, "ab");
  w.FieldBool(3, false);
  w.EndStruct();
  w.FieldListBegin(21, thrift::CType::kBinary, 2);
  w.ListBinary("x");
  w.ListBinary("");
  w.EndStruct();
  std::string want = {
      0x15, 0x01, 0x06, 0x22, static_cast<char>(0xD8), 0x04, 0x11, 0x19, static_cast<char>(0xF5),
      0x14};
  for (int i = 0; i < 20; ++i) {
    want.push_back(static_cast<char>(thrift::CompactWriter::ZigZag32(i - 10)));
  }
  want += {0x1C, 0x28, 0x02, 'a', 'b', 0x12, 0x00, 0x19, 0x28, 0x01, 'x', 0x00, 0x00};
  EXPECT_EQ(out, want);
  EXPECT_EQ(thrift::CompactWriter::ZigZag64(-2), 3u);
  EXPECT_EQ(thrift::CompactWriter::ZigZag32(std::numeric_limits<int32_t>::min()), 0xFFFFFFFFu);
}

TEST_F(NativeParquetWriterTest, ChunksTheCodecWouldNotShrinkAreWrittenUncompressed) {
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kString, false}, {"text", TypeId::kString, false}});
  RecordBatch batch(schema);
  // 48 random characters of 62: nothing for an LZ codec to find (zstd's entropy coding still
  // gains ~1/4 on them, so it keeps them compressed).
  static const char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::mt19937_64 random(42);
  for (uint64_t i = 0; i < 20000; ++i) {
    std::string id(48, ' ');
    for (char& c : id) c = kAlphabet[random() % 62];
    batch.column(0).AppendString(id);
    batch.column(1).AppendString("the same words again and again, row " + std::to_string(i % 50));
  }
  for (ParquetCodec codec : {ParquetCodec::kSnappy, ParquetCodec::kZstd, ParquetCodec::kLz4}) {
    NativeParquetWriter w;
    NativeParquetOptions opts;
    opts.codec = codec;
    opts.dictionary = false;  // the ids in PLAIN pages
    opts.row_group_size = 8000;
    std::string path = Path(std::string("mixed-") + ParquetCodecName(codec) + ".parquet");
    WriteOk(w, batch, nullptr, path, opts);
    ExpectReadsBack(batch, path);
    auto meta = Query(
        "SELECT path_in_schema, string_agg(DISTINCT compression), "
        "sum(total_compressed_size) < sum(total_uncompressed_size) FROM parquet_metadata(" +
        duck::QuoteLiteral(path) + ") GROUP BY 1 ORDER BY 1");
    ASSERT_EQ(meta.row_count(), 2u);
    // GetString(column, row).
    EXPECT_EQ(meta.GetString(0, 0), "id");
    EXPECT_EQ(meta.GetString(1, 0), codec == ParquetCodec::kZstd ? "ZSTD" : "UNCOMPRESSED")
        << ParquetCodecName(codec);
    EXPECT_EQ(meta.GetString(0, 1), "text");
    EXPECT_NE(meta.GetString(1, 1), "UNCOMPRESSED") << ParquetCodecName(codec);
    EXPECT_EQ(meta.GetString(2, 1), "true");
  }
}

TEST_F(NativeParquetWriterTest, EveryCodecAndDictionarySettingRoundTrips) {
  RecordBatch batch = MakeBatch(7000);
  NativeParquetWriter w;
  for (ParquetCodec codec : {ParquetCodec::kSnappy, ParquetCodec::kZstd, ParquetCodec::kLz4,
                             ParquetCodec::kUncompressed}) {
    for (bool dict : {true, false}) {
      NativeParquetOptions opts;
      opts.codec = codec;
      opts.dictionary = dict;
      opts.row_group_size = 3000;  // 3 row groups, the last one short
      opts.page_bytes = 4096;      // several pages per chunk
      std::string path =
          Path(std::string(ParquetCodecName(codec)) + (dict ? "-dict" : "-plain") + ".parquet");
      WriteOk(w, batch, nullptr, path, opts);
      ExpectReadsBack(batch, path);
      // The file's codec, and UNCOMPRESSED for chunks it would not shrink by 1/8.
      auto meta = Query("SELECT DISTINCT compression FROM parquet_metadata(" +
                        duck::QuoteLiteral(path) + ") WHERE compression <> 'UNCOMPRESSED' OR " +
                        (codec == ParquetCodec::kUncompressed ? "true" : "false"));
      ASSERT_EQ(meta.row_count(), 1u);
      const char* want = codec == ParquetCodec::kLz4            ? "LZ4_RAW"
                         : codec == ParquetCodec::kUncompressed ? "UNCOMPRESSED"
                                                                : nullptr;
      std::string got = meta.GetString(0, 0);
      EXPECT_EQ(got, want ? want : (codec == ParquetCodec::kZstd ? "ZSTD" : "SNAPPY"));
      auto groups = Query(
          "SELECT count(DISTINCT row_group_id), sum(num_values) FROM "
          "parquet_metadata(" +
          duck::QuoteLiteral(path) + ") WHERE column_id = 0");
      EXPECT_EQ(groups.GetInt64(0, 0), 3);
      EXPECT_EQ(groups.GetInt64(1, 0), 7000);
    }
  }
}

TEST_F(NativeParquetWriterTest, DictionaryIsKeptForLowCardinalityAndSkippedForIds) {
  RecordBatch batch = MakeBatch(20000);
  NativeParquetWriter w;
  NativeParquetOptions opts;
  opts.page_bytes = 8192;
  WriteOk(w, batch, nullptr, Path("d.parquet"), opts);
  ExpectReadsBack(batch, Path("d.parquet"));
  auto r = Query(
      "SELECT path_in_schema, encodings, dictionary_page_offset IS NOT NULL FROM "
      "parquet_metadata(" +
      duck::QuoteLiteral(Path("d.parquet")) + ")");
  std::map<std::string, std::pair<std::string, bool>> cols;
  for (size_t i = 0; i < r.row_count(); ++i) {
    cols[r.GetString(0, i)] = {r.GetString(1, i), r.GetString(2, i) == "true"};
  }
  EXPECT_NE(cols["name"].first.find("RLE_DICTIONARY"), std::string::npos) << cols["name"].first;
  EXPECT_TRUE(cols["name"].second);
  EXPECT_EQ(cols["uniq"].first.find("RLE_DICTIONARY"), std::string::npos) << cols["uniq"].first;
  EXPECT_FALSE(cols["uniq"].second);
  EXPECT_EQ(cols["id"].first.find("RLE_DICTIONARY"), std::string::npos);
  // The dictionary makes the low-cardinality column much smaller than the ids.
  auto sizes = Query("SELECT path_in_schema, total_uncompressed_size FROM parquet_metadata(" +
                     duck::QuoteLiteral(Path("d.parquet")) +
                     ") WHERE path_in_schema IN "
                     "('name', 'uniq') ORDER BY 1");
  ASSERT_EQ(sizes.row_count(), 2u);
  EXPECT_LT(sizes.GetInt64(1, 0) * 10, sizes.GetInt64(1, 1));
}

TEST_F(NativeParquetWriterTest, DictionaryFallsBackToPlainMidChunk) {
  // 3000 values from 5 distinct ones, then 3000 distinct ones: the sample keeps the dictionary,
  // which then outgrows its 200-entry limit in the middle of the chunk.
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"s", TypeId::kString}});
  RecordBatch batch(schema);
  for (size_t i = 0; i < 6000; ++i) {
    if (i % 13 == 0) {
      batch.column(0).AppendNull();
    } else if (i < 3000) {
      batch.column(0).AppendString(kNames[i % 5]);
    } else {
      batch.column(0).AppendString("distinct-" + std::to_string(i));
    }
  }
  NativeParquetWriter w;
  NativeParquetOptions opts;
  opts.page_bytes = 2048;
  opts.dictionary_max_entries = 200;
  WriteOk(w, batch, nullptr, Path("fb.parquet"), opts);
  ExpectReadsBack(batch, Path("fb.parquet"));
  auto r = Query(
      "SELECT encodings, dictionary_page_offset IS NOT NULL, stats_null_count FROM "
      "parquet_metadata(" +
      duck::QuoteLiteral(Path("fb.parquet")) + ")");
  ASSERT_EQ(r.row_count(), 1u);
  std::string enc = r.GetString(0, 0);
  EXPECT_NE(enc.find("RLE_DICTIONARY"), std::string::npos) << enc;
  EXPECT_NE(enc.find("PLAIN"), std::string::npos) << enc;
  EXPECT_EQ(r.GetString(1, 0), "true");
  EXPECT_EQ(r.GetInt64(2, 0), (6000 + 12) / 13);
  // Filters over both halves of the chunk.
  auto c = Query(
      "SELECT count(*) FILTER (WHERE s = 'a'), count(*) FILTER (WHERE s LIKE "
      "'distinct-%'), min(s), max(s) FROM " +
      duck::QuoteLiteral(Path("fb.parquet")));
  size_t as = 0, distinct = 0;
  for (size_t i = 0; i < 6000; ++i) {
    if (i % 13 == 0) continue;
    if (i < 3000 && i % 5 == 3) ++as;
    if (i >= 3000) ++distinct;
  }
  EXPECT_EQ(c.GetInt64(0, 0), static_cast<int64_t>(as));
  EXPECT_EQ(c.GetInt64(1, 0), static_cast<int64_t>(distinct));
  EXPECT_EQ(c.GetString(2, 0), "");
  EXPECT_EQ(c.GetString(3, 0), "北京");
}

TEST_F(NativeParquetWriterTest, SelectionVectorWritesThoseRowsInOrder) {
  RecordBatch batch = MakeBatch(5000);
  std::vector<uint32_t> rows;
  for (int i = 4999; i > 0; i -= 3) rows.push_back(static_cast<uint32_t>(i));
  rows.push_back(0);
  rows.push_back(0);  // repeated rows are fine
  NativeParquetWriter w;
  for (bool dict : {true, false}) {
    NativeParquetOptions opts;
    opts.dictionary = dict;
    opts.row_group_size = 700;
    opts.page_bytes = 1000;
    std::string path = Path(dict ? "sel-dict.parquet" : "sel-plain.parquet");
    WriteOk(w, batch, &rows, path, opts);
    ExpectReadsBack(batch.Take(rows), path);
  }
}

TEST_F(NativeParquetWriterTest, ZeroAndOneRowFiles) {
  NativeParquetWriter w;
  RecordBatch empty(TestSchema());
  WriteOk(w, empty, nullptr, Path("zero.parquet"), {});
  ExpectReadsBack(empty, Path("zero.parquet"));
  auto n = Query("SELECT count(*) FROM " + duck::QuoteLiteral(Path("zero.parquet")));
  EXPECT_EQ(n.GetInt64(0, 0), 0);
  std::vector<uint32_t> none;
  RecordBatch full = MakeBatch(10);
  WriteOk(w, full, &none, Path("zero-sel.parquet"), {});
  ExpectReadsBack(empty, Path("zero-sel.parquet"));

  RecordBatch one = MakeBatch(1);
  for (ParquetCodec codec : {ParquetCodec::kSnappy, ParquetCodec::kZstd, ParquetCodec::kLz4,
                             ParquetCodec::kUncompressed}) {
    NativeParquetOptions opts;
    opts.codec = codec;
    WriteOk(w, one, nullptr, Path("one.parquet"), opts);
    ExpectReadsBack(one, Path("one.parquet"));
  }
}

TEST_F(NativeParquetWriterTest, StatisticsAreRight) {
  RecordBatch batch = MakeBatch(4000);
  NativeParquetWriter w;
  NativeParquetOptions opts;
  opts.row_group_size = 4000;
  WriteOk(w, batch, nullptr, Path("st.parquet"), opts);
  auto r = Query(
      "SELECT path_in_schema, stats_min_value, stats_max_value, stats_null_count "
      "FROM parquet_metadata(" +
      duck::QuoteLiteral(Path("st.parquet")) + ")");
  struct Stat {
    std::string min, max;
    int64_t nulls;
    bool has_min;
  };
  std::map<std::string, Stat> s;
  for (size_t i = 0; i < r.row_count(); ++i) {
    s[r.GetString(0, i)] = {r.IsNull(1, i) ? "" : r.GetString(1, i),
                            r.IsNull(2, i) ? "" : r.GetString(2, i), r.GetInt64(3, i),
                            !r.IsNull(1, i)};
  }
  ASSERT_EQ(s.size(), 11u);
  int64_t nulls = 0;
  for (size_t i = 0; i < 4000; ++i) nulls += NullAt(i);
  EXPECT_EQ(s["id"].min, "-17");
  EXPECT_EQ(s["id"].max, "3982");
  EXPECT_EQ(s["id"].nulls, 0);
  EXPECT_EQ(s["small"].min, "-250");
  EXPECT_EQ(s["small"].max, "249");
  EXPECT_EQ(s["small"].nulls, nulls);
  EXPECT_EQ(s["flag"].min, "false");
  EXPECT_EQ(s["flag"].max, "true");
  EXPECT_EQ(s["name"].min, "");
  EXPECT_EQ(s["name"].max, "\xF0\x9F\x9A\x80");  // unsigned byte order: 0xF0 sorts last
  EXPECT_EQ(s["name"].nulls, nulls);
  EXPECT_EQ(s["uniq"].min, "user-0-0");
  EXPECT_EQ(s["day"].min, "2024-10-04");  // day 20000
  EXPECT_EQ(s["day"].max, "2025-07-30");  // day 20299
  EXPECT_FALSE(s["nothing"].has_min);
  EXPECT_EQ(s["nothing"].nulls, 4000);
  EXPECT_FALSE(s["none64"].has_min);
  // DuckDB answers min/max of the double and timestamp columns like the batch does.
  auto agg = Query("SELECT min(ratio), max(ratio), CAST(min(ts) AS VARCHAR) FROM " +
                   duck::QuoteLiteral(Path("st.parquet")));
  double lo = 1e300, hi = -1e300;
  for (size_t i = 0; i < 4000; ++i) {
    if (NullAt(i)) continue;
    lo = std::min(lo, batch.column(3).Double(i));
    hi = std::max(hi, batch.column(3).Double(i));
  }
  EXPECT_EQ(agg.GetDouble(0, 0), lo);
  EXPECT_EQ(agg.GetDouble(1, 0), hi);
  EXPECT_EQ(agg.GetString(2, 0), "2026-11-18 11:06:40+00");
  // Row-group pruning by the statistics answers correctly.
  auto f = Query("SELECT count(*) FROM " + duck::QuoteLiteral(Path("st.parquet")) +
                 " WHERE id > 3980 OR name = 'été'");
  int64_t want = 0;
  for (size_t i = 0; i < 4000; ++i) {
    want += (static_cast<int64_t>(i) - 17 > 3980) ||
            (!NullAt(i) && std::string(kNames[(i / 20) % 7]) == "été");
  }
  EXPECT_EQ(f.GetInt64(0, 0), want);
}

TEST_F(NativeParquetWriterTest, SchemaMatchesDuckDbEngine) {
  RecordBatch batch = MakeBatch(100);
  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ParquetWriteOptions native_opts;
  native_opts.engine = ParquetEngine::kNative;
  ParquetWriteOptions duck_opts;
  duck_opts.engine = ParquetEngine::kDuckDB;
  ASSERT_TRUE((*writer)->Write(batch, Path("n.parquet"), native_opts).ok());
  duck_opts.preserve_order = true;
  ASSERT_TRUE((*writer)->Write(batch, Path("k.parquet"), duck_opts).ok());
  ExpectReadsBack(batch, Path("n.parquet"));
  ExpectReadsBack(batch, Path("k.parquet"));
  auto describe = [&](const std::string& file) {
    auto r = Query("DESCRIBE SELECT * FROM " + duck::QuoteLiteral(Path(file)));
    std::vector<std::string> cols;
    for (size_t i = 0; i < r.row_count(); ++i)
      cols.push_back(r.GetString(0, i) + " " + r.GetString(1, i));
    return cols;
  };
  std::vector<std::string> native = describe("n.parquet");
  EXPECT_EQ(native, describe("k.parquet"));
  std::vector<std::string> want = {
      "id BIGINT",    "flag BOOLEAN",    "small INTEGER", "ratio DOUBLE",
      "name VARCHAR", "uniq VARCHAR",    "payload BLOB",  "ts TIMESTAMP WITH TIME ZONE",
      "day DATE",     "nothing VARCHAR", "none64 BIGINT"};
  EXPECT_EQ(native, want);
  // Same physical, repetition and converted types as DuckDB's own files; logical types as DuckDB
  // writes them for timestamps, plus STRING and DATE, which DuckDB leaves to the converted type.
  auto schema = [&](const std::string& file, bool logical) {
    auto r = Query(
        "SELECT name, type, repetition_type, converted_type, num_children, "
        "CAST(logical_type AS VARCHAR) FROM parquet_schema(" +
        duck::QuoteLiteral(Path(file)) + ")");
    std::vector<std::string> rows;
    for (size_t i = 0; i < r.row_count(); ++i) {
      std::string row;
      for (size_t c = 0; c < (logical ? 6u : 5u); ++c) {
        row += (r.IsNull(c, i) ? "NULL" : r.GetString(c, i)) + "|";
      }
      rows.push_back(row);
    }
    return rows;
  };
  EXPECT_EQ(schema("n.parquet", false), schema("k.parquet", false));
  std::vector<std::string> logical = schema("n.parquet", true);
  ASSERT_EQ(logical.size(), 12u);
  EXPECT_EQ(logical[0], "duckdb_schema|NULL|REQUIRED|NULL|11|NULL|");
  EXPECT_EQ(logical[1], "id|INT64|OPTIONAL|INT_64|NULL|NULL|");
  EXPECT_EQ(logical[5], "name|BYTE_ARRAY|OPTIONAL|UTF8|NULL|StringType()|");
  EXPECT_EQ(logical[7], "payload|BYTE_ARRAY|OPTIONAL|NULL|NULL|NULL|");
  EXPECT_EQ(logical[8], schema("k.parquet", true)[8]);  // the timestamp
  EXPECT_NE(logical[8].find("isAdjustedToUTC=1"), std::string::npos) << logical[8];
  EXPECT_NE(logical[8].find("MICROS=MicroSeconds()"), std::string::npos) << logical[8];
  EXPECT_EQ(logical[9], "day|INT32|OPTIONAL|DATE|NULL|DateType()|");
  auto r = Query("SELECT DISTINCT created_by FROM parquet_file_metadata(" +
                 duck::QuoteLiteral(Path("n.parquet")) + ")");
  EXPECT_EQ(r.GetString(0, 0), "strata");
}

TEST_F(NativeParquetWriterTest, ThreeMillionStringsCrossManyPages) {
  auto schema =
      std::make_shared<Schema>(std::vector<Field>{{"s", TypeId::kString}, {"n", TypeId::kInt64}});
  RecordBatch batch(schema);
  const size_t rows = 3000000;
  batch.Reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    if (i % 1000 == 999) {
      batch.column(0).AppendNull();
    } else {
      batch.column(0).AppendString("event-" + std::to_string(i * 2654435761u % 1000000007u));
    }
    batch.column(1).AppendInt64(static_cast<int64_t>(i));
  }
  NativeParquetWriter w;
  NativeParquetOptions opts;
  opts.row_group_size = 1000000;
  WriteOk(w, batch, nullptr, Path("big.parquet"), opts);
  ExpectReadsBack(batch, Path("big.parquet"));
  // ~1 MiB pages: a row group of 1M ~18-byte strings takes many of them.
  auto r = Query("SELECT count(*), sum(total_uncompressed_size) FROM parquet_metadata(" +
                 duck::QuoteLiteral(Path("big.parquet")) + ") WHERE path_in_schema = 's'");
  EXPECT_EQ(r.GetInt64(0, 0), 3);
  EXPECT_GT(r.GetInt64(1, 0), 3 * 15 * (1 << 20));
}

TEST_F(NativeParquetWriterTest, BadOptionsAndPathsAreErrors) {
  NativeParquetWriter w;
  RecordBatch batch = MakeBatch(3);
  NativeParquetOptions bad;
  bad.row_group_size = 0;
  EXPECT_EQ(w.WriteFile(batch, nullptr, Path("x.parquet"), bad).status().code(),
            StatusCode::kInvalidArgument);
  auto missing = w.WriteFile(batch, nullptr, Path("no/dir/y.parquet"), {});
  EXPECT_EQ(missing.status().code(), StatusCode::kIOError);
  EXPECT_NE(missing.status().message().find("y.parquet"), std::string::npos);
  // Still usable.
  WriteOk(w, batch, nullptr, Path("ok.parquet"), {});
  ExpectReadsBack(batch, Path("ok.parquet"));
}

}  // namespace
}  // namespace strata
