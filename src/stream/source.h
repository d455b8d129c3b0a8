#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata {

// How much one micro-batch may take from a source. 0 means no limit.
struct ReadLimit {
  int64_t max_rows = 0;   // maxOffsetsPerTrigger for Kafka
  int64_t max_files = 0;  // maxFilesPerTrigger for Delta
  int64_t max_bytes = 0;  // maxBytesPerTrigger for Delta
};

// Progress of one source partition, for progress records and lag.
struct PartitionPosition {
  std::string partition;  // "clickstream-events-3" or "delta-version"
  int64_t start = 0;      // first offset of the batch (inclusive)
  int64_t end = 0;        // next offset to read after the batch (exclusive)
  int64_t latest = -1;    // newest offset available in the source, -1 when unknown
};

// A per-partition mark that the sink commit records (a Delta `txn` action), so that the table
// alone says how far each source partition got. `version` is the next offset to read.
struct PartitionMark {
  std::string app_id;
  int64_t version = 0;
  // A fenced mark is committed only if the table still holds `expected` for it (-1: no txn for
  // this app id yet), i.e. nobody moved the partition since the batch was planned from it; the
  // sink refuses the whole commit with Conflict otherwise. Group mode uses it so that a process
  // that lost a partition cannot commit it after its new owner did.
  bool fenced = false;
  int64_t expected = -1;
};

// A replayable, ordered source of rows for micro-batch queries (Spark's Source contract).
// Offsets are JSON strings whose meaning only the source knows; the engine stores them in the
// checkpoint. Every offset means "the next position to read". Read(start, end) must return
// exactly the same rows each time it is called with the same range, so that a batch that was
// planned but not committed can be re-run after a crash. Not thread-safe: one query thread.
class MicroBatchSource {
 public:
  using Emit = std::function<Status(RecordBatch&&)>;
  virtual ~MicroBatchSource() = default;

  // Human-readable, e.g. "kafka[clickstream-events]".
  virtual std::string Description() const = 0;
  // Stable identity checked against the checkpoint (the topic, the table id).
  virtual std::string Identity() const = 0;
  virtual SchemaPtr schema() const = 0;

  // Connects and validates. Called once before any other call.
  virtual Status Open() = 0;
  // The offset to start from when the checkpoint has none (startingOffsets).
  virtual Result<std::string> InitialOffset() = 0;
  // Checks that a checkpointed offset belongs to this source instance. Returns the offset to
  // use: the same one, or a replacement when the source was reset and the query is configured
  // to accept that (e.g. an embedded Kafka cluster that was recreated). Errors explain why
  // the offset cannot be used (another cluster, data lost with failOnDataLoss).
  virtual Result<std::string> Reconcile(const std::string& offset) = 0;
  // The end of the next batch starting at `start`, within `limit` and not beyond `cap` (an
  // offset returned earlier by PlanEnd; empty for no cap). Returns `start` when there is
  // nothing new.
  virtual Result<std::string> PlanEnd(const std::string& start, const ReadLimit& limit,
                                      const std::string& cap) = 0;
  // Delivers the rows in [start, end) in order, in one or more batches. `batch_timestamp_ms`
  // is the batch's fixed processing time (used e.g. for ingestion_timestamp), so a re-run
  // produces identical rows.
  virtual Status Read(const std::string& start, const std::string& end, int64_t batch_timestamp_ms,
                      const Emit& emit) = 0;
  // Per-partition positions for progress (start/end/latest), from the two offsets.
  virtual std::vector<PartitionPosition> Positions(const std::string& start,
                                                   const std::string& end) = 0;
  // Marks that the sink commit of a batch ending at `end` should record.
  virtual std::vector<PartitionMark> Marks(const std::string& end) = 0;
  // Number of rows between two offsets, when the source can tell without reading.
  virtual int64_t RowsBetween(const std::string& start, const std::string& end) = 0;

  // Group mode: several processes read this source together, each owning a changing subset of
  // its partitions (a Kafka consumer group). Such a source returns this process's member name
  // (stable for the process's life, unique in the group); "" (the default) for a source read
  // by one process. The engine then keeps the query's identity in <checkpoint>/metadata,
  // shared by every member (its id prefixes the partition marks, so all members read and
  // write the same marks), keeps the rest of its checkpoint in
  // <checkpoint>/members/<member>, hands the source a MarkReader, and re-plans a batch whose
  // fenced commit was refused instead of re-running it. The source plans each batch from the
  // marks (PlanEnd's `start` is only the previous end) and returns fenced marks.
  virtual std::string MemberName() const { return {}; }
  // The current txn version of each mark app id (as Marks() names them), nullopt when the
  // table has none. Errors as the table's.
  using MarkReader = std::function<Result<std::vector<std::optional<int64_t>>>(
      const std::vector<std::string>& app_ids)>;
  // Group mode: called once after Open(), before InitialOffset()/Reconcile().
  virtual void SetMarkReader(MarkReader reader) { (void)reader; }
  // Called once when the query's loop ends (stopped or failed); releases what must not outlive
  // the query, e.g. a group membership (its partitions then move to the other members at once).
  virtual void Close() {}
  // The key (stream/commit_signal.h) that a query writing this source's data in the same
  // process rings after each commit, e.g. the upstream Delta table's; the query reading this
  // source then starts its next batch without waiting for its trigger. Empty (the default):
  // nothing to wait for, the trigger alone decides.
  virtual std::string SignalKey() const { return {}; }
};

}  // namespace strata
