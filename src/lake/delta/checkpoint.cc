#include "lake/delta/checkpoint.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <random>

#include "core/file_util.h"
#include "core/time_util.h"
#include "lake/delta/snapshot.h"

namespace strata::delta {
namespace {

namespace fs = std::filesystem;

constexpr const char* kDeletionVectorType =
    "STRUCT(storageType VARCHAR, pathOrInlineDv VARCHAR, \"offset\" INTEGER, sizeInBytes "
    "INTEGER, cardinality BIGINT)";

// Action column -> the field that is non-null exactly when the row holds that action.
const std::vector<std::pair<std::string, std::string>>& ActionKeyFields() {
  static const std::vector<std::pair<std::string, std::string>> kFields = {
      {"protocol", "minReaderVersion"},  {"metaData", "id"}, {"txn", "appId"},
      {"domainMetadata", "domain"},      {"add", "path"},    {"remove", "path"},
      {"checkpointMetadata", "version"}, {"sidecar", "path"}};
  return kFields;
}

std::string ParquetList(const std::vector<std::string>& paths) {
  std::string out = "[";
  for (size_t i = 0; i < paths.size(); ++i) {
    if (i) out += ", ";
    out += duck::QuoteLiteral(paths[i]);
  }
  return out + "]";
}

std::string RandomSuffix() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^ static_cast<uint64_t>(::getpid())
                                                                       << 32);
  char buf[24];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(rng()));
  return buf;
}

// "interval 1 week" / "interval 7 days" / "interval 168 hours" -> milliseconds.
int64_t ParseIntervalMillis(const std::string& s, int64_t fallback) {
  char unit[32] = {0};
  long long n = 0;
  if (std::sscanf(s.c_str(), "interval %lld %31s", &n, unit) != 2 &&
      std::sscanf(s.c_str(), "%lld %31s", &n, unit) != 2) {
    return fallback;
  }
  std::string u(unit);
  if (!u.empty() && u.back() == 's') u.pop_back();
  if (u == "millisecond") return n;
  if (u == "second") return n * 1000;
  if (u == "minute") return n * 60'000;
  if (u == "hour") return n * 3'600'000;
  if (u == "day") return n * 86'400'000;
  if (u == "week") return n * 7 * 86'400'000;
  return fallback;
}

std::string SidecarPath(const std::string& log_dir, const std::string& path) {
  if (path.find('/') != std::string::npos) return ResolveDataPath(log_dir + "/_sidecars", path);
  return log_dir + "/_sidecars/" + path;
}

}  // namespace

Result<std::vector<Action>> ReadParquetActions(duck::Connection& conn,
                                               const std::vector<std::string>& paths) {
  std::string source = "read_parquet(" + ParquetList(paths) + ", union_by_name=true)";
  auto described = conn.Query("DESCRIBE SELECT * FROM " + source);
  if (!described.ok()) {
    return Corruption("cannot read checkpoint " + paths.front() + ": " +
                      described.status().message());
  }
  std::vector<std::string> present;
  for (size_t r = 0; r < described->row_count(); ++r) present.push_back(described->GetString(0, r));
  std::vector<std::string> columns;
  std::string select;
  for (const auto& [col, key] : ActionKeyFields()) {
    if (std::find(present.begin(), present.end(), col) == present.end()) continue;
    if (!select.empty()) select += ", ";
    std::string q = duck::QuoteIdentifier(col);
    select += "CASE WHEN " + q + "." + duck::QuoteIdentifier(key) + " IS NOT NULL THEN to_json(" +
              q + ") END";
    columns.push_back(col);
  }
  std::vector<Action> out;
  if (columns.empty()) return out;
  auto rows = conn.Query("SELECT " + select + " FROM " + source);
  if (!rows.ok()) {
    return Corruption("cannot read checkpoint " + paths.front() + ": " + rows.status().message());
  }
  size_t n = rows->row_count();
  std::string line;
  for (size_t r = 0; r < n; ++r) {
    for (size_t c = 0; c < columns.size(); ++c) {
      if (rows->IsNull(c, r)) continue;
      line = "{\"" + columns[c] + "\":" + rows->GetString(c, r) + "}";
      auto action = ParseAction(line, paths.front(), -1);
      if (!action.ok()) return action.status();
      out.push_back(std::move(action).value());
    }
  }
  return out;
}

Result<std::vector<Action>> ReadCheckpoint(const std::shared_ptr<duck::Database>& db,
                                           const std::string& log_dir,
                                           const CheckpointFiles& checkpoint) {
  STRATA_ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(db));
  std::vector<Action> actions;
  if (checkpoint.kind == CheckpointFiles::Kind::kV2Json) {
    const std::string& path = checkpoint.paths.front();
    STRATA_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
    STRATA_ASSIGN_OR_RETURN(actions, ParseActions(content, path, checkpoint.version));
  } else {
    STRATA_ASSIGN_OR_RETURN(actions, ReadParquetActions(*conn, checkpoint.paths));
  }
  std::vector<std::string> sidecars;
  for (const auto& a : actions) {
    if (auto* s = std::get_if<SidecarFile>(&a)) sidecars.push_back(SidecarPath(log_dir, s->path));
  }
  if (!sidecars.empty()) {
    for (const auto& p : sidecars) {
      std::error_code ec;
      if (!fs::exists(p, ec)) {
        return Corruption("sidecar file " + p + " of checkpoint " + checkpoint.paths.front() +
                          " does not exist");
      }
    }
    STRATA_ASSIGN_OR_RETURN(std::vector<Action> more, ReadParquetActions(*conn, sidecars));
    for (auto& a : more) actions.push_back(std::move(a));
  }
  return actions;
}

const std::vector<std::pair<std::string, std::string>>& CheckpointColumns() {
  static const std::vector<std::pair<std::string, std::string>> kColumns = {
      {"txn", "STRUCT(appId VARCHAR, version BIGINT, lastUpdated BIGINT)"},
      {"add",
       std::string("STRUCT(path VARCHAR, partitionValues MAP(VARCHAR, VARCHAR), size BIGINT, "
                   "modificationTime BIGINT, dataChange BOOLEAN, stats VARCHAR, tags "
                   "MAP(VARCHAR, VARCHAR), deletionVector ") +
           kDeletionVectorType +
           ", baseRowId BIGINT, defaultRowCommitVersion BIGINT, clusteringProvider VARCHAR)"},
      {"remove",
       std::string("STRUCT(path VARCHAR, deletionTimestamp BIGINT, dataChange BOOLEAN, "
                   "extendedFileMetadata BOOLEAN, partitionValues MAP(VARCHAR, VARCHAR), size "
                   "BIGINT, tags MAP(VARCHAR, VARCHAR), deletionVector ") +
           kDeletionVectorType + ", baseRowId BIGINT, defaultRowCommitVersion BIGINT)"},
      {"metaData",
       "STRUCT(id VARCHAR, name VARCHAR, description VARCHAR, format STRUCT(provider VARCHAR, "
       "options MAP(VARCHAR, VARCHAR)), schemaString VARCHAR, partitionColumns VARCHAR[], "
       "configuration MAP(VARCHAR, VARCHAR), createdTime BIGINT)"},
      {"protocol",
       "STRUCT(minReaderVersion INTEGER, minWriterVersion INTEGER, readerFeatures VARCHAR[], "
       "writerFeatures VARCHAR[])"},
      {"domainMetadata", "STRUCT(domain VARCHAR, configuration VARCHAR, removed BOOLEAN)"},
  };
  return kColumns;
}

Result<LastCheckpoint> WriteCheckpoint(const std::shared_ptr<duck::Database>& db,
                                       const LogStore& store, const Snapshot& snapshot) {
  const std::string& log_dir = store.log_dir();
  int64_t retention = ParseIntervalMillis(snapshot.Property("delta.deletedFileRetentionDuration"),
                                          7 * 86'400'000LL);
  int64_t min_deletion = NowMillis() - retention;

  // Rows of the checkpoint as JSON lines in the action layout; DuckDB types them.
  std::vector<Action> rows;
  rows.emplace_back(snapshot.protocol());
  rows.emplace_back(snapshot.metadata());
  for (const auto& [id, t] : snapshot.txns()) rows.emplace_back(t);
  for (const auto& [d, m] : snapshot.domain_metadata()) rows.emplace_back(m);
  int64_t num_adds = 0;
  for (const auto& f : snapshot.files()) {
    AddFile a = f;
    a.data_change = false;
    rows.emplace_back(std::move(a));
    ++num_adds;
  }
  for (const auto& r : snapshot.tombstones()) {
    if (r.deletion_timestamp && *r.deletion_timestamp < min_deletion) continue;
    RemoveFile t = r;
    t.data_change = false;
    rows.emplace_back(std::move(t));
  }
  std::string suffix = RandomSuffix();
  std::string json_tmp = log_dir + "/.checkpoint-rows-" + suffix + ".json";
  std::string final_path = log_dir + "/" + LogStore::CheckpointFileName(snapshot.version());
  std::string parquet_tmp =
      log_dir + "/." + LogStore::CheckpointFileName(snapshot.version()) + "." + suffix + ".tmp";
  STRATA_RETURN_IF_ERROR(WriteFileAtomic(json_tmp, SerializeActions(rows)));

  std::string columns = "{";
  std::string names;
  for (const auto& [name, type] : CheckpointColumns()) {
    if (columns.size() > 1) {
      columns += ", ";
      names += ", ";
    }
    columns += duck::QuoteIdentifier(name) + ": " + duck::QuoteLiteral(type);
    names += duck::QuoteIdentifier(name);
  }
  columns += "}";
  std::string sql = "COPY (SELECT " + names + " FROM read_json(" + duck::QuoteLiteral(json_tmp) +
                    ", format='newline_delimited', columns=" + columns + ")) TO " +
                    duck::QuoteLiteral(parquet_tmp) + " (FORMAT parquet)";
  auto conn = duck::Connection::Open(db);
  Status st = conn.ok() ? (*conn)->Execute(sql) : conn.status();
  std::error_code ec;
  fs::remove(json_tmp, ec);
  if (!st.ok()) {
    fs::remove(parquet_tmp, ec);
    return Internal("cannot write checkpoint " + final_path + ": " + st.message());
  }
  if (::rename(parquet_tmp.c_str(), final_path.c_str()) != 0) {
    fs::remove(parquet_tmp, ec);
    return IOError("cannot rename checkpoint to " + final_path);
  }
  STRATA_RETURN_IF_ERROR(SyncDirectory(log_dir));
  LastCheckpoint last;
  last.version = snapshot.version();
  last.size = static_cast<int64_t>(rows.size());
  last.size_in_bytes = static_cast<int64_t>(fs::file_size(final_path, ec));
  last.num_of_add_files = num_adds;
  // Never move _last_checkpoint backwards (a slower concurrent writer of an older checkpoint).
  std::optional<LastCheckpoint> current = store.ReadLastCheckpoint();
  if (!current || current->version <= last.version) {
    STRATA_RETURN_IF_ERROR(store.WriteLastCheckpoint(last));
  }
  return last;
}

}  // namespace strata::delta
