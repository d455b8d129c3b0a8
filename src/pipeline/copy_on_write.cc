#include "pipeline/copy_on_write.h"

#include <algorithm>
#include <limits>

#include "core/time_util.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "pipeline/upsert_sink.h"

namespace strata {

std::string RowKey(const RecordBatch& batch, const std::vector<int>& key_cols, size_t r) {
  std::string key;
  for (int c : key_cols) {
    const Column& col = batch.column(c);
    if (col.IsNull(r)) {
      key.push_back('\0');
      continue;
    }
    key.push_back('\1');
    switch (col.type()) {
      case TypeId::kString:
      case TypeId::kBinary: {
        std::string_view s = col.String(r);
        uint32_t n = static_cast<uint32_t>(s.size());
        key.append(reinterpret_cast<const char*>(&n), sizeof(n));
        key.append(s);
        break;
      }
      case TypeId::kInt32:
      case TypeId::kDate: {
        int32_t v = col.Int32(r);
        key.append(reinterpret_cast<const char*>(&v), sizeof(v));
        break;
      }
      default: {
        int64_t v = col.Int64(r);
        key.append(reinterpret_cast<const char*>(&v), sizeof(v));
        break;
      }
    }
  }
  return key;
}

namespace {

bool MayOverlap(const delta::AddFile& f, int64_t lo, int64_t hi) {
  auto min_it = f.tags.find(kMinRangeTag);
  auto max_it = f.tags.find(kMaxRangeTag);
  if (min_it == f.tags.end() || max_it == f.tags.end()) return true;
  int64_t fmin = std::stoll(min_it->second), fmax = std::stoll(max_it->second);
  return !(fmax < lo || fmin > hi);
}

}  // namespace

Result<CopyOnWriteStats> StageCopyOnWrite(
    const CopyOnWriteTarget& target, const delta::Snapshot& snapshot, ParquetReader& reader,
    ParquetWriter& writer, const RecordBatch& incoming, int64_t range_lo, int64_t range_hi,
    const std::function<bool(const RecordBatch&, size_t)>& replaced, const std::string& prefix,
    delta::Transaction* txn) {
  CopyOnWriteStats stats;
  const std::string& root = target.table->path();
  // Rows carried over from rewritten files, then the incoming ones.
  RecordBatch out(target.schema);
  for (const auto& f : snapshot.files()) {
    if (range_lo > range_hi || !MayOverlap(f, range_lo, range_hi)) continue;
    std::string abs = root + "/" + delta::UrlDecode(f.path);
    auto rows = reader.Read({abs}, target.schema);
    if (!rows.ok()) return rows.status().WithContext("table " + root + " file " + f.path);
    std::vector<uint32_t> keep;
    for (size_t r = 0; r < rows->num_rows(); ++r)
      if (!replaced(*rows, r)) keep.push_back(static_cast<uint32_t>(r));
    if (keep.size() == rows->num_rows()) continue;
    delta::RemoveFile rm;
    rm.path = f.path;
    rm.data_change = true;
    rm.extended_file_metadata = true;
    rm.partition_values = f.partition_values;
    rm.size = f.size;
    rm.tags = f.tags;
    txn->RemoveFile(std::move(rm));
    stats.files_removed += 1;
    stats.rows_removed += static_cast<int64_t>(rows->num_rows() - keep.size());
    stats.rows_copied += static_cast<int64_t>(keep.size());
    for (uint32_t r : keep)
      for (size_t c = 0; c < out.num_columns(); ++c) out.column(c).AppendFrom(rows->column(c), r);
  }
  for (size_t r = 0; r < incoming.num_rows(); ++r)
    for (size_t c = 0; c < out.num_columns(); ++c) out.column(c).AppendFrom(incoming.column(c), r);

  // Final rows and the others in separate files, each sorted by the range column. The others
  // (rewritten whenever one of their keys changes) go one file per range value when there are
  // at most kMaxRangeFiles values of kMinRangeRows rows or more, so that a batch whose rows all
  // fall in the newest window rewrites that window's rows only, not every open window's. A file has
  // a fixed cost, so only windows of many rows (page views per page) are split.
  constexpr size_t kMaxRangeFiles = 16;
  constexpr size_t kMinRangeRows = 256;  // rows per range value, on average
  std::vector<uint32_t> groups[2];
  const Column& fin = out.column(target.final_col);
  for (size_t r = 0; r < out.num_rows(); ++r)
    groups[fin.IsValid(r) && fin.Bool(r) ? 1 : 0].push_back(static_cast<uint32_t>(r));
  const Column& range = out.column(target.range_col);
  std::vector<std::vector<uint32_t>> files;
  for (size_t g = 0; g < 2; ++g) {
    std::vector<uint32_t>& rows = groups[g];
    if (rows.empty()) continue;
    std::stable_sort(rows.begin(), rows.end(),
                     [&](uint32_t a, uint32_t b) { return range.Int64(a) < range.Int64(b); });
    size_t values = 1;
    for (size_t i = 1; i < rows.size(); ++i)
      values += range.Int64(rows[i]) != range.Int64(rows[i - 1]);
    if (g == 1 || values == 1 || values > kMaxRangeFiles || rows.size() / values < kMinRangeRows) {
      files.push_back(std::move(rows));
      continue;
    }
    for (size_t i = 0; i < rows.size(); ++i) {
      if (i == 0 || range.Int64(rows[i]) != range.Int64(rows[i - 1])) files.emplace_back();
      files.back().push_back(rows[i]);
    }
  }
  int file_no = 0;
  for (const auto& rows : files) {
    RecordBatch data = out.Take(rows);
    std::string rel = prefix + "-" + std::to_string(file_no++) + ".snappy.parquet";
    ParquetWriteOptions po;
    po.preserve_order = true;
    STRATA_ASSIGN_OR_RETURN(ParquetFileInfo info, writer.Write(data, root + "/" + rel, po));
    delta::AddFile add;
    add.path = delta::UrlEncodePath(rel);
    add.size = info.size_bytes;
    add.modification_time = NowMillis();
    add.data_change = true;
    add.stats = delta::ComputeStatsJson(data, delta::kDefaultNumIndexedCols, {});
    const Column& dr = data.column(target.range_col);
    add.tags[kMinRangeTag] = std::to_string(dr.Int64(0));
    add.tags[kMaxRangeTag] = std::to_string(dr.Int64(data.num_rows() - 1));
    txn->AddFile(std::move(add));
    stats.files_added += 1;
    stats.bytes_added += info.size_bytes;
  }
  return stats;
}

}  // namespace strata
