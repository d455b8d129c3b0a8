#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stream/source.h"

namespace strata::delta {
class DeltaTable;
}
namespace strata {
class ParquetReader;

struct DeltaSourceOptions {
  std::string table_name;
  std::string path;
  SchemaPtr schema;  // the columns to read (a projection of the table's schema)
  // Commits that remove data (dataChange=true removes: DELETE, UPDATE, MERGE, overwrite) are
  // an error unless this is set, in which case their removes are ignored and their adds read.
  bool ignore_changes = false;
  size_t max_batch_rows = 1 << 16;  // rows per RecordBatch handed to the processor
  // When set, only the rows whose int column `partition_column` equals it are read (group
  // mode: one sub-query per Kafka partition, pipeline/partitioned_query.h). Files whose
  // min/max statistics exclude the value are not opened; a batch is planned only when a file
  // that may hold such rows lies ahead, and spans the commits without any before it.
  std::optional<int32_t> partition_filter;
  std::string partition_column = "kafka_partition";
};

// A Delta table read as a stream (Spark's readStream.format("delta")): each commit's added data
// files, in commit order. Commits whose files all have dataChange=false (OPTIMIZE, compaction)
// are skipped. The offset is {"tableId":..,"version":V,"index":I}: the next file to read is
// the I-th added file (in log order) of commit V, and every later commit is unread.
// ReadLimit.max_files / max_bytes bound a batch (at least one file is always taken); with a
// partition filter they count only the files that may hold the partition's rows.
// Not thread-safe: one query thread.
class DeltaSource : public MicroBatchSource {
 public:
  explicit DeltaSource(DeltaSourceOptions options);
  ~DeltaSource() override;

  std::string Description() const override;
  std::string SignalKey() const override { return signal_key_; }
  std::string Identity() const override;
  SchemaPtr schema() const override { return options_.schema; }
  Status Open() override;
  Result<std::string> InitialOffset() override;
  Result<std::string> Reconcile(const std::string& offset) override;
  Result<std::string> PlanEnd(const std::string& start, const ReadLimit& limit,
                              const std::string& cap) override;
  Status Read(const std::string& start, const std::string& end, int64_t batch_timestamp_ms,
              const Emit& emit) override;
  std::vector<PartitionPosition> Positions(const std::string& start,
                                           const std::string& end) override;
  std::vector<PartitionMark> Marks(const std::string& end) override { return {}; }
  int64_t RowsBetween(const std::string& start, const std::string& end) override;

 private:
  struct Position {
    int64_t version = 0;
    int64_t index = 0;
    bool operator<(const Position& o) const {
      return version < o.version || (version == o.version && index < o.index);
    }
    bool operator==(const Position& o) const = default;
  };
  struct CommitFiles {
    std::vector<std::string> paths;  // absolute
    std::vector<int64_t> sizes;
    std::vector<int64_t> rows;  // from stats; -1 unknown
    // With a partition filter: whether each file may hold rows of the partition (its stats'
    // min/max of the partition column include the value, or it has no such stats).
    std::vector<uint8_t> matches;
  };
  Result<Position> Parse(const std::string& offset) const;
  std::string Format(const Position& p) const;
  // The data files a commit added (cached).
  Result<const CommitFiles*> FilesOf(int64_t version);
  Result<int64_t> LatestVersion();
  // The rows of `batch` in the filter's partition.
  RecordBatch FilterPartition(const RecordBatch& batch) const;

  DeltaSourceOptions options_;
  std::string signal_key_;  // TableSignalKey(options_.path)
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetReader> reader_;
  std::string table_id_;
  // The partition filter as a SQL condition ("" without a filter).
  std::string where_;
  std::map<int64_t, CommitFiles> cache_;
  int64_t latest_version_ = -1;
  // With a partition filter: PlanEnd scanned every file before this position and found none
  // that may hold the partition, so the next PlanEnd from an earlier start skips to it.
  std::optional<Position> scanned_empty_;
  // This source as a reader of the in-process cache of committed batches (-1 before Open).
  int64_t cache_reader_ = -1;
};

}  // namespace strata
