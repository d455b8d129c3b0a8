#include "connectors/delta_source.h"

#include <simdjson.h>

#include <filesystem>

#include "connectors/batch_cache.h"
#include "core/json_writer.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "lake/parquet/parquet_reader.h"

namespace strata {

namespace {
constexpr size_t kMaxCachedCommits = 256;

int64_t NumRecordsFromStats(const std::optional<std::string>& stats) {
  if (!stats) return -1;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t n;
  if (parser.parse(*stats).get(doc) || doc["numRecords"].get_int64().get(n)) return -1;
  return n;
}
}  // namespace

DeltaSource::DeltaSource(DeltaSourceOptions options) : options_(std::move(options)) {}
DeltaSource::~DeltaSource() = default;

std::string DeltaSource::Description() const {
  return "delta[" + options_.table_name + "]";
}
std::string DeltaSource::Identity() const {
  return "delta:" + options_.path;
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
      files.rows.push_back(NumRecordsFromStats(add->stats));
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
  int64_t files = 0, bytes = 0;
  while (pos < cap_pos && pos.version <= latest) {
    STRATA_ASSIGN_OR_RETURN(const CommitFiles* commit, FilesOf(pos.version));
    if (pos.index >= static_cast<int64_t>(commit->paths.size())) {
      pos = {pos.version + 1, 0};
      continue;
    }
    if (files > 0 && ((limit.max_files > 0 && files >= limit.max_files) ||
                      (limit.max_bytes > 0 && bytes >= limit.max_bytes))) {
      break;
    }
    bytes += commit->sizes[static_cast<size_t>(pos.index)];
    ++files;
    ++pos.index;
  }
  if (cap_pos < pos) pos = cap_pos;
  // Only commits without data files (table creation, metadata, OPTIMIZE) lie ahead: no batch
  // for them; the next batch with data skips over them.
  if (files == 0) return start;
  return Format(pos);
}

Status DeltaSource::Read(const std::string& start, const std::string& end, int64_t,
                         const Emit& emit) {
  STRATA_ASSIGN_OR_RETURN(Position pos, Parse(start));
  STRATA_ASSIGN_OR_RETURN(Position stop, Parse(end));
  std::vector<std::string> paths;  // files to decode, in commit order
  auto flush = [&]() -> Status {
    if (paths.empty()) return Status::OK();
    Status st = reader_->Scan(paths, options_.schema, options_.max_batch_rows,
                              [&](RecordBatch&& batch) { return emit(std::move(batch)); });
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
    if (cached && !cached->empty() && *(*cached)[0]->schema() == *options_.schema) {
      STRATA_RETURN_IF_ERROR(flush());
      for (const auto& b : *cached) STRATA_RETURN_IF_ERROR(emit(b->Clone()));
    } else {
      for (int64_t i = pos.index; i < last; ++i)
        paths.push_back(commit->paths[static_cast<size_t>(i)]);
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

int64_t DeltaSource::RowsBetween(const std::string& start, const std::string& end) {
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
