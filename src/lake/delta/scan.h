#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/delta/snapshot.h"

namespace strata::duck {
class Connection;
}
namespace strata::sql {
class SqlEngine;
}

namespace strata::delta {

// One top-level column of a Delta table as a reader sees it.
struct ScanColumn {
  std::string name;           // logical name (what SQL sees)
  std::string physical_name;  // name in the data files / partitionValues (column mapping)
  std::string delta_type;     // "long", "decimal(10,2)", or the JSON of a nested type
  std::string duck_type;      // DuckDB type for a primitive; empty for nested types
  bool is_partition = false;
};

// The columns of `snapshot` in schema order, with column mapping (name and id mode: the
// physical name from delta.columnMapping.physicalName) applied. InvalidArgument for a schema
// string that is not a StructType.
Result<std::vector<ScanColumn>> ScanColumns(const delta::Snapshot& snapshot);

// read_parquet(<files>, union_by_name = true[, filename = true][, file_row_number = true]): the
// raw source a scan selects from (absolute file paths, as the log resolves them). The filename
// column is added only when `with_file_columns` (partition values or deletion vectors need it),
// and file_row_number only when a file has a deletion vector, so that data columns of those
// names do not collide otherwise.
std::string ParquetSource(const delta::Snapshot& snapshot, const std::vector<delta::AddFile>& files,
                          bool with_file_columns = false);

// A DuckDB SELECT that reads `files` of `snapshot` as the table's rows:
//  - columns renamed from physical to logical names and cast to the table's types
//    (timestamp -> TIMESTAMPTZ, timestamp_ntz -> TIMESTAMP, decimal(p,s), widened ints...);
//    a column no file has reads as NULL;
//  - partition columns from each file's partitionValues, cast to their type (null -> NULL);
//  - rows whose index is in the file's deletion vector removed (anti-join on read_parquet's
//    filename + file_row_number against the decoded (file, row) pairs).
// `present_columns` are the physical column names the files have (DESCRIBE of
// ParquetSource()). Deletion-vector errors (missing file, bad CRC, wrong cardinality) are
// returned naming the DV file. Zero files gives an empty result with the columns.
Result<std::string> BuildScanSql(const delta::Snapshot& snapshot,
                                 const std::vector<delta::AddFile>& files,
                                 const std::set<std::string>& present_columns);

// BuildScanSql with the files' columns read through `conn`.
Result<std::string> ScanSql(duck::Connection* conn, const delta::Snapshot& snapshot,
                            const std::vector<delta::AddFile>& files);

// Creates or replaces the view `qualified_name` (1-3 dot-separated parts; a three-part name
// attaches an in-memory catalog as SqlEngine::RegisterTable does) over `files` of `snapshot`
// with BuildScanSql, through `engine` (thread-safe as SqlEngine::Execute).
Status RegisterSnapshot(sql::SqlEngine* engine, const std::string& qualified_name,
                        const delta::Snapshot& snapshot, const std::vector<delta::AddFile>& files);

// ---- data skipping ----

// A predicate `column >= min_us AND column < max_us` on a timestamp or date column (epoch
// microseconds, UTC; either bound may be absent).
struct TimeRange {
  std::string column;  // logical name
  std::optional<int64_t> min_us;
  std::optional<int64_t> max_us;  // exclusive
};

// Parses "2026-11-24", "2026-11-24 06:34:14[.123456]", "2026-11-24T06:34:14.123Z" or with a
// "+01:00" offset into epoch microseconds (UTC when no offset). nullopt when malformed.
std::optional<int64_t> ParseTimestampMicros(std::string_view text);

// The files of `snapshot` that may hold rows matching `range`: a file is dropped only when its
// partition value (a date partition covers its whole day), or its min/max/nullCount stats,
// prove that no row matches. Files without usable stats are kept. Column mapping is applied
// (stats and partition values are keyed by physical name). InvalidArgument when the column is
// not in the schema.
Result<std::vector<delta::AddFile>> PruneFiles(const delta::Snapshot& snapshot,
                                               const TimeRange& range);

}  // namespace strata::delta
