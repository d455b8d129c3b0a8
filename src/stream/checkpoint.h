#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/file_util.h"
#include "core/status.h"
#include "stream/processor.h"

namespace strata {

// The identity of a query, stored once in <checkpoint>/metadata.
struct CheckpointMetadata {
  int format_version = 1;
  std::string query_id;     // UUID, stable across restarts; the Delta txn appId
  std::string name;         // e.g. "bronze_clickstream"
  std::string source;       // MicroBatchSource::Identity()
  std::string fingerprint;  // BatchProcessor::Fingerprint(): keys, windows, watermarks
};

// The planned range of one batch, written to offsets/<id> before the batch runs.
struct PlannedBatch {
  int64_t batch_id = 0;
  int64_t batch_timestamp_ms = 0;
  int64_t watermark_ms = 0;
  std::string start;  // source offset JSON, inclusive
  std::string end;    // source offset JSON, exclusive
};

// Written to commits/<id> after every sink has committed the batch.
struct CommittedBatch {
  int64_t batch_id = 0;
  int64_t next_watermark_ms = 0;
};

// A query's checkpoint directory:
//   metadata          the query's identity (JSON), written once
//   offsets/<N>       PlannedBatch of batch N (JSON), before the batch runs
//   commits/<N>       CommittedBatch of batch N (JSON), after its sink commits
//   state/<N>.snapshot | state/<N>.delta
//                     the processor's state after batch N (stateful queries only): the whole
//                     state, or what batch N changed; a list of partition-tagged blobs
// Every file is written atomically (temporary + fsync + rename). Batch N is committed iff
// commits/N exists; a batch with offsets/N but no commits/N is re-run with the same range.
// Not thread-safe; one query owns its checkpoint (a second process would be refused by the
// sink's txn versions, not by this class).
class Checkpoint {
 public:
  static constexpr int kFormatVersion = 1;
  static constexpr int kRetainedBatches = 100;

  explicit Checkpoint(std::string dir) : dir_(std::move(dir)) {}
  const std::string& dir() const { return dir_; }

  // Loads metadata; NotFound for a new checkpoint. Corruption or NotSupported (newer format)
  // name the file.
  Result<CheckpointMetadata> LoadMetadata() const;
  // Writes metadata for a new checkpoint. AlreadyExists if one is there.
  Status CreateMetadata(const CheckpointMetadata& meta);

  // The newest batch ids in offsets/ and commits/, -1 when none.
  Result<int64_t> LatestPlanned() const;
  Result<int64_t> LatestCommitted() const;
  Result<PlannedBatch> LoadPlanned(int64_t batch_id) const;
  Result<CommittedBatch> LoadCommitted(int64_t batch_id) const;
  Status WritePlanned(const PlannedBatch& batch);
  Status WriteCommitted(const CommittedBatch& batch);

  // Writes the state of batch `batch_id` (a snapshot or a delta) blob by blob: each Add()
  // appends one blob to a temporary file and frees it; Finish() makes the file durable and
  // renames it into place, replacing any state file that an earlier, failed attempt of the
  // same batch left. A writer destroyed without Finish() leaves nothing behind. IOError names
  // the file.
  class StateWriter : public StateSink {
   public:
    Status Add(StateBlob blob) override;
    Status Finish();
    // Bytes of the blobs added so far.
    int64_t blob_bytes() const { return blob_bytes_; }

   private:
    friend class Checkpoint;
    StateWriter(std::unique_ptr<AtomicFileWriter> file, std::string other_kind_path)
        : file_(std::move(file)), other_kind_path_(std::move(other_kind_path)) {}
    std::unique_ptr<AtomicFileWriter> file_;
    std::string other_kind_path_;  // the delta of a snapshot's batch, or the other way round
    std::string index_;            // per blob: partition, size, checksum
    uint32_t count_ = 0;
    int64_t blob_bytes_ = 0;
  };
  Result<std::unique_ptr<StateWriter>> BeginState(int64_t batch_id, bool snapshot);
  // The same, for blobs already in memory.
  Status WriteState(int64_t batch_id, bool snapshot, std::vector<StateBlob> blobs);
  // The state as of batch `batch_id`: the newest snapshot at or before it and every delta after
  // that snapshot up to `batch_id`. Both empty when there is no snapshot (a fresh state is then
  // right only if no delta exists either; Corruption otherwise). Corruption names a torn file.
  // `snapshot_batch` receives the batch of the snapshot used, -1 when none.
  Status LoadState(int64_t batch_id, std::vector<StateBlob>* snapshot,
                   std::vector<std::vector<StateBlob>>* deltas, int64_t* snapshot_batch) const;
  // Bytes of the state files written for `batch_id`.
  int64_t StateBytes(int64_t batch_id) const;

  // Deletes offsets, commits and state no longer needed to restart from `latest_committed`.
  Status Purge(int64_t latest_committed);

 private:
  Result<int64_t> LatestIn(const std::string& sub) const;
  std::string dir_;
};

}  // namespace strata
