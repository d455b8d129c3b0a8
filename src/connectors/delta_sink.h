#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "lake/parquet/parquet_writer.h"
#include "stream/sink.h"

namespace strata::delta {
class DeltaTable;
class Snapshot;
class Transaction;
}  // namespace strata::delta

namespace strata {

// The exactly-once protocol of a streaming sink writing a Delta table, shared by DeltaSink and
// the gold upsert sink (pipeline/upsert_sink.h):
// True when the table already holds batch `commit.batch_id` of `commit.query_id`.
bool IsBatchCommitted(const delta::Snapshot& snapshot, const BatchCommit& commit);
// OK when every fenced mark of `commit` still has its expected txn version in `snapshot`;
// Conflict naming the app id and both versions otherwise (another member of the group
// committed that partition since the batch was planned).
Status CheckFencedMarks(const delta::Snapshot& snapshot, const BatchCommit& commit);
// Records the batch (txn appId = query id, version = batch id) and each source partition's next
// offset (appId = "<mark prefix>/<mark>") in `txn`, then commits it. Fenced marks are checked
// against the transaction's read snapshot first, and Delta's conflict check refuses the commit
// if another writer set the same appId meanwhile: Conflict either way. Returns the version, or
// nullopt when another writer committed this very batch first (it is in the table, nothing
// more to do); other failures as they are.
Result<std::optional<int64_t>> CommitBatch(delta::DeltaTable& table, delta::Transaction& txn,
                                           const BatchCommit& commit);

// Delta's per-file statistics JSON (delta::ComputeStatsJson's, byte for byte) of a file the
// native Parquet engine wrote, from the statistics it gathered while encoding
// (info.column_stats, one per field of `schema`) instead of a
// second pass over the rows. `skip_columns` as for ComputeStatsJson (the partition columns).
std::string FileStatsJson(const Schema& schema, const ParquetFileInfo& info,
                          const std::vector<std::string>& skip_columns);

struct DeltaSinkOptions {
  std::string table_name;  // catalog name, e.g. catalog.streaming.silver_clickstream
  std::string path;        // table directory
  SchemaPtr schema;
  std::vector<std::string> partition_by;
  std::map<std::string, std::string> table_properties;  // delta.* properties on create
  std::string output_mode = "Append";
  // The table exists with fewer columns than `schema` (strata added nullable columns in a newer
  // version, or the config did): add them to the table's schema in one metadata commit when
  // opening, instead of refusing. Any other difference is still refused.
  bool merge_schema = false;
  ParquetWriteOptions parquet;
};

// A Delta table as the output of a streaming query. Each batch becomes one commit holding the
// batch's data files (one per partition value), a txn action (appId = query id, version = batch
// id) that makes a re-run of the same batch a no-op, a txn per source partition mark
// (appId = "<query id>/<mark>", version = next offset to read), and commitInfo "STREAMING
// UPDATE". Data files are written under their final names before the commit; a crash before
// the commit leaves them unreferenced (VACUUM removes them), never visible.
// Not thread-safe: one query thread.
class DeltaSink : public MicroBatchSink {
 public:
  explicit DeltaSink(DeltaSinkOptions options);
  ~DeltaSink() override;

  std::string Description() const override;
  std::string SignalKey() const override { return signal_key_; }
  SchemaPtr schema() const override { return options_.schema; }
  Status Open() override;
  Result<int64_t> LastCommittedBatch(const std::string& query_id) override;
  Result<SinkWriteStats> Commit(const BatchCommit& commit,
                                std::vector<RecordBatch>& batches) override;
  Result<std::vector<std::optional<int64_t>>> MarkVersions(
      const std::vector<std::string>& app_ids) override;

  delta::DeltaTable* table() { return table_.get(); }

 private:
  DeltaSinkOptions options_;
  std::string signal_key_;  // TableSignalKey(options_.path)
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetWriter> writer_;
};

}  // namespace strata
