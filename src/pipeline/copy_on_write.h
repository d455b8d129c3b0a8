#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata::delta {
class DeltaTable;
class Snapshot;
class Transaction;
}  // namespace strata::delta

namespace strata {

class ParquetReader;
class ParquetWriter;

// The values of `key_cols` in row `r` as one byte string (nulls distinct from every value), to
// compare rows of a small table by key.
std::string RowKey(const RecordBatch& batch, const std::vector<int>& key_cols, size_t r);

// An unpartitioned Delta table whose rows are replaced in place (gold tables).
struct CopyOnWriteTarget {
  delta::DeltaTable* table;  // not owned
  SchemaPtr schema;
  std::vector<int> key_cols;
  int range_col;  // int64/timestamp column whose min/max per file goes to the file's tags
  int final_col;  // bool column: true rows are written to their own file
};

struct CopyOnWriteStats {
  int64_t files_removed = 0;
  int64_t files_added = 0;
  int64_t rows_copied = 0;   // rows of removed files carried into the new files
  int64_t rows_removed = 0;  // rows of removed files that were replaced
  int64_t bytes_added = 0;
};

// Stages on `txn` (read at `snapshot`): every file that may hold rows with the range column in
// [range_lo, range_hi] (by its tags; a file without tags always qualifies) is read; when one of
// its rows satisfies `replaced`, the file is removed (dataChange = true) and its other rows are
// rewritten. The kept rows and `incoming` are written as new files named `<prefix>-<n>`, tagged
// with their range: the final rows in one file, the others in one file per range value when
// there are at most 16 values with 256 rows or more each on average (a window's rows then stay
// apart from the other windows', and a later commit touching only the newest window rewrites
// only its file), else in one file.
// Nothing is committed here. IOError or the reader's error when a file cannot be read or
// written.
Result<CopyOnWriteStats> StageCopyOnWrite(
    const CopyOnWriteTarget& target, const delta::Snapshot& snapshot, ParquetReader& reader,
    ParquetWriter& writer, const RecordBatch& incoming, int64_t range_lo, int64_t range_hi,
    const std::function<bool(const RecordBatch&, size_t)>& replaced, const std::string& prefix,
    delta::Transaction* txn);

}  // namespace strata
