#pragma once

#include <cassert>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "batch/schema.h"

namespace strata {

// One column of a batch: a contiguous array of values of one type plus a validity byte per row
// (1 = valid, 0 = null). Fixed-width values live in one typed vector; strings and binaries
// live in one character buffer with size()+1 offsets (value i spans [offsets[i], offsets[i+1])).
// A null slot still takes a (zero or empty) value so that positions line up.
//
// Appending never allocates per value once Reserve() has been called with enough room for the
// rows and, for strings, the bytes. Not thread-safe; a column is owned by one batch.
class Column {
 public:
  explicit Column(TypeId type);

  TypeId type() const { return type_; }
  size_t size() const { return validity_.size(); }
  size_t null_count() const { return null_count_; }
  bool IsNull(size_t i) const { return validity_[i] == 0; }
  bool IsValid(size_t i) const { return validity_[i] != 0; }

  void Reserve(size_t rows, size_t string_bytes = 0);
  void Clear();

  void AppendNull();
  void AppendBool(bool v);
  void AppendInt32(int32_t v);  // kInt32, kDate
  void AppendInt64(int64_t v);  // kInt64, kTimestamp
  void AppendDouble(double v);
  void AppendString(std::string_view v);  // kString, kBinary
  // Appends row `row` of `other` (same type).
  void AppendFrom(const Column& other, size_t row);
  // Appends rows rows[0..n) of `other` (same type), in that order: one type dispatch for all.
  void AppendRows(const Column& other, const uint32_t* rows, size_t n);

  bool Bool(size_t i) const { return u8_[i] != 0; }
  int32_t Int32(size_t i) const { return i32_[i]; }
  int64_t Int64(size_t i) const { return i64_[i]; }
  double Double(size_t i) const { return f64_[i]; }
  std::string_view String(size_t i) const {
    return std::string_view(chars_.data() + offsets_[i], offsets_[i + 1] - offsets_[i]);
  }

  // Raw access for vectorized code and for writers.
  const uint8_t* validity() const { return validity_.data(); }
  const uint8_t* bool_data() const { return u8_.data(); }
  const int32_t* int32_data() const { return i32_.data(); }
  const int64_t* int64_data() const { return i64_.data(); }
  const double* double_data() const { return f64_.data(); }
  const uint32_t* offsets() const { return offsets_.data(); }
  const char* chars() const { return chars_.data(); }
  size_t chars_size() const { return chars_.size(); }

  // Approximate heap bytes held.
  size_t MemoryBytes() const;

 private:
  TypeId type_;
  size_t null_count_ = 0;
  std::vector<uint8_t> validity_;
  std::vector<uint8_t> u8_;
  std::vector<int32_t> i32_;
  std::vector<int64_t> i64_;
  std::vector<double> f64_;
  std::vector<uint32_t> offsets_;
  std::string chars_;
};

}  // namespace strata
