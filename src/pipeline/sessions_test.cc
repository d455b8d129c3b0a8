#include "pipeline/sessions.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "pipeline/catalog.h"

namespace strata {
namespace {

constexpr int64_t kSec = 1'000'000;

class SessionUpsertTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-sess-XXXXXX").string();
    dir_ = ::mkdtemp(tmpl.data());
    auto p = SessionProcessor::Create({});
    ASSERT_TRUE(p.ok());
    schema_ = (*p)->output_schema();
    UpsertSinkOptions o;
    o.table_name = "catalog.streaming.gold_sessions";
    o.path = dir_ + "/gold_sessions";
    o.schema = schema_;
    o.key_columns = {"session_start", "session_id"};
    o.range_column = "session_start";
    sink_ = std::make_unique<UpsertDeltaSink>(o);
    ASSERT_TRUE(sink_->Open().ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // One session row: [start, last + 10 s), `count` events.
  void Row(RecordBatch& b, const std::string& id, int64_t start, int64_t last, int64_t count,
           bool final) {
    b.column(0).AppendInt64(start);
    b.column(1).AppendInt64(last + 10 * kSec);
    b.column(2).AppendString(id);
    b.column(3).AppendString("u");
    b.column(4).AppendInt64(count);
    b.column(5).AppendInt64(count);
    b.column(6).AppendInt64((last - start) / 1000);
    b.column(7).AppendBool(count == 1);
    b.column(8).AppendBool(false);
    b.column(9).AppendBool(final);
  }
  Result<SinkWriteStats> Commit(int64_t batch_id, std::vector<RecordBatch> batches) {
    return sink_->Commit({"q", batch_id, {}}, batches);
  }
  std::vector<std::string> Table() {
    auto engine = OpenCatalog({{"catalog.streaming.gold_sessions", dir_ + "/gold_sessions"}});
    EXPECT_TRUE(engine.ok());
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(
        "SELECT session_id || '@' || epoch(session_start)::BIGINT || ':' || event_count || ':' || "
        "is_final FROM catalog.streaming.gold_sessions ORDER BY 1",
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

TEST_F(SessionUpsertTest, RetractedRowsGoInTheCommitThatWritesTheirSuccessor) {
  RecordBatch first(schema_);
  Row(first, "s1", 100 * kSec, 100 * kSec, 1, false);
  Row(first, "s1", 200 * kSec, 205 * kSec, 2, false);
  Row(first, "s2", 100 * kSec, 100 * kSec, 1, false);
  std::vector<RecordBatch> b0;
  b0.push_back(std::move(first));
  ASSERT_TRUE(Commit(0, std::move(b0)).ok());
  EXPECT_EQ(Table(),
            (std::vector<std::string>{"s1@100:1:false", "s1@200:2:false", "s2@100:1:false"}));

  // s1's two sessions merge under an earlier start; s2 grows in place.
  RecordBatch merged(schema_);
  Row(merged, "s1", 95 * kSec, 205 * kSec, 4, false);
  Row(merged, "s2", 100 * kSec, 104 * kSec, 2, false);
  RecordBatch retracted(SessionRetractionSchema());
  for (int64_t start : {100 * kSec, 200 * kSec}) {
    retracted.column(0).AppendInt64(start);
    retracted.column(1).AppendString("s1");
  }
  std::vector<RecordBatch> b1;
  b1.push_back(std::move(merged));
  b1.push_back(std::move(retracted));
  auto st = Commit(1, std::move(b1));
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  EXPECT_EQ(Table(), (std::vector<std::string>{"s1@95:4:false", "s2@100:2:false"}));

  // A re-run of batch 1 is a no-op.
  RecordBatch again(schema_);
  Row(again, "s1", 95 * kSec, 205 * kSec, 9, false);
  std::vector<RecordBatch> b1again;
  b1again.push_back(std::move(again));
  auto skipped = Commit(1, std::move(b1again));
  ASSERT_TRUE(skipped.ok());
  EXPECT_TRUE(skipped->skipped);

  // A key both retracted and written is written; the final row replaces the provisional one.
  RecordBatch fin(schema_);
  Row(fin, "s1", 95 * kSec, 205 * kSec, 4, true);
  RecordBatch same(SessionRetractionSchema());
  same.column(0).AppendInt64(95 * kSec);
  same.column(1).AppendString("s1");
  std::vector<RecordBatch> b2;
  b2.push_back(std::move(same));
  b2.push_back(std::move(fin));
  ASSERT_TRUE(Commit(2, std::move(b2)).ok());
  EXPECT_EQ(Table(), (std::vector<std::string>{"s1@95:4:true", "s2@100:2:false"}));

  auto bad_schema =
      std::make_shared<const Schema>(std::vector<Field>{{"x", TypeId::kInt64, false}});
  RecordBatch bad(bad_schema);
  bad.column(0).AppendInt64(1);
  std::vector<RecordBatch> b3;
  b3.push_back(std::move(bad));
  EXPECT_EQ(Commit(3, std::move(b3)).status().code(), StatusCode::kInvalidArgument);
}

TEST(SessionProcessorTest, UpdateModeEmitsProvisionalRowsRetractionsAndFinalRows) {
  SessionOptions o;
  o.output_mode = GoldOutputMode::kUpdate;
  o.gap_ms = 10'000;
  o.watermark_delay_ms = 60'000;
  auto p = std::move(SessionProcessor::Create(o)).value();
  auto b = [&](const std::vector<std::pair<std::string, int64_t>>& events) {
    RecordBatch r(std::make_shared<const Schema>(
        std::vector<Field>{{"session_id", TypeId::kString, true},
                           {"user_id", TypeId::kString, true},
                           {"event_type", TypeId::kString, true},
                           {"event_time", TypeId::kTimestamp, true},
                           {"kafka_partition", TypeId::kInt32, true}}));
    for (const auto& [id, ms] : events) {
      r.column(0).AppendString(id);
      r.column(1).AppendString("u");
      r.column(2).AppendString("page_view");
      r.column(3).AppendInt64(ms * 1000);
      r.column(4).AppendInt32(0);
    }
    return r;
  };
  std::vector<std::vector<RecordBatch>> out(1);
  ProcessorMetrics m;
  BatchContext ctx;
  ctx.batch_timestamp_ms = 1;
  ASSERT_TRUE(p->BeginBatch(ctx).ok());
  ASSERT_TRUE(p->Process(b({{"s", 100'000}, {"s", 115'000}}), out).ok());
  ASSERT_TRUE(p->EndBatch(out, m).ok());
  ASSERT_EQ(out[0].size(), 1u);  // two provisional rows
  EXPECT_EQ(out[0][0].num_rows(), 2u);
  EXPECT_EQ(m.rows_updated, 2);
  EXPECT_EQ(p->NextWatermark(2), 115'000 - 60'000);

  out.clear();
  out.resize(1);
  ctx.batch_id = 1;
  ctx.watermark_ms = 55'000;
  ASSERT_TRUE(p->BeginBatch(ctx).ok());
  ASSERT_TRUE(p->Process(b({{"s", 108'000}, {"s", 50'000}}), out).ok());  // bridges; late
  ASSERT_TRUE(p->EndBatch(out, m).ok());
  ASSERT_EQ(out[0].size(), 2u);  // the merged session, the retraction of the one at 115 s
  EXPECT_EQ(out[0][0].num_rows(), 1u);
  EXPECT_EQ(out[0][1].schema()->num_fields(), 2u);
  EXPECT_EQ(out[0][1].column(0).Int64(0), 115'000'000);
  EXPECT_EQ(m.rows_dropped_by_watermark, 1);

  // State survives a save and load; a no-data batch past the end emits the final row.
  VectorStateSink saved;
  ASSERT_TRUE(p->SaveState(true, saved).ok());
  const std::vector<StateBlob>& blobs = saved.blobs;
  auto q = std::move(SessionProcessor::Create(o)).value();
  ASSERT_TRUE(q->LoadState(blobs, {}).ok());
  EXPECT_TRUE(q->WantsNoDataBatch(200'000));
  out.clear();
  out.resize(1);
  ctx.batch_id = 2;
  ctx.watermark_ms = 200'000;
  ctx.no_data = true;
  ASSERT_TRUE(q->BeginBatch(ctx).ok());
  ASSERT_TRUE(q->EndBatch(out, m).ok());
  ASSERT_EQ(out[0].size(), 1u);
  const RecordBatch& fin = out[0][0];
  ASSERT_EQ(fin.num_rows(), 1u);
  EXPECT_EQ(fin.column(0).Int64(0), 100'000'000);
  EXPECT_EQ(fin.column(4).Int64(0), 3);
  EXPECT_TRUE(fin.column(9).Bool(0));
  EXPECT_FALSE(q->WantsNoDataBatch(300'000));

  auto other = std::move(SessionProcessor::Create({})).value();
  EXPECT_FALSE(other->LoadState(blobs, {}).ok());  // another gap
  EXPECT_FALSE(SessionProcessor::Create({.gap_ms = 0}).ok());
}

}  // namespace
}  // namespace strata
