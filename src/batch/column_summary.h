#pragma once

#include <cstdint>
#include <string>

namespace strata {

// What one column holds over a set of rows, in the column's own terms (untruncated, unrounded):
// what Delta's per-file statistics need (lake/delta/stats.h). A writer that already looks at
// every value (the native Parquet writer) fills it while encoding, so the statistics need no
// second pass over the rows.
struct ColumnSummary {
  int64_t null_count = 0;
  // False when no value is non-null (doubles: non-null and not NaN); the fields below are then
  // unused.
  bool has_min_max = false;
  // bool (0/1), int32, date (days), int64, timestamp (microseconds).
  int64_t min_int = 0;
  int64_t max_int = 0;
  // double: NaN left out. Among equal values (-0.0 and 0.0) the first one in row order.
  double min_double = 0;
  double max_double = 0;
  // string and binary: whole values, unsigned byte order.
  std::string min_bytes;
  std::string max_bytes;
};

}  // namespace strata
