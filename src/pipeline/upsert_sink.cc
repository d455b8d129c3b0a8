#include "pipeline/upsert_sink.h"

#include <algorithm>
#include <limits>
#include <unordered_map>
#include <unordered_set>

#include "connectors/delta_sink.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "pipeline/copy_on_write.h"

namespace strata {

UpsertDeltaSink::UpsertDeltaSink(UpsertSinkOptions options) : options_(std::move(options)) {}
UpsertDeltaSink::~UpsertDeltaSink() = default;

std::string UpsertDeltaSink::Description() const {
  return "delta-upsert[" + options_.table_name + "]";
}

Status UpsertDeltaSink::Open() {
  const Schema& s = *options_.schema;
  key_cols_.clear();
  for (const auto& k : options_.key_columns) {
    int c = s.IndexOf(k);
    if (c < 0) return InvalidArgument(options_.table_name + ": key column " + k + " is missing");
    key_cols_.push_back(c);
  }
  range_col_ = s.IndexOf(options_.range_column);
  final_col_ = s.IndexOf(options_.final_column);
  if (range_col_ < 0 || final_col_ < 0)
    return InvalidArgument(options_.table_name + ": range or final column is missing");
  STRATA_ASSIGN_OR_RETURN(
      table_, delta::DeltaTable::CreateIfNotExists(
                  options_.path, s, {}, {{"delta.checkpointInterval", "10"}}, options_.table_name));
  STRATA_ASSIGN_OR_RETURN(writer_, ParquetWriter::Create());
  STRATA_ASSIGN_OR_RETURN(reader_, ParquetReader::Create(1));
  return Status::OK();
}

Result<int64_t> UpsertDeltaSink::LastCommittedBatch(const std::string& query_id) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  return snapshot->TxnVersion(query_id).value_or(-1);
}

Result<SinkWriteStats> UpsertDeltaSink::Commit(const BatchCommit& commit,
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
  if (rows == 0 && commit.marks.empty()) return stats;

  // The last incoming row per key wins.
  RecordBatch incoming(options_.schema);
  {
    std::unordered_map<std::string, std::pair<size_t, size_t>> last;
    std::vector<std::pair<size_t, size_t>> order;
    for (size_t b = 0; b < batches.size(); ++b) {
      for (size_t r = 0; r < batches[b].num_rows(); ++r) {
        auto [it, inserted] = last.try_emplace(RowKey(batches[b], key_cols_, r), b, r);
        if (inserted) {
          order.emplace_back(b, r);
        } else {
          it->second = {b, r};
        }
      }
    }
    for (const auto& [b, r] : order) {
      auto [wb, wr] = last.at(RowKey(batches[b], key_cols_, r));
      for (size_t c = 0; c < incoming.num_columns(); ++c)
        incoming.column(c).AppendFrom(batches[wb].column(c), wr);
    }
  }

  auto txn = table_->StartTransaction(snapshot);
  CopyOnWriteTarget target{table_.get(), options_.schema, key_cols_, range_col_, final_col_};
  std::unordered_set<std::string> keys;
  for (size_t r = 0; r < incoming.num_rows(); ++r) keys.insert(RowKey(incoming, key_cols_, r));
  auto replaced = [&](const RecordBatch& b, size_t r) {
    return keys.count(RowKey(b, key_cols_, r)) > 0;
  };
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  const Column& range = incoming.column(range_col_);
  for (size_t r = 0; r < incoming.num_rows(); ++r) {
    lo = std::min(lo, range.Int64(r));
    hi = std::max(hi, range.Int64(r));
  }
  const std::string prefix =
      "part-" + std::to_string(commit.batch_id) + "-" + NewUuid().substr(0, 8);
  STRATA_ASSIGN_OR_RETURN(CopyOnWriteStats cow,
                          StageCopyOnWrite(target, *snapshot, *reader_, *writer_, incoming, lo, hi,
                                           replaced, prefix, txn.get()));
  stats.files = cow.files_added;
  stats.bytes = cow.bytes_added;
  stats.rows = static_cast<int64_t>(incoming.num_rows());

  txn->SetOperation("STREAMING UPDATE",
                    {{"outputMode", "Update"},
                     {"queryId", commit.query_id},
                     {"epochId", std::to_string(commit.batch_id)}},
                    {{"numAddedFiles", std::to_string(cow.files_added)},
                     {"numRemovedFiles", std::to_string(cow.files_removed)},
                     {"numUpdatedRows", std::to_string(incoming.num_rows())},
                     {"numCopiedRows", std::to_string(cow.rows_copied)},
                     {"numOutputBytes", std::to_string(cow.bytes_added)}});
  STRATA_ASSIGN_OR_RETURN(auto version, CommitBatch(*table_, *txn, commit));
  if (!version) {
    stats = SinkWriteStats{options_.table_name};
    stats.skipped = true;
    return stats;
  }
  stats.version = *version;
  return stats;
}

}  // namespace strata
