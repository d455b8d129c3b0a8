#pragma once

#include <duckdb.h>

#include "core/status.h"

namespace strata::sql {

// Registers SQL functions over serialized HyperLogLog sketches (operators/hyperloglog.h) on
// `conn`'s database:
//   hll_merge_estimate(sketch BLOB) -> DOUBLE  aggregate: merges the sketches of a group and
//                                               returns the estimated distinct count (NULL for
//                                               a group without sketches).
//   hll_merge(sketch BLOB) -> BLOB             aggregate: the merged sketch, serialized.
// NULL sketches are skipped. A corrupt sketch or sketches of different precisions fail the
// query with an error naming the problem. Internal if registration fails.
Status RegisterHllFunctions(duckdb_connection conn);

}  // namespace strata::sql
