#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "batch/column.h"
#include "batch/schema.h"

namespace strata {

// The unit of work inside the engine: a set of equally long columns under one schema.
// Movable, not copyable (copy explicitly with Slice/Take). Not thread-safe.
class RecordBatch {
 public:
  explicit RecordBatch(SchemaPtr schema);
  RecordBatch(RecordBatch&&) = default;
  RecordBatch& operator=(RecordBatch&&) = default;
  RecordBatch(const RecordBatch&) = delete;
  RecordBatch& operator=(const RecordBatch&) = delete;

  const SchemaPtr& schema() const { return schema_; }
  size_t num_rows() const { return columns_.empty() ? 0 : columns_[0].size(); }
  size_t num_columns() const { return columns_.size(); }
  Column& column(size_t i) { return columns_[i]; }
  const Column& column(size_t i) const { return columns_[i]; }
  // Asserts the column exists.
  const Column& column(const std::string& name) const;
  Column& column(const std::string& name);

  void Reserve(size_t rows);
  // Checks every column has num_rows() values; Internal on mismatch (a bug in a producer).
  Status Validate() const;

  // A deep copy (column buffers copied wholesale).
  RecordBatch Clone() const;
  // A copy of the columns at `indices`, in that order, under `schema` (whose fields must be
  // those columns').
  RecordBatch Select(SchemaPtr schema, const std::vector<int>& indices) const;
  // A new batch with the rows whose index is listed, in that order.
  RecordBatch Take(const std::vector<uint32_t>& rows) const;
  // Appends all rows of `other` (same schema).
  void Append(const RecordBatch& other);

  size_t MemoryBytes() const;

 private:
  SchemaPtr schema_;
  std::vector<Column> columns_;
};

}  // namespace strata
