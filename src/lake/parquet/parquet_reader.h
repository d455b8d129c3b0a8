#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "batch/schema.h"
#include "core/status.h"

namespace strata::duck {
class Connection;
class Database;
}  // namespace strata::duck

namespace strata {

// Receives one batch of a streaming read. A non-OK status stops the read and is returned by
// the scan.
using ParquetBatchCallback = std::function<Status(RecordBatch&& batch)>;

// Reads Parquet files into RecordBatches of a requested schema through DuckDB's read_parquet.
//
// Columns are projected by name (exact, case-sensitive). A column that a file lacks reads as
// nulls in that file's rows. A column whose Parquet type cannot represent the requested strata
// type is InvalidArgument naming the file, the column and both types. Accepted widenings:
// INTEGER/SMALLINT/TINYINT -> long, FLOAT -> double, timestamps of any unit with or without
// isAdjustedToUTC -> timestamp (a zone-less timestamp is taken as UTC).
// A missing file is NotFound naming the file.
//
// Lifecycle: Create() opens a private in-memory DuckDB database, reused across reads.
// Thread-compatible: one reader per thread.
class ParquetReader {
 public:
  static Result<std::unique_ptr<ParquetReader>> Create(int threads = 2);
  ~ParquetReader();
  ParquetReader(const ParquetReader&) = delete;
  ParquetReader& operator=(const ParquetReader&) = delete;

  // All rows of all files, concatenated in file order.
  Result<RecordBatch> Read(const std::vector<std::string>& files, SchemaPtr schema);
  // Streams the rows in batches of at most `max_batch_rows` rows (at least one DuckDB vector,
  // 2048 rows, is buffered at a time), so memory stays bounded by the batch size.
  // `where`, when not empty, is a SQL condition over the files' columns (e.g.
  // "kafka_partition = 3"): only the rows that satisfy it are delivered, in file order, and
  // DuckDB skips row groups whose statistics exclude it.
  Status Scan(const std::vector<std::string>& files, SchemaPtr schema, size_t max_batch_rows,
              const ParquetBatchCallback& on_batch, const std::string& where = {});

 private:
  ParquetReader() = default;
  // The SELECT that reads `files` as `schema`, after checking every file's columns.
  Result<std::string> BuildQuery(const std::vector<std::string>& files, const Schema& schema);

  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
};

// One-shot helpers that open a private reader for the call.
Result<RecordBatch> ReadParquetFiles(const std::vector<std::string>& files, SchemaPtr schema);
Status ScanParquetFiles(const std::vector<std::string>& files, SchemaPtr schema,
                        size_t max_batch_rows, const ParquetBatchCallback& on_batch);

}  // namespace strata
