#include "duck/chunk.h"

#include <atomic>
#include <cstring>

namespace strata::duck {

duckdb_type DuckTypeFor(TypeId type) {
  switch (type) {
    case TypeId::kBool:
      return DUCKDB_TYPE_BOOLEAN;
    case TypeId::kInt32:
      return DUCKDB_TYPE_INTEGER;
    case TypeId::kInt64:
      return DUCKDB_TYPE_BIGINT;
    case TypeId::kDouble:
      return DUCKDB_TYPE_DOUBLE;
    case TypeId::kString:
      return DUCKDB_TYPE_VARCHAR;
    case TypeId::kBinary:
      return DUCKDB_TYPE_BLOB;
    case TypeId::kTimestamp:
      return DUCKDB_TYPE_TIMESTAMP_TZ;
    case TypeId::kDate:
      return DUCKDB_TYPE_DATE;
  }
  return DUCKDB_TYPE_INVALID;
}

const char* DuckTypeName(TypeId type) {
  switch (type) {
    case TypeId::kBool:
      return "BOOLEAN";
    case TypeId::kInt32:
      return "INTEGER";
    case TypeId::kInt64:
      return "BIGINT";
    case TypeId::kDouble:
      return "DOUBLE";
    case TypeId::kString:
      return "VARCHAR";
    case TypeId::kBinary:
      return "BLOB";
    case TypeId::kTimestamp:
      return "TIMESTAMP WITH TIME ZONE";
    case TypeId::kDate:
      return "DATE";
  }
  return "INVALID";
}

Result<DataChunk> DataChunk::Create(const Schema& schema) {
  std::vector<duckdb_logical_type> types;
  types.reserve(schema.num_fields());
  for (const auto& f : schema.fields())
    types.push_back(duckdb_create_logical_type(DuckTypeFor(f.type)));
  duckdb_data_chunk c = duckdb_create_data_chunk(types.data(), types.size());
  for (auto& t : types) duckdb_destroy_logical_type(&t);
  if (c == nullptr) return Internal("DuckDB could not create a data chunk");
  return DataChunk(c);
}

DataChunk& DataChunk::operator=(DataChunk&& o) noexcept {
  if (this != &o) {
    if (chunk_) duckdb_destroy_data_chunk(&chunk_);
    chunk_ = o.chunk_;
    o.chunk_ = nullptr;
  }
  return *this;
}

DataChunk::~DataChunk() {
  if (chunk_) duckdb_destroy_data_chunk(&chunk_);
}

namespace {

// Index functors: contiguous range or selection.
struct RangeIndex {
  size_t offset;
  size_t operator()(size_t i) const { return offset + i; }
};
struct SelIndex {
  const uint32_t* rows;
  size_t operator()(size_t i) const { return rows[i]; }
};

template <typename Index>
void FillValidity(const Column& column, Index index, size_t count, duckdb_vector vector) {
  duckdb_vector_ensure_validity_writable(vector);
  uint64_t* mask = duckdb_vector_get_validity(vector);
  const uint8_t* valid = column.validity();
  for (size_t base = 0; base < count; base += 64) {
    size_t n = count - base < 64 ? count - base : 64;
    uint64_t word = 0;
    for (size_t b = 0; b < n; ++b) word |= static_cast<uint64_t>(valid[index(base + b)] != 0) << b;
    if (n < 64) word |= ~uint64_t{0} << n;  // positions past count stay valid
    mask[base / 64] = word;
  }
}

template <typename T, typename Index>
void FillFixed(const T* src, Index index, size_t count, duckdb_vector vector) {
  T* dst = static_cast<T*>(duckdb_vector_get_data(vector));
  for (size_t i = 0; i < count; ++i) dst[i] = src[index(i)];
}

template <typename T>
void FillFixed(const T* src, RangeIndex index, size_t count, duckdb_vector vector) {
  std::memcpy(duckdb_vector_get_data(vector), src + index.offset, count * sizeof(T));
}

template <typename Index>
void FillVectorImpl(const Column& column, Index index, size_t count, duckdb_vector vector) {
  const bool has_nulls = column.null_count() > 0;
  if (has_nulls) {
    FillValidity(column, index, count, vector);
  } else if (uint64_t* mask = duckdb_vector_get_validity(vector)) {
    // A reused vector may carry a mask from an earlier fill: mark everything valid again.
    std::memset(mask, 0xff, (count + 63) / 64 * sizeof(uint64_t));
  }
  switch (column.type()) {
    case TypeId::kBool: {
      // DuckDB's bool is one byte; strata stores 0/1 bytes.
      FillFixed(reinterpret_cast<const bool*>(column.bool_data()), index, count, vector);
      break;
    }
    case TypeId::kInt32:
    case TypeId::kDate:
      FillFixed(column.int32_data(), index, count, vector);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      FillFixed(column.int64_data(), index, count, vector);
      break;
    case TypeId::kDouble:
      FillFixed(column.double_data(), index, count, vector);
      break;
    case TypeId::kString:
    case TypeId::kBinary: {
      const uint32_t* off = column.offsets();
      const char* chars = column.chars();
      auto* out = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vector));
      for (size_t i = 0; i < count; ++i) {
        size_t r = index(i);
        if (has_nulls && column.IsNull(r)) continue;
        uint32_t len = off[r + 1] - off[r];
        if (len <= 12) {
          // Short strings live inside the 16-byte string_t (zero padded); no heap, no call.
          duckdb_string_t s;
          std::memset(&s, 0, sizeof s);
          s.value.inlined.length = len;
          std::memcpy(s.value.inlined.inlined, chars + off[r], len);
          out[i] = s;
        } else {
          duckdb_vector_assign_string_element_len(vector, i, chars + off[r], len);
        }
      }
      break;
    }
  }
}

}  // namespace

void FillVector(const Column& column, size_t offset, size_t count, duckdb_vector vector) {
  FillVectorImpl(column, RangeIndex{offset}, count, vector);
}

void FillVectorRows(const Column& column, const uint32_t* rows, size_t count,
                    duckdb_vector vector) {
  FillVectorImpl(column, SelIndex{rows}, count, vector);
}

void FillChunk(const RecordBatch& batch, size_t offset, size_t count, duckdb_data_chunk chunk) {
  for (size_t c = 0; c < batch.num_columns(); ++c)
    FillVector(batch.column(c), offset, count, duckdb_data_chunk_get_vector(chunk, c));
  duckdb_data_chunk_set_size(chunk, count);
}

void FillChunkRows(const RecordBatch& batch, const uint32_t* rows, size_t count,
                   duckdb_data_chunk chunk) {
  for (size_t c = 0; c < batch.num_columns(); ++c)
    FillVectorRows(batch.column(c), rows, count, duckdb_data_chunk_get_vector(chunk, c));
  duckdb_data_chunk_set_size(chunk, count);
}

const char* DuckTypeIdName(duckdb_type t) {
  switch (t) {
    case DUCKDB_TYPE_BOOLEAN:
      return "BOOLEAN";
    case DUCKDB_TYPE_TINYINT:
      return "TINYINT";
    case DUCKDB_TYPE_SMALLINT:
      return "SMALLINT";
    case DUCKDB_TYPE_INTEGER:
      return "INTEGER";
    case DUCKDB_TYPE_BIGINT:
      return "BIGINT";
    case DUCKDB_TYPE_UTINYINT:
      return "UTINYINT";
    case DUCKDB_TYPE_USMALLINT:
      return "USMALLINT";
    case DUCKDB_TYPE_UINTEGER:
      return "UINTEGER";
    case DUCKDB_TYPE_UBIGINT:
      return "UBIGINT";
    case DUCKDB_TYPE_HUGEINT:
      return "HUGEINT";
    case DUCKDB_TYPE_UHUGEINT:
      return "UHUGEINT";
    case DUCKDB_TYPE_FLOAT:
      return "FLOAT";
    case DUCKDB_TYPE_DOUBLE:
      return "DOUBLE";
    case DUCKDB_TYPE_DECIMAL:
      return "DECIMAL";
    case DUCKDB_TYPE_VARCHAR:
      return "VARCHAR";
    case DUCKDB_TYPE_BLOB:
      return "BLOB";
    case DUCKDB_TYPE_DATE:
      return "DATE";
    case DUCKDB_TYPE_TIME:
      return "TIME";
    case DUCKDB_TYPE_TIMESTAMP:
      return "TIMESTAMP";
    case DUCKDB_TYPE_TIMESTAMP_S:
      return "TIMESTAMP_S";
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return "TIMESTAMP_MS";
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return "TIMESTAMP_NS";
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return "TIMESTAMP WITH TIME ZONE";
    case DUCKDB_TYPE_INTERVAL:
      return "INTERVAL";
    case DUCKDB_TYPE_UUID:
      return "UUID";
    case DUCKDB_TYPE_ENUM:
      return "ENUM";
    case DUCKDB_TYPE_SQLNULL:
      return "NULL";
    case DUCKDB_TYPE_LIST:
      return "LIST";
    case DUCKDB_TYPE_STRUCT:
      return "STRUCT";
    case DUCKDB_TYPE_MAP:
      return "MAP";
    case DUCKDB_TYPE_ARRAY:
      return "ARRAY";
    case DUCKDB_TYPE_UNION:
      return "UNION";
    default:
      return "UNKNOWN";
  }
}

namespace {

// Inline forms of duckdb_validity_row_is_valid and duckdb_string_t_data/length (the layouts are
// part of the C API), so the per-value loops make no calls into the library.
inline bool RowValid(const uint64_t* mask, size_t i) {
  return mask == nullptr || ((mask[i >> 6] >> (i & 63)) & 1) != 0;
}

inline std::string_view StringOf(const duckdb_string_t& s) {
  uint32_t len = s.value.inlined.length;
  return std::string_view(len <= 12 ? s.value.inlined.inlined : s.value.pointer.ptr, len);
}

template <typename T, typename F>
void AppendTyped(const void* data, const uint64_t* mask, size_t count, Column* column, F append) {
  const T* v = static_cast<const T*>(data);
  if (mask == nullptr) {
    for (size_t i = 0; i < count; ++i) append(v[i]);
    return;
  }
  for (size_t i = 0; i < count; ++i) {
    if (RowValid(mask, i)) {
      append(v[i]);
    } else {
      column->AppendNull();
    }
  }
}

}  // namespace

Status AppendVector(duckdb_vector vector, size_t count, Column* column, const std::string& what) {
  duckdb_logical_type lt = duckdb_vector_get_column_type(vector);
  duckdb_type t = duckdb_get_type_id(lt);
  duckdb_destroy_logical_type(&lt);
  const void* data = duckdb_vector_get_data(vector);
  const uint64_t* mask = duckdb_vector_get_validity(vector);
  auto mismatch = [&]() {
    return InvalidArgument("column " + what + " has DuckDB type " + DuckTypeIdName(t) +
                           ", expected " + DuckTypeName(column->type()));
  };
  if (t == DUCKDB_TYPE_SQLNULL) {
    for (size_t i = 0; i < count; ++i) column->AppendNull();
    return Status::OK();
  }
  switch (column->type()) {
    case TypeId::kBool:
      if (t != DUCKDB_TYPE_BOOLEAN) return mismatch();
      AppendTyped<bool>(data, mask, count, column, [&](bool v) { column->AppendBool(v); });
      return Status::OK();
    case TypeId::kInt32:
      if (t != DUCKDB_TYPE_INTEGER) return mismatch();
      AppendTyped<int32_t>(data, mask, count, column, [&](int32_t v) { column->AppendInt32(v); });
      return Status::OK();
    case TypeId::kDate:
      if (t != DUCKDB_TYPE_DATE) return mismatch();
      AppendTyped<int32_t>(data, mask, count, column, [&](int32_t v) { column->AppendInt32(v); });
      return Status::OK();
    case TypeId::kInt64:
      switch (t) {
        case DUCKDB_TYPE_BIGINT:
          AppendTyped<int64_t>(data, mask, count, column,
                               [&](int64_t v) { column->AppendInt64(v); });
          return Status::OK();
        case DUCKDB_TYPE_INTEGER:
          AppendTyped<int32_t>(data, mask, count, column,
                               [&](int32_t v) { column->AppendInt64(v); });
          return Status::OK();
        case DUCKDB_TYPE_SMALLINT:
          AppendTyped<int16_t>(data, mask, count, column,
                               [&](int16_t v) { column->AppendInt64(v); });
          return Status::OK();
        case DUCKDB_TYPE_TINYINT:
          AppendTyped<int8_t>(data, mask, count, column, [&](int8_t v) { column->AppendInt64(v); });
          return Status::OK();
        default:
          return mismatch();
      }
    case TypeId::kTimestamp: {
      int64_t mul = 1, div = 1;
      switch (t) {
        case DUCKDB_TYPE_TIMESTAMP:
        case DUCKDB_TYPE_TIMESTAMP_TZ:
          break;
        case DUCKDB_TYPE_TIMESTAMP_S:
          mul = 1000000;
          break;
        case DUCKDB_TYPE_TIMESTAMP_MS:
          mul = 1000;
          break;
        case DUCKDB_TYPE_TIMESTAMP_NS:
          div = 1000;
          break;
        default:
          return mismatch();
      }
      AppendTyped<int64_t>(data, mask, count, column,
                           [&](int64_t v) { column->AppendInt64(v * mul / div); });
      return Status::OK();
    }
    case TypeId::kDouble:
      if (t == DUCKDB_TYPE_DOUBLE) {
        AppendTyped<double>(data, mask, count, column, [&](double v) { column->AppendDouble(v); });
      } else if (t == DUCKDB_TYPE_FLOAT) {
        AppendTyped<float>(data, mask, count, column, [&](float v) { column->AppendDouble(v); });
      } else {
        return mismatch();
      }
      return Status::OK();
    case TypeId::kString:
    case TypeId::kBinary: {
      duckdb_type want = column->type() == TypeId::kString ? DUCKDB_TYPE_VARCHAR : DUCKDB_TYPE_BLOB;
      if (t != want) return mismatch();
      const auto* strings = static_cast<const duckdb_string_t*>(data);
      for (size_t i = 0; i < count; ++i) {
        if (RowValid(mask, i)) {
          column->AppendString(StringOf(strings[i]));
        } else {
          column->AppendNull();
        }
      }
      return Status::OK();
    }
  }
  return mismatch();
}

Status AppendChunk(duckdb_data_chunk chunk, RecordBatch* batch) {
  size_t ncols = duckdb_data_chunk_get_column_count(chunk);
  if (ncols != batch->num_columns()) {
    return InvalidArgument("DuckDB chunk has " + std::to_string(ncols) + " columns, batch has " +
                           std::to_string(batch->num_columns()));
  }
  size_t n = duckdb_data_chunk_get_size(chunk);
  for (size_t c = 0; c < ncols; ++c) {
    STRATA_RETURN_IF_ERROR(AppendVector(duckdb_data_chunk_get_vector(chunk, c), n,
                                        &batch->column(c), batch->schema()->field(c).name));
  }
  return Status::OK();
}

Status AppendBatch(duckdb_appender appender, const RecordBatch& batch) {
  STRATA_ASSIGN_OR_RETURN(DataChunk chunk, DataChunk::Create(*batch.schema()));
  const size_t step = duckdb_vector_size();
  for (size_t off = 0; off < batch.num_rows(); off += step) {
    size_t n = batch.num_rows() - off < step ? batch.num_rows() - off : step;
    duckdb_data_chunk_reset(chunk.raw());
    FillChunk(batch, off, n, chunk.raw());
    if (duckdb_append_data_chunk(appender, chunk.raw()) == DuckDBError) {
      const char* e = duckdb_appender_error(appender);
      return InvalidArgument(std::string("DuckDB appender: ") + (e ? e : "unknown error"));
    }
  }
  return Status::OK();
}

namespace {

struct ScanGlobal {
  std::atomic<size_t> next{0};
};

void ScanBind(duckdb_bind_info info) {
  auto* src = static_cast<BatchScanSource*>(duckdb_bind_get_extra_info(info));
  if (src == nullptr || src->batch == nullptr) {
    duckdb_bind_set_error(info, "batch scan: no batch is set");
    return;
  }
  for (const auto& f : src->batch->schema()->fields()) {
    duckdb_logical_type t = duckdb_create_logical_type(DuckTypeFor(f.type));
    duckdb_bind_add_result_column(info, f.name.c_str(), t);
    duckdb_destroy_logical_type(&t);
  }
  size_t rows = src->rows ? src->rows->size() : src->batch->num_rows();
  duckdb_bind_set_cardinality(info, rows, true);
}

void ScanInit(duckdb_init_info info) {
  auto* src = static_cast<BatchScanSource*>(duckdb_init_get_extra_info(info));
  duckdb_init_set_init_data(info, new ScanGlobal(),
                            [](void* p) { delete static_cast<ScanGlobal*>(p); });
  duckdb_init_set_max_threads(info, src->max_threads == 0 ? 1 : src->max_threads);
}

void ScanFunction(duckdb_function_info info, duckdb_data_chunk output) {
  auto* src = static_cast<BatchScanSource*>(duckdb_function_get_extra_info(info));
  auto* global = static_cast<ScanGlobal*>(duckdb_function_get_init_data(info));
  const size_t total = src->rows ? src->rows->size() : src->batch->num_rows();
  const size_t step = duckdb_vector_size();
  size_t start = global->next.fetch_add(step, std::memory_order_relaxed);
  if (start >= total) {
    duckdb_data_chunk_set_size(output, 0);
    return;
  }
  size_t n = total - start < step ? total - start : step;
  if (src->rows) {
    FillChunkRows(*src->batch, src->rows->data() + start, n, output);
  } else {
    FillChunk(*src->batch, start, n, output);
  }
}

}  // namespace

Status RegisterBatchScan(duckdb_connection conn, const std::string& name, BatchScanSource* source) {
  duckdb_table_function f = duckdb_create_table_function();
  duckdb_table_function_set_name(f, name.c_str());
  duckdb_table_function_set_extra_info(f, source, nullptr);
  duckdb_table_function_set_bind(f, ScanBind);
  duckdb_table_function_set_init(f, ScanInit);
  duckdb_table_function_set_function(f, ScanFunction);
  duckdb_state st = duckdb_register_table_function(conn, f);
  duckdb_destroy_table_function(&f);
  if (st == DuckDBError) return Internal("cannot register DuckDB table function " + name);
  return Status::OK();
}

}  // namespace strata::duck
