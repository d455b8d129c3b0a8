#pragma once

#include <cstdint>
#include <map>

#include "batch/record_batch.h"
#include "batch/schema.h"

namespace strata {

// Top-K keys per window of a gold table (`topK = N`, e.g. the 10 pages with most views per
// minute). Rows are window aggregates as WindowAggregator emits them: window_start,
// window_end, <key>, event_count, ... . Within a window, keys rank by event_count descending,
// ties by key ascending (bytewise, a null key first), so the selection is deterministic.

// The schema of a top-K gold table: the aggregate's columns followed by `rank` (int, 1 = most
// events). In update mode the table's upsert key is (window_start, window_end, rank).
SchemaPtr TopKSchema(const SchemaPtr& aggregate_schema);

// The rows of `rows` (aggregate schema, key in column 2) ranked 1..k within their window, with
// their rank appended (`out_schema` = TopKSchema(rows' schema)); ordered by window_start, then
// rank. `rows` must hold every key of each of its windows (EmitFinal does).
RecordBatch SelectTopK(const RecordBatch& rows, const SchemaPtr& out_schema, int64_t k);

// The provisional top K of update mode. A batch's changed rows (EmitUpdated) hold only the
// keys that changed, so the tracker remembers the latest provisional aggregate of every key of
// each open window and re-ranks a window whenever one of its keys changes. Because keys only
// gain events, a window's final row count min(k, keys) is never below an earlier provisional
// one: the final rows overwrite every provisional rank, and the table ends with exactly the
// top K of the final counts.
// The remembered rows are not checkpointed: after a restart, a window's provisional ranks are
// computed from the keys changed since then (its final rows are always exact).
// Memory: one row per (open window, key). Not thread-safe: the gold query's thread.
class TopKTracker {
 public:
  TopKTracker(SchemaPtr out_schema, int64_t k);
  // Ranks 1..k of each window that has a row in `updated`, among every key seen for it.
  RecordBatch Update(const RecordBatch& updated);
  // SelectTopK of the final rows, and forgets their windows.
  RecordBatch Final(const RecordBatch& final_rows);

 private:
  SchemaPtr out_schema_;
  int64_t k_;
  std::map<int64_t, RecordBatch> windows_;  // window_start -> one row per key
};

}  // namespace strata
