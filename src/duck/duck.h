#pragma once

#include <duckdb.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace strata::duck {

// RAII wrappers over DuckDB's stable C API. A Database may be shared by many threads; each
// thread uses its own Connection. Errors come back as Status with DuckDB's message.

class Result;

class Database {
 public:
  // path empty or ":memory:" for an in-memory database. `options` are DuckDB config settings
  // applied at open time (e.g. {"threads","1"}, {"memory_limit","1GB"}).
  static strata::Result<std::shared_ptr<Database>> Open(
      const std::string& path = "",
      const std::vector<std::pair<std::string, std::string>>& options = {});
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  duckdb_database raw() const { return db_; }

 private:
  Database() = default;
  duckdb_database db_ = nullptr;
};

class Connection {
 public:
  static strata::Result<std::unique_ptr<Connection>> Open(std::shared_ptr<Database> db);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Runs a statement and discards its result.
  Status Execute(const std::string& sql);
  // Runs a query and materializes its result.
  strata::Result<Result> Query(const std::string& sql);
  // Interrupts the statement running on this connection (thread-safe).
  void Interrupt();
  duckdb_connection raw() const { return conn_; }

 private:
  Connection() = default;
  std::shared_ptr<Database> db_;
  duckdb_connection conn_ = nullptr;
};

// A materialized query result. Movable.
class Result {
 public:
  Result() = default;
  explicit Result(duckdb_result r) : r_(r), valid_(true) {}
  Result(Result&& o) noexcept : r_(o.r_), valid_(o.valid_) { o.valid_ = false; }
  Result& operator=(Result&& o) noexcept;
  ~Result();

  size_t row_count();
  size_t column_count();
  std::string column_name(size_t col);
  duckdb_type column_type(size_t col);
  bool IsNull(size_t col, size_t row);
  // Text form of any value ("NULL" never: check IsNull first).
  std::string GetString(size_t col, size_t row);
  int64_t GetInt64(size_t col, size_t row);
  double GetDouble(size_t col, size_t row);
  duckdb_result* raw() { return &r_; }

 private:
  duckdb_result r_{};
  bool valid_ = false;
};

// Quotes an identifier or a string literal for SQL text.
std::string QuoteIdentifier(const std::string& name);
std::string QuoteLiteral(const std::string& value);

}  // namespace strata::duck
