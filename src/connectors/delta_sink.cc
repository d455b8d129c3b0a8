#include "connectors/delta_sink.h"

#include <cstring>
#include <filesystem>

#include "connectors/batch_cache.h"
#include "core/crash_point.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/maintenance.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "stream/commit_signal.h"

namespace strata {

namespace {

// True when rows a and b of `col` hold the same value (or are both null).
bool SameCell(const Column& col, size_t a, size_t b) {
  if (col.IsNull(a) || col.IsNull(b)) return col.IsNull(a) == col.IsNull(b);
  switch (col.type()) {
    case TypeId::kBool:
      return col.Bool(a) == col.Bool(b);
    case TypeId::kInt32:
    case TypeId::kDate:
      return col.Int32(a) == col.Int32(b);
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return col.Int64(a) == col.Int64(b);
    case TypeId::kDouble:
      return std::memcmp(col.double_data() + a, col.double_data() + b, sizeof(double)) == 0;
    case TypeId::kString:
    case TypeId::kBinary:
      return col.String(a) == col.String(b);
  }
  return false;
}

// Groups the rows of `batch` by their partition values (in first-seen order). A row whose
// partition cells equal the previous row's joins its group without serializing them again.
Result<std::vector<std::pair<delta::PartitionValues, std::vector<uint32_t>>>> GroupByPartition(
    const RecordBatch& batch, const std::vector<std::string>& partition_by) {
  std::vector<std::pair<delta::PartitionValues, std::vector<uint32_t>>> groups;
  std::map<delta::PartitionValues, size_t> index;
  std::vector<int> cols;
  for (const auto& name : partition_by) {
    int c = batch.schema()->IndexOf(name);
    if (c < 0) return InvalidArgument("partition column " + name + " is not in the schema");
    cols.push_back(c);
  }
  delta::PartitionValues values;
  size_t last_group = 0;
  for (size_t r = 0; r < batch.num_rows(); ++r) {
    if (r > 0) {
      bool same = true;
      for (int c : cols) same = same && SameCell(batch.column(c), r - 1, r);
      if (same) {
        groups[last_group].second.push_back(static_cast<uint32_t>(r));
        continue;
      }
    }
    for (size_t i = 0; i < cols.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(values[partition_by[i]],
                              delta::SerializePartitionValue(batch.column(cols[i]), r));
    }
    auto it = index.find(values);
    if (it == index.end()) {
      it = index.emplace(values, groups.size()).first;
      groups.push_back({values, {}});
    }
    last_group = it->second;
    groups[last_group].second.push_back(static_cast<uint32_t>(r));
  }
  return groups;
}

}  // namespace

std::string FileStatsJson(const Schema& schema, const ParquetFileInfo& info,
                          const std::vector<std::string>& skip_columns) {
  return delta::StatsJsonFromSummaries(schema, info.num_rows, info.column_stats,
                                       delta::kDefaultNumIndexedCols, skip_columns);
}

bool IsBatchCommitted(const delta::Snapshot& snapshot, const BatchCommit& commit) {
  return snapshot.TxnVersion(commit.query_id).value_or(-1) >= commit.batch_id;
}

Status CheckFencedMarks(const delta::Snapshot& snapshot, const BatchCommit& commit) {
  for (const auto& mark : commit.marks) {
    if (!mark.fenced) continue;
    const std::string app = commit.MarkPrefix() + "/" + mark.app_id;
    int64_t have = snapshot.TxnVersion(app).value_or(-1);
    if (have != mark.expected) {
      return Conflict("partition mark '" + app + "' is at " + std::to_string(have) +
                      " in table version " + std::to_string(snapshot.version()) + ", but batch " +
                      std::to_string(commit.batch_id) + " was planned from " +
                      std::to_string(mark.expected) +
                      ": another process committed the partition (it moved in the group)");
    }
  }
  return Status::OK();
}

Result<std::optional<int64_t>> CommitBatch(delta::DeltaTable& table, delta::Transaction& txn,
                                           const BatchCommit& commit) {
  if (txn.read_snapshot()) STRATA_RETURN_IF_ERROR(CheckFencedMarks(*txn.read_snapshot(), commit));
  txn.SetTxn(commit.query_id, commit.batch_id);
  for (const auto& mark : commit.marks)
    txn.SetTxn(commit.MarkPrefix() + "/" + mark.app_id, mark.version);
  CrashPoint("sink.before_commit");  // data files written, not yet referenced
  auto version = txn.Commit();
  CrashPoint("sink.after_commit");  // committed to the table, not yet to the checkpoint
  if (version.ok()) return std::optional<int64_t>(*version);
  // Another writer committed this very batch first (same txn appId): it is in the table.
  STRATA_ASSIGN_OR_RETURN(auto latest, table.LatestSnapshot());
  if (IsBatchCommitted(*latest, commit)) return std::optional<int64_t>();
  return version.status();
}

DeltaSink::DeltaSink(DeltaSinkOptions options)
    : options_(std::move(options)), signal_key_(TableSignalKey(options_.path)) {}
DeltaSink::~DeltaSink() = default;

std::string DeltaSink::Description() const {
  return "delta[" + options_.table_name + "]";
}

Status DeltaSink::Open() {
  std::map<std::string, std::string> props = {{"delta.checkpointInterval", "10"}};
  for (const auto& [k, v] : options_.table_properties) props[k] = v;
  if (options_.merge_schema) {
    auto existing = delta::DeltaTable::Open(options_.path);
    if (existing.ok()) {
      STRATA_ASSIGN_OR_RETURN(auto snapshot, (*existing)->LatestSnapshot());
      auto current = snapshot->schema();
      if (!current.ok() || !(*current == *options_.schema)) {
        auto txn = (*existing)->StartTransaction(snapshot);
        STRATA_RETURN_IF_ERROR(txn->EvolveSchema(*options_.schema, /*merge_schema=*/true)
                                   .WithContext("table " + options_.table_name));
        txn->SetOperation("ADD COLUMNS");
        auto version = txn->Commit();
        if (!version.ok() && version.status().code() != StatusCode::kInvalidArgument)
          return version.status().WithContext("table " + options_.table_name);
      }
      table_ = std::move(*existing);
    } else if (existing.status().code() != StatusCode::kNotFound) {
      return existing.status();
    }
  }
  if (!table_) {
    STRATA_ASSIGN_OR_RETURN(table_, delta::DeltaTable::CreateIfNotExists(
                                        options_.path, *options_.schema, options_.partition_by,
                                        props, options_.table_name));
  }
  STRATA_ASSIGN_OR_RETURN(writer_, ParquetWriter::Create());
  return Status::OK();
}

Result<int64_t> DeltaSink::LastCommittedBatch(const std::string& query_id) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  return snapshot->TxnVersion(query_id).value_or(-1);
}

Result<std::vector<std::optional<int64_t>>> DeltaSink::MarkVersions(
    const std::vector<std::string>& app_ids) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  std::vector<std::optional<int64_t>> out;
  out.reserve(app_ids.size());
  for (const auto& app : app_ids) out.push_back(snapshot->TxnVersion(app));
  return out;
}

Result<SinkWriteStats> DeltaSink::Commit(const BatchCommit& commit,
                                         std::vector<RecordBatch>& batches) {
  SinkWriteStats stats;
  stats.table = options_.table_name;
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  if (IsBatchCommitted(*snapshot, commit)) {
    stats.skipped = true;
    return stats;
  }
  int64_t rows = 0;
  for (const auto& b : batches) rows += static_cast<int64_t>(b.num_rows());
  // Nothing to write and no source progress to record: no commit at all.
  if (rows == 0 && commit.marks.empty()) return stats;
  // A fenced batch is refused before its files are written (CommitBatch checks again).
  STRATA_RETURN_IF_ERROR(CheckFencedMarks(*snapshot, commit));

  auto txn = table_->StartTransaction(snapshot);
  const std::string file_prefix =
      "part-" + std::to_string(commit.batch_id) + "-" + NewUuid().substr(0, 8);
  int file_no = 0;
  for (const auto& batch : batches) {
    if (batch.num_rows() == 0) continue;
    STRATA_ASSIGN_OR_RETURN(auto groups, GroupByPartition(batch, options_.partition_by));
    for (auto& [values, rows_of_group] : groups) {
      std::string dir = delta::PartitionDirectory(options_.partition_by, values);
      std::string rel = dir + file_prefix + "-" + std::to_string(file_no++) + ".snappy.parquet";
      std::string abs = options_.path + "/" + rel;
      if (!dir.empty()) STRATA_RETURN_IF_ERROR(CreateDirectories(options_.path + "/" + dir));
      const bool whole = groups.size() == 1;
      // The native engine writes a group's rows through a selection vector and gathers the
      // statistics while encoding; DuckDB's needs a copy of the rows for ComputeStatsJson.
      const bool native = options_.parquet.engine == ParquetEngine::kNative;
      RecordBatch subset =
          whole || native ? RecordBatch(batch.schema()) : batch.Take(rows_of_group);
      const RecordBatch& data = whole || native ? batch : subset;
      ParquetFileInfo info;
      if (whole || !native) {
        STRATA_ASSIGN_OR_RETURN(info, writer_->Write(data, abs, options_.parquet));
      } else {
        STRATA_ASSIGN_OR_RETURN(info,
                                writer_->WriteRows(batch, rows_of_group, abs, options_.parquet));
      }
      delta::AddFile add;
      add.path = delta::UrlEncodePath(rel);
      add.partition_values = values;
      add.size = info.size_bytes;
      add.modification_time = NowMillis();
      add.data_change = true;
      if (info.column_stats.size() == batch.num_columns()) {
        add.stats = FileStatsJson(*batch.schema(), info, options_.partition_by);
      } else {
        if (!whole && native) subset = batch.Take(rows_of_group);
        add.stats = delta::ComputeStatsJson(whole ? batch : subset, delta::kDefaultNumIndexedCols,
                                            options_.partition_by);
      }
      txn->AddFile(std::move(add));
      stats.files += 1;
      stats.bytes += info.size_bytes;
      stats.rows += info.num_rows;
    }
  }
  txn->SetOperation("STREAMING UPDATE",
                    {{"outputMode", options_.output_mode},
                     {"queryId", commit.query_id},
                     {"epochId", std::to_string(commit.batch_id)}},
                    {{"numAddedFiles", std::to_string(stats.files)},
                     {"numOutputRows", std::to_string(stats.rows)},
                     {"numOutputBytes", std::to_string(stats.bytes)}});
  STRATA_ASSIGN_OR_RETURN(auto version, CommitBatch(*table_, *txn, commit));
  if (!version) {
    stats = SinkWriteStats{options_.table_name};
    stats.skipped = true;
    return stats;
  }
  stats.version = *version;
  // Readers in this process (the next layer) take these rows from memory.
  CommittedBatchCache::Batches cached;
  for (auto& b : batches)
    if (b.num_rows() > 0) cached.push_back(std::make_shared<const RecordBatch>(std::move(b)));
  CommittedBatchCache::Global().Put(options_.path, *version, stats.files, std::move(cached));
  // Compacts partitions with too many small files when the table enables
  // delta.autoOptimize.autoCompact (a property lookup otherwise); failures are only logged.
  delta::AutoCompactAfterCommit(*table_);
  return stats;
}

}  // namespace strata
