#include "sql/hll_functions.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "lake/parquet/parquet_writer.h"
#include "operators/hyperloglog.h"
#include "sql/sql_engine.h"

namespace strata::sql {
namespace {

namespace fs = std::filesystem;

class HllFunctionsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata_hll_sql_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string dir_;
};

TEST_F(HllFunctionsTest, MergesSketchesPerGroupLikeTheCppMerge) {
  // Group "a": three per-minute sketches over overlapping user ranges; group "b": one sketch
  // and a NULL; group "c": only NULL.
  auto schema = std::make_shared<Schema>(
      std::vector<Field>{{"g", TypeId::kString}, {"sketch", TypeId::kBinary}});
  RecordBatch batch(schema);
  HyperLogLog merged_a, only_b;
  for (int part = 0; part < 3; ++part) {
    HyperLogLog h;
    for (int u = part * 500; u < part * 500 + 1000; ++u) h.AddString("user" + std::to_string(u));
    ASSERT_TRUE(merged_a.Merge(h).ok());
    batch.column(0).AppendString("a");
    batch.column(1).AppendString(h.Serialize());
  }
  for (int u = 0; u < 10; ++u) only_b.AddString("b" + std::to_string(u));
  batch.column(0).AppendString("b");
  batch.column(1).AppendString(only_b.Serialize());
  batch.column(0).AppendString("b");
  batch.column(1).AppendNull();
  batch.column(0).AppendString("c");
  batch.column(1).AppendNull();

  auto writer = ParquetWriter::Create();
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(batch, dir_ + "/s.parquet").ok());
  auto engine = SqlEngine::Open();
  ASSERT_TRUE(engine.ok());
  TableFiles t;
  t.schema = schema;
  t.files.push_back({dir_ + "/s.parquet", {}});
  ASSERT_TRUE((*engine)->RegisterTable("catalog.streaming.sketches", t).ok());

  auto r = (*engine)->Execute(
      "SELECT g, hll_merge_estimate(sketch) AS users, hll_merge(sketch) AS merged "
      "FROM catalog.streaming.sketches GROUP BY g ORDER BY g");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 3u);
  EXPECT_EQ(r->column_types[1], "DOUBLE");
  EXPECT_EQ(std::stod(r->rows[0][1].value_or("-1")), merged_a.Estimate());
  EXPECT_NEAR(merged_a.Estimate(), 2000, 2000 * 0.05);
  EXPECT_EQ(std::stod(r->rows[1][1].value_or("-1")), only_b.Estimate());
  EXPECT_FALSE(r->rows[2][1].has_value());
  EXPECT_FALSE(r->rows[2][2].has_value());

  // The merged sketch round-trips: its estimate over all groups equals the C++ merge.
  ASSERT_TRUE(merged_a.Merge(only_b).ok());
  auto all = (*engine)->Execute(
      "SELECT hll_merge_estimate(m) FROM (SELECT hll_merge(sketch) AS m FROM "
      "catalog.streaming.sketches GROUP BY g)");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(std::stod(all->rows[0][0].value_or("-1")), merged_a.Estimate());
}

TEST_F(HllFunctionsTest, CorruptSketchFailsTheQuery) {
  auto engine = SqlEngine::Open();
  ASSERT_TRUE(engine.ok());
  auto r = (*engine)->Execute("SELECT hll_merge_estimate('\\x00\\x01garbage'::BLOB)");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("hll_merge"), std::string::npos) << r.status().message();
  HyperLogLog p10(10), p12(12);
  p10.AddString("x");
  p12.AddString("x");
  std::string hex10, hex12;
  for (unsigned char c : p10.Serialize())
    hex10 += "\\x" + std::string(1, "0123456789ABCDEF"[c >> 4]) + "0123456789ABCDEF"[c & 15];
  for (unsigned char c : p12.Serialize())
    hex12 += "\\x" + std::string(1, "0123456789ABCDEF"[c >> 4]) + "0123456789ABCDEF"[c & 15];
  auto mixed = (*engine)->Execute("SELECT hll_merge_estimate(s) FROM (VALUES ('" + hex10 +
                                  "'::BLOB), ('" + hex12 + "'::BLOB)) t(s)");
  EXPECT_FALSE(mixed.ok());
}

}  // namespace
}  // namespace strata::sql
