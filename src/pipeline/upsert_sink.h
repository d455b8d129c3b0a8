#pragma once

#include <memory>
#include <string>
#include <vector>

#include "stream/sink.h"

namespace strata::delta {
class DeltaTable;
}  // namespace strata::delta

namespace strata {

class ParquetReader;
class ParquetWriter;

struct UpsertSinkOptions {
  std::string table_name;  // catalog name
  std::string path;        // table directory
  SchemaPtr schema;
  // The columns that identify a row (e.g. window_start, window_end, event_type); a new row
  // replaces the table's row with the same values (nulls equal nulls).
  std::vector<std::string> key_columns;
  // An int64/timestamp column whose min/max per file is kept in the file's tags, so that a
  // commit reads only the files whose range overlaps the incoming rows.
  std::string range_column = "window_start";
  // A bool column: rows with true go to files apart from the others, so that the files that
  // are rewritten every batch stay small (final rows rarely change again).
  std::string final_column = "is_final";
};

// A small Delta table kept as one row per key, upserted with copy-on-write (the gold tables in
// update mode). The batches given to Commit hold either table rows (the table's schema) or
// retractions: batches whose columns are exactly the key columns, in `key_columns` order, name
// rows to delete (the sessions table retracts a provisional row whose key a session no longer
// has). Each Commit, in one Delta commit: the files holding a key of the incoming rows or
// retractions are removed (dataChange = true) and their other rows rewritten, together with the
// incoming rows (the last incoming row per key wins; a key both retracted and written is
// written), into new files: the final rows in one, the others one per window (range value) when
// they span at most 16 windows of at least 256 rows on average (StageCopyOnWrite). The commit
// carries txn (query id, batch id) and the source marks, so a re-run is a no-op, as with DeltaSink.
// Files without range tags (written by another writer) are always read. A concurrent writer
// removing the same files makes the commit fail with Conflict (retryable: the engine re-runs the
// batch on the new snapshot). InvalidArgument for a batch of neither shape. Not thread-safe: one
// query thread.
class UpsertDeltaSink : public MicroBatchSink {
 public:
  explicit UpsertDeltaSink(UpsertSinkOptions options);
  ~UpsertDeltaSink() override;

  std::string Description() const override;
  std::string SignalKey() const override { return signal_key_; }
  SchemaPtr schema() const override { return options_.schema; }
  Status Open() override;
  Result<int64_t> LastCommittedBatch(const std::string& query_id) override;
  Result<SinkWriteStats> Commit(const BatchCommit& commit,
                                std::vector<RecordBatch>& batches) override;

 private:
  UpsertSinkOptions options_;
  std::string signal_key_;  // TableSignalKey(options_.path)
  std::vector<int> key_cols_;
  int range_col_ = -1;
  int range_key_ = -1;  // the range column's position among the keys (-1: not a key)
  int final_col_ = -1;
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetWriter> writer_;
  std::unique_ptr<ParquetReader> reader_;
};

// Tags an upsert file carries: the min and max of the range column (decimal micros).
inline constexpr const char* kMinRangeTag = "strata.minRange";
inline constexpr const char* kMaxRangeTag = "strata.maxRange";

}  // namespace strata
