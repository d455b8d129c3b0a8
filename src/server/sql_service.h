#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/status.h"
#include "sql/sql_engine.h"

namespace strata::delta {
class DeltaTable;
}

namespace strata::server {

struct SqlServiceOptions {
  // Catalog name -> Delta table directory. Tables that do not exist yet are registered once
  // they appear.
  std::map<std::string, std::string> tables;
  // Tables of `tables` read merged (sql::MergedView): their files are registered under the
  // view's partials_name, and the name itself is the merged view.
  std::map<std::string, sql::MergedView> merged;
  // The only directories DuckDB may read (the data dir, and any table directory outside it).
  std::vector<std::string> allowed_directories;
  std::string memory_limit = "512MB";
  int threads = 2;
  int64_t timeout_ms = 10'000;
  size_t max_row_limit = 10'000;
};

// Read-only SQL over the pipeline's Delta tables for the HTTP server, on its own in-memory
// DuckDB (restricted to the allowed directories, configuration locked, memory-limited), apart
// from the pipeline's writers.
//
// Before each statement, every table's latest Delta version is checked (a cached snapshot
// brought forward by listing the log) and the view is replaced when it changed, so a query
// sees every commit made before it started. delta.`/path` references resolve only inside the
// allowed directories.
//
// Thread-safety: Execute may run on many threads at once; refreshes serialize on a mutex.
class SqlService {
 public:
  // IOError/Internal if DuckDB cannot be opened; tables that fail to load are retried later.
  static Result<std::unique_ptr<SqlService>> Open(SqlServiceOptions options);
  ~SqlService();

  // Runs one read-only statement with at most min(row_limit, max_row_limit) rows (row_limit 0
  // means max_row_limit). Errors as SqlEngine::Execute: InvalidArgument for bad or refused
  // SQL, Cancelled on timeout.
  Result<sql::QueryResult> Execute(const std::string& sql, size_t row_limit);

  // Brings every view up to its table's latest version. Returns the first error (the other
  // tables are still refreshed).
  Status Refresh();

  // Registered tables and the Delta version each view shows.
  std::map<std::string, int64_t> Versions() const;

 private:
  explicit SqlService(SqlServiceOptions options);

  SqlServiceOptions options_;
  std::unique_ptr<sql::SqlEngine> engine_;
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<delta::DeltaTable>> open_;  // guarded by mu_
  std::map<std::string, int64_t> versions_;                         // guarded by mu_
};

// True when `path` (made absolute and normal) is one of `dirs` or inside one of them.
bool PathIsWithin(const std::string& path, const std::vector<std::string>& dirs);

}  // namespace strata::server
