#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "batch/column_summary.h"
#include "batch/record_batch.h"

namespace strata::delta {

// Number of leading columns that get statistics (delta.dataSkippingNumIndexedCols default).
inline constexpr size_t kDefaultNumIndexedCols = 32;
// String min/max values are truncated to this many characters (code points).
inline constexpr size_t kStatsStringPrefixLength = 32;

// Computes the Delta per-file statistics JSON for the rows of `batch` (PROTOCOL.md "Per-file
// Statistics"): {"numRecords":N,"minValues":{..},"maxValues":{..},"nullCount":{..}} over the
// first `num_indexed_cols` columns, skipping `skip_columns` (e.g. partition columns).
//  - int/long/double: exact min/max (NaN ignored; a column of only NaN/null has no min/max);
//  - string: byte-wise (UTF-8) order; min truncated to 32 code points (still a lower bound);
//    max truncated to 32 code points plus U+10FFFF so it stays an upper bound (when the cut
//    falls on U+10FFFF itself, max is omitted);
//  - date "2026-11-24"; timestamp ISO-8601 UTC with milliseconds, min rounded down and max
//    rounded up to the millisecond so that both remain bounds;
//  - bool and binary: nullCount only.
// One pass per column over contiguous arrays; no allocation per value.
std::string ComputeStatsJson(const RecordBatch& batch,
                             size_t num_indexed_cols = kDefaultNumIndexedCols,
                             const std::vector<std::string>& skip_columns = {});

// The summary ComputeStatsJson renders for `column` (one pass over its values).
ColumnSummary SummarizeColumn(const Column& column);

// The JSON ComputeStatsJson returns, from one summary per column of `schema` (same order) and
// the file's row count: byte-for-byte the same when the summaries describe the same rows. The
// summaries of bool and binary columns only give their null counts. `columns` must have one
// entry per field of `schema` (a shorter vector is a bug: the missing columns get no stats).
std::string StatsJsonFromSummaries(const Schema& schema, int64_t num_records,
                                   const std::vector<ColumnSummary>& columns,
                                   size_t num_indexed_cols = kDefaultNumIndexedCols,
                                   const std::vector<std::string>& skip_columns = {});

// Min-side and max-side truncation of a string statistic (exposed for tests). Max returns
// false when no valid truncated upper bound exists.
std::string TruncateMinString(std::string_view s, size_t max_chars = kStatsStringPrefixLength);
bool TruncateMaxString(std::string_view s, std::string* out,
                       size_t max_chars = kStatsStringPrefixLength);

}  // namespace strata::delta
