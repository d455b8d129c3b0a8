#include "sql/sql_engine.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "core/time_util.h"
#include "lake/parquet/parquet_writer.h"

namespace strata::sql {
namespace {

namespace fs = std::filesystem;

constexpr int64_t kMinute = 60LL * 1000000;

SchemaPtr GoldSchema() {
  return std::make_shared<Schema>(std::vector<Field>{{"window_start", TypeId::kTimestamp},
                                                     {"event_type", TypeId::kString},
                                                     {"event_count", TypeId::kInt64},
                                                     {"unique_users", TypeId::kInt64}});
}

class SqlEngineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string tmpl = (fs::temp_directory_path() / "strata_sql_XXXXXX").string();
    ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    auto w = ParquetWriter::Create();
    ASSERT_TRUE(w.ok());
    writer_ = std::move(*w);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct GoldRow {
    int64_t window_start;
    const char* type;
    int64_t count;
    int64_t users;
  };
  std::string WriteGold(const std::string& name, const std::vector<GoldRow>& rows) {
    RecordBatch b(GoldSchema());
    for (const auto& r : rows) {
      b.column(0).AppendInt64(r.window_start);
      b.column(1).AppendString(r.type);
      b.column(2).AppendInt64(r.count);
      b.column(3).AppendInt64(r.users);
    }
    std::string path = dir_ + "/" + name;
    auto info = writer_->Write(b, path);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    return path;
  }

  // Windows relative to now: 1, 2, 3 minutes ago are within the last 5 minutes; 10 minutes ago
  // is within the hour only; 2 hours ago is outside both.
  TableFiles SeedGold() {
    int64_t now = NowMicros() / kMinute * kMinute;
    w1_ = now - 1 * kMinute;
    w2_ = now - 2 * kMinute;
    w3_ = now - 3 * kMinute;
    TableFiles t;
    t.schema = GoldSchema();
    t.files.push_back(
        {WriteGold("part-0.parquet",
                   {{w1_, "page_view", 10, 4}, {w1_, "click", 5, 2}, {w2_, "page_view", 20, 6}}),
         {}});
    t.files.push_back({WriteGold("part-1.parquet", {{w3_, "purchase", 5, 1},
                                                    {now - 10 * kMinute, "click", 15, 3},
                                                    {now - 120 * kMinute, "page_view", 1000, 50}}),
                       {}});
    return t;
  }

  std::unique_ptr<SqlEngine> OpenEngine(bool restrict = false) {
    SqlEngineOptions opts;
    opts.restrict_file_access = restrict;
    opts.allowed_directories = {dir_};
    auto e = SqlEngine::Open(opts);
    EXPECT_TRUE(e.ok()) << e.status().ToString();
    return std::move(*e);
  }

  std::string dir_;
  std::unique_ptr<ParquetWriter> writer_;
  int64_t w1_ = 0, w2_ = 0, w3_ = 0;
};

const char* kActiveUsersQuery =
    "SELECT window_start, SUM(unique_users) AS active_users, SUM(event_count) AS total_events "
    "FROM catalog.streaming.gold_events_per_minute "
    "WHERE window_start >= current_timestamp() - INTERVAL 5 MINUTES "
    "GROUP BY window_start ORDER BY window_start DESC;";
const char* kEventMixQuery =
    "SELECT event_type, SUM(event_count) AS total, "
    "ROUND(SUM(event_count) * 100.0 / SUM(SUM(event_count)) OVER(), 1) AS pct "
    "FROM catalog.streaming.gold_events_per_minute "
    "WHERE window_start >= current_timestamp() - INTERVAL 1 HOUR "
    "GROUP BY event_type ORDER BY total DESC;";

TEST_F(SqlEngineTest, SeedDashboardQueriesRunUnchanged) {
  auto engine = OpenEngine();
  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", SeedGold()).ok());

  auto q1 = engine->Execute(kActiveUsersQuery);
  ASSERT_TRUE(q1.ok()) << q1.status().ToString();
  ASSERT_EQ(q1->column_names,
            (std::vector<std::string>{"window_start", "active_users", "total_events"}));
  EXPECT_EQ(q1->column_types[0], "TIMESTAMP WITH TIME ZONE");
  ASSERT_EQ(q1->rows.size(), 3u);
  const int64_t windows[] = {w1_, w2_, w3_};
  const char* users[] = {"6", "6", "1"};
  const char* totals[] = {"15", "20", "5"};
  for (size_t i = 0; i < 3; ++i) {
    // "2026-11-24T06:34:00.000Z" -> "2026-11-24 06:34:00+00"
    std::string iso = FormatTimestampMicros(windows[i]);
    std::string want = iso.substr(0, 10) + " " + iso.substr(11, 8) + "+00";
    EXPECT_EQ(q1->rows[i][0].value_or("NULL"), want);
    EXPECT_EQ(q1->rows[i][1].value_or("NULL"), users[i]);
    EXPECT_EQ(q1->rows[i][2].value_or("NULL"), totals[i]);
  }

  auto q2 = engine->Execute(kEventMixQuery);
  ASSERT_TRUE(q2.ok()) << q2.status().ToString();
  ASSERT_EQ(q2->rows.size(), 3u);
  std::vector<std::vector<std::string>> want = {
      {"page_view", "30", "54.5"}, {"click", "20", "36.4"}, {"purchase", "5", "9.1"}};
  for (size_t i = 0; i < 3; ++i) {
    for (size_t c = 0; c < 3; ++c) EXPECT_EQ(q2->rows[i][c].value_or("NULL"), want[i][c]) << i << c;
  }
}

TEST_F(SqlEngineTest, RegisteringAgainReplacesTheViewAndZeroFilesIsEmpty) {
  auto engine = OpenEngine();
  TableFiles empty;
  empty.schema = GoldSchema();
  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", empty).ok());
  auto r = engine->Execute("SELECT * FROM catalog.streaming.gold_events_per_minute");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows.size(), 0u);
  EXPECT_EQ(r->column_types,
            (std::vector<std::string>{"TIMESTAMP WITH TIME ZONE", "VARCHAR", "BIGINT", "BIGINT"}));

  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", SeedGold()).ok());
  r = engine->Execute(
      "SELECT count(*), sum(event_count) FROM catalog.streaming.gold_events_per_minute");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0][0].value_or(""), "6");
  EXPECT_EQ(r->rows[0][1].value_or(""), "1055");

  // One- and two-part names work too, and names are case-insensitive like Spark's.
  ASSERT_TRUE(engine->RegisterTable("events", SeedGold()).ok());
  ASSERT_TRUE(engine->RegisterTable("other.events", empty).ok());
  r = engine->Execute("SELECT (SELECT count(*) FROM EVENTS), (SELECT count(*) FROM other.events)");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0][0].value_or(""), "6");
  EXPECT_EQ(r->rows[0][1].value_or(""), "0");

  ASSERT_TRUE(engine->DropTable("events").ok());
  EXPECT_FALSE(engine->Execute("SELECT * FROM events").ok());
  EXPECT_EQ(engine->RegisterTable("a.b.c.d", empty).code(), StatusCode::kInvalidArgument);
}

TEST_F(SqlEngineTest, PartitionValuesBecomeColumnsAndMissingColumnsAreNull) {
  auto engine = OpenEngine();
  TableFiles t = SeedGold();
  t.files[0].partition_values["event_date"] = "2026-11-23";
  t.files[1].partition_values["event_date"] = std::nullopt;
  std::vector<Field> fields = GoldSchema()->fields();
  fields.push_back({"event_date", TypeId::kDate});
  fields.push_back({"added_later", TypeId::kDouble});
  t.schema = std::make_shared<Schema>(fields);
  t.partition_columns = {"event_date"};
  ASSERT_TRUE(engine->RegisterTable("catalog.silver.t", t).ok());
  auto r = engine->Execute(
      "SELECT event_date, count(*), sum(event_count), count(added_later), "
      "any_value(typeof(event_date)) "
      "FROM catalog.silver.t GROUP BY ALL ORDER BY ALL NULLS LAST");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->rows.size(), 2u);
  EXPECT_EQ(r->rows[0][0].value_or("NULL"), "2026-11-23");
  EXPECT_EQ(r->rows[0][1].value_or(""), "3");
  EXPECT_EQ(r->rows[0][2].value_or(""), "35");
  EXPECT_EQ(r->rows[0][3].value_or(""), "0");
  EXPECT_EQ(r->rows[0][4].value_or(""), "DATE");
  EXPECT_FALSE(r->rows[1][0].has_value());
  EXPECT_EQ(r->rows[1][1].value_or(""), "3");
}

TEST_F(SqlEngineTest, DeltaPathReferencesGoThroughTheResolver) {
  auto engine = OpenEngine();
  TableFiles seed = SeedGold();
  struct Call {
    std::string path;
    std::optional<int64_t> version;
    std::optional<std::string> timestamp;
  };
  std::vector<Call> calls;
  engine->SetDeltaResolver([&](const std::string& path, std::optional<int64_t> version,
                               std::optional<std::string> ts) -> Result<TableFiles> {
    calls.push_back({path, version, ts});
    if (path != "/lake/gold") return NotFound("no Delta table at " + path);
    TableFiles t;
    t.schema = GoldSchema();
    // Version 0 has the first file only; later versions and the latest have both.
    t.files.push_back(seed.files[0]);
    if (!version || *version > 0) t.files.push_back(seed.files[1]);
    return t;
  });
  auto latest = engine->Execute("SELECT count(*) FROM delta.`/lake/gold`");
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ(latest->rows[0][0].value_or(""), "6");
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].path, "/lake/gold");
  EXPECT_FALSE(calls[0].version || calls[0].timestamp);

  auto v0 = engine->Execute(
      "SELECT count(*) AS n FROM delta.`/lake/gold` VERSION AS OF 0 AS g WHERE g.event_count > 0");
  ASSERT_TRUE(v0.ok()) << v0.status().ToString();
  EXPECT_EQ(v0->rows[0][0].value_or(""), "3");
  EXPECT_EQ(calls.back().version, std::optional<int64_t>(0));

  auto at = engine->Execute(
      "SELECT count(*) FROM delta.`/lake/gold` TIMESTAMP AS OF '2026-11-24 06:00:00' "
      "WHERE event_type <> 'it''s'");
  ASSERT_TRUE(at.ok()) << at.status().ToString();
  EXPECT_EQ(calls.back().timestamp, std::optional<std::string>("2026-11-24 06:00:00"));
  EXPECT_FALSE(calls.back().version.has_value());

  // The same reference twice resolves once; two versions in one statement both resolve.
  calls.clear();
  auto diff = engine->Execute(
      "SELECT (SELECT count(*) FROM delta.`/lake/gold`) - (SELECT count(*) FROM delta.`/lake/gold` "
      "VERSION AS OF 0) + (SELECT count(*) FROM delta.`/lake/gold`) * 0");
  ASSERT_TRUE(diff.ok()) << diff.status().ToString();
  EXPECT_EQ(diff->rows[0][0].value_or(""), "3");
  EXPECT_EQ(calls.size(), 2u);

  // A refused statement never reaches the resolver.
  size_t before = calls.size();
  auto refused = engine->Execute("CREATE TABLE copy AS SELECT * FROM delta.`/lake/gold`");
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(calls.size(), before);

  auto missing = engine->Execute("SELECT * FROM delta.`/nowhere`");
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("/nowhere"), std::string::npos);

  // A string that merely looks like a reference is left alone.
  auto text = engine->Execute("SELECT 'delta.`/x`' AS s, 'current_timestamp()' AS t");
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(text->rows[0][0].value_or(""), "delta.`/x`");
  EXPECT_EQ(text->rows[0][1].value_or(""), "current_timestamp()");
}

TEST_F(SqlEngineTest, RewriteLeavesLiteralsAndCommentsAlone) {
  EXPECT_EQ(SqlEngine::RewriteSparkSql("SELECT current_timestamp(), CURRENT_DATE ( ) -- now()\n"),
            "SELECT current_timestamp, CURRENT_DATE -- now()\n");
  EXPECT_EQ(SqlEngine::RewriteSparkSql("SELECT 'current_timestamp()', my_current_timestamp()"),
            "SELECT 'current_timestamp()', my_current_timestamp()");
  EXPECT_EQ(SqlEngine::RewriteSparkSql("SELECT `event type` FROM t"),
            "SELECT \"event type\" FROM t");
}

TEST_F(SqlEngineTest, ReadOnlyRefusesHostileStatements) {
  auto engine = OpenEngine(/*restrict=*/true);
  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", SeedGold()).ok());
  const std::string outside =
      fs::temp_directory_path() / ("strata_sql_hostile_" + std::to_string(::getpid()));
  const std::vector<std::string> hostile = {
      "DROP VIEW catalog.streaming.gold_events_per_minute",
      "CREATE TABLE t AS SELECT 1",
      "INSERT INTO catalog.streaming.gold_events_per_minute VALUES (now(), 'x', 1, 1)",
      "UPDATE catalog.streaming.gold_events_per_minute SET event_count = 0",
      "DELETE FROM catalog.streaming.gold_events_per_minute",
      "COPY (SELECT 1) TO '" + outside + ".csv'",
      "COPY (SELECT 1) TO '" + dir_ + "/inside.csv'",
      "EXPORT DATABASE '" + outside + "'",
      "ATTACH '" + outside + ".db' AS x",
      "ATTACH ':memory:' AS x",
      "DETACH catalog",
      "SELECT * FROM read_csv('/etc/passwd')",
      "SELECT * FROM read_text('" + dir_ + "/../../etc/passwd')",
      "SELECT * FROM read_parquet('/etc/*.parquet')",
      "SET threads = 1",
      "SET enable_external_access = true",
      "RESET lock_configuration",
      "PRAGMA threads = 1",
      "INSTALL httpfs",
      "LOAD httpfs",
      "CALL pragma_version()",
      "SELECT 1; DROP VIEW catalog.streaming.gold_events_per_minute",
      "SELECT 1; SELECT 2",
      "CREATE MACRO m() AS 1",
      "BEGIN TRANSACTION",
      "CHECKPOINT",
  };
  for (const auto& sql : hostile) {
    auto r = engine->Execute(sql);
    EXPECT_FALSE(r.ok()) << "accepted: " << sql;
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument)
          << sql << ": " << r.status().ToString();
      const std::string& m = r.status().message();
      EXPECT_TRUE(m.find("refused a") != std::string::npos ||
                  m.find("exactly one statement") != std::string::npos ||
                  m.find("file system operations are disabled") != std::string::npos)
          << sql << ": " << m;
    }
  }
  EXPECT_FALSE(fs::exists(outside + ".csv"));
  EXPECT_FALSE(fs::exists(outside + ".db"));
  // A real table (created by a non-read-only call) cannot be written from a read-only one.
  QueryOptions writable;
  writable.read_only = false;
  ASSERT_TRUE(engine->Execute("CREATE TABLE notes(x INT)", writable).ok());
  for (const char* sql :
       {"INSERT INTO notes VALUES (1)", "WITH x AS (SELECT 1) INSERT INTO notes SELECT * FROM x",
        "UPDATE notes SET x = 2", "DELETE FROM notes"}) {
    auto r = engine->Execute(sql);
    EXPECT_FALSE(r.ok()) << sql;
    EXPECT_NE(r.status().message().find("refused"), std::string::npos)
        << sql << ": " << r.status().message();
  }
  EXPECT_FALSE(fs::exists(dir_ + "/inside.csv"));
  auto refused = engine->Execute("DROP VIEW catalog.streaming.gold_events_per_minute");
  EXPECT_NE(refused.status().message().find("DROP"), std::string::npos)
      << refused.status().message();

  // The file restriction holds even for statements that are not read-only.
  QueryOptions admin;
  admin.read_only = false;
  EXPECT_FALSE(engine->Execute("SELECT * FROM read_csv('/etc/passwd')", admin).ok());
  EXPECT_FALSE(engine->Execute("SET enable_external_access = true", admin).ok());
  EXPECT_FALSE(engine->Execute("COPY (SELECT 1) TO '" + outside + ".csv'", admin).ok());
  EXPECT_FALSE(fs::exists(outside + ".csv"));

  // The table is intact and readable after all that.
  auto ok =
      engine->Execute("SELECT sum(event_count) FROM catalog.streaming.gold_events_per_minute");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->rows[0][0].value_or(""), "1055");
}

TEST_F(SqlEngineTest, ReadOnlyAcceptsQueryForms) {
  auto engine = OpenEngine(/*restrict=*/true);
  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", SeedGold()).ok());
  for (const char* sql : {
           "SELECT 1",
           "  -- a comment first\n/* and another */ (SELECT 1)",
           "WITH x AS (SELECT 1 AS a) SELECT a FROM x",
           "FROM catalog.streaming.gold_events_per_minute LIMIT 1",
           "VALUES (1), (2)",
           "DESCRIBE catalog.streaming.gold_events_per_minute",
           "SHOW TABLES",
           "SUMMARIZE catalog.streaming.gold_events_per_minute",
           "SELECT * FROM duckdb_views() WHERE NOT internal",
           // PIVOT with an explicit IN list is one SELECT; without one DuckDB first runs a
           // CREATE TYPE, which read-only mode refuses.
           "PIVOT catalog.streaming.gold_events_per_minute ON event_type IN ('click', "
           "'page_view') USING sum(event_count) GROUP BY window_start",
       }) {
    auto r = engine->Execute(sql);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
  }
}

TEST_F(SqlEngineTest, RestrictedEngineRefusesTablesOutsideAllowedDirectories) {
  SqlEngineOptions opts;
  opts.restrict_file_access = true;
  opts.allowed_directories = {dir_ + "/allowed"};
  auto engine = SqlEngine::Open(opts);
  ASSERT_TRUE(engine.ok());
  Status st = (*engine)->RegisterTable("t", SeedGold());  // files live in dir_, not dir_/allowed
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("registering table t"), std::string::npos) << st.ToString();
}

TEST_F(SqlEngineTest, NonReadOnlyRunsScriptsAndReturnsTheLastResult) {
  auto engine = OpenEngine();
  QueryOptions opts;
  opts.read_only = false;
  auto r = engine->Execute(
      "CREATE TABLE t(x INT); INSERT INTO t VALUES (1), (2); SELECT sum(x) FROM t", opts);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->rows[0][0].value_or(""), "3");
}

TEST_F(SqlEngineTest, ConcurrentQueriesAndRegistrations) {
  auto engine = OpenEngine();
  TableFiles seed = SeedGold();
  ASSERT_TRUE(engine->RegisterTable("catalog.streaming.gold_events_per_minute", seed).ok());
  TableFiles first_only = seed;
  first_only.files.resize(1);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 20; ++i) {
        auto r = engine->Execute(
            "SELECT sum(event_count) FROM catalog.streaming.gold_events_per_minute");
        // Either registration may be visible: all files (1055) or the first file only (35).
        if (!r.ok() || (r->rows[0][0] != "1055" && r->rows[0][0] != "35")) ++failures;
      }
    });
  }
  for (int i = 0; i < 20; ++i) {
    Status st = engine->RegisterTable("catalog.streaming.gold_events_per_minute",
                                      i % 2 ? seed : first_only);
    if (!st.ok()) ++failures;
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST_F(SqlEngineTest, TimeoutInterruptsASlowQuery) {
  auto engine = OpenEngine();
  QueryOptions opts;
  opts.timeout_ms = 200;
  auto r = engine->Execute(
      "SELECT sum(a.range * b.range) FROM range(1000000) a CROSS JOIN range(1000000) b", opts);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kCancelled) << r.status().ToString();
  EXPECT_NE(r.status().message().find("200 ms"), std::string::npos);
  // The engine keeps working afterwards.
  auto after = engine->Execute("SELECT 42", opts);
  ASSERT_TRUE(after.ok()) << after.status().ToString();
  EXPECT_EQ(after->rows[0][0].value_or(""), "42");
}

TEST_F(SqlEngineTest, RowLimitTruncatesAndSaysSo) {
  auto engine = OpenEngine();
  QueryOptions opts;
  opts.row_limit = 100;
  auto r = engine->Execute("SELECT range AS i FROM range(10000)", opts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 100u);
  EXPECT_TRUE(r->truncated);
  EXPECT_NE(FormatTable(*r).find("truncated at the limit of 100 rows"), std::string::npos);
  EXPECT_NE(FormatJson(*r).find("\"truncated\":true"), std::string::npos);

  opts.row_limit = 2048;  // exactly one DuckDB vector: nothing more follows
  r = engine->Execute("SELECT range AS i FROM range(2048)", opts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 2048u);
  EXPECT_FALSE(r->truncated);
  opts.row_limit = 0;
  r = engine->Execute("SELECT range AS i FROM range(5000)", opts);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->rows.size(), 5000u);
  EXPECT_EQ(r->rows.back()[0].value_or(""), "4999");
}

TEST_F(SqlEngineTest, FormatsTableCsvAndJson) {
  auto engine = OpenEngine();
  auto r = engine->Execute(
      "SELECT * FROM (VALUES (1, 'a,b', 2.5::DOUBLE, true, NULL::VARCHAR), "
      "(22, 'say \"hi\"', 1000000::DOUBLE, false, 'x')) AS t(n, s, d, b, z) ORDER BY n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(FormatCsv(*r),
            "n,s,d,b,z\r\n1,\"a,b\",2.5,true,\r\n22,\"say \"\"hi\"\"\",1000000.0,false,x\r\n");
  EXPECT_EQ(
      FormatJson(*r),
      "{\"columns\":[{\"name\":\"n\",\"type\":\"INTEGER\"},{\"name\":\"s\",\"type\":\"VARCHAR\"},"
      "{\"name\":\"d\",\"type\":\"DOUBLE\"},{\"name\":\"b\",\"type\":\"BOOLEAN\"},"
      "{\"name\":\"z\",\"type\":\"VARCHAR\"}],\"rows\":[[1,\"a,b\",2.5,true,null],"
      "[22,\"say \\\"hi\\\"\",1000000.0,false,\"x\"]],\"truncated\":false}");
  std::string table = FormatTable(*r);
  EXPECT_NE(table.find("│       1 │ a,b      │       2.5 │ true    │ NULL    │\n"),
            std::string::npos)
      << table;
  EXPECT_NE(table.find("│ INTEGER │ VARCHAR  │ DOUBLE    │"), std::string::npos) << table;
  EXPECT_NE(table.find("NULL"), std::string::npos) << table;
  EXPECT_NE(table.find("2 rows"), std::string::npos) << table;
}

TEST_F(SqlEngineTest, RendersDuckDbTypes) {
  auto engine = OpenEngine();
  auto r = engine->Execute(
      "SELECT 12.345::DECIMAL(10,3), -0.5::DECIMAL(4,1), "
      "170141183460469231731687303715884105727::HUGEINT, "
      "DATE '2024-02-29', TIMESTAMP '2024-02-29 13:14:15.25', TIMESTAMPTZ '2024-02-29 "
      "13:14:15+00', "
      "INTERVAL 90 MINUTES, '\\x00ab'::BLOB, 'c0ffee00-0000-4000-8000-000000000001'::UUID, "
      "1.5::FLOAT");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::string> want = {"12.345",
                                   "-0.5",
                                   "170141183460469231731687303715884105727",
                                   "2024-02-29",
                                   "2024-02-29 13:14:15.25",
                                   "2024-02-29 13:14:15+00",
                                   "01:30:00",
                                   "\\x00ab",
                                   "c0ffee00-0000-4000-8000-000000000001",
                                   "1.5"};
  ASSERT_EQ(r->rows.size(), 1u);
  for (size_t i = 0; i < want.size(); ++i) EXPECT_EQ(r->rows[0][i].value_or("NULL"), want[i]) << i;
  EXPECT_EQ(r->column_types[0], "DECIMAL(10,3)");
}

}  // namespace
}  // namespace strata::sql
