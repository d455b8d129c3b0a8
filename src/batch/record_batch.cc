#include "batch/record_batch.h"

#include <cassert>

namespace strata {

RecordBatch::RecordBatch(SchemaPtr schema) : schema_(std::move(schema)) {
  columns_.reserve(schema_->num_fields());
  for (const auto& f : schema_->fields()) columns_.emplace_back(f.type);
}

const Column& RecordBatch::column(const std::string& name) const {
  int i = schema_->IndexOf(name);
  assert(i >= 0 && "no such column");
  return columns_[static_cast<size_t>(i)];
}

Column& RecordBatch::column(const std::string& name) {
  int i = schema_->IndexOf(name);
  assert(i >= 0 && "no such column");
  return columns_[static_cast<size_t>(i)];
}

void RecordBatch::Reserve(size_t rows) {
  for (auto& c : columns_) c.Reserve(rows, IsFixedWidth(c.type()) ? 0 : rows * 16);
}

Status RecordBatch::Validate() const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (columns_[i].size() != num_rows()) {
      return Internal("column " + schema_->field(i).name + " has " +
                      std::to_string(columns_[i].size()) + " rows, expected " +
                      std::to_string(num_rows()));
    }
  }
  return Status::OK();
}

RecordBatch RecordBatch::Clone() const {
  RecordBatch out(schema_);
  out.columns_ = columns_;
  return out;
}

RecordBatch RecordBatch::Select(SchemaPtr schema, const std::vector<int>& indices) const {
  assert(schema->num_fields() == indices.size());
  RecordBatch out(std::move(schema));
  for (size_t c = 0; c < indices.size(); ++c)
    out.columns_[c] = columns_[static_cast<size_t>(indices[c])];
  return out;
}

RecordBatch RecordBatch::Take(const std::vector<uint32_t>& rows) const {
  RecordBatch out(schema_);
  for (size_t c = 0; c < columns_.size(); ++c)
    out.columns_[c].AppendRows(columns_[c], rows.data(), rows.size());
  return out;
}

void RecordBatch::Append(const RecordBatch& other) {
  assert(*other.schema_ == *schema_);
  std::vector<uint32_t> all(other.num_rows());
  for (size_t r = 0; r < all.size(); ++r) all[r] = static_cast<uint32_t>(r);
  for (size_t c = 0; c < columns_.size(); ++c)
    columns_[c].AppendRows(other.columns_[c], all.data(), all.size());
}

size_t RecordBatch::MemoryBytes() const {
  size_t n = 0;
  for (const auto& c : columns_) n += c.MemoryBytes();
  return n;
}

}  // namespace strata
