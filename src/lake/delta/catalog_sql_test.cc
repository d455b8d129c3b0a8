// The SQL path as `strata query` uses it (OpenCatalog + Execute): time travel by version and by
// timestamp, data skipping on registration, and catalog tables with deletion vectors / column
// mapping read with them applied.
#include <gtest/gtest.h>

#include <filesystem>
#include <thread>

#include "connectors/delta_sink.h"
#include "duck/duck.h"
#include "lake/delta/maintenance.h"
#include "lake/delta/table.h"
#include "lake/delta/test_util.h"
#include "pipeline/catalog.h"

namespace strata {
namespace {

using delta::testing::TempDir;
namespace fs = std::filesystem;

// Writes a Parquet file of ids [from, to) at `dir/name` and commits it; returns the version.
int64_t AppendIds(delta::DeltaTable& table, duck::Connection& conn, int from, int to,
                  const std::string& name, const std::string& ts_min, const std::string& ts_max) {
  std::string path = table.path() + "/" + name;
  EXPECT_TRUE(conn.Execute("COPY (SELECT range::BIGINT AS id, TIMESTAMPTZ '" + ts_min +
                           "' AS ts FROM range(" + std::to_string(from) + ", " +
                           std::to_string(to) + ")) TO " + duck::QuoteLiteral(path) +
                           " (FORMAT parquet)")
                  .ok());
  delta::AddFile add;
  add.path = name;
  add.size = static_cast<int64_t>(fs::file_size(path));
  add.modification_time = 1;
  add.stats = "{\"numRecords\":" + std::to_string(to - from) + ",\"minValues\":{\"ts\":\"" +
              ts_min + "\"},\"maxValues\":{\"ts\":\"" + ts_max + "\"},\"nullCount\":{\"ts\":0}}";
  auto txn = table.StartTransaction();
  EXPECT_TRUE(txn.ok());
  (*txn)->AddFile(add);
  auto v = (*txn)->Commit();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : -1;
}

std::string One(sql::SqlEngine& engine, const std::string& q) {
  auto r = engine.Execute(q);
  if (!r.ok()) return "error: " + r.status().ToString();
  return r->rows.at(0).at(0).value_or("NULL");
}

void SetCommitTime(const std::string& table, int64_t version, const std::string& when) {
  char name[32];
  std::snprintf(name, sizeof(name), "%020lld.json", static_cast<long long>(version));
  auto us = delta::ParseTimestampMicros(when);
  ASSERT_TRUE(us.has_value());
  auto tp = std::chrono::file_clock::from_sys(
      std::chrono::sys_time<std::chrono::microseconds>(std::chrono::microseconds(*us)));
  fs::last_write_time(table + "/_delta_log/" + name, tp);
}

TEST(DeltaCatalogSqlTest, TimeTravelByVersionAndTimestamp) {
  TempDir dir;
  std::string path = dir.Sub("t");
  Schema schema({{"id", TypeId::kInt64, true}, {"ts", TypeId::kTimestamp, true}});
  auto table = delta::DeltaTable::CreateIfNotExists(path, schema, {}, {});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto db = duck::Database::Open("", {});
  ASSERT_TRUE(db.ok());
  auto conn = duck::Connection::Open(*db);
  ASSERT_TRUE(conn.ok());
  ASSERT_EQ(AppendIds(**table, **conn, 0, 3, "a.parquet", "2026-01-01T00:00:00.000Z",
                      "2026-01-01T00:00:00.000Z"),
            1);
  ASSERT_EQ(AppendIds(**table, **conn, 3, 8, "b.parquet", "2026-01-02T00:00:00.000Z",
                      "2026-01-02T00:00:00.000Z"),
            2);
  SetCommitTime(path, 0, "2026-03-01 10:00:00");
  SetCommitTime(path, 1, "2026-03-01 11:00:00");
  SetCommitTime(path, 2, "2026-03-01 12:00:00");

  auto engine = OpenCatalog({});
  ASSERT_TRUE(engine.ok());
  std::string ref = "delta.`" + path + "`";
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM " + ref), "8");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM " + ref + " VERSION AS OF 1"), "3");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM " + ref + " TIMESTAMP AS OF '2026-03-01 11:30:00'"),
            "3");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM " + ref + " TIMESTAMP AS OF '2026-03-01 10:00:00'"),
            "0");
  EXPECT_EQ(
      One(**engine, "SELECT max(id) FROM " + ref + " TIMESTAMP AS OF '2026-03-01T12:00:00.000Z'"),
      "7");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM " + ref + " TIMESTAMP AS OF '2027-01-01'"), "8");
  auto before = (*engine)->Execute("SELECT * FROM " + ref + " TIMESTAMP AS OF '2026-02-01'");
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound) << before.status().ToString();
  auto bad = (*engine)->Execute("SELECT * FROM " + ref + " TIMESTAMP AS OF 'yesterday'");
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument) << bad.status().ToString();

  // Data skipping on registration: a range on ts keeps only the file of 2026-01-02.
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  delta::TimeRange range{"ts", delta::ParseTimestampMicros("2026-01-02"),
                         delta::ParseTimestampMicros("2026-01-03")};
  ASSERT_TRUE(RegisterDeltaTable(engine->get(), "pruned", **snap, range).ok());
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM pruned"), "5");
  EXPECT_EQ(One(**engine, "SELECT min(id) FROM pruned"), "3");
}

TEST(DeltaCatalogSqlTest, CatalogTablesApplyDeletionVectorsAndColumnMapping) {
  std::string root = std::string(STRATA_SOURCE_DIR) + "/../shared/conformance/delta/";
  auto engine =
      OpenCatalog({{"catalog.conf.dv", root + "kernel-table-with-dv-small/delta"},
                   {"catalog.conf.cm", root + "golden-table-with-columnmapping-mode-name/delta"}});
  ASSERT_TRUE(engine.ok()) << engine.status().ToString();
  // 10 rows in the file, 2 deleted by the vector (the manifest's independent count is 8).
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM catalog.conf.dv"), "8");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM catalog.conf.cm"), "6");
  auto cols = (*engine)->Execute("SELECT * FROM catalog.conf.cm LIMIT 1");
  ASSERT_TRUE(cols.ok()) << cols.status().ToString();
  for (const auto& c : cols->column_names) EXPECT_EQ(c.rfind("col-", 0), std::string::npos) << c;
  // The delta.`path` form reads them through the same scan.
  EXPECT_EQ(
      One(**engine, "SELECT count(*) FROM delta.`" + root + "kernel-table-with-dv-small/delta`"),
      "8");
  EXPECT_EQ(One(**engine, "SELECT count(*) FROM delta.`" + root +
                              "golden-table-with-columnmapping-mode-name/delta`"),
            "6");
}

// A streaming sink on a table with delta.autoOptimize.autoCompact: after the commit that puts
// a partition over minNumFiles small files, the partition is compacted (dataChange=false), and
// every row is still there once.
TEST(DeltaCatalogSqlTest, SinkAutoCompactsSmallFiles) {
  TempDir dir;
  DeltaSinkOptions options;
  options.table_name = "t";
  options.path = dir.Sub("t");
  options.schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kInt64, true}, {"day", TypeId::kString, true}});
  options.partition_by = {"day"};
  options.table_properties = {{"delta.autoOptimize.autoCompact", "true"},
                              {"delta.autoOptimize.autoCompact.minNumFiles", "4"}};
  DeltaSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  for (int batch = 0; batch < 5; ++batch) {
    RecordBatch b(options.schema);
    for (int i = 0; i < 10; ++i) {
      b.column(0).AppendInt64(batch * 10 + i);
      b.column(1).AppendString("d1");
    }
    std::vector<RecordBatch> batches;
    batches.push_back(std::move(b));
    auto stats = sink.Commit({"q", batch, {}}, batches);
    ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  }
  auto snap = sink.table()->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->files().size(), 1u);  // 5 files > 4: compacted into one
  EXPECT_TRUE((*snap)->IsTxnCommitted("q", 4));
  auto history = sink.table()->History(1);
  ASSERT_TRUE(history.ok());
  EXPECT_EQ(history->at(0).commit_info.operation, "OPTIMIZE");
  auto engine = OpenCatalog({{"t", dir.Sub("t")}});
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(One(**engine, "SELECT count(DISTINCT id) || '/' || count(*) FROM t"), "50/50");
}

// OPTIMIZE while a streaming sink appends from another thread (its own DeltaTable, as a
// separate query would): every OPTIMIZE commits (blind appends never conflict with a rewrite
// of other files), every batch commits, and the table holds every row exactly once.
TEST(DeltaCatalogSqlTest, OptimizeRunsWhileTheSinkAppends) {
  TempDir dir;
  DeltaSinkOptions options;
  options.table_name = "t";
  options.path = dir.Sub("t");
  options.schema = std::make_shared<Schema>(
      std::vector<Field>{{"id", TypeId::kInt64, true}, {"day", TypeId::kString, true}});
  options.partition_by = {"day"};
  DeltaSink sink(options);
  ASSERT_TRUE(sink.Open().ok());
  constexpr int kBatches = 40;
  std::atomic<bool> done{false};
  Status sink_status;
  std::thread writer([&] {
    for (int batch = 0; batch < kBatches && sink_status.ok(); ++batch) {
      RecordBatch b(options.schema);
      for (int i = 0; i < 25; ++i) {
        b.column(0).AppendInt64(batch * 25 + i);
        b.column(1).AppendString(i % 2 ? "d1" : "d2");
      }
      std::vector<RecordBatch> batches;
      batches.push_back(std::move(b));
      auto stats = sink.Commit({"q", batch, {}}, batches);
      if (!stats.ok()) sink_status = stats.status();
    }
    done = true;
  });
  auto table = delta::DeltaTable::Open(dir.Sub("t"));
  ASSERT_TRUE(table.ok());
  int optimizations = 0;
  Status optimize_status;
  while (optimize_status.ok() && (!done || optimizations == 0)) {
    auto r = delta::Optimize(**table, {.target_file_size = 1 << 20});
    if (!r.ok())
      optimize_status = r.status();
    else if (r->version >= 0)
      ++optimizations;
  }
  writer.join();
  ASSERT_TRUE(sink_status.ok()) << sink_status.ToString();
  ASSERT_TRUE(optimize_status.ok()) << optimize_status.ToString();
  EXPECT_GT(optimizations, 0);
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE((*snap)->IsTxnCommitted("q", kBatches - 1));
  auto engine = OpenCatalog({{"t", dir.Sub("t")}});
  ASSERT_TRUE(engine.ok());
  EXPECT_EQ(One(**engine, "SELECT count(DISTINCT id) || '/' || count(*) FROM t"), "1000/1000");
}

}  // namespace
}  // namespace strata
