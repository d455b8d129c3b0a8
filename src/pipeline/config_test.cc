#include "pipeline/config.h"

#include <gtest/gtest.h>

#include <cstdlib>

namespace strata {
namespace {

TEST(ConfigTest, ExampleReproducesTheSeedSettings) {
  ::setenv("KAFKA_USERNAME", "user", 1);
  ::setenv("KAFKA_PASSWORD", "hunter2", 1);
  auto c = LoadPipelineConfig(std::string(STRATA_SOURCE_DIR) + "/examples/pipeline.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.topic, "clickstream-events");
  EXPECT_EQ(c->source.starting_offsets, "latest");
  EXPECT_EQ(c->source.max_offsets_per_trigger, 100000);
  EXPECT_EQ(c->bronze.trigger.interval_ms, 10'000);
  EXPECT_EQ(c->silver.trigger.interval_ms, 10'000);
  EXPECT_EQ(c->gold.trigger.interval_ms, 30'000);
  EXPECT_EQ(c->silver.watermark_ms, 600'000);
  EXPECT_EQ(c->gold.watermark_ms, 300'000);
  EXPECT_EQ(c->gold.window_ms, 60'000);
  EXPECT_EQ(c->bronze.table, "catalog.streaming.bronze_clickstream");
  EXPECT_EQ(c->gold.table, "catalog.streaming.gold_events_per_minute");
  EXPECT_EQ(c->bronze.path, "strata-data/catalog/streaming/bronze_clickstream");
  EXPECT_EQ(c->bronze.checkpoint, "strata-data/checkpoints/bronze_clickstream");
  EXPECT_EQ(c->source.kafka.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c->source.kafka.at("sasl.password"), "hunter2");
  EXPECT_EQ(c->RedactedKafka().at("sasl.password"), "***");
  EXPECT_EQ(c->RedactedKafka().at("sasl.username"), "***");
}

TEST(ConfigTest, DottedKafkaKeysPassThrough) {
  auto c = ParsePipelineConfig("kafka.security.protocol = \"SASL_SSL\"\nkafka.\"linger.ms\" = 5\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->source.kafka.at("security.protocol"), "SASL_SSL");
  EXPECT_EQ(c->source.kafka.at("linger.ms"), "5");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  struct Case {
    const char* toml;
    const char* expected;
  } cases[] = {
      {"[bronze]\ntrigerr = \"1 s\"\n", "bronze.trigerr"},
      {"[bronze]\ntrigger = \"ten seconds\"\n", "bronze.trigger"},
      {"[source]\nmaxOffsetsPerTrigger = \"many\"\n", "source.maxOffsetsPerTrigger"},
      {"[source]\nmaxOffsetsPerTrigger = 0\n", "source.maxOffsetsPerTrigger"},
      {"[gold]\noutputMode = \"complete\"\n", "gold.outputMode"},
      {"[silver]\ndedupKey = \"nope\"\n", "silver.dedupKey"},
      {"[kafka]\n\"sasl.password\" = \"${secret:STRATA_TEST_UNSET_SECRET}\"\n",
       "STRATA_TEST_UNSET_SECRET"},
      {"[broze]\n", "broze"},
      {"[gold]\nwindow = \"1 minute\"\nslide = \"7 seconds\"\n", "gold.slide"},
      {"[bronze]\ntable = \"bronze\"\n", "bronze.table"},
      {"[bronze]\nignoreChanges = true\n", "bronze.ignoreChanges"},
      {"[silver]\nignoreChanges = \"yes\"\n", "silver.ignoreChanges"},
      {"this is not toml", "<config>"},
      {"[silver]\nwatermarkPolicy = \"avg\"\n", "silver.watermarkPolicy"},
      {"[gold]\nidleTimeout = \"soon\"\n", "gold.idleTimeout"},
      {"[gold.page_views_per_minute]\nslide = \"7 seconds\"\n", "gold.page_views_per_minute.slide"},
      {"[gold.active_users_5m]\nbogus = 1\n", "gold.active_users_5m.bogus"},
      {"[gold]\nactive_users_5m = 3\n", "gold.active_users_5m"},
      {"[silver]\nrequiredFields = [\"colour\"]\n", "silver.requiredFields"},
      {"[silver.allowedValues]\ncolour = [\"red\"]\n", "silver.allowedValues.colour"},
      {"[silver]\nmaxFutureTime = 5\n", "silver.maxFutureTime"},
      {"[gold.active_users_per_minute]\ntopK = 5\n", "gold.active_users_per_minute.topK"},
      {"[gold.top_pages]\ntopK = -1\n", "gold.top_pages.topK"},
      {"[gold.sessions]\ntopK = 3\n", "gold.sessions.topK"},
      {"[gold.clicks]\ngroupBy = \"colour\"\n", "gold.clicks.groupBy"},
      {"[gold.clicks]\ngroupBy = \"event_timestamp\"\n", "gold.clicks.groupBy"},
      {"[gold.clicks]\nvalueColumn = \"country\"\n", "gold.clicks.valueColumn"},
      {"[gold.Clicks-2]\neventType = \"click\"\n", "gold.Clicks-2"},
      {"[gold.sessions]\ngroupBy = \"country\"\n", "gold.sessions.groupBy"},
      {"[gold.clicks]\nwindows = \"1 minute\"\n", "gold.clicks.windows"},
  };
  for (const auto& tc : cases) {
    auto c = ParsePipelineConfig(tc.toml);
    ASSERT_FALSE(c.ok()) << tc.toml;
    EXPECT_EQ(c.status().code(), StatusCode::kInvalidArgument) << tc.toml;
    EXPECT_NE(c.status().message().find(tc.expected), std::string::npos)
        << tc.toml << " -> " << c.status().message();
  }
}

TEST(ConfigTest, DefaultsDeriveTablesAndCheckpoints) {
  PipelineConfig c = DefaultPipelineConfig();
  EXPECT_EQ(c.silver.late_table, "catalog.streaming.silver_clickstream_late");
  EXPECT_EQ(c.silver.quarantine_table, "catalog.streaming.silver_clickstream_quarantine");
  // 11 of the pipeline's queries and dimensions, plus the monitoring and quality tables.
  EXPECT_EQ(c.Tables().size(), 14u);
  EXPECT_EQ(c.Tables().count("catalog.streaming.clickstream_progress"), 1u);
  EXPECT_EQ(c.Tables().count("catalog.streaming.silver_clickstream_quality"), 1u);
  EXPECT_EQ(c.Tables().count("catalog.streaming.bronze_clickstream_schema_drift"), 1u);
  EXPECT_EQ(c.silver.pages_path, "strata-data/catalog/dimensions/pages");
  ASSERT_EQ(c.EnabledGoldTables().size(), 5u);
  EXPECT_EQ(c.gold.watermark_rule.policy, "min");
  EXPECT_EQ(c.gold.watermark_rule.idle_timeout_ms, 0);
  EXPECT_EQ(c.gold_tables[1].table, "catalog.streaming.gold_active_users_5m");
  EXPECT_EQ(c.gold_tables[1].window_ms, 300'000);
  EXPECT_EQ(c.gold_tables[1].slide_ms, 60'000);
  EXPECT_EQ(c.gold_tables[2].key_column, "page_url");
  EXPECT_EQ(c.gold_tables[2].event_type_filter, "page_view");
  EXPECT_EQ(c.gold_tables[2].top_k, 0);
  const GoldConfig* top = c.EnabledGoldTables().back();
  EXPECT_EQ(top->table, "catalog.streaming.gold_top_pages_per_minute");
  EXPECT_EQ(top->key_column, "page_url");
  EXPECT_EQ(top->event_type_filter, "page_view");
  EXPECT_EQ(top->top_k, 10);
  EXPECT_EQ(c.gold.checkpoint, "strata-data/_checkpoints/gold_events_per_minute");
}

TEST(ConfigTest, WatermarkRulesValidationAndGoldTables) {
  auto c = ParsePipelineConfig(
      "[silver]\nwatermarkPolicy = \"max\"\nidleTimeout = \"30 seconds\"\n"
      "requiredFields = [\"session_id\"]\nmaxFutureTime = \"5 minutes\"\n"
      "[silver.allowedValues]\ndevice_type = [\"mobile\", \"desktop\"]\n"
      "[gold]\noutputMode = \"update\"\ntrigger = \"1 second\"\nidleTimeout = \"1 minute\"\n"
      "[gold.active_users_per_minute]\nenabled = false\n"
      "[gold.active_users_5m]\nwindow = \"10 minutes\"\nslide = \"2 minutes\"\n"
      "outputMode = \"append\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->silver.watermark_rule.policy, "max");
  EXPECT_EQ(c->silver.watermark_rule.idle_timeout_ms, 30'000);
  EXPECT_EQ(c->silver.required_fields, std::vector<std::string>{"session_id"});
  EXPECT_EQ(c->silver.max_future_ms, 300'000);
  EXPECT_EQ(c->silver.allowed_values.at("device_type").size(), 2u);
  EXPECT_EQ(c->gold.output_mode, "update");
  auto gold = c->EnabledGoldTables();
  ASSERT_EQ(gold.size(), 4u);
  EXPECT_EQ(gold[1]->name, "active_users_5m");
  EXPECT_EQ(gold[1]->window_ms, 600'000);
  EXPECT_EQ(gold[1]->slide_ms, 120'000);
  EXPECT_EQ(gold[1]->output_mode, "append");
  EXPECT_EQ(gold[1]->trigger.interval_ms, 1'000);  // inherited from [gold]
  EXPECT_EQ(gold[1]->watermark_rule.idle_timeout_ms, 60'000);
  EXPECT_EQ(gold[2]->output_mode, "update");
  EXPECT_EQ(c->Tables().count("catalog.streaming.gold_active_users_per_minute"), 0u);
}

TEST(ConfigTest, GoldTablesOfTheUsersOwn) {
  auto c = ParsePipelineConfig(
      "[gold]\noutputMode = \"update\"\nwindow = \"2 minutes\"\n"
      "[gold.clicks_by_country]\ngroupBy = \"country\"\neventType = \"click\"\n"
      "valueColumn = \"event_timestamp\"\n"
      "[gold.purchases_5m]\ntable = \"catalog.marts.purchases\"\neventType = \"purchase\"\n"
      "groupBy = \"\"\nwindow = \"5 minutes\"\nslide = \"1 minute\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const GoldConfig* clicks = nullptr;
  const GoldConfig* purchases = nullptr;
  for (const GoldConfig* g : c->EnabledGoldTables()) {
    if (g->name == "clicks_by_country") clicks = g;
    if (g->name == "purchases_5m") purchases = g;
  }
  ASSERT_NE(clicks, nullptr);
  ASSERT_NE(purchases, nullptr);
  EXPECT_EQ(clicks->table, "catalog.streaming.gold_clicks_by_country");
  EXPECT_EQ(clicks->key_column, "country");
  EXPECT_EQ(clicks->event_type_filter, "click");
  EXPECT_EQ(clicks->value_column, "event_timestamp");
  EXPECT_EQ(clicks->window_ms, 120'000);  // [gold]'s window and output mode
  EXPECT_EQ(clicks->output_mode, "update");
  EXPECT_EQ(purchases->table, "catalog.marts.purchases");
  EXPECT_EQ(purchases->key_column, "");
  EXPECT_EQ(purchases->window_ms, 300'000);
  EXPECT_EQ(purchases->slide_ms, 60'000);
  EXPECT_NE(purchases->checkpoint, clicks->checkpoint);
  EXPECT_EQ(c->Tables().count("catalog.marts.purchases"), 1u);
}

}  // namespace
}  // namespace strata
