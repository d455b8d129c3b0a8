#include "batch/column.h"

namespace strata {

Column::Column(TypeId type) : type_(type) {
  if (type_ == TypeId::kString || type_ == TypeId::kBinary) offsets_.push_back(0);
}

void Column::Reserve(size_t rows, size_t string_bytes) {
  validity_.reserve(rows);
  switch (type_) {
    case TypeId::kBool:
      u8_.reserve(rows);
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      i32_.reserve(rows);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      i64_.reserve(rows);
      break;
    case TypeId::kDouble:
      f64_.reserve(rows);
      break;
    case TypeId::kString:
    case TypeId::kBinary:
      offsets_.reserve(rows + 1);
      chars_.reserve(string_bytes);
      break;
  }
}

void Column::Clear() {
  null_count_ = 0;
  validity_.clear();
  u8_.clear();
  i32_.clear();
  i64_.clear();
  f64_.clear();
  offsets_.clear();
  chars_.clear();
  if (type_ == TypeId::kString || type_ == TypeId::kBinary) offsets_.push_back(0);
}

void Column::AppendNull() {
  validity_.push_back(0);
  ++null_count_;
  switch (type_) {
    case TypeId::kBool:
      u8_.push_back(0);
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      i32_.push_back(0);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      i64_.push_back(0);
      break;
    case TypeId::kDouble:
      f64_.push_back(0);
      break;
    case TypeId::kString:
    case TypeId::kBinary:
      offsets_.push_back(static_cast<uint32_t>(chars_.size()));
      break;
  }
}

void Column::AppendBool(bool v) {
  assert(type_ == TypeId::kBool);
  validity_.push_back(1);
  u8_.push_back(v ? 1 : 0);
}

void Column::AppendInt32(int32_t v) {
  assert(type_ == TypeId::kInt32 || type_ == TypeId::kDate);
  validity_.push_back(1);
  i32_.push_back(v);
}

void Column::AppendInt64(int64_t v) {
  assert(type_ == TypeId::kInt64 || type_ == TypeId::kTimestamp);
  validity_.push_back(1);
  i64_.push_back(v);
}

void Column::AppendDouble(double v) {
  assert(type_ == TypeId::kDouble);
  validity_.push_back(1);
  f64_.push_back(v);
}

void Column::AppendString(std::string_view v) {
  assert(type_ == TypeId::kString || type_ == TypeId::kBinary);
  validity_.push_back(1);
  chars_.append(v.data(), v.size());
  offsets_.push_back(static_cast<uint32_t>(chars_.size()));
}

void Column::AppendFrom(const Column& other, size_t row) {
  assert(other.type_ == type_);
  if (other.IsNull(row)) {
    AppendNull();
    return;
  }
  switch (type_) {
    case TypeId::kBool:
      AppendBool(other.Bool(row));
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      AppendInt32(other.Int32(row));
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      AppendInt64(other.Int64(row));
      break;
    case TypeId::kDouble:
      AppendDouble(other.Double(row));
      break;
    case TypeId::kString:
    case TypeId::kBinary:
      AppendString(other.String(row));
      break;
  }
}

namespace {
template <typename T>
void Gather(std::vector<T>& dst, const std::vector<T>& src, const uint32_t* rows, size_t n) {
  size_t base = dst.size();
  dst.resize(base + n);
  T* out = dst.data() + base;
  for (size_t i = 0; i < n; ++i) out[i] = src[rows[i]];
}
}  // namespace

void Column::AppendRows(const Column& other, const uint32_t* rows, size_t n) {
  assert(other.type_ == type_);
  Gather(validity_, other.validity_, rows, n);
  if (other.null_count_ > 0)
    for (size_t i = 0; i < n; ++i) null_count_ += other.validity_[rows[i]] == 0;
  switch (type_) {
    case TypeId::kBool:
      Gather(u8_, other.u8_, rows, n);
      break;
    case TypeId::kInt32:
    case TypeId::kDate:
      Gather(i32_, other.i32_, rows, n);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      Gather(i64_, other.i64_, rows, n);
      break;
    case TypeId::kDouble:
      Gather(f64_, other.f64_, rows, n);
      break;
    case TypeId::kString:
    case TypeId::kBinary: {
      size_t bytes = 0;
      for (size_t i = 0; i < n; ++i) bytes += other.offsets_[rows[i] + 1] - other.offsets_[rows[i]];
      chars_.reserve(chars_.size() + bytes);
      offsets_.reserve(offsets_.size() + n);
      for (size_t i = 0; i < n; ++i) {
        uint32_t b = other.offsets_[rows[i]], e = other.offsets_[rows[i] + 1];
        chars_.append(other.chars_.data() + b, e - b);
        offsets_.push_back(static_cast<uint32_t>(chars_.size()));
      }
      break;
    }
  }
}

size_t Column::MemoryBytes() const {
  return validity_.capacity() + u8_.capacity() + i32_.capacity() * 4 + i64_.capacity() * 8 +
         f64_.capacity() * 8 + offsets_.capacity() * 4 + chars_.capacity();
}

}  // namespace strata
