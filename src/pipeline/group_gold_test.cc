// Group mode's gold: partial aggregates of each Kafka partition, written by one GoldProcessor
// per partition and merged on read (GroupGoldSelect), must read exactly as the table one
// process writes from all partitions: counts, distinct users, value sums and top-K ranks.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <random>

#include "connectors/delta_sink.h"
#include "pipeline/catalog.h"
#include "pipeline/partitioned_query.h"
#include "pipeline/pipeline.h"

namespace strata {
namespace {

constexpr int kPartitions = 3;
constexpr int64_t kMinute = 60'000;

// Silver rows: (partition, minute, event type, user, page, value).
struct Event {
  int32_t partition;
  int64_t time_ms;
  std::string type, user, page;
  int64_t value;
};

RecordBatch SilverRows(const std::vector<Event>& events) {
  SchemaPtr schema = SilverSchema();
  RecordBatch b(schema);
  for (const Event& e : events) {
    for (size_t c = 0; c < schema->num_fields(); ++c) {
      const std::string& name = schema->field(c).name;
      Column& col = b.column(c);
      if (name == "event_type")
        col.AppendString(e.type);
      else if (name == "user_id")
        col.AppendString(e.user);
      else if (name == "page_url")
        col.AppendString(e.page);
      else if (name == "event_id")
        col.AppendString(e.user + "/" + std::to_string(e.time_ms));
      else if (name == "event_time")
        col.AppendInt64(e.time_ms * 1000);
      else if (name == "event_timestamp")
        col.AppendInt64(e.value);
      else if (name == "kafka_partition")
        col.AppendInt32(e.partition);
      else if (name == "event_date" || name == "event_hour")
        col.AppendInt32(0);
      else if (name == "kafka_offset")
        col.AppendInt64(0);
      else
        col.AppendNull();
    }
  }
  return b;
}

// Runs `processor` over `input` (one batch), then a no-data batch past every window: every row
// it emits, in order.
std::vector<RecordBatch> RunToTheEnd(BatchProcessor& processor, RecordBatch input) {
  std::vector<RecordBatch> out;
  for (int batch = 0; batch < 2; ++batch) {
    BatchContext ctx;
    ctx.batch_id = batch;
    ctx.watermark_ms = batch == 0 ? 0 : 100 * kMinute;
    ctx.no_data = batch == 1;
    std::vector<std::vector<RecordBatch>> outputs(1);
    EXPECT_TRUE(processor.BeginBatch(ctx).ok());
    if (batch == 0) {
      EXPECT_TRUE(processor.Process(std::move(input), outputs).ok());
    }
    ProcessorMetrics m;
    EXPECT_TRUE(processor.EndBatch(outputs, m).ok());
    for (auto& b : outputs[0]) out.push_back(std::move(b));
  }
  return out;
}

class GroupGoldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_group_gold_" + std::to_string(::getpid())))
               .string();
    std::filesystem::remove_all(dir_);
    std::mt19937 rng(7);
    const char* types[] = {"page_view", "click", "purchase"};
    for (int i = 0; i < 3000; ++i) {
      Event e;
      const int user = static_cast<int>(rng() % 400);
      e.partition = user % kPartitions;  // keyed by user, as the topic
      e.time_ms = static_cast<int64_t>(rng() % (5 * kMinute));
      e.type = types[rng() % 3];
      e.user = "u" + std::to_string(user);
      e.page = "/p" + std::to_string(rng() % 12);
      e.value = static_cast<int64_t>(rng() % 1000) - 200;
      events_.push_back(std::move(e));
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `rows` as one commit of a new table at `path`.
  void Write(const std::string& path, const SchemaPtr& schema, std::vector<RecordBatch> rows) {
    DeltaSinkOptions o;
    o.table_name = path;
    o.path = path;
    o.schema = schema;
    DeltaSink sink(o);
    ASSERT_TRUE(sink.Open().ok());
    auto st = sink.Commit({"test", 0, {}}, rows);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
  }

  // The gold table of `g` as one process writes it and as a group's merged partials read.
  void Compare(const GoldConfig& g, const std::string& order_by) {
    GoldOptions one = GoldOptionsFor(g);
    auto single = GoldProcessor::Create(one);
    ASSERT_TRUE(single.ok());
    Write(dir_ + "/single", (*single)->output_schema(), RunToTheEnd(**single, SilverRows(events_)));

    GoldOptions part = one;
    part.top_k = 0;  // as Pipeline::MakeGoldQuery: partials keep every key
    std::vector<RecordBatch> partials;
    SchemaPtr partial_schema;
    for (int32_t p = 0; p < kPartitions; ++p) {
      std::vector<Event> mine;
      for (const Event& e : events_)
        if (e.partition == p) mine.push_back(e);
      auto gp = GoldProcessor::Create(part);
      ASSERT_TRUE(gp.ok());
      partial_schema = WithSourcePartition((*gp)->output_schema());
      auto tagged = TagWithPartition(std::move(*gp), p);
      for (auto& b : RunToTheEnd(*tagged, SilverRows(mine))) partials.push_back(std::move(b));
    }
    Write(dir_ + "/partials", partial_schema, std::move(partials));

    std::map<std::string, sql::MergedView> merged;
    merged["merged"].partials_name = "merged_partials";
    merged["merged"].select_sql = [g](const std::string& view) {
      return GroupGoldSelect(g, view, 100 * kMinute);
    };
    auto engine =
        OpenCatalog({{"single", dir_ + "/single"}, {"merged", dir_ + "/partials"}}, {}, merged);
    ASSERT_TRUE(engine.ok()) << engine.status().ToString();
    sql::QueryOptions qo;
    qo.row_limit = 0;
    // The sketches are compared by their estimates (their bytes may be encoded differently).
    const std::string cols = "* EXCLUDE (users_sketch)";
    auto a = (*engine)->Execute("SELECT " + cols + " FROM single ORDER BY " + order_by, qo);
    auto b = (*engine)->Execute("SELECT " + cols + " FROM merged ORDER BY " + order_by, qo);
    ASSERT_TRUE(a.ok()) << a.status().ToString();
    ASSERT_TRUE(b.ok()) << b.status().ToString();
    EXPECT_EQ(a->column_names, b->column_names);
    EXPECT_EQ(a->column_types, b->column_types);
    ASSERT_GT(a->rows.size(), 4u);
    EXPECT_EQ(a->rows, b->rows);
    auto parts =
        (*engine)->Execute("SELECT count(DISTINCT source_partition) FROM merged_partials", qo);
    ASSERT_TRUE(parts.ok());
    EXPECT_EQ(parts->rows[0][0], std::to_string(kPartitions));
  }

  std::string dir_;
  std::vector<Event> events_;
};

TEST_F(GroupGoldTest, EventsPerTypeWithDistinctUsersMergeToTheSingleProcessTable) {
  GoldConfig g;
  Compare(g, "window_start, event_type");
}

TEST_F(GroupGoldTest, ActiveUsersAcrossTypesAreNotDoubleCounted) {
  GoldConfig g;
  g.key_column = "";
  g.window_ms = 5 * kMinute;
  g.slide_ms = kMinute;
  Compare(g, "window_start");
}

TEST_F(GroupGoldTest, ValueColumnsAddUpAndTopKRanksTheMergedCounts) {
  GoldConfig sums;
  sums.key_column = "page_url";
  sums.value_column = "event_timestamp";
  Compare(sums, "window_start, page_url");
  std::filesystem::remove_all(dir_);
  GoldConfig top;
  top.key_column = "page_url";
  top.event_type_filter = "page_view";
  top.top_k = 3;
  Compare(top, "window_start, rank");
}

}  // namespace
}  // namespace strata
