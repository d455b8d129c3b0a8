#include "lake/parquet/parquet_reader.h"

#include <sys/stat.h>

#include <algorithm>
#include <map>

#include "duck/chunk.h"
#include "duck/duck.h"

namespace strata {

namespace {

// Whether a DuckDB column type (as DESCRIBE spells it) can be read as `type`, and whether a
// CAST is needed to get exactly DuckTypeFor(type).
bool Compatible(TypeId type, const std::string& duck, bool* needs_cast) {
  *needs_cast = false;
  auto cast_if = [&](bool ok, bool exact) {
    *needs_cast = ok && !exact;
    return ok;
  };
  switch (type) {
    case TypeId::kBool:
      return duck == "BOOLEAN";
    case TypeId::kInt32:
      return cast_if(duck == "INTEGER" || duck == "SMALLINT" || duck == "TINYINT",
                     duck == "INTEGER");
    case TypeId::kInt64:
      return cast_if(
          duck == "BIGINT" || duck == "INTEGER" || duck == "SMALLINT" || duck == "TINYINT",
          duck == "BIGINT");
    case TypeId::kDouble:
      return cast_if(duck == "DOUBLE" || duck == "FLOAT", duck == "DOUBLE");
    case TypeId::kString:
      return duck == "VARCHAR";
    case TypeId::kBinary:
      return duck == "BLOB";
    case TypeId::kTimestamp:
      return cast_if(duck == "TIMESTAMP WITH TIME ZONE" || duck == "TIMESTAMP" ||
                         duck == "TIMESTAMP_MS" || duck == "TIMESTAMP_NS" || duck == "TIMESTAMP_S",
                     duck == "TIMESTAMP WITH TIME ZONE");
    case TypeId::kDate:
      return duck == "DATE";
  }
  return false;
}

std::string FileList(const std::vector<std::string>& files) {
  std::string out = "[";
  for (size_t i = 0; i < files.size(); ++i) {
    if (i) out += ", ";
    out += duck::QuoteLiteral(files[i]);
  }
  return out + "]";
}

}  // namespace

Result<std::unique_ptr<ParquetReader>> ParquetReader::Create(int threads) {
  std::unique_ptr<ParquetReader> r(new ParquetReader());
  STRATA_ASSIGN_OR_RETURN(
      r->db_, duck::Database::Open("", {{"threads", std::to_string(threads < 1 ? 1 : threads)}}));
  STRATA_ASSIGN_OR_RETURN(r->conn_, duck::Connection::Open(r->db_));
  STRATA_RETURN_IF_ERROR(r->conn_->Execute("SET TimeZone='UTC'"));
  return r;
}

ParquetReader::~ParquetReader() = default;

Result<std::string> ParquetReader::BuildQuery(const std::vector<std::string>& files,
                                              const Schema& schema) {
  std::vector<bool> present(schema.num_fields(), false);
  std::vector<bool> cast(schema.num_fields(), false);
  bool some_file_lacks = false;
  for (const auto& file : files) {
    struct stat sb;
    if (::stat(file.c_str(), &sb) != 0) return NotFound("Parquet file " + file + " does not exist");
    auto described =
        conn_->Query("DESCRIBE SELECT * FROM read_parquet(" + duck::QuoteLiteral(file) + ")");
    if (!described.ok()) {
      return Corruption("cannot read the schema of Parquet file " + file + ": " +
                        described.status().message());
    }
    std::map<std::string, std::string> types;
    for (size_t r = 0; r < described->row_count(); ++r)
      types[described->GetString(0, r)] = described->GetString(1, r);
    for (size_t i = 0; i < schema.num_fields(); ++i) {
      const Field& f = schema.field(i);
      auto it = types.find(f.name);
      if (it == types.end()) {
        some_file_lacks = true;
        continue;
      }
      bool needs_cast = false;
      if (!Compatible(f.type, it->second, &needs_cast)) {
        return InvalidArgument("Parquet file " + file + ": column " + f.name + " has type " +
                               it->second + ", which cannot be read as " + DeltaTypeName(f.type));
      }
      present[i] = true;
      if (needs_cast) cast[i] = true;
    }
  }
  std::string select = "SELECT ";
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& f = schema.field(i);
    if (i) select += ", ";
    std::string name = duck::QuoteIdentifier(f.name);
    if (!present[i]) {
      select += "CAST(NULL AS " + std::string(duck::DuckTypeName(f.type)) + ") AS " + name;
    } else if (cast[i] || some_file_lacks) {
      // With union_by_name DuckDB may widen the column to a common type: cast it back.
      select += "CAST(" + name + " AS " + duck::DuckTypeName(f.type) + ") AS " + name;
    } else {
      select += name;
    }
  }
  select += " FROM read_parquet(" + FileList(files);
  if (some_file_lacks) select += ", union_by_name = true";
  select += ")";
  return select;
}

Status ParquetReader::Scan(const std::vector<std::string>& files, SchemaPtr schema,
                           size_t max_batch_rows, const ParquetBatchCallback& on_batch,
                           const std::string& where) {
  if (files.empty()) return Status::OK();
  if (max_batch_rows == 0) max_batch_rows = 1;
  STRATA_ASSIGN_OR_RETURN(std::string sql, BuildQuery(files, *schema));
  if (!where.empty()) sql += " WHERE " + where;

  duckdb_prepared_statement prepared = nullptr;
  if (duckdb_prepare(conn_->raw(), sql.c_str(), &prepared) == DuckDBError) {
    std::string msg = duckdb_prepare_error(prepared) ? duckdb_prepare_error(prepared) : "?";
    duckdb_destroy_prepare(&prepared);
    return InvalidArgument("cannot read Parquet files: " + msg);
  }
  duckdb_pending_result pending = nullptr;
  duckdb_state st = duckdb_pending_prepared_streaming(prepared, &pending);
  duckdb_destroy_prepare(&prepared);
  if (st == DuckDBError) {
    std::string msg = duckdb_pending_error(pending) ? duckdb_pending_error(pending) : "?";
    duckdb_destroy_pending(&pending);
    return IOError("cannot read Parquet files: " + msg);
  }
  duckdb_result result;
  st = duckdb_execute_pending(pending, &result);
  duckdb_destroy_pending(&pending);
  if (st == DuckDBError) {
    std::string msg = duckdb_result_error(&result) ? duckdb_result_error(&result) : "?";
    duckdb_destroy_result(&result);
    return IOError("cannot read Parquet files: " + msg);
  }
  duck::Result owned(result);  // destroys the result on every path

  RecordBatch batch(schema);
  Status status;
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*owned.raw());
    if (chunk == nullptr) {
      // The end, or an error that happened while streaming.
      if (const char* e = duckdb_result_error(owned.raw())) {
        status = IOError(std::string("reading Parquet files failed: ") + e);
      }
      break;
    }
    size_t n = duckdb_data_chunk_get_size(chunk);
    if (n == 0) {
      duckdb_destroy_data_chunk(&chunk);
      break;
    }
    if (batch.num_rows() == 0)
      batch.Reserve(std::max(n, std::min(max_batch_rows, size_t{1} << 16)));
    status = duck::AppendChunk(chunk, &batch);
    duckdb_destroy_data_chunk(&chunk);
    if (!status.ok()) break;
    if (batch.num_rows() >= max_batch_rows) {
      status = on_batch(std::move(batch));
      batch = RecordBatch(schema);
      if (!status.ok()) break;
    }
  }
  if (status.ok() && batch.num_rows() > 0) status = on_batch(std::move(batch));
  return status;
}

Result<RecordBatch> ParquetReader::Read(const std::vector<std::string>& files, SchemaPtr schema) {
  RecordBatch out(schema);
  bool first = true;
  STRATA_RETURN_IF_ERROR(Scan(files, schema, size_t{1} << 62, [&](RecordBatch&& b) {
    if (first) {
      out = std::move(b);
      first = false;
    } else {
      out.Append(b);
    }
    return Status::OK();
  }));
  return out;
}

Result<RecordBatch> ReadParquetFiles(const std::vector<std::string>& files, SchemaPtr schema) {
  STRATA_ASSIGN_OR_RETURN(auto reader, ParquetReader::Create());
  return reader->Read(files, std::move(schema));
}

Status ScanParquetFiles(const std::vector<std::string>& files, SchemaPtr schema,
                        size_t max_batch_rows, const ParquetBatchCallback& on_batch) {
  STRATA_ASSIGN_OR_RETURN(auto reader, ParquetReader::Create());
  return reader->Scan(files, std::move(schema), max_batch_rows, on_batch);
}

}  // namespace strata
