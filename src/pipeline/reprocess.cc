#include "pipeline/reprocess.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <limits>
#include <map>
#include <numeric>
#include <tuple>
#include <unordered_set>

#include "core/file_util.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "event/event_schema.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/scan.h"
#include "lake/delta/stats.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"
#include "operators/watermark.h"
#include "pipeline/copy_on_write.h"
#include "pipeline/layers.h"
#include "pipeline/pipeline.h"

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

bool NamesTable(const std::string& catalog_name, const std::string& arg) {
  return catalog_name == arg || catalog_name.substr(catalog_name.rfind('.') + 1) == arg;
}

// The config key of a gold table's section: "gold" or "gold.<name>".
std::string GoldSection(const GoldConfig& g) {
  return g.name.empty() ? "gold" : "gold." + g.name;
}

// The silver processor of the streaming query, built from the same config keys (as
// Pipeline::Build does; keep the two in step).
// Bronze rows with event_timestamp in [from_ms, to_ms), ordered by (kafka_partition,
// ingestion_timestamp, kafka_offset). Files are pruned by their event_date partition.
Result<RecordBatch> ReadBronzeRange(ParquetReader& reader, const std::string& path, int64_t from_ms,
                                    int64_t to_ms) {
  RecordBatch all(BronzeSchema());
  STRATA_ASSIGN_OR_RETURN(auto table, delta::DeltaTable::Open(path));
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table->LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(
      auto files, delta::PruneFiles(*snapshot, {"event_date", from_ms * 1000, to_ms * 1000}));
  std::vector<std::string> paths;
  for (const auto& f : files) paths.push_back(delta::ResolveDataPath(path, f.path));
  if (paths.empty()) return all;
  STRATA_RETURN_IF_ERROR(
      reader.Scan(paths, BronzeSchema(), 1 << 16, [&](RecordBatch&& b) -> Status {
        const Column& t = b.column(bronze::kEventTimestamp);
        std::vector<uint32_t> keep;
        for (size_t r = 0; r < b.num_rows(); ++r)
          if (t.IsValid(r) && t.Int64(r) >= from_ms && t.Int64(r) < to_ms)
            keep.push_back(static_cast<uint32_t>(r));
        if (keep.size() == b.num_rows()) {
          all.Append(b);
        } else if (!keep.empty()) {
          all.Append(b.Take(keep));
        }
        return Status::OK();
      }));
  // Arrival order per partition: a bronze table can hold the records of several Kafka
  // clusters (the demo's is new every run), whose offsets start over; their ingestion times
  // tell them apart.
  const Column& part = all.column(bronze::kKafkaPartition);
  const Column& ingested = all.column(bronze::kIngestionTimestamp);
  const Column& off = all.column(bronze::kKafkaOffset);
  std::vector<uint32_t> order(all.num_rows());
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
    return std::make_tuple(part.Int32(a), ingested.Int64(a), off.Int64(a)) <
           std::make_tuple(part.Int32(b), ingested.Int64(b), off.Int64(b));
  });
  return all.Take(order);
}

// Stages on `txn`: every file of `files` holding a silver row with event_time in [lo_us, hi_us)
// is removed and its other rows are written again, with `incoming`, as new files (one per
// partition value). Returns the stats and the newest event_time (us) of the rows added.
struct SilverStaged {
  CopyOnWriteStats cow;
  int64_t max_added_event_time_us = std::numeric_limits<int64_t>::min();
  std::vector<std::string> written;  // absolute paths, to delete if the commit fails
};

Result<SilverStaged> StageSilverReplace(const SilverConfig& silver,
                                        const std::vector<delta::AddFile>& files,
                                        ParquetReader& reader, ParquetWriter& writer,
                                        const RecordBatch& incoming, int64_t lo_us, int64_t hi_us,
                                        delta::Transaction* txn) {
  SilverStaged staged;
  RecordBatch out(SilverSchema());
  for (const auto& f : files) {
    const std::string abs = delta::ResolveDataPath(silver.path, f.path);
    auto rows = reader.Read({abs}, SilverSchema());
    if (!rows.ok()) return rows.status().WithContext("table " + silver.table + " file " + f.path);
    const Column& t = rows->column("event_time");
    std::vector<uint32_t> keep;
    for (size_t r = 0; r < rows->num_rows(); ++r)
      if (t.IsNull(r) || t.Int64(r) < lo_us || t.Int64(r) >= hi_us)
        keep.push_back(static_cast<uint32_t>(r));
    if (keep.size() == rows->num_rows()) continue;
    delta::RemoveFile rm;
    rm.path = f.path;
    rm.data_change = true;
    rm.extended_file_metadata = true;
    rm.partition_values = f.partition_values;
    rm.size = f.size;
    rm.tags = f.tags;
    txn->RemoveFile(std::move(rm));
    staged.cow.files_removed += 1;
    staged.cow.rows_removed += static_cast<int64_t>(rows->num_rows() - keep.size());
    staged.cow.rows_copied += static_cast<int64_t>(keep.size());
    if (!keep.empty()) out.Append(rows->Take(keep));
  }
  out.Append(incoming);

  // One file per partition value, as the streaming sink writes them.
  std::vector<int> part_cols;
  for (const auto& name : silver.partition_by) {
    int c = out.schema()->IndexOf(name);
    if (c < 0) return InvalidArgument("silver.partitionBy: " + name + " is not a silver column");
    part_cols.push_back(c);
  }
  std::map<delta::PartitionValues, std::vector<uint32_t>> groups;
  for (size_t r = 0; r < out.num_rows(); ++r) {
    delta::PartitionValues values;
    for (size_t i = 0; i < part_cols.size(); ++i) {
      STRATA_ASSIGN_OR_RETURN(values[silver.partition_by[i]],
                              delta::SerializePartitionValue(out.column(part_cols[i]), r));
    }
    groups[values].push_back(static_cast<uint32_t>(r));
  }
  const Column& et = out.column("event_time");
  for (size_t r = 0; r < out.num_rows(); ++r)
    if (et.IsValid(r))
      staged.max_added_event_time_us = std::max(staged.max_added_event_time_us, et.Int64(r));
  const std::string prefix = "part-reprocess-" + NewUuid().substr(0, 8);
  int file_no = 0;
  for (const auto& [values, rows] : groups) {
    std::string dir = delta::PartitionDirectory(silver.partition_by, values);
    std::string rel = dir + prefix + "-" + std::to_string(file_no++) + ".snappy.parquet";
    if (!dir.empty()) STRATA_RETURN_IF_ERROR(CreateDirectories(silver.path + "/" + dir));
    RecordBatch data = out.Take(rows);
    const std::string abs = silver.path + "/" + rel;
    STRATA_ASSIGN_OR_RETURN(ParquetFileInfo info, writer.Write(data, abs));
    staged.written.push_back(abs);
    delta::AddFile add;
    add.path = delta::UrlEncodePath(rel);
    add.partition_values = values;
    add.size = info.size_bytes;
    add.modification_time = NowMillis();
    add.data_change = true;
    add.stats = delta::ComputeStatsJson(data, delta::kDefaultNumIndexedCols, silver.partition_by);
    txn->AddFile(std::move(add));
    staged.cow.files_added += 1;
    staged.cow.bytes_added += info.size_bytes;
  }
  return staged;
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
    if (NamesTable(g->table, req.table)) gold = g;
  }
  if (!gold) return InvalidArgument("--table: '" + req.table + "' is not an enabled gold table");
  if (gold->kind == "sessions")
    return NotSupported("--table: " + gold->table +
                        " is a session table; reprocess recomputes window tables only");
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

  // Every row final: the batch recomputation emits each window once, in append mode.
  GoldOptions go = GoldOptionsFor(*gold);
  go.output_mode = GoldOutputMode::kAppend;
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

namespace strata {

bool IsSilverTable(const PipelineConfig& config, const std::string& table) {
  return NamesTable(config.silver.table, table);
}

Result<SilverReprocessResult> ReprocessSilver(const PipelineConfig& config,
                                              const ReprocessRequest& req) {
  const SilverConfig& silver = config.silver;
  if (!IsSilverTable(config, req.table))
    return InvalidArgument("--table: '" + req.table + "' is not the silver table " + silver.table);
  if (req.include_late)
    return InvalidArgument(
        "--include-late: only for gold tables (silver is recomputed from "
        "bronze, which holds the late rows too)");
  if (req.to_ms <= req.from_ms) return InvalidArgument("--to: must be after --from");

  SilverReprocessResult res;
  res.table = silver.table;
  res.from_ms = req.from_ms;
  res.to_ms = req.to_ms;
  STRATA_ASSIGN_OR_RETURN(res.watermark_ms, CommittedWatermark(silver.checkpoint));
  if (req.to_ms > res.watermark_ms)
    return InvalidArgument("--to: " + FormatTimestampMicros(req.to_ms * 1000) +
                           " is after the silver query's watermark " +
                           FormatTimestampMicros(res.watermark_ms * 1000) +
                           "; only event times below it are final (the stream sends later "
                           "rows below it to the late table, never to silver)");
  // Gold queries read silver as a stream: they must accept a commit that removes files.
  std::vector<std::pair<const GoldConfig*, int64_t>> golds;
  for (const GoldConfig* g : config.EnabledGoldTables()) {
    if (!g->ignore_changes)
      return InvalidArgument(
          GoldSection(*g) + ".ignoreChanges: the gold query " + g->table +
          " reads silver as a stream and would stop at the reprocess commit, which removes "
          "files; set ignoreChanges = true in [" +
          GoldSection(*g) + "] (or disable the table)");
    auto wm = CommittedWatermark(g->checkpoint);
    if (!wm.ok())
      return InvalidArgument(g->table + ": " + wm.status().message() +
                             "; its first run would read the range's rows twice (start it "
                             "first, or disable the table)");
    golds.emplace_back(g, *wm);
    if (g->kind == "sessions") continue;  // session tables are not reprocessed
    const int64_t from = FloorTo(req.from_ms - g->window_ms + g->slide_ms, g->slide_ms);
    res.gold.push_back({g->table, from, FloorTo(req.to_ms + g->slide_ms - 1, g->slide_ms)});
  }

  // Recompute: the range's bronze rows, in Kafka order, through the streaming query's processor
  // with no watermark (no row is late, dedup state never expires).
  STRATA_ASSIGN_OR_RETURN(auto reader, ParquetReader::Create(2));
  STRATA_ASSIGN_OR_RETURN(RecordBatch bronze_rows,
                          ReadBronzeRange(*reader, config.bronze.path, req.from_ms, req.to_ms));
  res.bronze_rows = static_cast<int64_t>(bronze_rows.num_rows());
  STRATA_ASSIGN_OR_RETURN(auto processor, SilverProcessor::Create(SilverOptionsFor(silver)));
  // outputs: silver, late, quarantine (the silver query's sinks), and room for more.
  std::vector<std::vector<RecordBatch>> outputs(8);
  const Column& ingested = bronze_rows.column(bronze::kIngestionTimestamp);
  size_t start = 0;
  int64_t batch_id = 0;
  while (start < bronze_rows.num_rows()) {
    // With silver.maxFutureTime the rule compares event time to the processing time: each
    // run of rows of one bronze batch is processed with that batch's ingestion time.
    size_t end = bronze_rows.num_rows();
    BatchContext ctx;
    ctx.batch_id = batch_id++;
    ctx.batch_timestamp_ms = NowMillis();
    if (silver.max_future_ms > 0) {
      end = start + 1;
      while (end < bronze_rows.num_rows() && ingested.Int64(end) == ingested.Int64(start)) ++end;
      ctx.batch_timestamp_ms = ingested.Int64(start) / 1000;
    }
    std::vector<uint32_t> run(end - start);
    std::iota(run.begin(), run.end(), static_cast<uint32_t>(start));
    STRATA_RETURN_IF_ERROR(processor->BeginBatch(ctx));
    STRATA_RETURN_IF_ERROR(processor->Process(
        run.size() == bronze_rows.num_rows() ? std::move(bronze_rows) : bronze_rows.Take(run),
        outputs));
    ProcessorMetrics m;
    STRATA_RETURN_IF_ERROR(processor->EndBatch(outputs, m));
    res.duplicates_dropped += m.rows_dropped_duplicates;
    res.rows_rejected += m.rows_quarantined;
    start = end;
  }
  RecordBatch rows(SilverSchema());
  for (auto& b : outputs[0]) rows.Append(b);
  res.rows_written = static_cast<int64_t>(rows.num_rows());

  STRATA_ASSIGN_OR_RETURN(auto table, delta::DeltaTable::Open(silver.path));
  STRATA_ASSIGN_OR_RETURN(auto writer, ParquetWriter::Create());
  const int64_t lo_us = req.from_ms * 1000, hi_us = req.to_ms * 1000;
  Status last;
  for (int attempt = 0; attempt < 5; ++attempt) {
    STRATA_ASSIGN_OR_RETURN(auto snapshot, table->LatestSnapshot());
    STRATA_ASSIGN_OR_RETURN(auto files, delta::PruneFiles(*snapshot, {"event_time", lo_us, hi_us}));
    auto txn = table->StartTransaction(snapshot);
    STRATA_ASSIGN_OR_RETURN(SilverStaged staged, StageSilverReplace(silver, files, *reader, *writer,
                                                                    rows, lo_us, hi_us, txn.get()));
    auto discard = [&] {
      std::error_code ec;
      for (const auto& f : staged.written) fs::remove(f, ec);
    };
    if (staged.cow.files_removed == 0 && rows.num_rows() == 0) {
      discard();
      return res;  // nothing in the range, before or after
    }
    // Every gold query drops the new files' rows as late: each one's windows must be final.
    for (const auto& [g, wm] : golds) {
      const int64_t t_ms = staged.max_added_event_time_us / 1000;
      // A session query drops rows below its watermark; a window query the (row, window) pairs
      // of windows ending at or before it.
      const int64_t last_end =
          g->kind == "sessions" ? t_ms + 1 : FloorTo(t_ms, g->slide_ms) + g->window_ms;
      if (last_end > wm) {
        discard();
        return InvalidArgument(
            "--to: the commit would add silver rows up to " +
            FormatTimestampMicros(staged.max_added_event_time_us) + " (the range's rows and the " +
            "other rows of the files it rewrites), in a window of " + g->table + " ending " +
            FormatTimestampMicros(last_end * 1000) + " that its watermark " +
            FormatTimestampMicros(wm * 1000) +
            " has not passed; the gold query would count them twice. Wait until it has, or "
            "choose an earlier --to");
      }
    }
    txn->SetOperation("REPROCESS",
                      {{"eventTimeFrom", FormatTimestampMicros(lo_us)},
                       {"eventTimeTo", FormatTimestampMicros(hi_us)},
                       {"source", config.bronze.table}},
                      {{"numRemovedFiles", std::to_string(staged.cow.files_removed)},
                       {"numAddedFiles", std::to_string(staged.cow.files_added)},
                       {"numDeletedRows", std::to_string(staged.cow.rows_removed)},
                       {"numCopiedRows", std::to_string(staged.cow.rows_copied)},
                       {"numOutputRows", std::to_string(rows.num_rows())}});
    auto version = txn->Commit();
    if (version.ok()) {
      res.version = *version;
      res.rows_replaced = staged.cow.rows_removed;
      res.rows_copied = staged.cow.rows_copied;
      res.files_removed = staged.cow.files_removed;
      res.files_added = staged.cow.files_added;
      return res;
    }
    discard();
    last = version.status();
    if (last.code() != StatusCode::kConflict) break;
  }
  return last.WithContext("table " + silver.table + ": reprocess commit");
}

}  // namespace strata
