#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "batch/schema.h"
#include "core/status.h"

namespace strata::duck {
class Connection;
class Database;
}  // namespace strata::duck

namespace strata::sql {

// One Parquet data file of a table, with its partition values (Delta's partitionValues: the
// string form of the value, or nullopt for a null partition value).
struct DataFile {
  std::string path;
  std::map<std::string, std::optional<std::string>> partition_values;
};

// What a table is made of: its data files and its columns. Columns listed in
// partition_columns are not read from the files but added as constants from each file's
// partition_values, cast to the column's type. Columns a file lacks read as nulls.
struct TableFiles {
  SchemaPtr schema;
  std::vector<DataFile> files;
  std::vector<std::string> partition_columns;
  // When set, the table is this complete SELECT instead of one built from the fields above
  // (e.g. a Delta scan that applies deletion vectors and column mapping).
  std::string select_sql;
};

// A table read through a SELECT over another registered table: the table's files are registered
// under `partials_name`, and the table's own name is the view `select_sql(quoted partials
// name)`, rebuilt at every refresh (group mode's gold tables: partial aggregates merged on
// read, with a finality that moves without a new table version).
struct MergedView {
  std::string partials_name;
  std::function<std::string(const std::string& partials_view)> select_sql;
};

// The quoted SQL name of a registered table ("a.b.c" -> "\"a\".\"b\".\"c\"").
std::string QuotedTableName(const std::string& qualified_name);

// Resolves Spark's path form delta.`/path/to/table` (optionally VERSION AS OF n or
// TIMESTAMP AS OF '...') to the files of that snapshot. Called on the querying thread.
using DeltaResolver = std::function<Result<TableFiles>(
    const std::string& path, std::optional<int64_t> version, std::optional<std::string> timestamp)>;

struct SqlEngineOptions {
  // When true the database may touch only files under allowed_directories (DuckDB
  // enable_external_access=false + allowed_directories, then lock_configuration=true, so no
  // statement can loosen it). Registered tables must live there too.
  bool restrict_file_access = false;
  std::vector<std::string> allowed_directories;
  int threads = 2;
  // DuckDB memory_limit, e.g. "1GB"; empty keeps DuckDB's default.
  std::string memory_limit;
};

struct QueryOptions {
  // At most this many rows are returned; 0 means no limit. When more exist, `truncated` is set.
  size_t row_limit = 10000;
  // The statement is interrupted after this long; 0 means no timeout.
  int64_t timeout_ms = 0;
  // Only a single SELECT (or EXPLAIN) statement is accepted; anything else (DDL, DML, COPY,
  // ATTACH, SET, PRAGMA, several statements) is InvalidArgument before it runs.
  bool read_only = true;
};

struct QueryResult {
  std::vector<std::string> column_names;
  // DuckDB type names: "BIGINT", "VARCHAR", "TIMESTAMP WITH TIME ZONE", "DECIMAL(38,1)"...
  std::vector<std::string> column_types;
  // Values in DuckDB's text form; nullopt is SQL NULL. Timestamps with time zone print in UTC
  // ("2026-11-24 06:40:00.5+00").
  std::vector<std::vector<std::optional<std::string>>> rows;
  // More rows existed than row_limit; they were not fetched.
  bool truncated = false;
  size_t row_limit = 0;
};

// SQL over Parquet-backed tables with an in-memory DuckDB.
//
// Tables are views over read_parquet; three-part names are supported by attaching an
// in-memory database per catalog ("catalog.streaming.gold" -> ATTACH ':memory:' AS catalog;
// CREATE SCHEMA catalog.streaming; CREATE VIEW catalog.streaming.gold). Spark spellings used by
// dashboards are accepted: current_timestamp()/current_date() (rewritten to DuckDB's keyword
// forms), INTERVAL 5 MINUTES, SUM(SUM(x)) OVER (), and delta.`/path` table references through
// the resolver. The session time zone is UTC. hll_merge_estimate(sketch) and hll_merge(sketch)
// aggregate serialized HyperLogLog sketches (sql/hll_functions.h).
//
// Thread-safety: Execute may be called from many threads at once (each call uses its own
// DuckDB connection); RegisterTable and SetDeltaResolver serialize on an internal mutex.
class SqlEngine {
 public:
  // Internal/IOError if DuckDB cannot be opened or configured.
  static Result<std::unique_ptr<SqlEngine>> Open(const SqlEngineOptions& options = {});
  ~SqlEngine();
  SqlEngine(const SqlEngine&) = delete;
  SqlEngine& operator=(const SqlEngine&) = delete;

  // Creates or replaces the view `qualified_name` (1 to 3 dot-separated parts) over `files`.
  // Zero files gives an empty table with the right columns. InvalidArgument for a bad name or a
  // partition column missing from the schema; DuckDB's error (e.g. a file outside the allowed
  // directories, an unreadable file) otherwise. The files' footers are read once here.
  Status RegisterTable(const std::string& qualified_name, const TableFiles& table);
  // Drops the view if it exists.
  Status DropTable(const std::string& qualified_name);

  void SetDeltaResolver(DeltaResolver resolver);

  // Runs one statement (or, when !read_only, a script whose last statement's result is
  // returned). Errors: InvalidArgument for SQL errors and refused statements (message says
  // why), Cancelled when the timeout interrupted the query, the resolver's Status for a
  // delta.`path` it cannot resolve.
  Result<QueryResult> Execute(const std::string& sql, const QueryOptions& options = {});

  // The statement text after Spark-compatibility rewriting, with delta.`path` references left
  // in place (for tests and EXPLAIN-like diagnostics).
  static std::string RewriteSparkSql(const std::string& sql);

 private:
  SqlEngine() = default;
  Result<std::string> ViewSql(const TableFiles& table);

  SqlEngineOptions options_;
  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> admin_;  // guarded by mu_
  std::mutex mu_;
  DeltaResolver resolver_;     // guarded by mu_
  uint64_t next_view_id_ = 0;  // guarded by mu_
};

// Text renderings of a result. FormatTable aligns columns in a box like DuckDB's CLI and
// notes truncation; FormatCsv follows RFC 4180 (header row, quotes doubled, NULL as empty);
// FormatJson gives {"columns":[{"name":..,"type":..}],"rows":[[..]],"truncated":bool} with
// numbers and booleans unquoted.
std::string FormatTable(const QueryResult& result);
std::string FormatCsv(const QueryResult& result);
std::string FormatJson(const QueryResult& result);

}  // namespace strata::sql
