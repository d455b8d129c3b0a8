#include "monitor/drift_table.h"

#include <spdlog/spdlog.h>

#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"

namespace strata::monitor {

namespace {
std::string Subject(std::string_view kind, std::string_view field) {
  std::string s(kind);
  s += ':';
  s += field;
  return s;
}
}  // namespace

SchemaPtr SchemaDriftTable::TableSchema() {
  static const SchemaPtr kSchema = std::make_shared<const Schema>(std::vector<Field>{
      {"detected_at", TypeId::kTimestamp, false},
      {"kind", TypeId::kString, false},
      {"field", TypeId::kString, false},
      {"expected_type", TypeId::kString, true},
      {"observed_type", TypeId::kString, true},
      {"kafka_partition", TypeId::kInt32, true},
      {"kafka_offset", TypeId::kInt64, true},
      {"sample", TypeId::kString, true},
  });
  return kSchema;
}

Result<std::unique_ptr<SchemaDriftTable>> SchemaDriftTable::Open(const std::string& path,
                                                                 const std::string& table_name,
                                                                 int64_t commit_interval_ms,
                                                                 size_t samples_per_subject) {
  std::unique_ptr<SchemaDriftTable> t(
      new SchemaDriftTable(path, table_name, commit_interval_ms, samples_per_subject));
  auto table = delta::DeltaTable::CreateIfNotExists(path, *TableSchema(), {}, {}, table_name);
  if (!table.ok()) return table.status().WithContext("schema-drift table " + table_name);
  t->table_ = std::move(*table);
  STRATA_ASSIGN_OR_RETURN(t->writer_, ParquetWriter::Create());
  // What earlier runs wrote: the subjects' row counts.
  STRATA_ASSIGN_OR_RETURN(auto snapshot, t->table_->LatestSnapshot());
  std::vector<std::string> files;
  for (const auto& add : snapshot->files())
    files.push_back(delta::ResolveDataPath(snapshot->table_path(), add.path));
  if (!files.empty()) {
    auto rows = ReadParquetFiles(files, TableSchema());
    if (!rows.ok()) return rows.status().WithContext("schema-drift table " + table_name);
    for (size_t r = 0; r < rows->num_rows(); ++r)
      ++t->counts_[Subject(rows->column(1).String(r), rows->column(2).String(r))];
  }
  t->thread_ = std::thread([raw = t.get()] {
    std::unique_lock<std::mutex> lock(raw->mu_);
    while (!raw->stop_) {
      raw->cv_.wait_for(lock, std::chrono::milliseconds(raw->interval_ms_));
      if (raw->stop_) break;
      lock.unlock();
      Status st = raw->Flush();
      if (!st.ok()) spdlog::warn("{}", st.ToString());
      lock.lock();
    }
  });
  return t;
}

SchemaDriftTable::SchemaDriftTable(std::string path, std::string table_name, int64_t interval_ms,
                                   size_t samples)
    : path_(std::move(path)),
      table_name_(std::move(table_name)),
      interval_ms_(std::max<int64_t>(interval_ms, 10)),
      samples_(samples),
      pending_(TableSchema()) {}

SchemaDriftTable::~SchemaDriftTable() {
  Stop();
}

void SchemaDriftTable::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stop_ && !thread_.joinable()) return;
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  Status st = Flush();
  if (!st.ok()) spdlog::warn("{}", st.ToString());
}

bool SchemaDriftTable::Wants(std::string_view kind, std::string_view field) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = counts_.find(Subject(kind, field));
  return it == counts_.end() || it->second < samples_;
}

void SchemaDriftTable::Record(DriftRecord r) {
  std::lock_guard<std::mutex> lock(mu_);
  size_t& n = counts_[Subject(r.kind, r.field)];
  if (n >= samples_) return;
  ++n;
  RecordBatch& b = pending_;
  auto nullable = [](Column& c, const std::string& v) {
    v.empty() ? c.AppendNull() : c.AppendString(v);
  };
  b.column(0).AppendInt64(r.detected_at_ms * 1000);
  b.column(1).AppendString(r.kind);
  b.column(2).AppendString(r.field);
  nullable(b.column(3), r.expected_type);
  nullable(b.column(4), r.observed_type);
  if (r.kafka_partition >= 0) {
    b.column(5).AppendInt32(r.kafka_partition);
  } else {
    b.column(5).AppendNull();
  }
  if (r.kafka_offset >= 0) {
    b.column(6).AppendInt64(r.kafka_offset);
  } else {
    b.column(6).AppendNull();
  }
  nullable(b.column(7), r.sample);
}

Status SchemaDriftTable::Flush() {
  std::lock_guard<std::mutex> commit_lock(commit_mu_);
  RecordBatch rows(TableSchema());
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (pending_.num_rows() == 0) return Status::OK();
    std::swap(rows, pending_);
  }
  const std::string rel = "part-drift-" + NewUuid() + ".snappy.parquet";
  auto info = writer_->Write(rows, path_ + "/" + rel);
  if (!info.ok()) return info.status().WithContext("schema-drift table " + table_name_);
  auto txn = table_->StartTransaction();
  if (!txn.ok()) return txn.status().WithContext("schema-drift table " + table_name_);
  delta::AddFile add;
  add.path = delta::UrlEncodePath(rel);
  add.size = info->size_bytes;
  add.modification_time = NowMillis();
  add.data_change = true;
  add.stats = delta::ComputeStatsJson(rows);
  (*txn)->AddFile(std::move(add));
  (*txn)->SetOperation("WRITE", {{"mode", "Append"}},
                       {{"numFiles", "1"}, {"numOutputRows", std::to_string(info->num_rows)}});
  auto version = (*txn)->Commit();
  return version.ok() ? Status::OK()
                      : version.status().WithContext("schema-drift table " + table_name_);
}

}  // namespace strata::monitor
