// Stream-to-static joins of silver with dimension Delta tables, picked up again when a
// dimension gets a new version; and schema evolution of a silver table written before the
// enrichment columns existed.

#include "pipeline/enrichment.h"

#include <gtest/gtest.h>

#include <map>

#include "event/event_schema.h"
#include "lake/delta/table.h"
#include "pipeline/pipeline.h"
#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;

RecordBatch Bronze(const std::vector<std::pair<std::string, std::string>>& url_country,
                   int64_t first_offset) {
  RecordBatch b(BronzeSchema());
  const Schema& s = *b.schema();
  int64_t off = first_offset;
  for (const auto& [url, country] : url_country) {
    std::map<std::string, std::string> v = {{"event_id", "e" + std::to_string(off)},
                                            {"user_id", "u"},
                                            {"event_type", "page_view"},
                                            {"page_url", url},
                                            {"country", country}};
    for (size_t c = 0; c < s.num_fields(); ++c) {
      const std::string& name = s.field(c).name;
      Column& col = b.column(c);
      if (name == "event_timestamp") {
        col.AppendInt64(kNowMs);
      } else if (name == "kafka_topic") {
        col.AppendString("t");
      } else if (name == "kafka_partition") {
        col.AppendInt32(0);
      } else if (name == "kafka_offset") {
        col.AppendInt64(off);
      } else if (name == "ingestion_timestamp") {
        col.AppendInt64(kNowMs * 1000);
      } else if (auto it = v.find(name); it != v.end()) {
        col.AppendString(it->second);
      } else {
        col.AppendNull();
      }
    }
    ++off;
  }
  return b;
}

RecordBatch Pages(const std::vector<std::array<const char*, 3>>& rows) {
  RecordBatch b(PagesDimensionSchema());
  for (const auto& r : rows) {
    b.column(0).AppendString(r[0]);
    b.column(1).AppendString(r[1]);
    r[2] ? b.column(2).AppendString(r[2]) : b.column(2).AppendNull();
  }
  return b;
}

// (page_category, product, region) of each silver row of one batch, "NULL" for null.
std::vector<std::vector<std::string>> RunBatch(SilverProcessor& p, RecordBatch in, int64_t id) {
  BatchContext ctx;
  ctx.batch_id = id;
  ctx.batch_timestamp_ms = kNowMs;
  EXPECT_TRUE(p.BeginBatch(ctx).ok());
  std::vector<std::vector<RecordBatch>> out(3);
  EXPECT_TRUE(p.Process(std::move(in), out).ok());
  ProcessorMetrics m;
  EXPECT_TRUE(p.EndBatch(out, m).ok());
  std::vector<std::vector<std::string>> rows;
  for (const auto& b : out[0]) {
    int c0 = b.schema()->IndexOf("page_category");
    for (size_t r = 0; r < b.num_rows(); ++r) {
      std::vector<std::string> v;
      for (int c = c0; c < c0 + 3; ++c)
        v.push_back(b.column(c).IsNull(r) ? "NULL" : std::string(b.column(c).String(r)));
      rows.push_back(std::move(v));
    }
  }
  return rows;
}

TEST(SemanticsEnrichment, JoinsDimensionsAndPicksUpNewVersions) {
  ScratchDir dir;
  SilverOptions o;
  o.event_types = {"page_view"};
  o.enrichment.pages_path = dir.path() + "/pages";
  o.enrichment.countries_path = dir.path() + "/countries";
  auto p = SilverProcessor::Create(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  using Rows = std::vector<std::vector<std::string>>;

  // No dimension tables yet: nulls, no error.
  EXPECT_EQ(RunBatch(**p, Bronze({{"/a", "US"}}, 0), 0), (Rows{{"NULL", "NULL", "NULL"}}));

  ASSERT_TRUE(OverwriteDimensionTable(o.enrichment.pages_path, "pages",
                                      Pages({{"/a", "product", "p-a"}, {"/b", "blog", nullptr}}))
                  .ok());
  ASSERT_TRUE(
      OverwriteDimensionTable(o.enrichment.countries_path, "countries", DemoCountriesDimension())
          .ok());
  EXPECT_EQ(RunBatch(**p, Bronze({{"/a", "US"}, {"/b", "DE"}, {"/zzz", "XX"}}, 10), 1),
            (Rows{{"product", "p-a", "North America"},
                  {"blog", "NULL", "Europe"},
                  {"NULL", "NULL", "NULL"}}));

  // A new version of the pages table is used from the next batch on, without a restart.
  ASSERT_TRUE(
      OverwriteDimensionTable(o.enrichment.pages_path, "pages", Pages({{"/a", "seasonal", "p-a2"}}))
          .ok());
  EXPECT_EQ(RunBatch(**p, Bronze({{"/a", "US"}, {"/b", "US"}}, 20), 2),
            (Rows{{"seasonal", "p-a2", "North America"}, {"NULL", "NULL", "North America"}}));
}

TEST(SemanticsEnrichment, OlderSilverTableGetsTheNewColumns) {
  ScratchDir dir;
  auto config = ParsePipelineConfig("[pipeline]\ndata_dir = \"" + dir.path() + "\"\n");
  ASSERT_TRUE(config.ok()) << config.status().ToString();
  std::vector<Field> old_fields;
  for (size_t i = 0; i + 3 < SilverSchema()->num_fields(); ++i)
    old_fields.push_back(SilverSchema()->field(i));
  ASSERT_TRUE(delta::DeltaTable::CreateIfNotExists(config->silver.path, Schema(old_fields),
                                                   {"event_date"}, {}, config->silver.table)
                  .ok());
  auto pipeline = Pipeline::Create(*config);
  ASSERT_TRUE(pipeline.ok()) << pipeline.status().ToString();
  auto table = delta::DeltaTable::Open(config->silver.path);
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  auto schema = (*snap)->schema();
  ASSERT_TRUE(schema.ok());
  EXPECT_EQ(schema->num_fields(), SilverSchema()->num_fields());
  EXPECT_EQ(schema->field(schema->num_fields() - 1).name, "region");
}

}  // namespace
}  // namespace strata::semantics
