#include "pipeline/upsert_sink.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <set>

#include "lake/delta/table.h"
#include "pipeline/catalog.h"

namespace strata {
namespace {

constexpr int64_t kMin = 60'000'000;  // micros

class UpsertSinkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-upsert-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    schema_ =
        std::make_shared<Schema>(std::vector<Field>{{"window_start", TypeId::kTimestamp, false},
                                                    {"event_type", TypeId::kString, true},
                                                    {"event_count", TypeId::kInt64, false},
                                                    {"is_final", TypeId::kBool, false}});
    UpsertSinkOptions o;
    o.table_name = "catalog.streaming.gold_counts";
    o.path = dir_ + "/gold_counts";
    o.schema = schema_;
    o.key_columns = {"window_start", "event_type"};
    sink_ = std::make_unique<UpsertDeltaSink>(o);
    ASSERT_TRUE(sink_->Open().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  void Row(RecordBatch& b, int64_t window, const std::string& type, int64_t count, bool final) {
    b.column(0).AppendInt64(window * kMin);
    b.column(1).AppendString(type);
    b.column(2).AppendInt64(count);
    b.column(3).AppendBool(final);
  }
  // The table's data files: path -> "min..max" of their window_start range tags (micros).
  std::map<std::string, std::string> Files() {
    auto table = delta::DeltaTable::Open(dir_ + "/gold_counts");
    EXPECT_TRUE(table.ok());
    auto snap = (*table)->LatestSnapshot();
    EXPECT_TRUE(snap.ok());
    std::map<std::string, std::string> out;
    for (const auto& f : (*snap)->files()) {
      auto lo = f.tags.find(kMinRangeTag), hi = f.tags.find(kMaxRangeTag);
      out[f.path] =
          (lo == f.tags.end() ? "?" : lo->second) + ".." + (hi == f.tags.end() ? "?" : hi->second);
    }
    return out;
  }
  // Per window: "<minute> <rows> <sum of counts> <all final>".
  std::vector<std::string> Table() {
    auto engine = OpenCatalog({{"catalog.streaming.gold_counts", dir_ + "/gold_counts"}});
    EXPECT_TRUE(engine.ok());
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(
        "SELECT epoch(window_start)::BIGINT // 60 || ' ' || count(*) || ' ' || sum(event_count) || "
        "' ' || bool_and(is_final) FROM catalog.streaming.gold_counts GROUP BY window_start "
        "ORDER BY window_start",
        o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    if (r.ok())
      for (const auto& row : r->rows) out.push_back(row[0].value_or("NULL"));
    return out;
  }

  std::string dir_;
  SchemaPtr schema_;
  std::unique_ptr<UpsertDeltaSink> sink_;
};

TEST_F(UpsertSinkTest, ABatchOfTheNewestWindowRewritesOnlyThatWindowsFile) {
  // Three open windows of 300 pages each (a page-views table).
  std::vector<RecordBatch> first;
  first.emplace_back(schema_);
  for (int64_t w : {10, 11, 12})
    for (int k = 0; k < 300; ++k) Row(first[0], w, "p" + std::to_string(k), w, false);
  ASSERT_TRUE(sink_->Commit({"q", 0, {}}, first).ok());
  auto before = Files();
  ASSERT_EQ(before.size(), 3u);  // one file per open window
  std::set<std::string> ranges;
  for (const auto& [path, range] : before) ranges.insert(range);
  auto one = [](int64_t w) { return std::to_string(w * kMin) + ".." + std::to_string(w * kMin); };
  EXPECT_EQ(ranges, (std::set<std::string>{one(10), one(11), one(12)}));

  // One page of window 12 changes: only that window's file is replaced.
  std::vector<RecordBatch> second;
  second.emplace_back(schema_);
  Row(second[0], 12, "p7", 99, false);
  auto st = sink_->Commit({"q", 1, {}}, second);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->files, 1);
  auto after = Files();
  ASSERT_EQ(after.size(), 3u);
  size_t kept = 0;
  for (const auto& [path, range] : before) kept += after.count(path);
  EXPECT_EQ(kept, 2u);
  EXPECT_EQ(Table(), (std::vector<std::string>{"10 300 3000 false", "11 300 3300 false",
                                               "12 300 3687 false"}));

  // Window 10 becomes final: its rows move to a file of final rows.
  std::vector<RecordBatch> third;
  third.emplace_back(schema_);
  for (int k = 0; k < 300; ++k) Row(third[0], 10, "p" + std::to_string(k), 10, true);
  ASSERT_TRUE(sink_->Commit({"q", 2, {}}, third).ok());
  EXPECT_EQ(Files().size(), 3u);
  EXPECT_EQ(Table(), (std::vector<std::string>{"10 300 3000 true", "11 300 3300 false",
                                               "12 300 3687 false"}));
}

TEST_F(UpsertSinkTest, FewRowsPerWindowOrManyWindowsShareOneFile) {
  // A few rows per window (events per type, active users): one file, as a file has a fixed cost.
  std::vector<RecordBatch> few;
  few.emplace_back(schema_);
  for (int64_t w = 0; w < 5; ++w) Row(few[0], w, "click", 1, false);
  ASSERT_TRUE(sink_->Commit({"q", 0, {}}, few).ok());
  EXPECT_EQ(Files().size(), 1u);
  // More than 16 open range values (e.g. sessions by start time): one file.
  std::vector<RecordBatch> many;
  many.emplace_back(schema_);
  for (int64_t w = 0; w < 40; ++w)
    for (int k = 0; k < 300; ++k) Row(many[0], w, "p" + std::to_string(k), 1, false);
  auto st = sink_->Commit({"q", 1, {}}, many);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(st->files, 1);        // all 12,000 new rows in one file
  EXPECT_EQ(Files().size(), 2u);  // beside the first, none of whose keys changed
  EXPECT_EQ(Table().size(), 40u);
}

}  // namespace
}  // namespace strata
