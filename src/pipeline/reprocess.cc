#include "pipeline/reprocess.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <unordered_set>

#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "operators/watermark.h"
#include "pipeline/copy_on_write.h"
#include "pipeline/layers.h"

namespace strata {

namespace {

namespace fs = std::filesystem;

int64_t FloorTo(int64_t v, int64_t m) {
  int64_t q = v / m;
  if (v % m != 0 && v < 0) --q;
  return q * m;
}

// Days since the epoch of a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// The watermark (ms) the query's last committed batch ran with: every window ending at or
// before it has been emitted (checkpoint format: docs/tables.md).
Result<int64_t> CommittedWatermark(const std::string& checkpoint) {
  int64_t last = -1;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(checkpoint + "/commits", ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    last = std::max<int64_t>(last, std::stoll(name));
  }
  if (last < 0) return InvalidArgument("checkpoint " + checkpoint + " has no committed batch yet");
  const std::string path = checkpoint + "/offsets/" + std::to_string(last);
  STRATA_ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  const std::string key = "\"batchWatermarkMs\":";
  size_t at = text.find(key);
  if (at == std::string::npos) return Corruption(path + ": no batchWatermarkMs");
  return std::stoll(text.substr(at + key.size()));
}

// Silver-shaped rows of `path` with event_time in [lo_ms, hi_ms), in batches. Files of a table
// partitioned by event_date outside the range's days are skipped.
Status ScanRange(ParquetReader& reader, const std::string& path, int64_t lo_ms, int64_t hi_ms,
                 const std::function<Status(RecordBatch&&)>& on_rows) {
  auto table = delta::DeltaTable::Open(path);
  if (table.status().code() == StatusCode::kNotFound) return Status::OK();
  if (!table.ok()) return table.status();
  STRATA_ASSIGN_OR_RETURN(auto snapshot, (*table)->LatestSnapshot());
  const std::string first_day = FormatDate(DaysFromMicros(lo_ms * 1000));
  const std::string last_day = FormatDate(DaysFromMicros((hi_ms - 1) * 1000));
  std::vector<std::string> files;
  for (const auto& f : snapshot->files()) {
    auto it = f.partition_values.find("event_date");
    if (it != f.partition_values.end() && it->second &&
        (*it->second < first_day || *it->second > last_day))
      continue;
    files.push_back(path + "/" + delta::UrlDecode(f.path));
  }
  if (files.empty()) return Status::OK();
  return reader.Scan(files, SilverSchema(), 1 << 16, [&](RecordBatch&& b) -> Status {
    const Column& t = b.column("event_time");
    std::vector<uint32_t> keep;
    for (size_t r = 0; r < b.num_rows(); ++r)
      if (t.IsValid(r) && t.Int64(r) >= lo_ms * 1000 && t.Int64(r) < hi_ms * 1000)
        keep.push_back(static_cast<uint32_t>(r));
    if (keep.empty()) return Status::OK();
    return on_rows(keep.size() == b.num_rows() ? std::move(b) : b.Take(keep));
  });
}

}  // namespace

Result<int64_t> ParseTimeArg(const std::string& text) {
  if (!text.empty() && std::all_of(text.begin(), text.end(), ::isdigit)) return std::stoll(text);
  int y, mo, d, h = 0, mi = 0, s = 0;
  char sep = 0;
  int n = std::sscanf(text.c_str(), "%4d-%2d-%2d%c%2d:%2d:%2d", &y, &mo, &d, &sep, &h, &mi, &s);
  if (n != 3 && n < 6)
    return InvalidArgument("'" + text +
                           "' is not a time (epoch ms, or YYYY-MM-DD[ HH:MM[:SS]] in UTC)");
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

Result<ReprocessResult> ReprocessGold(const PipelineConfig& config, const ReprocessRequest& req) {
  const GoldConfig* gold = nullptr;
  for (const GoldConfig* g : config.EnabledGoldTables()) {
    if (g->table == req.table || g->table.substr(g->table.rfind('.') + 1) == req.table) gold = g;
  }
  if (!gold) return InvalidArgument("--table: '" + req.table + "' is not an enabled gold table");
  if (!gold->partition_by.empty())
    return NotSupported(gold->table + ": reprocessing a partitioned gold table");
  if (req.to_ms <= req.from_ms) return InvalidArgument("--to: must be after --from");

  ReprocessResult res;
  res.table = gold->table;
  // Whole windows: starts in [A, B), events in [A, B - slide + window).
  const int64_t a = FloorTo(req.from_ms, gold->slide_ms);
  const int64_t b = FloorTo(req.to_ms + gold->slide_ms - 1, gold->slide_ms);
  res.window_start_ms = a;
  res.window_end_ms = b;
  const int64_t last_window_end = b - gold->slide_ms + gold->window_ms;
  STRATA_ASSIGN_OR_RETURN(res.watermark_ms, CommittedWatermark(gold->checkpoint));
  if (last_window_end > res.watermark_ms)
    return InvalidArgument(
        "--to: the last window would end at " + FormatTimestampMicros(last_window_end * 1000) +
        ", after the streaming query's watermark " +
        FormatTimestampMicros(res.watermark_ms * 1000) + "; only final windows can be reprocessed");

  GoldOptions go;
  go.watermark_delay_ms = gold->watermark_ms;
  go.window_ms = gold->window_ms;
  go.slide_ms = gold->slide_ms;
  go.key_column = gold->key_column;
  go.event_type_filter = gold->event_type_filter;
  STRATA_ASSIGN_OR_RETURN(auto processor, GoldProcessor::Create(go));
  BatchContext ctx;
  STRATA_RETURN_IF_ERROR(processor->BeginBatch(ctx));
  std::vector<std::vector<RecordBatch>> outputs(1);
  STRATA_ASSIGN_OR_RETURN(auto reader, ParquetReader::Create(2));
  std::unordered_set<std::string> ids;
  auto feed = [&](RecordBatch&& rows, bool late) -> Status {
    if (req.include_late) {
      // Late rows were never deduplicated: keep the first copy of an event id.
      const Column& id = rows.column("event_id");
      std::vector<uint32_t> keep;
      for (size_t r = 0; r < rows.num_rows(); ++r)
        if (id.IsNull(r) || ids.insert(std::string(id.String(r))).second)
          keep.push_back(static_cast<uint32_t>(r));
      if (keep.size() != rows.num_rows()) rows = rows.Take(keep);
    }
    res.rows_read += static_cast<int64_t>(rows.num_rows());
    if (late) res.late_rows_used += static_cast<int64_t>(rows.num_rows());
    return processor->Process(std::move(rows), outputs);
  };
  STRATA_RETURN_IF_ERROR(ScanRange(*reader, config.silver.path, a, last_window_end,
                                   [&](RecordBatch&& r) { return feed(std::move(r), false); }));
  if (req.include_late) {
    STRATA_RETURN_IF_ERROR(ScanRange(*reader, config.silver.late_path, a, last_window_end,
                                     [&](RecordBatch&& r) { return feed(std::move(r), true); }));
  }
  ProcessorMetrics m;
  STRATA_RETURN_IF_ERROR(processor->EndBatch(outputs, m));
  // A second batch with a watermark past every window emits them all as final.
  ctx.batch_id = 1;
  ctx.watermark_ms = last_window_end + gold->window_ms;
  STRATA_RETURN_IF_ERROR(processor->BeginBatch(ctx));
  STRATA_RETURN_IF_ERROR(processor->EndBatch(outputs, m));

  SchemaPtr schema = processor->output_schema();
  RecordBatch rows(schema);
  for (const auto& out : outputs[0]) {
    const Column& ws = out.column(0);
    for (size_t r = 0; r < out.num_rows(); ++r) {
      int64_t start_ms = ws.Int64(r) / 1000;
      if (start_ms < a || start_ms >= b) continue;
      for (size_t c = 0; c < rows.num_columns(); ++c) rows.column(c).AppendFrom(out.column(c), r);
    }
  }
  res.rows_written = static_cast<int64_t>(rows.num_rows());

  STRATA_ASSIGN_OR_RETURN(auto table, delta::DeltaTable::Open(gold->path));
  STRATA_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Create());
  CopyOnWriteTarget target{
      table.get(), schema, {}, schema->IndexOf("window_start"), schema->IndexOf("is_final")};
  const int64_t lo_us = a * 1000, hi_us = b * 1000;
  auto replaced = [&](const RecordBatch& batch, size_t r) {
    int64_t ws = batch.column(target.range_col).Int64(r);
    return ws >= lo_us && ws < hi_us;
  };
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    STRATA_ASSIGN_OR_RETURN(auto snapshot, table->LatestSnapshot());
    auto txn = table->StartTransaction(snapshot);
    STRATA_ASSIGN_OR_RETURN(
        CopyOnWriteStats cow,
        StageCopyOnWrite(target, *snapshot, *reader, *writer, rows, lo_us, hi_us - 1, replaced,
                         "part-reprocess-" + NewUuid().substr(0, 8), txn.get()));
    txn->SetOperation("REPROCESS",
                      {{"windowStartFrom", FormatTimestampMicros(lo_us)},
                       {"windowStartTo", FormatTimestampMicros(hi_us)},
                       {"includeLate", req.include_late ? "true" : "false"}},
                      {{"numRemovedFiles", std::to_string(cow.files_removed)},
                       {"numAddedFiles", std::to_string(cow.files_added)},
                       {"numDeletedRows", std::to_string(cow.rows_removed)},
                       {"numCopiedRows", std::to_string(cow.rows_copied)},
                       {"numOutputRows", std::to_string(rows.num_rows())}});
    auto version = txn->Commit();
    if (version.ok()) {
      res.version = *version;
      res.rows_replaced = cow.rows_removed;
      res.files_removed = cow.files_removed;
      res.files_added = cow.files_added;
      return res;
    }
    last = version.status();
    if (last.code() != StatusCode::kConflict) break;
  }
  return last.WithContext("table " + gold->table + ": reprocess commit");
}

}  // namespace strata
