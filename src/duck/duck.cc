#include "duck/duck.h"

namespace strata::duck {

strata::Result<std::shared_ptr<Database>> Database::Open(
    const std::string& path, const std::vector<std::pair<std::string, std::string>>& options) {
  duckdb_config config;
  if (duckdb_create_config(&config) == DuckDBError) return Internal("cannot create DuckDB config");
  for (const auto& [k, v] : options) {
    if (duckdb_set_config(config, k.c_str(), v.c_str()) == DuckDBError) {
      duckdb_destroy_config(&config);
      return InvalidArgument("DuckDB setting " + k + "=" + v + " was refused");
    }
  }
  std::shared_ptr<Database> db(new Database());
  char* err = nullptr;
  const char* p = path.empty() ? nullptr : path.c_str();
  if (duckdb_open_ext(p, &db->db_, config, &err) == DuckDBError) {
    std::string msg = err ? err : "unknown error";
    if (err) duckdb_free(err);
    duckdb_destroy_config(&config);
    return IOError("cannot open DuckDB database: " + msg);
  }
  duckdb_destroy_config(&config);
  return db;
}

Database::~Database() {
  if (db_) duckdb_close(&db_);
}

strata::Result<std::unique_ptr<Connection>> Connection::Open(std::shared_ptr<Database> db) {
  std::unique_ptr<Connection> c(new Connection());
  c->db_ = std::move(db);
  if (duckdb_connect(c->db_->raw(), &c->conn_) == DuckDBError)
    return Internal("cannot connect to DuckDB");
  return c;
}

Connection::~Connection() {
  if (conn_) duckdb_disconnect(&conn_);
}

Status Connection::Execute(const std::string& sql) {
  duckdb_result r;
  if (duckdb_query(conn_, sql.c_str(), &r) == DuckDBError) {
    std::string msg = duckdb_result_error(&r) ? duckdb_result_error(&r) : "unknown error";
    duckdb_destroy_result(&r);
    return InvalidArgument(msg);
  }
  duckdb_destroy_result(&r);
  return Status::OK();
}

strata::Result<Result> Connection::Query(const std::string& sql) {
  duckdb_result r;
  if (duckdb_query(conn_, sql.c_str(), &r) == DuckDBError) {
    std::string msg = duckdb_result_error(&r) ? duckdb_result_error(&r) : "unknown error";
    duckdb_destroy_result(&r);
    return InvalidArgument(msg);
  }
  return Result(r);
}

void Connection::Interrupt() {
  duckdb_interrupt(conn_);
}

Result& Result::operator=(Result&& o) noexcept {
  if (this != &o) {
    if (valid_) duckdb_destroy_result(&r_);
    r_ = o.r_;
    valid_ = o.valid_;
    o.valid_ = false;
  }
  return *this;
}

Result::~Result() {
  if (valid_) duckdb_destroy_result(&r_);
}

size_t Result::row_count() {
  return static_cast<size_t>(duckdb_row_count(&r_));
}
size_t Result::column_count() {
  return static_cast<size_t>(duckdb_column_count(&r_));
}
std::string Result::column_name(size_t col) {
  const char* n = duckdb_column_name(&r_, col);
  return n ? n : "";
}
duckdb_type Result::column_type(size_t col) {
  return duckdb_column_type(&r_, col);
}
bool Result::IsNull(size_t col, size_t row) {
  return duckdb_value_is_null(&r_, col, row);
}
std::string Result::GetString(size_t col, size_t row) {
  char* v = duckdb_value_varchar(&r_, col, row);
  if (!v) return "";
  std::string s(v);
  duckdb_free(v);
  return s;
}
int64_t Result::GetInt64(size_t col, size_t row) {
  return duckdb_value_int64(&r_, col, row);
}
double Result::GetDouble(size_t col, size_t row) {
  return duckdb_value_double(&r_, col, row);
}

std::string QuoteIdentifier(const std::string& name) {
  std::string out = "\"";
  for (char c : name) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string QuoteLiteral(const std::string& value) {
  std::string out = "'";
  for (char c : value) {
    if (c == '\'') out.push_back('\'');
    out.push_back(c);
  }
  out.push_back('\'');
  return out;
}

}  // namespace strata::duck
