#include "connectors/delta_source.h"

#include <simdjson.h>

#include <filesystem>

#include "connectors/batch_cache.h"
#include "core/json_writer.h"
#include "duck/duck.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"
#include "stream/commit_signal.h"

namespace strata {

namespace {
constexpr size_t kMaxCachedCommits = 256;

// numRecords of a file's stats (-1 when unknown) and, when `column` is not empty, whether the
// file may hold rows with `column` = `value` (true without usable min/max stats).
void ReadFileStats(simdjson::dom::parser& parser, const std::optional<std::string>& stats,
                   const std::string& column, int64_t value, int64_t* rows, bool* matches) {
  *rows = -1;
  *matches = true;
  if (!stats) return;
  simdjson::dom::element doc;
  if (parser.parse(*stats).get(doc)) return;
  int64_t n;
  if (!doc["numRecords"].get_int64().get(n)) *rows = n;
  if (column.empty()) return;
  int64_t lo, hi;
  if (!doc["minValues"][column].get_int64().get(lo) &&
      !doc["maxValues"][column].get_int64().get(hi)) {
    *matches = lo <= value && value <= hi;
  } else if (!doc["nullCount"][column].get_int64().get(n) && *rows >= 0 && n == *rows) {
    *matches = false;  // only nulls in the partition column
  }
}
}  // namespace

DeltaSource::DeltaSource(DeltaSourceOptions options)
    : options_(std::move(options)), signal_key_(TableSignalKey(options_.path)) {
  if (options_.partition_filter)
    where_ = duck::QuoteIdentifier(options_.partition_column) + " = " +
             std::to_string(*options_.partition_filter);
}
DeltaSource::~DeltaSource() {
  if (cache_reader_ >= 0) CommittedBatchCache::Global().RemoveReader(cache_reader_);
}

std::string DeltaSource::Description() const {
  return "delta[" + options_.table_name + "]";
}
std::string DeltaSource::Identity() const {
  if (!options_.partition_filter) return "delta:" + options_.path;
  return "delta:" + options_.path + "#" + options_.partition_column + "=" +
         std::to_string(*options_.partition_filter);
}

Status DeltaSource::Open() {
  auto table = delta::DeltaTable::Open(options_.path);
  if (!table.ok()) {
    return table.status().WithContext("source table " + options_.table_name + " at " +
                                      options_.path);
  }
  table_ = std::move(*table);
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table_->LatestSnapshot());
  table_id_ = snapshot->metadata().id;
  latest_version_ = snapshot->version();
  STRATA_ASSIGN_OR_RETURN(reader_, ParquetReader::Create(1));
  if (cache_reader_ < 0) cache_reader_ = CommittedBatchCache::Global().AddReader(options_.path);
  return Status::OK();
}

Result<std::string> DeltaSource::InitialOffset() {
  return Format({0, 0});
}

Result<DeltaSource::Position> DeltaSource::Parse(const std::string& offset) const {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  Position p;
  std::string_view id;
  if (parser.parse(offset).get(doc) || doc["version"].get_int64().get(p.version) ||
      doc["index"].get_int64().get(p.index) || doc["tableId"].get_string().get(id)) {
    return Corruption("not a Delta source offset: " + offset);
  }
  if (id != table_id_) {
    return InvalidArgument("the checkpoint's offsets belong to another table (id " +
                           std::string(id) + ") than " + options_.path + " (id " + table_id_ +
                           "): the table was recreated; use a new checkpointLocation");
  }
  return p;
}

std::string DeltaSource::Format(const Position& p) const {
  JsonWriter w;
  w.BeginObject().Key("tableId").String(table_id_).Key("version").Int(p.version);
  w.Key("index").Int(p.index).EndObject();
  return w.Take();
}

Result<std::string> DeltaSource::Reconcile(const std::string& offset) {
  STRATA_ASSIGN_OR_RETURN(Position p, Parse(offset));
  return Format(p);
}

Result<int64_t> DeltaSource::LatestVersion() {
  // Commits are numbered without gaps: probe the next names instead of listing the log.
  std::error_code ec;
  while (std::filesystem::exists(table_->log_store().CommitPath(latest_version_ + 1), ec))
    ++latest_version_;
  return latest_version_;
}

Result<const DeltaSource::CommitFiles*> DeltaSource::FilesOf(int64_t version) {
  auto it = cache_.find(version);
  if (it != cache_.end()) return &it->second;
  STRATA_ASSIGN_OR_RETURN(auto actions, table_->ReadCommitActions(version));
  CommitFiles files;
  simdjson::dom::parser parser;
  const std::string filter_column = options_.partition_filter ? options_.partition_column : "";
  const int64_t filter_value = options_.partition_filter.value_or(0);
  for (const auto& action : actions) {
    if (const auto* add = std::get_if<delta::AddFile>(&action)) {
      if (!add->data_change) continue;
      if (add->deletion_vector) {
        return NotSupported("commit " + std::to_string(version) + " of " + options_.table_name +
                            " adds a file with a deletion vector; streaming reads of such "
                            "files are not supported");
      }
      files.paths.push_back(delta::ResolveDataPath(options_.path, add->path));
      files.sizes.push_back(add->size);
      int64_t rows;
      bool matches;
      ReadFileStats(parser, add->stats, filter_column, filter_value, &rows, &matches);
      files.rows.push_back(rows);
      files.matches.push_back(matches ? 1 : 0);
    } else if (const auto* remove = std::get_if<delta::RemoveFile>(&action)) {
      if (remove->data_change && !options_.ignore_changes) {
        return InvalidArgument("commit " + std::to_string(version) + " of " + options_.table_name +
                               " removes data (" + remove->path +
                               "): a streaming read accepts appends only; set ignoreChanges to "
                               "read such commits' new files anyway");
      }
    }
  }
  if (cache_.size() >= kMaxCachedCommits) cache_.erase(cache_.begin());
  return &cache_.emplace(version, std::move(files)).first->second;
}

Result<std::string> DeltaSource::PlanEnd(const std::string& start, const ReadLimit& limit,
                                         const std::string& cap) {
  STRATA_ASSIGN_OR_RETURN(Position pos, Parse(start));
  STRATA_ASSIGN_OR_RETURN(int64_t latest, LatestVersion());
  Position cap_pos{latest + 1, 0};
  if (!cap.empty()) {
    STRATA_ASSIGN_OR_RETURN(cap_pos, Parse(cap));
  }
  const Position from = pos;
  // With a filter, the files before scanned_empty_ were found not to hold the partition.
  if (options_.partition_filter && scanned_empty_ && pos < *scanned_empty_) pos = *scanned_empty_;
  int64_t files = 0, bytes = 0;
  while (pos < cap_pos && pos.version <= latest) {
    STRATA_ASSIGN_OR_RETURN(const CommitFiles* commit, FilesOf(pos.version));
    if (pos.index >= static_cast<int64_t>(commit->paths.size())) {
      pos = {pos.version + 1, 0};
      continue;
    }
    const auto i = static_cast<size_t>(pos.index);
    if (options_.partition_filter && !commit->matches[i]) {
      ++pos.index;
      continue;
    }
    if (files > 0 && ((limit.max_files > 0 && files >= limit.max_files) ||
                      (limit.max_bytes > 0 && bytes >= limit.max_bytes))) {
      break;
    }
    bytes += commit->sizes[i];
    ++files;
    ++pos.index;
  }
  if (cap_pos < pos) pos = cap_pos;
  if (options_.partition_filter) {
    if (files == 0 && from < pos)
      scanned_empty_ = pos;
    else
      scanned_empty_.reset();
  }
  // Only commits without data files (table creation, metadata, OPTIMIZE) lie ahead: no batch
  // for them; the next batch with data skips over them.
  if (files == 0) return start;
  return Format(pos);
}

Status DeltaSource::Read(const std::string& start, const std::string& end, int64_t,
                         const Emit& emit) {
  STRATA_ASSIGN_OR_RETURN(Position pos, Parse(start));
  STRATA_ASSIGN_OR_RETURN(Position stop, Parse(end));
  // The query reads forward from here (a retried batch starts here again): the commits before
  // it need not stay in the cache for this reader.
  if (cache_reader_ >= 0) CommittedBatchCache::Global().ReaderAt(cache_reader_, pos.version);
  std::vector<std::string> paths;  // files to decode, in commit order
  auto flush = [&]() -> Status {
    if (paths.empty()) return Status::OK();
    Status st = reader_->Scan(
        paths, options_.schema, options_.max_batch_rows,
        [&](RecordBatch&& batch) { return emit(std::move(batch)); }, where_);
    paths.clear();
    return st;
  };
  while (pos < stop) {
    STRATA_ASSIGN_OR_RETURN(const CommitFiles* commit, FilesOf(pos.version));
    int64_t n = static_cast<int64_t>(commit->paths.size());
    int64_t last = pos.version == stop.version ? std::min(stop.index, n) : n;
    // A whole commit written by a sink in this process: its rows are still in memory.
    std::optional<CommittedBatchCache::Batches> cached;
    if (pos.index == 0 && last == n && n > 0)
      cached = CommittedBatchCache::Global().Get(options_.path, pos.version, n);
    // The source's columns may be a projection of the cached batches' (copied by name).
    std::vector<int> columns;
    if (cached && !cached->empty()) columns = (*cached)[0]->schema()->IndicesOf(*options_.schema);
    if (!columns.empty()) {
      STRATA_RETURN_IF_ERROR(flush());
      for (const auto& b : *cached) {
        RecordBatch rows = options_.partition_filter
                               ? FilterPartition(*b).Select(options_.schema, columns)
                               : b->Select(options_.schema, columns);
        if (rows.num_rows() > 0) STRATA_RETURN_IF_ERROR(emit(std::move(rows)));
      }
    } else {
      for (int64_t i = pos.index; i < last; ++i) {
        const auto f = static_cast<size_t>(i);
        if (!options_.partition_filter || commit->matches[f]) paths.push_back(commit->paths[f]);
      }
    }
    pos = {pos.version + 1, 0};
  }
  return flush();
}

std::vector<PartitionPosition> DeltaSource::Positions(const std::string& start,
                                                      const std::string& end) {
  auto s = Parse(start);
  auto e = Parse(end);
  if (!s.ok() || !e.ok()) return {};
  return {{"version", s->version, e->version, latest_version_ + 1}};
}

RecordBatch DeltaSource::FilterPartition(const RecordBatch& batch) const {
  const Column& col = batch.column(options_.partition_column);
  const int32_t want = *options_.partition_filter;
  std::vector<uint32_t> rows;
  for (size_t r = 0; r < col.size(); ++r)
    if (col.IsValid(r) && col.Int32(r) == want) rows.push_back(static_cast<uint32_t>(r));
  return batch.Take(rows);
}

int64_t DeltaSource::RowsBetween(const std::string& start, const std::string& end) {
  if (options_.partition_filter) return -1;  // the files' row counts include other partitions
  auto s = Parse(start);
  auto e = Parse(end);
  if (!s.ok() || !e.ok()) return -1;
  int64_t rows = 0;
  for (Position pos = *s; pos < *e;) {
    auto commit = FilesOf(pos.version);
    if (!commit.ok()) return -1;
    int64_t n = static_cast<int64_t>((*commit)->rows.size());
    int64_t last = pos.version == e->version ? std::min(e->index, n) : n;
    for (int64_t i = pos.index; i < last; ++i) {
      int64_t r = (*commit)->rows[static_cast<size_t>(i)];
      if (r < 0) return -1;
      rows += r;
    }
    pos = {pos.version + 1, 0};
  }
  return rows;
}

}  // namespace strata
