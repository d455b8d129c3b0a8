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
#include "stream/commit_signal.h"

namespace strata {

UpsertDeltaSink::UpsertDeltaSink(UpsertSinkOptions options)
    : options_(std::move(options)), signal_key_(TableSignalKey(options_.path)) {}
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
  auto in_keys = std::find(key_cols_.begin(), key_cols_.end(), range_col_);
  range_key_ = in_keys == key_cols_.end() ? -1 : static_cast<int>(in_keys - key_cols_.begin());
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
  const size_t table_fields = options_.schema->num_fields();
  const size_t key_fields = key_cols_.size();
  std::vector<int> retraction_key_cols(key_fields);
  for (size_t i = 0; i < key_fields; ++i) retraction_key_cols[i] = static_cast<int>(i);

  // The last table row per key wins. `gone`: the keys whose current row is removed, those
  // retracted (deleted unless also written) and those written.
  RecordBatch incoming(options_.schema);
  std::unordered_set<std::string> gone;
  int64_t lo = std::numeric_limits<int64_t>::max(), hi = std::numeric_limits<int64_t>::min();
  {
    std::unordered_map<std::string, std::pair<size_t, size_t>> last;
    std::vector<std::string> order;
    for (size_t b = 0; b < batches.size(); ++b) {
      const RecordBatch& batch = batches[b];
      const size_t fields = batch.schema()->num_fields();
      if (fields != table_fields && fields != key_fields)
        return InvalidArgument(options_.table_name + ": a batch of " + std::to_string(fields) +
                               " columns is neither table rows nor retractions");
      const bool rows = fields == table_fields;
      for (size_t i = 0; !rows && i < key_fields; ++i) {
        const Field& want = options_.schema->field(key_cols_[i]);
        const Field& have = batch.schema()->field(i);
        if (have.name != want.name || have.type != want.type)
          return InvalidArgument(options_.table_name + ": retraction column " + have.name +
                                 " is not the key column " + want.name);
      }
      if (!rows && range_key_ < 0) {
        // Retractions without the range column: every file may hold one of them.
        lo = std::numeric_limits<int64_t>::min();
        hi = std::numeric_limits<int64_t>::max();
      }
      const int range = rows ? range_col_ : range_key_;
      for (size_t r = 0; r < batch.num_rows(); ++r) {
        std::string key = RowKey(batch, rows ? key_cols_ : retraction_key_cols, r);
        if (range >= 0) {
          lo = std::min(lo, batch.column(range).Int64(r));
          hi = std::max(hi, batch.column(range).Int64(r));
        }
        if (!rows) {
          gone.insert(std::move(key));
          continue;
        }
        auto [it, inserted] = last.try_emplace(key, b, r);
        if (inserted) {
          order.push_back(std::move(key));
        } else {
          it->second = {b, r};
        }
      }
    }
    for (const std::string& key : order) {
      auto [wb, wr] = last.at(key);
      for (size_t c = 0; c < incoming.num_columns(); ++c)
        incoming.column(c).AppendFrom(batches[wb].column(c), wr);
      gone.insert(key);  // retracted or not, its new row is written
    }
  }
  if (gone.empty() && commit.marks.empty()) return stats;

  auto txn = table_->StartTransaction(snapshot);
  CopyOnWriteTarget target{table_.get(), options_.schema, key_cols_, range_col_, final_col_};
  auto replaced = [&](const RecordBatch& b, size_t r) {
    return gone.count(RowKey(b, key_cols_, r)) > 0;
  };
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
                     {"numRemovedRows", std::to_string(cow.rows_removed)},
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
