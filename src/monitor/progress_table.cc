#include "monitor/progress_table.h"

#include <spdlog/spdlog.h>

#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_writer.h"

namespace strata::monitor {

SchemaPtr ProgressTable::TableSchema() {
  static const SchemaPtr kSchema = std::make_shared<const Schema>(std::vector<Field>{
      {"id", TypeId::kString, false},
      {"run_id", TypeId::kString, false},
      {"name", TypeId::kString, false},
      {"batch_id", TypeId::kInt64, false},
      {"timestamp", TypeId::kTimestamp, false},
      {"num_input_rows", TypeId::kInt64, false},
      {"input_rows_per_second", TypeId::kDouble, false},
      {"processed_rows_per_second", TypeId::kDouble, false},
      {"trigger_execution_ms", TypeId::kInt64, true},
      {"watermark", TypeId::kTimestamp, true},
      {"source_lag", TypeId::kInt64, false},
      {"num_output_rows", TypeId::kInt64, false},
      {"latency_p50_ms", TypeId::kInt64, true},
      {"latency_p99_ms", TypeId::kInt64, true},
      {"progress_json", TypeId::kString, false},
  });
  return kSchema;
}

Result<std::shared_ptr<ProgressTable>> ProgressTable::Open(const std::string& path,
                                                           const std::string& table_name,
                                                           int64_t commit_interval_ms,
                                                           size_t max_rows) {
  std::shared_ptr<ProgressTable> t(
      new ProgressTable(path, table_name, commit_interval_ms, max_rows));
  STRATA_ASSIGN_OR_RETURN(
      t->table_, delta::DeltaTable::CreateIfNotExists(path, *TableSchema(), {}, {}, table_name));
  STRATA_ASSIGN_OR_RETURN(t->writer_, ParquetWriter::Create());
  t->thread_ = std::thread([raw = t.get()] {
    std::unique_lock<std::mutex> lock(raw->mu_);
    while (!raw->stop_) {
      raw->cv_.wait_for(lock, std::chrono::milliseconds(raw->interval_ms_));
      if (raw->stop_) break;
      lock.unlock();
      Status st = raw->Flush();
      if (!st.ok()) spdlog::warn("progress table {}: {}", raw->table_name_, st.ToString());
      lock.lock();
    }
  });
  return t;
}

ProgressTable::ProgressTable(std::string path, std::string table_name, int64_t interval_ms,
                             size_t max_rows)
    : path_(std::move(path)),
      table_name_(std::move(table_name)),
      interval_ms_(std::max<int64_t>(interval_ms, 10)),
      max_rows_(max_rows),
      pending_(TableSchema()) {}

ProgressTable::~ProgressTable() {
  Stop();
}

void ProgressTable::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Status st = Flush();
  if (!st.ok()) spdlog::warn("progress table {}: {}", table_name_, st.ToString());
}

void ProgressTable::OnQueryProgress(const QueryProgress& p) {
  const std::string json = p.ToJson();
  std::lock_guard<std::mutex> lock(mu_);
  if (pending_.num_rows() >= max_rows_) {
    ++dropped_;
    return;
  }
  RecordBatch& b = pending_;
  b.column(0).AppendString(p.id);
  b.column(1).AppendString(p.run_id);
  b.column(2).AppendString(p.name);
  b.column(3).AppendInt64(p.batch_id);
  b.column(4).AppendInt64(p.timestamp_ms * 1000);
  b.column(5).AppendInt64(p.num_input_rows);
  b.column(6).AppendDouble(p.input_rows_per_second);
  b.column(7).AppendDouble(p.processed_rows_per_second);
  auto te = p.duration_ms.find("triggerExecution");
  if (te == p.duration_ms.end())
    b.column(8).AppendNull();
  else
    b.column(8).AppendInt64(te->second);
  if (p.watermark_ms > 0)
    b.column(9).AppendInt64(p.watermark_ms * 1000);
  else
    b.column(9).AppendNull();
  b.column(10).AppendInt64(p.source_lag);
  b.column(11).AppendInt64(p.num_output_rows);
  if (p.latency_p50_ms >= 0) {
    b.column(12).AppendInt64(p.latency_p50_ms);
    b.column(13).AppendInt64(p.latency_p99_ms);
  } else {
    b.column(12).AppendNull();
    b.column(13).AppendNull();
  }
  b.column(14).AppendString(json);
}

Status ProgressTable::Flush() {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  RecordBatch rows(TableSchema());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.num_rows() == 0) return Status::OK();
    std::swap(rows, pending_);
  }
  Status st = CommitRows(std::move(rows));
  return st.WithContext("progress table " + table_name_);
}

Status ProgressTable::CommitRows(RecordBatch rows) {
  const std::string rel = "part-progress-" + NewUuid() + ".snappy.parquet";
  STRATA_ASSIGN_OR_RETURN(auto info, writer_->Write(rows, path_ + "/" + rel));
  STRATA_ASSIGN_OR_RETURN(auto txn, table_->StartTransaction());
  delta::AddFile add;
  add.path = delta::UrlEncodePath(rel);
  add.size = info.size_bytes;
  add.modification_time = NowMillis();
  add.data_change = true;
  add.stats = delta::ComputeStatsJson(rows);
  txn->AddFile(std::move(add));
  txn->SetOperation("WRITE", {{"mode", "Append"}},
                    {{"numFiles", "1"}, {"numOutputRows", std::to_string(info.num_rows)}});
  return txn->Commit().status();
}

}  // namespace strata::monitor
