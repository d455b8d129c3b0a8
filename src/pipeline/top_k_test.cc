#include "pipeline/top_k.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace strata {
namespace {

SchemaPtr AggSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"window_start", TypeId::kTimestamp, false},
                                                     {"window_end", TypeId::kTimestamp, false},
                                                     {"page_url", TypeId::kString, true},
                                                     {"event_count", TypeId::kInt64, false},
                                                     {"is_final", TypeId::kBool, false}});
}

struct Row {
  int64_t window;
  std::optional<std::string> key;
  int64_t count;
};

RecordBatch Rows(const SchemaPtr& schema, const std::vector<Row>& rows, bool final) {
  RecordBatch b(schema);
  for (const auto& r : rows) {
    b.column(0).AppendInt64(r.window);
    b.column(1).AppendInt64(r.window + 60);
    if (r.key) {
      b.column(2).AppendString(*r.key);
    } else {
      b.column(2).AppendNull();
    }
    b.column(3).AppendInt64(r.count);
    b.column(4).AppendBool(final);
  }
  return b;
}

// (window, key or "NULL", count, rank) of a top-K batch.
std::vector<std::tuple<int64_t, std::string, int64_t, int32_t>> Ranked(const RecordBatch& b) {
  std::vector<std::tuple<int64_t, std::string, int64_t, int32_t>> out;
  for (size_t r = 0; r < b.num_rows(); ++r) {
    out.emplace_back(b.column(0).Int64(r),
                     b.column(2).IsNull(r) ? "NULL" : std::string(b.column(2).String(r)),
                     b.column(3).Int64(r), b.column(5).Int32(r));
  }
  return out;
}

TEST(TopKTest, RanksByCountThenKeyWithNullFirstPerWindow) {
  SchemaPtr agg = AggSchema();
  SchemaPtr out = TopKSchema(agg);
  ASSERT_EQ(out->num_fields(), 6u);
  EXPECT_EQ(out->field(5).name, "rank");
  RecordBatch rows = Rows(agg,
                          {{120, "/b", 4},
                           {0, "/c", 2},
                           {0, "/a", 2},
                           {0, std::nullopt, 2},
                           {0, "/d", 1},
                           {0, "/e", 9},
                           {120, "/a", 1}},
                          true);
  auto got = Ranked(SelectTopK(rows, out, 3));
  decltype(got) want = {
      {0, "/e", 9, 1}, {0, "NULL", 2, 2}, {0, "/a", 2, 3}, {120, "/b", 4, 1}, {120, "/a", 1, 2}};
  EXPECT_EQ(got, want);
}

TEST(TopKTest, TrackerReranksWholeWindowsAndForgetsFinalOnes) {
  SchemaPtr agg = AggSchema();
  TopKTracker tracker(TopKSchema(agg), 2);
  // /z leads the first provisional top 2.
  auto got = Ranked(tracker.Update(Rows(agg, {{0, "/z", 5}, {0, "/a", 1}, {0, "/b", 1}}, false)));
  decltype(got) want = {{0, "/z", 5, 1}, {0, "/a", 1, 2}};
  EXPECT_EQ(got, want);
  // Only /a and /b change; /z keeps its remembered count and falls to rank 3 (not emitted).
  got = Ranked(tracker.Update(Rows(agg, {{0, "/a", 7}, {0, "/b", 6}}, false)));
  want = {{0, "/a", 7, 1}, {0, "/b", 6, 2}};
  EXPECT_EQ(got, want);
  // Another change keeps the unchanged /b in its rank.
  got = Ranked(tracker.Update(Rows(agg, {{0, "/z", 6}}, false)));
  want = {{0, "/a", 7, 1}, {0, "/b", 6, 2}};
  EXPECT_EQ(got, want);
  // Final rows are ranked on their own, and the window is forgotten.
  got = Ranked(tracker.Final(Rows(agg, {{0, "/a", 7}, {0, "/b", 6}, {0, "/z", 6}}, true)));
  EXPECT_EQ(got, want);
  got = Ranked(tracker.Update(Rows(agg, {{0, "/q", 1}}, false)));
  want = {{0, "/q", 1, 1}};
  EXPECT_EQ(got, want);
}

}  // namespace
}  // namespace strata
