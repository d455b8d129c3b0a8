#include "sql/hll_functions.h"

#include <string>
#include <string_view>

#include "operators/hyperloglog.h"

namespace strata::sql {

namespace {

// The aggregate state DuckDB allocates for us: a pointer to a sketch, created on the first
// non-null input.
struct HllState {
  HyperLogLog* sketch;
};

idx_t StateSize(duckdb_function_info) {
  return sizeof(HllState);
}

void StateInit(duckdb_function_info, duckdb_aggregate_state state) {
  reinterpret_cast<HllState*>(state)->sketch = nullptr;
}

void StateDestroy(duckdb_aggregate_state* states, idx_t count) {
  for (idx_t i = 0; i < count; ++i) {
    auto* s = reinterpret_cast<HllState*>(states[i]);
    delete s->sketch;
    s->sketch = nullptr;
  }
}

// Folds `sketch` into `state`; false (with the error set on `info`) on a precision mismatch.
bool MergeInto(duckdb_function_info info, HllState* state, const HyperLogLog& sketch) {
  if (state->sketch == nullptr) {
    state->sketch = new HyperLogLog(sketch);
    return true;
  }
  Status st = state->sketch->Merge(sketch);
  if (!st.ok()) {
    duckdb_aggregate_function_set_error(info, ("hll_merge: " + st.message()).c_str());
    return false;
  }
  return true;
}

void Update(duckdb_function_info info, duckdb_data_chunk input, duckdb_aggregate_state* states) {
  idx_t n = duckdb_data_chunk_get_size(input);
  duckdb_vector vec = duckdb_data_chunk_get_vector(input, 0);
  auto* data = static_cast<duckdb_string_t*>(duckdb_vector_get_data(vec));
  uint64_t* mask = duckdb_vector_get_validity(vec);
  for (idx_t i = 0; i < n; ++i) {
    if (mask && !duckdb_validity_row_is_valid(mask, i)) continue;
    std::string_view bytes(duckdb_string_t_data(&data[i]), duckdb_string_t_length(data[i]));
    auto sketch = HyperLogLog::Deserialize(bytes);
    if (!sketch.ok()) {
      duckdb_aggregate_function_set_error(info,
                                          ("hll_merge: " + sketch.status().message()).c_str());
      return;
    }
    if (!MergeInto(info, reinterpret_cast<HllState*>(states[i]), *sketch)) return;
  }
}

void Combine(duckdb_function_info info, duckdb_aggregate_state* source,
             duckdb_aggregate_state* target, idx_t count) {
  for (idx_t i = 0; i < count; ++i) {
    auto* src = reinterpret_cast<HllState*>(source[i]);
    if (src->sketch == nullptr) continue;
    if (!MergeInto(info, reinterpret_cast<HllState*>(target[i]), *src->sketch)) return;
  }
}

void FinalizeEstimate(duckdb_function_info, duckdb_aggregate_state* source, duckdb_vector result,
                      idx_t count, idx_t offset) {
  auto* out = static_cast<double*>(duckdb_vector_get_data(result));
  duckdb_vector_ensure_validity_writable(result);
  uint64_t* mask = duckdb_vector_get_validity(result);
  for (idx_t i = 0; i < count; ++i) {
    auto* s = reinterpret_cast<HllState*>(source[i]);
    if (s->sketch == nullptr) {
      duckdb_validity_set_row_invalid(mask, offset + i);
    } else {
      out[offset + i] = s->sketch->Estimate();
    }
  }
}

void FinalizeSketch(duckdb_function_info, duckdb_aggregate_state* source, duckdb_vector result,
                    idx_t count, idx_t offset) {
  duckdb_vector_ensure_validity_writable(result);
  uint64_t* mask = duckdb_vector_get_validity(result);
  std::string bytes;
  for (idx_t i = 0; i < count; ++i) {
    auto* s = reinterpret_cast<HllState*>(source[i]);
    if (s->sketch == nullptr) {
      duckdb_validity_set_row_invalid(mask, offset + i);
      continue;
    }
    bytes.clear();
    s->sketch->AppendSerialized(&bytes);
    duckdb_vector_assign_string_element_len(result, offset + i, bytes.data(), bytes.size());
  }
}

Status Register(duckdb_connection conn, const char* name, duckdb_type result_type,
                duckdb_aggregate_finalize_t finalize) {
  duckdb_aggregate_function f = duckdb_create_aggregate_function();
  duckdb_aggregate_function_set_name(f, name);
  duckdb_logical_type blob = duckdb_create_logical_type(DUCKDB_TYPE_BLOB);
  duckdb_logical_type result = duckdb_create_logical_type(result_type);
  duckdb_aggregate_function_add_parameter(f, blob);
  duckdb_aggregate_function_set_return_type(f, result);
  duckdb_destroy_logical_type(&blob);
  duckdb_destroy_logical_type(&result);
  duckdb_aggregate_function_set_functions(f, StateSize, StateInit, Update, Combine, finalize);
  duckdb_aggregate_function_set_destructor(f, StateDestroy);
  duckdb_state st = duckdb_register_aggregate_function(conn, f);
  duckdb_destroy_aggregate_function(&f);
  if (st == DuckDBError) return Internal(std::string("cannot register SQL aggregate ") + name);
  return Status::OK();
}

}  // namespace

Status RegisterHllFunctions(duckdb_connection conn) {
  STRATA_RETURN_IF_ERROR(
      Register(conn, "hll_merge_estimate", DUCKDB_TYPE_DOUBLE, FinalizeEstimate));
  return Register(conn, "hll_merge", DUCKDB_TYPE_BLOB, FinalizeSketch);
}

}  // namespace strata::sql
