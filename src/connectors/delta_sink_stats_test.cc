// Delta's per-file statistics from the native Parquet writer (FileStatsJson over
// ParquetFileInfo::column_stats) against the second pass they replace (delta::ComputeStatsJson):
// the JSON must be the same bytes for the same rows.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <limits>
#include <map>
#include <string>
#include <vector>

#include "connectors/delta_sink.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_writer.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

class DeltaSinkStatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata_sink_stats_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto w = ParquetWriter::Create();
    ASSERT_TRUE(w.ok());
    writer_ = std::move(*w);
  }
  void TearDown() override { fs::remove_all(dir_); }

  // Writes `batch` (or its `rows`) with the native engine and returns the writer's JSON.
  std::string WriterJson(const RecordBatch& batch, const std::vector<uint32_t>* rows,
                         const ParquetWriteOptions& opts,
                         const std::vector<std::string>& skip = {}) {
    const std::string path = dir_ + "/f" + std::to_string(++files_) + ".parquet";
    auto info =
        rows ? writer_->WriteRows(batch, *rows, path, opts) : writer_->Write(batch, path, opts);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    if (!info.ok()) return "";
    EXPECT_EQ(info->column_stats.size(), batch.num_columns());
    return FileStatsJson(*batch.schema(), *info, skip);
  }

  std::string dir_;
  int files_ = 0;
  std::unique_ptr<ParquetWriter> writer_;
};

SchemaPtr EveryType() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"id", TypeId::kInt64},
      {"name", TypeId::kString},       // low cardinality (dictionary), non-ASCII, empty
      {"long_text", TypeId::kString},  // > 32 code points, > 4 KiB, U+10FFFF at the cut
      {"uniq", TypeId::kString},       // every value distinct (PLAIN)
      {"ts", TypeId::kTimestamp},      // negative and off-millisecond values
      {"day", TypeId::kDate},
      {"score", TypeId::kDouble},     // NaN, -0.0 and 0.0
      {"wild", TypeId::kDouble},      // an infinity: no min/max
      {"only_nan", TypeId::kDouble},  // NaN and null only: no min/max
      {"flag", TypeId::kBool},
      {"blob", TypeId::kBinary},
      {"small", TypeId::kInt32},
      {"none_str", TypeId::kString},  // all null
      {"none_i32", TypeId::kInt32},   // all null
      {"event_date", TypeId::kDate},  // the partition column
      {"prose", TypeId::kString},     // max cut to 32 code points + U+10FFFF
  });
}

const char* const kNames[] = {"", "été", "北京", "zz", "clickstream", "\xF0\x9F\x9A\x80", "a"};

std::string LongText(size_t i) {
  std::string s;
  switch (i % 5) {
    case 0:  // 40 code points of 2 bytes each
      for (int k = 0; k < 40; ++k) s += "é";
      break;
    case 1:  // the max, with U+10FFFF right after the cut: no truncated upper bound exists
      for (int k = 0; k < 33; ++k) s += "\xF4\x8F\xBF\xBF";
      break;
    case 2:  // > 4 KiB, left out of the footer but not out of Delta's stats
      s.assign(5000, static_cast<char>('b' + i % 3));
      break;
    case 3:
      s = "short " + std::to_string(i);
      break;
    default:
      s.assign(33, '\x01');
      break;
  }
  return s;
}

RecordBatch MakeBatch(size_t rows) {
  RecordBatch b(EveryType());
  b.Reserve(rows);
  for (size_t i = 0; i < rows; ++i) {
    const bool null = i % 7 == 3 || (i / 50) % 5 == 2;
    b.column(0).AppendInt64(static_cast<int64_t>(i * 7919 % 1000) - 400);
    null ? b.column(1).AppendNull() : b.column(1).AppendString(kNames[(i / 3) % 7]);
    null ? b.column(2).AppendNull() : b.column(2).AppendString(LongText(i));
    b.column(3).AppendString("user-" + std::to_string(i * 104729 % 100003));
    null ? b.column(4).AppendNull()
         : b.column(4).AppendInt64(-1'000'001 + static_cast<int64_t>(i) * 1'234'567);
    b.column(5).AppendInt32(20000 + static_cast<int32_t>(i % 97) - 40);
    if (null) {
      b.column(6).AppendNull();
    } else if (i % 5 == 1) {
      b.column(6).AppendDouble(std::nan(""));
    } else if (i % 13 == 0) {
      b.column(6).AppendDouble(i % 2 == 0 ? -0.0 : 0.0);
    } else {
      b.column(6).AppendDouble(static_cast<double>(i % 101) / 8.0 - 2);
    }
    i == 17 ? b.column(7).AppendDouble(-std::numeric_limits<double>::infinity())
            : b.column(7).AppendDouble(static_cast<double>(i));
    null ? b.column(8).AppendNull() : b.column(8).AppendDouble(std::nan(""));
    null ? b.column(9).AppendNull() : b.column(9).AppendBool(i % 3 == 0);
    null ? b.column(10).AppendNull()
         : b.column(10).AppendString(std::string("\x00\xff", 2) + std::to_string(i));
    b.column(11).AppendInt32(static_cast<int32_t>(i % 1000) - 500);
    b.column(12).AppendNull();
    b.column(13).AppendNull();
    b.column(14).AppendInt32(20781 + static_cast<int32_t>(i % 3 == 0));
    b.column(15).AppendString(i % 4 == 0 ? LongText(0) : LongText(3 + 5 * i));
  }
  EXPECT_TRUE(b.Validate().ok());
  return b;
}

TEST_F(DeltaSinkStatsTest, WriterStatsGiveTheSameJsonAsASecondPass) {
  RecordBatch batch = MakeBatch(5000);
  const std::string want = delta::ComputeStatsJson(batch);
  // What the batch was built to cover is in the expected JSON, so the comparison covers it.
  std::string eacute32;
  for (int k = 0; k < 32; ++k) eacute32 += "é";
  const size_t nulls_at = want.find("nullCount");
  for (const std::string& part :
       {std::string(R"("minValues":{"id":-400,"name":"","long_text":")"),
        std::string("\"maxValues\":{\"id\":599,\"name\":\"\xF0\x9F\x9A\x80\","),
        std::string(R"("ts":"1969-12-31T23:59:58.999Z")"), std::string(R"("score":-2)"),
        std::string(R"("score":10.5)"), R"("prose":")" + eacute32 + "\xF4\x8F\xBF\xBF\"",
        std::string(R"("nullCount":{"id":0,"name":)")}) {
    EXPECT_NE(want.find(part), std::string::npos) << part << " not in " << want;
  }
  for (const char* absent :
       {R"("wild":)", R"("only_nan":)", R"("flag":)", R"("none_str":)", R"("blob":)"}) {
    EXPECT_EQ(want.substr(0, nulls_at).find(absent), std::string::npos) << absent << " in " << want;
  }
  // long_text's max (33 x U+10FFFF) has no truncated upper bound: in minValues only.
  EXPECT_GT(want.find(R"("long_text")", want.find("maxValues")), nulls_at) << want;
  for (ParquetCodec codec : {ParquetCodec::kSnappy, ParquetCodec::kUncompressed}) {
    for (bool dict : {true, false}) {
      for (int64_t group : {int64_t{1} << 20, int64_t{777}, int64_t{1}}) {
        ParquetWriteOptions opts;
        opts.codec = codec;
        opts.dictionary = dict;
        opts.row_group_size = group;
        opts.sync = false;
        if (group == 1 && codec != ParquetCodec::kUncompressed) continue;  // slow, adds nothing
        EXPECT_EQ(WriterJson(batch, nullptr, opts), want)
            << "codec " << ParquetCodecName(codec) << " dictionary " << dict << " group " << group;
      }
    }
  }
}

// Zeros of both signs as the extremes: the first in row order is the one reported, in one pass
// and across row groups alike.
TEST_F(DeltaSinkStatsTest, SignedZerosAsMinAndMax) {
  auto schema = std::make_shared<Schema>(std::vector<Field>{{"z", TypeId::kDouble}});
  ParquetWriteOptions opts;
  opts.sync = false;
  opts.row_group_size = 2;
  bool signed_zero_shown = false;  // the sign reaches the JSON, so a wrong zero would show
  for (const std::vector<double>& values :
       {std::vector<double>{0.0, -0.0, 0.0}, std::vector<double>{-0.0, 0.0, -0.0, 0.0},
        std::vector<double>{-1.0, -0.0, 0.0}, std::vector<double>{0.0, -0.0, 1.0},
        std::vector<double>{0.0, 1.0, -0.0, 2.0}, std::vector<double>{-0.0, -1.0, 0.0, -2.0}}) {
    RecordBatch batch(schema);
    for (double v : values) batch.column(0).AppendDouble(v);
    const std::string want = delta::ComputeStatsJson(batch);
    signed_zero_shown = signed_zero_shown || want.find(":-0}") != std::string::npos;
    EXPECT_EQ(WriterJson(batch, nullptr, opts), want);
  }
  EXPECT_TRUE(signed_zero_shown);
}

TEST_F(DeltaSinkStatsTest, SelectionVectorsSkippedAndUnindexedColumns) {
  RecordBatch batch = MakeBatch(3000);
  ParquetWriteOptions opts;
  opts.sync = false;
  opts.row_group_size = 500;
  std::vector<uint32_t> odd, reversed, single;
  for (uint32_t r = 1; r < 3000; r += 2) odd.push_back(r);
  for (uint32_t r = 3000; r-- > 0;) reversed.push_back(r);
  single.push_back(3);  // a null row: min/max of nothing in the nullable columns
  const std::vector<std::string> skip = {"event_date", "name"};
  for (const auto* rows : {&odd, &reversed, &single}) {
    RecordBatch subset = batch.Take(*rows);
    EXPECT_EQ(WriterJson(batch, rows, opts), delta::ComputeStatsJson(subset));
    EXPECT_EQ(WriterJson(batch, rows, opts, skip),
              delta::ComputeStatsJson(subset, delta::kDefaultNumIndexedCols, skip));
  }
  // Zero rows.
  std::vector<uint32_t> none;
  EXPECT_EQ(WriterJson(batch, &none, opts), delta::ComputeStatsJson(batch.Take(none)));
}

TEST_F(DeltaSinkStatsTest, OnlyTheFirst32ColumnsAreIndexed) {
  std::vector<Field> fields;
  for (int c = 0; c < 40; ++c) fields.push_back({"c" + std::to_string(c), TypeId::kInt32});
  RecordBatch batch(std::make_shared<Schema>(std::move(fields)));
  for (int r = 0; r < 10; ++r) {
    for (size_t c = 0; c < batch.num_columns(); ++c) {
      batch.column(c).AppendInt32(static_cast<int32_t>(c) * 100 + r);
    }
  }
  ParquetWriteOptions opts;
  opts.sync = false;
  const std::string want = delta::ComputeStatsJson(batch, delta::kDefaultNumIndexedCols, {"c3"});
  EXPECT_EQ(want.find("c33"), std::string::npos);  // c0..c32 without c3 are the 32
  EXPECT_NE(want.find("c32"), std::string::npos);
  EXPECT_EQ(WriterJson(batch, nullptr, opts, {"c3"}), want);
}

// Through the sink: a batch across two partition values becomes two files, written from a
// selection vector each; their stats are those of the rows in each.
TEST_F(DeltaSinkStatsTest, SinkFilesCarryTheStatsOfTheirPartitionsRows) {
  DeltaSinkOptions o;
  o.table_name = "catalog.t.stats";
  o.path = dir_ + "/table";
  o.schema = EveryType();
  o.partition_by = {"event_date"};
  o.parquet.sync = false;
  DeltaSink sink(std::move(o));
  ASSERT_TRUE(sink.Open().ok());
  RecordBatch batch = MakeBatch(2000);
  std::map<int32_t, std::vector<uint32_t>> rows_of_day;
  for (uint32_t r = 0; r < batch.num_rows(); ++r)
    rows_of_day[batch.column(14).Int32(r)].push_back(r);
  ASSERT_EQ(rows_of_day.size(), 2u);
  std::map<std::string, std::string> want;  // partition value -> stats
  for (const auto& [day, rows] : rows_of_day) {
    want[day == 20781 ? "2026-11-24" : "2026-11-25"] =
        delta::ComputeStatsJson(batch.Take(rows), delta::kDefaultNumIndexedCols, {"event_date"});
  }
  std::vector<RecordBatch> batches;
  batches.push_back(std::move(batch));
  BatchCommit commit;
  commit.query_id = "query";
  commit.batch_id = 0;
  auto written = sink.Commit(commit, batches);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  EXPECT_EQ(written->files, 2);

  auto snapshot = delta::DeltaTable::Open(dir_ + "/table").value()->LatestSnapshot().value();
  ASSERT_EQ(snapshot->files().size(), 2u);
  for (const auto& add : snapshot->files()) {
    auto value = add.partition_values.at("event_date");
    ASSERT_TRUE(value.has_value());
    ASSERT_TRUE(add.stats.has_value());
    EXPECT_EQ(*add.stats, want.at(*value)) << *value;
  }
}

}  // namespace
}  // namespace strata
