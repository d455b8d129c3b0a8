#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"
#include "stream/source.h"

namespace strata {

// What one output table received in one batch.
struct SinkWriteStats {
  std::string table;
  int64_t rows = 0;
  int64_t files = 0;
  int64_t bytes = 0;
  int64_t version = -1;  // table version committed, -1 when skipped
  bool skipped = false;  // already committed earlier (idempotent re-run)
};

// Everything a batch writes, committed per table, each commit carrying the txn of
// (query id, batch id) and the source partition marks.
struct BatchCommit {
  std::string query_id;
  int64_t batch_id = 0;
  std::vector<PartitionMark> marks;
  // The marks' txn appIds are "<mark_prefix>/<mark app id>"; empty means query_id (group mode
  // uses the id shared by the group's members, while query_id is this member's own).
  std::string mark_prefix;
  const std::string& MarkPrefix() const { return mark_prefix.empty() ? query_id : mark_prefix; }
};

// An output table of a streaming query. Commit must be idempotent: if the table already holds
// batch `batch_id` of `query_id` (a txn action with version >= batch_id), it writes nothing and
// reports skipped. A failed Commit leaves the table as it was (no partial commit).
// Not thread-safe: one query thread.
class MicroBatchSink {
 public:
  virtual ~MicroBatchSink() = default;
  virtual std::string Description() const = 0;
  virtual SchemaPtr schema() const = 0;
  // Creates the table if needed and checks its schema.
  virtual Status Open() = 0;
  // Highest batch id of `query_id` this table holds, -1 if none.
  virtual Result<int64_t> LastCommittedBatch(const std::string& query_id) = 0;
  // Writes `batches` (possibly none: the commit still records the txn) in one atomic commit.
  virtual Result<SinkWriteStats> Commit(const BatchCommit& commit,
                                        std::vector<RecordBatch>& batches) = 0;
  // The key (stream/commit_signal.h) the query rings after this sink commits, so that queries
  // reading the table in the same process start at once; empty (the default) for none.
  virtual std::string SignalKey() const { return {}; }
  // The current txn version of each (full) app id, nullopt where the table has none; for the
  // group mode's MarkReader. NotSupported for a sink without txn marks.
  virtual Result<std::vector<std::optional<int64_t>>> MarkVersions(
      const std::vector<std::string>& app_ids) {
    (void)app_ids;
    return NotSupported(Description() + " keeps no partition marks");
  }
};

}  // namespace strata
