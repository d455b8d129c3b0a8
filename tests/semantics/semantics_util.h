#pragma once

// Helpers of the stream-semantics tests: a scratch directory, silver rows written straight to a
// Delta table, a gold query run available-now, and SQL over the tables through DuckDB.

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "connectors/delta_sink.h"
#include "connectors/delta_source.h"
#include "pipeline/catalog.h"
#include "pipeline/layers.h"
#include "pipeline/upsert_sink.h"
#include "stream/streaming_query.h"

namespace strata::semantics {

inline constexpr int64_t kMinuteMs = 60'000;

// One silver event. `batch` is the silver commit it arrives in; kafka_offset encodes it
// (batch * 1'000'000 + n) so that SQL can recover arrival order.
struct SilverEvent {
  std::string event_id, user_id, event_type, page_url;
  int64_t event_time_ms;
  int32_t partition = 0;
  std::string session_id = "s";
};

class ScratchDir {
 public:
  ScratchDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "strata-sem-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~ScratchDir() { std::filesystem::remove_all(path_); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

inline RecordBatch SilverRows(const std::vector<SilverEvent>& events, int64_t batch) {
  RecordBatch b(SilverSchema());
  int64_t n = 0;
  for (const auto& e : events) {
    b.column(0).AppendString(e.event_id);
    b.column(1).AppendString(e.user_id);
    b.column(2).AppendString(e.session_id);
    b.column(3).AppendString(e.event_type);
    b.column(4).AppendString(e.page_url);
    b.column(5).AppendNull();
    b.column(6).AppendString("desktop");
    b.column(7).AppendString("US");
    b.column(8).AppendInt64(e.event_time_ms);
    b.column(9).AppendNull();
    b.column(10).AppendInt64(e.event_time_ms * 1000);
    b.column(11).AppendInt32(static_cast<int32_t>(e.event_time_ms / 86'400'000));
    b.column(12).AppendInt32(static_cast<int32_t>(e.event_time_ms / 3'600'000 % 24));
    b.column(13).AppendInt32(e.partition);
    b.column(14).AppendInt64(batch * 1'000'000 + n++);
    b.column(15).AppendNull();
    for (size_t c = 16; c < b.num_columns(); ++c) b.column(c).AppendNull();  // enrichment
  }
  return b;
}

// A silver table written batch by batch, and gold queries over it.
class SemanticsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    silver_path_ = dir_.path() + "/silver";
    DeltaSinkOptions o;
    o.table_name = "catalog.streaming.silver_clickstream";
    o.path = silver_path_;
    o.schema = SilverSchema();
    silver_ = std::make_unique<DeltaSink>(std::move(o));
    ASSERT_TRUE(silver_->Open().ok());
  }

  void AppendSilver(const std::vector<SilverEvent>& events) {
    std::vector<RecordBatch> batches;
    batches.push_back(SilverRows(events, next_silver_batch_));
    BatchCommit commit{"test-writer", next_silver_batch_++, {}};
    auto st = silver_->Commit(commit, batches);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
  }

  std::string GoldPath(const std::string& name) const { return dir_.path() + "/" + name; }

  // Runs the gold query `name` available-now over everything in silver (one silver commit per
  // gold batch), from its checkpoint.
  void RunGold(const std::string& name, const GoldOptions& go) {
    auto processor = GoldProcessor::Create(go);
    ASSERT_TRUE(processor.ok()) << processor.status().ToString();
    SchemaPtr schema = (*processor)->output_schema();
    std::vector<std::unique_ptr<MicroBatchSink>> sinks;
    if (go.output_mode == GoldOutputMode::kUpdate) {
      UpsertSinkOptions uo;
      uo.table_name = "catalog.streaming." + name;
      uo.path = GoldPath(name);
      uo.schema = schema;
      uo.key_columns = {"window_start", "window_end"};
      if (!go.key_column.empty()) uo.key_columns.push_back(go.key_column);
      sinks.push_back(std::make_unique<UpsertDeltaSink>(std::move(uo)));
    } else {
      DeltaSinkOptions o;
      o.table_name = "catalog.streaming." + name;
      o.path = GoldPath(name);
      o.schema = schema;
      sinks.push_back(std::make_unique<DeltaSink>(std::move(o)));
    }
    DeltaSourceOptions so;
    so.table_name = "catalog.streaming.silver_clickstream";
    so.path = silver_path_;
    so.schema = SilverSchema();
    QueryOptions qo;
    qo.name = name;
    qo.checkpoint_dir = dir_.path() + "/_checkpoints/" + name;
    qo.trigger.kind = Trigger::Kind::kAvailableNow;
    qo.limit.max_files = 1;
    StreamingQuery q(qo, std::make_unique<DeltaSource>(std::move(so)), std::move(*processor),
                     std::move(sinks));
    Status st = q.Run();
    ASSERT_TRUE(st.ok()) << st.ToString();
  }

  // Rows of `sql` as strings (NULL as "NULL"); tables: silver and every gold table by name.
  std::vector<std::vector<std::string>> Query(const std::string& sql,
                                              const std::vector<std::string>& gold_tables) {
    std::map<std::string, std::string> tables = {
        {"catalog.streaming.silver_clickstream", silver_path_}};
    for (const auto& g : gold_tables) tables["catalog.streaming." + g] = GoldPath(g);
    auto engine = OpenCatalog(tables);
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    std::vector<std::vector<std::string>> out;
    if (!engine.ok()) return out;
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(sql, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::vector<std::string> v;
      for (const auto& cell : row) v.push_back(cell.value_or("NULL"));
      out.push_back(std::move(v));
    }
    return out;
  }

  ScratchDir dir_;
  std::string silver_path_;
  std::unique_ptr<DeltaSink> silver_;
  int64_t next_silver_batch_ = 0;
};

}  // namespace strata::semantics
