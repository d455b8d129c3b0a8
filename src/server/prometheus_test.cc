#include "server/prometheus.h"

#include <gtest/gtest.h>

#include <set>
#include <sstream>

namespace strata::server {
namespace {

// Every non-comment line is `name{labels} value` with a finite number, and every sample's
// family has HELP and TYPE lines before it.
void ExpectWellFormed(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::set<std::string> typed;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      std::istringstream f(line.substr(7));
      std::string name;
      f >> name;
      typed.insert(name);
      continue;
    }
    if (line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    ASSERT_NE(name_end, std::string::npos) << line;
    EXPECT_TRUE(typed.count(line.substr(0, name_end))) << line;
    std::string value = line.substr(line.rfind(' ') + 1);
    size_t used = 0;
    std::stod(value, &used);
    EXPECT_EQ(used, value.size()) << line;
  }
}

TEST(ServerPrometheus, RendersQueriesTotalsAndPartitionLag) {
  QueryStatusView q;
  q.name = "bronze_clickstream";
  q.state = QueryState::kActive;
  q.last_batch_id = 7;
  q.watermark_ms = 1'000'000;
  QueryProgress p;
  p.name = q.name;
  p.input_rows_per_second = 1500;
  p.processed_rows_per_second = 9000;
  p.duration_ms["triggerExecution"] = 250;
  p.source_description = "kafka[clickstream-events]";
  p.partitions.push_back({"clickstream-events-0", 10, 20, 35});
  p.partitions.push_back({"clickstream-events-1", 10, 20, -1});
  p.stateful = true;
  p.state.state_rows = 42;
  p.state.state_bytes = 4096;
  q.recent.push_back(p);
  PipelineMetrics::QueryTotals t;
  t.name = q.name;
  t.batches = 8;
  t.late_rows = 3;
  t.table_rows["catalog.streaming.bronze_clickstream"] = 12345;
  ServerCounters c;
  c.failed_terminations = 1;
  std::string text = RenderPrometheus({q}, {{q.name, t}}, c, 1'010'000);
  ExpectWellFormed(text);
  EXPECT_NE(text.find("strata_query_status{query=\"bronze_clickstream\",state=\"ACTIVE\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_query_batch_duration_seconds{query=\"bronze_clickstream\"} 0.25\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_query_watermark_delay_seconds{query=\"bronze_clickstream\"} 10\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_kafka_partition_lag{query=\"bronze_clickstream\",partition="
                      "\"clickstream-events-0\"} 15\n"),
            std::string::npos);
  EXPECT_EQ(text.find("clickstream-events-1\"}"), std::string::npos);  // latest unknown
  EXPECT_NE(text.find("strata_state_memory_bytes{query=\"bronze_clickstream\"} 4096\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_table_rows_written_total{query=\"bronze_clickstream\",table="
                      "\"catalog.streaming.bronze_clickstream\"} 12345\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_rows_late_total{query=\"bronze_clickstream\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("strata_query_failures_total 1\n"), std::string::npos);
}

TEST(ServerPrometheus, EscapesLabelValues) {
  QueryStatusView q;
  q.name = "we\"ird\\name\n";
  std::string text = RenderPrometheus({q}, {}, {}, 0);
  ExpectWellFormed(text);
  EXPECT_NE(text.find("query=\"we\\\"ird\\\\name\\n\""), std::string::npos);
}

}  // namespace
}  // namespace strata::server
