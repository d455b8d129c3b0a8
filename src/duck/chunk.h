#pragma once

#include <duckdb.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "batch/schema.h"
#include "core/status.h"

namespace strata::duck {

// Conversion between strata's columnar batches and DuckDB data chunks (C API).
//
// Type mapping (strata -> DuckDB):
//   kBool BOOLEAN, kInt32 INTEGER, kInt64 BIGINT, kDouble DOUBLE, kString VARCHAR, kBinary BLOB,
//   kTimestamp TIMESTAMP WITH TIME ZONE (int64 micros UTC), kDate DATE (int32 days).
// All functions are thread-compatible: they touch only the objects passed in.

duckdb_type DuckTypeFor(TypeId type);
// SQL spelling of the DuckDB type, usable in CAST and CREATE TABLE ("TIMESTAMP WITH TIME ZONE").
const char* DuckTypeName(TypeId type);
// The SQL name of a DuckDB type id ("BIGINT", "TIMESTAMP WITH TIME ZONE", "DECIMAL" without
// width and scale, "LIST"...); "UNKNOWN" for ids this build does not name.
const char* DuckTypeIdName(duckdb_type type);

// Owns a duckdb_data_chunk whose columns have the types of a strata schema.
class DataChunk {
 public:
  // Internal if DuckDB cannot create the chunk.
  static Result<DataChunk> Create(const Schema& schema);
  DataChunk(DataChunk&& o) noexcept : chunk_(o.chunk_) { o.chunk_ = nullptr; }
  DataChunk& operator=(DataChunk&& o) noexcept;
  DataChunk(const DataChunk&) = delete;
  DataChunk& operator=(const DataChunk&) = delete;
  ~DataChunk();
  duckdb_data_chunk raw() const { return chunk_; }

 private:
  explicit DataChunk(duckdb_data_chunk c) : chunk_(c) {}
  duckdb_data_chunk chunk_ = nullptr;
};

// Writes rows [offset, offset + count) of `column` into positions [0, count) of `vector`, whose
// type must be DuckTypeFor(column.type()). count <= duckdb_vector_size(). Fixed-width values are
// memcpy'd, validity is written a 64-bit word at a time, strings go through
// duckdb_vector_assign_string_element_len (copied into the vector's own string heap).
void FillVector(const Column& column, size_t offset, size_t count, duckdb_vector vector);
// Same for an explicit list of row indexes (a selection): positions [0, count) take the rows
// rows[0..count).
void FillVectorRows(const Column& column, const uint32_t* rows, size_t count, duckdb_vector vector);

// Fills all columns of `chunk` (same column order and types as batch's schema) from rows
// [offset, offset + count) of `batch` and sets the chunk size. count <= duckdb_vector_size().
void FillChunk(const RecordBatch& batch, size_t offset, size_t count, duckdb_data_chunk chunk);
void FillChunkRows(const RecordBatch& batch, const uint32_t* rows, size_t count,
                   duckdb_data_chunk chunk);

// Appends the `count` first values of `vector` to `column`. A DuckDB type that does not match
// the column's strata type is InvalidArgument (naming both types); `what` names the column in
// that message. Timestamps of any precision and with or without time zone are accepted for
// kTimestamp (converted to micros); INTEGER and smaller integers are accepted for kInt64.
Status AppendVector(duckdb_vector vector, size_t count, Column* column, const std::string& what);
// Appends all rows of `chunk` to `batch`: chunk column i goes to batch column i.
Status AppendChunk(duckdb_data_chunk chunk, RecordBatch* batch);

// Appends the whole batch to an appender whose table has the batch's column types, a chunk at
// a time. Error with the appender's message.
Status AppendBatch(duckdb_appender appender, const RecordBatch& batch);

// What a batch-scan table function reads. The owner sets `batch` (and optionally `rows`, a
// selection of row indexes in output order) before running a statement that calls the function
// and keeps them alive until the statement has finished.
struct BatchScanSource {
  const RecordBatch* batch = nullptr;
  const std::vector<uint32_t>* rows = nullptr;
  // Upper bound on the threads DuckDB may use to scan (1 keeps the batch's row order).
  size_t max_threads = 1;
};

// Registers a table function `name`() on `conn`'s database that produces the rows of
// source->batch with its schema. `source` must outlive the database. Thread-safety: the scan
// itself is parallel (threads claim disjoint ranges of vector-size rows); the source must not be
// changed while a statement runs. Internal if registration fails (e.g. the name is taken).
Status RegisterBatchScan(duckdb_connection conn, const std::string& name, BatchScanSource* source);

}  // namespace strata::duck
