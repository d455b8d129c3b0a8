// The schema-drift Delta table: what the quality monitor's drift detection writes to it, the
// first records per subject only, and no second copy of a subject's samples after a restart.
#include "monitor/drift_table.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <string>

#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "monitor/quality.h"

namespace strata::monitor {
namespace {

class DriftTableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-drift-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    path_ = dir_ + "/bronze_clickstream_schema_drift";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Every row of the table, as "kind:field" -> rows.
  std::map<std::string, std::vector<std::map<std::string, std::string>>> Rows() const {
    std::map<std::string, std::vector<std::map<std::string, std::string>>> out;
    auto table = delta::DeltaTable::Open(path_);
    EXPECT_TRUE(table.ok()) << table.status().ToString();
    if (!table.ok()) return out;
    auto snapshot = (*table)->LatestSnapshot();
    std::vector<std::string> files;
    for (const auto& add : (*snapshot)->files())
      files.push_back(delta::ResolveDataPath((*snapshot)->table_path(), add.path));
    if (files.empty()) return out;
    auto rows = ReadParquetFiles(files, SchemaDriftTable::TableSchema());
    EXPECT_TRUE(rows.ok()) << rows.status().ToString();
    if (!rows.ok()) return out;
    const Schema& s = *rows->schema();
    for (size_t r = 0; r < rows->num_rows(); ++r) {
      std::map<std::string, std::string> row;
      for (size_t c = 0; c < s.num_fields(); ++c) {
        const Column& col = rows->column(c);
        if (col.IsNull(r)) {
          row[s.field(c).name] = "NULL";
        } else if (col.type() == TypeId::kString) {
          row[s.field(c).name] = std::string(col.String(r));
        } else if (col.type() == TypeId::kInt32) {
          row[s.field(c).name] = std::to_string(col.Int32(r));
        } else {
          row[s.field(c).name] = std::to_string(col.Int64(r));
        }
      }
      out[row["kind"] + ":" + row["field"]].push_back(row);
    }
    return out;
  }

  std::string dir_, path_;
};

TEST_F(DriftTableTest, KeepsTheFirstRecordsPerSubjectAcrossRestarts) {
  {
    auto t = SchemaDriftTable::Open(path_, "catalog.streaming.bronze_clickstream_schema_drift",
                                    60'000, 2);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    for (int i = 0; i < 3; ++i)
      (*t)->Record({1000, "new_field", "coupon", "", "string", 1, 10 + i,
                    "{\"i\":" + std::to_string(i) + "}"});
    (*t)->Record({1000, "type_change", "country", "string", "number", 2, 7, "{}"});
    EXPECT_FALSE((*t)->Wants("new_field", "coupon"));
    EXPECT_TRUE((*t)->Wants("type_change", "country"));
    ASSERT_TRUE((*t)->Flush().ok());
    auto rows = Rows();
    ASSERT_EQ(rows["new_field:coupon"].size(), 2u);
    EXPECT_EQ(rows["new_field:coupon"][0]["expected_type"], "NULL");
    EXPECT_EQ(rows["new_field:coupon"][0]["observed_type"], "string");
    EXPECT_EQ(rows["type_change:country"].size(), 1u);
    EXPECT_EQ(rows["type_change:country"][0]["kafka_offset"], "7");
    (*t)->Stop();
  }
  // A restart reads the counts back: coupon has its samples, country wants one more.
  auto t =
      SchemaDriftTable::Open(path_, "catalog.streaming.bronze_clickstream_schema_drift", 60'000, 2);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_FALSE((*t)->Wants("new_field", "coupon"));
  EXPECT_TRUE((*t)->Wants("type_change", "country"));
  (*t)->Record({2000, "new_field", "coupon", "", "string", 1, 99, "{}"});
  for (int i = 0; i < 3; ++i)
    (*t)->Record({2000, "type_change", "country", "string", "number", 2, 20 + i, "{}"});
  (*t)->Stop();  // commits what is buffered
  auto rows = Rows();
  EXPECT_EQ(rows["new_field:coupon"].size(), 2u);
  ASSERT_EQ(rows["type_change:country"].size(), 2u);
}

TEST_F(DriftTableTest, QualityMonitorWritesNewFieldsTypeChangesAndMissingFields) {
  auto t = SchemaDriftTable::Open(path_, "d", 60'000, 3);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  MonitoringConfig c;
  c.quality_interval_ms = 1000;
  c.rules.clear();  // no alert rules: the table is written all the same
  AlertManager alerts(nullptr);
  QualityMonitor m(c, &alerts, /*close_delay_ms=*/0);
  m.set_drift_table(t->get());
  const int64_t t0 = 1'764'000'000'000;
  const std::string base =
      R"({"event_id":"e","user_id":"u","session_id":"s","event_type":"click","page_url":"/",)"
      R"("device_type":"ios","country":"US","event_timestamp":1)";
  // Interval 1: referrer absent from every record (missing_field), one new field, one type
  // change.
  for (int i = 0; i < 30; ++i) m.Observe(base + R"(,"properties":{}})", t0 + i, 3, 100 + i);
  m.Observe(base + R"(,"properties":{},"coupon":"x"})", t0 + 40, 3, 200);
  m.Observe(R"({"event_id":"e","user_id":"u","session_id":"s","event_type":"click",)"
            R"("page_url":"/","device_type":"ios","country":7,"event_timestamp":1,)"
            R"("referrer":"r","properties":{}})",
            t0 + 50, 4, 300);
  m.CloseIntervals(t0 + 1000);
  (*t)->Stop();
  auto rows = Rows();
  ASSERT_EQ(rows["new_field:coupon"].size(), 1u);
  EXPECT_EQ(rows["new_field:coupon"][0]["kafka_partition"], "3");
  EXPECT_EQ(rows["new_field:coupon"][0]["kafka_offset"], "200");
  EXPECT_NE(rows["new_field:coupon"][0]["sample"].find("\"coupon\":\"x\""), std::string::npos);
  ASSERT_EQ(rows["type_change:country"].size(), 1u);
  EXPECT_EQ(rows["type_change:country"][0]["expected_type"], "string");
  EXPECT_EQ(rows["type_change:country"][0]["observed_type"], "number");
  EXPECT_EQ(rows["type_change:country"][0]["kafka_offset"], "300");
  ASSERT_EQ(rows["missing_field:referrer"].size(), 1u);
  EXPECT_EQ(rows["missing_field:referrer"][0]["observed_type"], "NULL");
  EXPECT_EQ(rows["missing_field:referrer"][0]["kafka_offset"], "100");
  // Fields present in (almost) every record are not reported missing.
  EXPECT_EQ(rows.count("missing_field:country"), 0u);
  EXPECT_EQ(rows.count("missing_field:properties"), 0u);
}

}  // namespace
}  // namespace strata::monitor
