// The HTTP API against real Delta tables written by the pipeline (embedded Kafka, generated
// traffic, available-now runs) with real HTTP requests over loopback: status codes, SQL results
// equal to a direct query, hostile SQL refused, auth, Server-Sent Events after a batch, and
// the Prometheus text of /metrics.
#include <gtest/gtest.h>
#include <httplib.h>
#include <simdjson.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "event/generator.h"
#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"
#include "pipeline/catalog.h"
#include "pipeline/pipeline.h"
#include "server/server.h"
#include "sql/sql_engine.h"

namespace strata {
namespace {

const std::string kBronze = "catalog.streaming.bronze_clickstream";
const std::string kSilver = "catalog.streaming.silver_clickstream";
const std::string kGold = "catalog.streaming.gold_events_per_minute";

std::string SqlBody(const std::string& sql, int limit = -1, const std::string& format = "") {
  std::string escaped;
  for (char c : sql) {
    if (c == '"' || c == '\\') escaped.push_back('\\');
    escaped.push_back(c == '\n' ? ' ' : c);
  }
  std::string body = "{\"sql\":\"" + escaped + "\"";
  if (limit >= 0) body += ",\"limit\":" + std::to_string(limit);
  if (!format.empty()) body += ",\"format\":\"" + format + "\"";
  return body + "}";
}

class ServerApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string((std::filesystem::temp_directory_path() /
                            ("strata_server_api_" + std::to_string(::getpid())))
                               .string());
    std::filesystem::remove_all(*dir_);
    auto cluster = EmbeddedCluster::Start({1, {{"clickstream-events", 4}}, 1});
    ASSERT_TRUE(cluster.ok()) << cluster.status().ToString();
    cluster_ = cluster->release();
    auto producer = Producer::Create(cluster_->bootstrap_servers(), {{"linger.ms", "10"}});
    ASSERT_TRUE(producer.ok()) << producer.status().ToString();
    producer_ = producer->release();

    server::ServerOptions so;
    so.listen = "127.0.0.1:0";
    so.tables = Config().Tables();
    so.allowed_directories = {*dir_};
    so.heartbeat_ms = 500;
    so.sql_max_rows = 500;
    auto s = server::Server::Start(so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    server_ = s->release();
    Produce(1, 1'790'000'000'000, 3000);
    RunPipelineOnce();
  }

  static void TearDownTestSuite() {
    delete server_;
    delete pipeline_;
    delete producer_;
    delete cluster_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static PipelineConfig Config() {
    auto c = ParsePipelineConfig("[pipeline]\ndata_dir = \"" + *dir_ +
                                 "\"\n[source]\nstartingOffsets = \"earliest\"\n");
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    c->source.kafka["bootstrap.servers"] = cluster_->bootstrap_servers();
    return *c;
  }

  static void Produce(uint64_t seed, int64_t start_ms, int n) {
    GeneratorOptions g;
    g.seed = seed;
    g.num_users = 500;
    g.simulated_start_ms = start_ms;
    g.simulated_rate = 4;  // 3000 events span 12.5 minutes: gold windows close
    g.duplicate_fraction = 0.02;
    g.malformed_fraction = 0.01;
    g.unknown_type_fraction = 0.01;
    TrafficGenerator gen(g);
    GeneratedRecord rec;
    for (int i = 0; i < n; ++i) {
      gen.Next(rec);
      ASSERT_TRUE(producer_->Produce("clickstream-events", rec.key, rec.value).ok());
    }
    ASSERT_TRUE(producer_->Flush(std::chrono::seconds(30)).ok());
  }

  // An available-now run that reports to the server, which then shows its queries.
  static void RunPipelineOnce() {
    server_->SetQueriesProvider(nullptr);
    delete pipeline_;
    pipeline_ = nullptr;
    auto p = Pipeline::Create(Config(), {true, server_->listener(), nullptr});
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    pipeline_ = p->release();
    Status st = pipeline_->RunAvailableNow();
    ASSERT_TRUE(st.ok()) << st.ToString();
    Pipeline* raw = pipeline_;
    server_->SetQueriesProvider([raw] { return raw->Queries(); });
  }

  static sql::QueryResult Direct(const std::string& sql) {
    auto engine = OpenCatalog(Config().Tables());
    EXPECT_TRUE(engine.ok()) << engine.status().ToString();
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(sql, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    return r.ok() ? *r : sql::QueryResult{};
  }

  httplib::Client Client() {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(30, 0);
    return c;
  }

  httplib::Result PostSql(const std::string& body) {
    return Client().Post("/api/sql", body, "application/json");
  }

  // The JSON body of a successful /api/sql call without its elapsedMs field, which is what
  // sql::FormatJson gives for the same result.
  static std::string WithoutElapsed(const std::string& body) {
    size_t comma = body.find(',');
    EXPECT_EQ(body.rfind("{\"elapsedMs\":", 0), 0u) << body;
    return "{" + body.substr(comma + 1);
  }

  static std::string* dir_;
  static EmbeddedCluster* cluster_;
  static Producer* producer_;
  static server::Server* server_;
  static Pipeline* pipeline_;
};

std::string* ServerApiTest::dir_ = nullptr;
EmbeddedCluster* ServerApiTest::cluster_ = nullptr;
Producer* ServerApiTest::producer_ = nullptr;
server::Server* ServerApiTest::server_ = nullptr;
Pipeline* ServerApiTest::pipeline_ = nullptr;

TEST_F(ServerApiTest, QueriesListsEveryQueryWithProgress) {
  auto res = Client().Get("/api/queries");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::array queries;
  ASSERT_FALSE(parser.parse(res->body).get_array().get(queries)) << res->body;
  std::set<std::string> names;
  for (simdjson::dom::element q : queries) {
    std::string_view name, status;
    ASSERT_FALSE(q["name"].get_string().get(name));
    ASSERT_FALSE(q["status"].get_string().get(status));
    names.insert(std::string(name));
    EXPECT_EQ(status, "STOPPED") << name;
    simdjson::dom::array recent;
    ASSERT_FALSE(q["recentProgress"].get_array().get(recent));
    EXPECT_GT(recent.size(), 0u) << name;
    int64_t batch = -1;
    ASSERT_FALSE(q["lastBatchId"].get_int64().get(batch));
    EXPECT_GE(batch, 0) << name;
  }
  std::set<std::string> expected;
  for (const auto& q : pipeline_->Queries()) expected.insert(q.name);
  EXPECT_EQ(names, expected);
  EXPECT_TRUE(names.count("bronze_clickstream") && names.count("silver_clickstream") &&
              names.count("gold_events_per_minute"));
}

TEST_F(ServerApiTest, AlertsComeFromTheProvider) {
  auto empty = Client().Get("/api/alerts");
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->status, 200);
  EXPECT_EQ(empty->body, R"({"active":[],"recent":[]})");
  server_->SetAlertsProvider(
      [] { return std::string(R"({"active":[{"rule":"lag"}],"recent":[]})"); });
  auto some = Client().Get("/api/alerts");
  ASSERT_TRUE(some);
  EXPECT_EQ(some->body, R"({"active":[{"rule":"lag"}],"recent":[]})");
  server_->SetAlertsProvider(nullptr);
}

TEST_F(ServerApiTest, SqlResultsEqualADirectQuery) {
  const std::vector<std::string> queries = {
      "SELECT count(*) AS n FROM " + kBronze,
      "SELECT event_type, count(*) AS n FROM " + kSilver + " GROUP BY event_type ORDER BY 1",
      "SELECT window_start, event_type, event_count, is_final FROM " + kGold +
          " ORDER BY window_start, event_type",
      "SELECT window_start, hll_merge_estimate(users_sketch) AS users FROM " + kGold +
          " GROUP BY window_start ORDER BY window_start",
      "SELECT event_type, SUM(event_count) AS total, ROUND(SUM(event_count) * 100.0 / "
      "SUM(SUM(event_count)) OVER(), 1) AS pct FROM " +
          kGold + " GROUP BY event_type ORDER BY total DESC, event_type",
  };
  for (const auto& q : queries) {
    auto res = PostSql(SqlBody(q, 0));
    ASSERT_TRUE(res);
    ASSERT_EQ(res->status, 200) << q << "\n" << res->body;
    sql::QueryResult direct = Direct(q);
    EXPECT_FALSE(direct.rows.empty()) << q;
    EXPECT_EQ(WithoutElapsed(res->body), sql::FormatJson(direct)) << q;
  }
}

// A merged table (group mode's gold: partials merged on read): its files are registered under
// the partials name and its own name is the view the MergedView builds, rebuilt per statement
// (its finality follows the partitions' watermarks without a new table version).
TEST_F(ServerApiTest, MergedTablesReadThroughTheirViewRebuiltPerStatement) {
  const std::string gold_path = Config().Tables().at(kGold);
  auto built = std::make_shared<std::atomic<int>>(0);
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.tables = {{"catalog.merged.gold", gold_path}};
  so.merged_tables["catalog.merged.gold"].partials_name = "catalog.merged.gold_partials";
  so.merged_tables["catalog.merged.gold"].select_sql = [built](const std::string& view) {
    ++*built;
    return "SELECT window_start, CAST(sum(event_count) AS BIGINT) AS events FROM " + view +
           " GROUP BY window_start";
  };
  so.allowed_directories = {*dir_};
  auto server = server::Server::Start(so);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  httplib::Client c("127.0.0.1", (*server)->port());
  c.set_read_timeout(30, 0);
  const int before = built->load();
  auto merged =
      c.Post("/api/sql", SqlBody("SELECT * FROM catalog.merged.gold ORDER BY window_start", 0),
             "application/json");
  ASSERT_TRUE(merged);
  ASSERT_EQ(merged->status, 200) << merged->body;
  EXPECT_GT(built->load(), before) << "the view is rebuilt for the statement";
  sql::QueryResult direct = Direct(
      "SELECT window_start, CAST(sum(event_count) AS BIGINT) AS events "
      "FROM " +
      kGold + " GROUP BY window_start ORDER BY window_start");
  ASSERT_FALSE(direct.rows.empty());
  EXPECT_EQ(WithoutElapsed(merged->body), sql::FormatJson(direct));
  auto partials =
      c.Post("/api/sql", SqlBody("SELECT count(*) AS n FROM catalog.merged.gold_partials", 0),
             "application/json");
  ASSERT_TRUE(partials);
  EXPECT_EQ(partials->status, 200) << partials->body;
  EXPECT_EQ(WithoutElapsed(partials->body),
            sql::FormatJson(Direct("SELECT count(*) AS n FROM " + kGold)));
}

TEST_F(ServerApiTest, SqlCsvAndRowLimit) {
  std::string q = "SELECT event_id FROM " + kSilver + " ORDER BY event_id";
  auto res = PostSql(SqlBody(q, 5, "csv"));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(res->get_header_value("X-Strata-Truncated"), "true");
  sql::QueryResult direct = Direct(q);
  direct.rows.resize(5);
  direct.truncated = true;
  direct.row_limit = 5;
  EXPECT_EQ(res->body, sql::FormatCsv(direct));

  // A limit above the server's maximum is capped at it.
  res = PostSql(SqlBody(q, 100000));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_FALSE(parser.parse(res->body).get(doc));
  EXPECT_EQ(doc["rows"].get_array().value().size(), 500u);
  EXPECT_TRUE(doc["truncated"].get_bool().value());
}

TEST_F(ServerApiTest, BadRequestsGetA400WithAnErrorBody) {
  for (const std::string& body :
       {std::string("not json"), std::string("{}"), std::string("{\"sql\": 3}"),
        std::string("{\"sql\":\"SELECT 1\",\"format\":\"xml\"}"),
        std::string("{\"sql\":\"SELECT 1\",\"limit\":-1}"), SqlBody("SELEC nonsense FROM"),
        SqlBody("SELECT * FROM catalog.streaming.no_such")}) {
    auto res = PostSql(body);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 400) << body;
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.parse(res->body).get(doc)) << res->body;
    std::string_view code, message;
    EXPECT_FALSE(doc["error"]["code"].get_string().get(code)) << res->body;
    EXPECT_FALSE(doc["error"]["message"].get_string().get(message)) << res->body;
    EXPECT_FALSE(message.empty());
  }
  auto res = Client().Get("/api/nothing-here");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
}

TEST_F(ServerApiTest, HostileSqlIsRefusedAndChangesNothing) {
  std::string outside = *dir_ + "_outside.csv";
  std::string passwd_copy = *dir_ + "/copied.csv";
  int64_t before = std::stoll(*Direct("SELECT count(*) FROM " + kSilver).rows[0][0]);
  const std::vector<std::string> hostile = {
      "DROP VIEW " + kSilver,
      "DROP TABLE " + kSilver,
      "INSERT INTO " + kSilver + " SELECT * FROM " + kSilver,
      "DELETE FROM " + kSilver,
      "CREATE TABLE t AS SELECT 1",
      "COPY (SELECT 1) TO '" + outside + "'",
      "COPY (SELECT * FROM " + kSilver + ") TO '" + passwd_copy + "'",
      "ATTACH '" + *dir_ + "/x.duckdb' AS x",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('/etc/hostname')",
      "SELECT * FROM read_parquet('/proc/self/environ')",
      "SELECT * FROM delta.`/etc`",
      "SET enable_external_access = true",
      "SET memory_limit = '100GB'",
      "PRAGMA enable_profiling",
      "INSTALL httpfs",
      "LOAD httpfs",
      "SELECT 1; DROP VIEW " + kSilver,
      "SELECT 1; SELECT 2",
      "CALL pragma_version()",
      "EXPORT DATABASE '" + outside + "'",
  };
  for (const auto& q : hostile) {
    auto res = PostSql(SqlBody(q));
    ASSERT_TRUE(res) << q;
    EXPECT_EQ(res->status, 400) << q << "\n" << res->body;
    EXPECT_NE(res->body.find("\"error\""), std::string::npos) << q;
  }
  EXPECT_FALSE(std::filesystem::exists(outside));
  EXPECT_FALSE(std::filesystem::exists(passwd_copy));
  EXPECT_FALSE(std::filesystem::exists(*dir_ + "/x.duckdb"));
  auto res = PostSql(SqlBody("SELECT count(*) AS n FROM " + kSilver));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_NE(res->body.find("\"rows\":[[" + std::to_string(before) + "]]"), std::string::npos)
      << res->body;
}

TEST_F(ServerApiTest, MetricsIsPrometheusTextWithTheRowsWritten) {
  auto res = Client().Get("/metrics");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type").rfind("text/plain; version=0.0.4", 0), 0u);
  std::istringstream in(res->body);
  std::string line;
  std::set<std::string> typed;
  std::map<std::string, double> samples;
  while (std::getline(in, line)) {
    ASSERT_FALSE(line.empty());
    if (line.rfind("# TYPE ", 0) == 0) {
      typed.insert(line.substr(7, line.find(' ', 7) - 7));
      continue;
    }
    if (line[0] == '#') continue;
    size_t name_end = line.find_first_of("{ ");
    EXPECT_TRUE(typed.count(line.substr(0, name_end))) << line;
    size_t space = line.rfind(' ');
    samples[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  int64_t bronze_rows = std::stoll(*Direct("SELECT count(*) FROM " + kBronze).rows[0][0]);
  EXPECT_EQ(samples["strata_table_rows_written_total{query=\"bronze_clickstream\",table=\"" +
                    kBronze + "\"}"],
            bronze_rows);
  EXPECT_EQ(samples["strata_query_status{query=\"silver_clickstream\",state=\"STOPPED\"}"], 1);
  EXPECT_TRUE(
      samples.count("strata_query_batch_duration_seconds{query=\"gold_events_per_minute\"}"));
  EXPECT_TRUE(samples.count("strata_rows_dropped_duplicates_total{query=\"silver_clickstream\"}"));
  EXPECT_TRUE(samples.count("strata_rows_quarantined_total{query=\"silver_clickstream\"}"));
  EXPECT_TRUE(
      samples.count("strata_kafka_partition_lag{query=\"bronze_clickstream\",partition="
                    "\"clickstream-events-0\"}"));
  EXPECT_GT(samples["strata_rows_quarantined_total{query=\"silver_clickstream\"}"], 0);
  EXPECT_EQ(samples["strata_query_failures_total"], 0);
}

TEST_F(ServerApiTest, StreamDeliversProgressAndCommitsOfANewBatchAndSqlSeesThem) {
  std::string received;
  std::atomic<bool> got_hello{false}, done{false};
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", server_->port());
    c.set_read_timeout(60, 0);
    c.Get("/api/stream", [&](const char* data, size_t n) {
      received.append(data, n);
      if (received.find("event: hello") != std::string::npos) got_hello = true;
      bool enough = received.find("event: commit\ndata: {\"query\":\"silver_clickstream\"") !=
                        std::string::npos &&
                    received.find("event: progress\ndata: {") != std::string::npos;
      if (enough) done = true;
      return !enough;
    });
  });
  for (int i = 0; i < 300 && !got_hello; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_TRUE(got_hello);
  int64_t before = std::stoll(*Direct("SELECT count(*) FROM " + kSilver).rows[0][0]);
  Produce(2, 1'790'000'000'000 + 3000 * 250, 1000);
  RunPipelineOnce();
  reader.join();
  EXPECT_TRUE(done) << received;
  EXPECT_NE(received.find("\"table\":\"" + kBronze + "\""), std::string::npos);
  // The new commits are visible to SQL at once.
  auto res = PostSql(SqlBody("SELECT count(*) AS n FROM " + kSilver));
  ASSERT_TRUE(res);
  int64_t after = std::stoll(*Direct("SELECT count(*) FROM " + kSilver).rows[0][0]);
  EXPECT_GT(after, before);
  EXPECT_NE(res->body.find("\"rows\":[[" + std::to_string(after) + "]]"), std::string::npos)
      << res->body;
}

TEST_F(ServerApiTest, QueriesCarryTotalsSinceStart) {
  auto res = Client().Get("/api/queries");
  ASSERT_TRUE(res);
  simdjson::dom::parser parser;
  simdjson::dom::array queries;
  ASSERT_FALSE(parser.parse(res->body).get_array().get(queries)) << res->body;
  int64_t silver_quarantined = -1, bronze_input = -1;
  for (simdjson::dom::element q : queries) {
    std::string_view name;
    ASSERT_FALSE(q["name"].get_string().get(name));
    simdjson::dom::object totals;
    ASSERT_FALSE(q["totals"].get_object().get(totals)) << name;
    for (const char* key : {"batches", "inputRows", "lateRows", "droppedByWatermark",
                            "droppedDuplicates", "quarantinedRows"}) {
      int64_t v = -1;
      ASSERT_FALSE(totals[key].get_int64().get(v)) << name << " " << key;
      EXPECT_GE(v, 0) << name << " " << key;
    }
    if (name == "bronze_clickstream") {
      ASSERT_FALSE(totals["inputRows"].get_int64().get(bronze_input));
    }
    if (name == "silver_clickstream") {
      ASSERT_FALSE(totals["quarantinedRows"].get_int64().get(silver_quarantined));
    }
  }
  // Every record produced so far went through bronze; malformed ones reach the quarantine.
  int64_t bronze_rows = std::stoll(*Direct("SELECT count(*) FROM " + kBronze).rows[0][0]);
  EXPECT_EQ(bronze_input, bronze_rows);
  EXPECT_GT(silver_quarantined, 0);
}

TEST_F(ServerApiTest, StreamPushesAlertsThatFireOrResolveAndRetriedBatches) {
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.tables = Config().Tables();
  so.allowed_directories = {*dir_};
  so.heartbeat_ms = 100;
  so.alerts_poll_ms = 20;
  auto s = server::Server::Start(so);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  std::mutex mu;
  std::string alerts =
      R"({"active":[{"id":"old-1","rule":"old","status":"firing","message":"before"}],"recent":[]})";
  auto set_alerts = [&](std::string json) {
    std::lock_guard<std::mutex> lock(mu);
    alerts = std::move(json);
  };
  (*s)->SetAlertsProvider([&] {
    std::lock_guard<std::mutex> lock(mu);
    return alerts;
  });
  std::string got;
  std::mutex got_mu;
  std::atomic<bool> hello{false}, stop{false};
  std::thread reader([&, port = (*s)->port()] {
    httplib::Client c("127.0.0.1", port);
    c.set_read_timeout(30, 0);
    c.Get("/api/stream", [&](const char* d, size_t n) {
      std::lock_guard<std::mutex> lock(got_mu);
      got.append(d, n);
      if (got.find("event: hello") != std::string::npos) hello = true;
      return !stop.load();
    });
  });
  auto wait_for = [&](const std::string& text) {
    for (int i = 0; i < 1000; ++i) {
      {
        std::lock_guard<std::mutex> lock(got_mu);
        if (got.find(text) != std::string::npos) return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  ASSERT_TRUE(wait_for("event: hello"));
  // Let the watcher read the baseline (the old alert) before anything changes.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  set_alerts(R"({"active":[{"id":"lag-2","rule":"lag","status":"firing","message":"lag 5"},)"
             R"({"id":"old-1","rule":"old","status":"firing","message":"still"}],"recent":[]})");
  EXPECT_TRUE(wait_for(R"(event: alert)"
                       "\n"
                       R"(data: {"id":"lag-2","rule":"lag","status":"firing")"));
  set_alerts(R"({"active":[{"id":"old-1","rule":"old","status":"firing","message":"still"}],)"
             R"("recent":[{"id":"lag-2","rule":"lag","status":"resolved","message":"lag 0"}]})");
  EXPECT_TRUE(
      wait_for(R"(data: {"id":"lag-2","rule":"lag","status":"resolved","message":"lag 0"})"));
  // A retried batch goes out as it happens.
  (*s)->listener()->OnBatchRetry("qid", "silver_clickstream", 7, 1,
                                 Unavailable("commit of version 9 lost a race"));
  EXPECT_TRUE(wait_for(
      R"(event: retry)"
      "\n"
      R"(data: {"id":"qid","query":"silver_clickstream","batchId":7,"attempt":1,"error":")"));
  stop = true;
  reader.join();
  (*s)->Stop();
  std::lock_guard<std::mutex> lock(got_mu);
  // The baseline alert, present before the first read, is never pushed; each change once.
  EXPECT_EQ(got.find("old-1"), std::string::npos) << got;
  size_t first = got.find("\"id\":\"lag-2\",\"rule\":\"lag\",\"status\":\"firing\"");
  EXPECT_EQ(got.find("\"id\":\"lag-2\",\"rule\":\"lag\",\"status\":\"firing\"", first + 1),
            std::string::npos)
      << got;
}

TEST_F(ServerApiTest, AuthTokenProtectsTheApiButNotTheDashboard) {
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.auth_token = "s3cret-token";
  so.tables = Config().Tables();
  so.allowed_directories = {*dir_};
  so.heartbeat_ms = 200;
  auto s = server::Server::Start(so);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  httplib::Client c("127.0.0.1", (*s)->port());
  for (const char* path : {"/api/queries", "/metrics", "/api/tables", "/api/stream"}) {
    auto res = c.Get(path);
    ASSERT_TRUE(res) << path;
    EXPECT_EQ(res->status, 401) << path;
    EXPECT_EQ(res->get_header_value("WWW-Authenticate"), "Bearer realm=\"strata\"");
    res = c.Get(path, {{"Authorization", "Bearer wrong-token!"}});
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 401) << path;
  }
  auto res = c.Post("/api/sql", SqlBody("SELECT 1 AS x"), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 401);
  httplib::Headers auth = {{"Authorization", "Bearer s3cret-token"}};
  res = c.Post("/api/sql", auth, SqlBody("SELECT 1 AS x"), "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  for (const char* path : {"/api/queries", "/metrics", "/api/tables"}) {
    res = c.Get(path, auth);
    ASSERT_TRUE(res);
    EXPECT_EQ(res->status, 200) << path;
  }
  // EventSource cannot send headers: the stream takes the token as a parameter.
  std::string got;
  c.Get("/api/stream?access_token=s3cret-token", [&](const char* d, size_t n) {
    got.append(d, n);
    return got.find("event: hello") == std::string::npos;
  });
  EXPECT_NE(got.find("event: hello"), std::string::npos);
  // The dashboard's page itself needs no token (it asks for one).
  res = c.Get("/");
  ASSERT_TRUE(res);
  EXPECT_NE(res->status, 401);
}

TEST_F(ServerApiTest, RefusesNonLoopbackWithoutTokenAndBadAddresses) {
  server::ServerOptions so;
  so.tables = Config().Tables();
  so.allowed_directories = {*dir_};
  so.listen = "0.0.0.0:0";
  auto s = server::Server::Start(so);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.status().message().find("auth token"), std::string::npos);
  for (const char* bad : {"localhost", ":80", "127.0.0.1:99999", "127.0.0.1:http"}) {
    so.listen = bad;
    EXPECT_EQ(server::Server::Start(so).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  so.listen = "127.0.0.1:" + std::to_string(server_->port());  // taken
  EXPECT_EQ(server::Server::Start(so).status().code(), StatusCode::kUnavailable);
}

TEST_F(ServerApiTest, RestartsOnItsPortRightAfterClosingConnections) {
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.tables = Config().Tables();
  so.allowed_directories = {*dir_};
  so.heartbeat_ms = 100;
  auto first = server::Server::Start(so);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  int port = (*first)->port();
  // Keep-alive connections and a stream client that the server closes when it stops: their
  // sockets linger in TIME_WAIT on the server's port.
  std::atomic<bool> hello{false};
  std::thread stream([&] {
    httplib::Client c("127.0.0.1", port);
    std::string got;
    c.Get("/api/stream", [&](const char* d, size_t n) {
      got.append(d, n);
      if (got.find("event: hello") != std::string::npos) hello = true;
      return true;
    });
  });
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.Get("/api/queries"));
  for (int i = 0; i < 500 && !hello; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(hello);
  (*first)->Stop();
  stream.join();
  so.listen = "127.0.0.1:" + std::to_string(port);
  auto second = server::Server::Start(so);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  auto res = httplib::Client("127.0.0.1", port).Get("/api/queries");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  // While it listens, a third server cannot take the port.
  EXPECT_EQ(server::Server::Start(so).status().code(), StatusCode::kUnavailable);
}

TEST_F(ServerApiTest, StreamRefusesClientsBeyondItsLimitAndServesTheRest) {
  server::ServerOptions so;
  so.listen = "127.0.0.1:0";
  so.tables = Config().Tables();
  so.allowed_directories = {*dir_};
  so.heartbeat_ms = 100;
  so.max_sse_clients = 3;
  so.http_threads = 8;
  auto s = server::Server::Start(so);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  int port = (*s)->port();
  std::atomic<int> hellos{0};
  std::atomic<bool> release{false};
  std::vector<std::thread> clients;
  for (int i = 0; i < 3; ++i) {
    clients.emplace_back([&, port] {
      httplib::Client c("127.0.0.1", port);
      std::string got;
      bool counted = false;
      c.Get("/api/stream", [&](const char* d, size_t n) {
        got.append(d, n);
        if (!counted && got.find("event: hello") != std::string::npos) {
          counted = true;
          ++hellos;
        }
        return !release.load();
      });
    });
  }
  for (int i = 0; i < 500 && hellos < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_EQ(hellos.load(), 3);
  httplib::Client c("127.0.0.1", port);
  auto res = c.Get("/api/stream");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 503);
  // Other endpoints still answer while the stream clients hold their threads.
  res = c.Get("/api/queries");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  release = true;  // each client ends at its next heartbeat
  for (auto& t : clients) t.join();
  (*s)->Stop();
}

}  // namespace
}  // namespace strata
