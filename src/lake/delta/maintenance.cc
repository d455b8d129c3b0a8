#include "lake/delta/maintenance.h"

#include <fcntl.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <set>
#include <thread>

#include "core/file_util.h"
#include "core/json_writer.h"
#include "core/time_util.h"
#include "core/uuid.h"
#include "duck/duck.h"
#include "lake/delta/deletion_vector.h"
#include "lake/delta/partition_values.h"
#include "lake/delta/scan.h"

namespace strata::delta {
namespace {

namespace fs = std::filesystem;

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (static_cast<unsigned char>(c) < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof(buf), "\\u%04x", c);
      out += buf;
    } else {
      out += c;
    }
  }
  return out + "\"";
}

std::string IsoMillis(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms >= 0 ? ms / 1000 : (ms - 999) / 1000);
  int64_t frac = ms - static_cast<int64_t>(secs) * 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

// Delta stats JSON of one Parquet file, computed by DuckDB: numRecords, nullCount for every
// column, min/max for numbers, dates and timestamps (ms, min down, max up).
Result<std::string> FileStats(duck::Connection* conn, const std::string& file,
                              const std::vector<ScanColumn>& columns) {
  std::string q = "SELECT count(*)";
  std::vector<const ScanColumn*> cols;
  for (const auto& c : columns) {
    if (c.is_partition || c.duck_type.empty()) continue;
    std::string id = duck::QuoteIdentifier(c.physical_name);
    q += ", count(*) - count(" + id + ")";
    if (c.duck_type == "TIMESTAMPTZ" || c.duck_type == "TIMESTAMP") {
      q += ", epoch_us(min(" + id + "))::VARCHAR, epoch_us(max(" + id + "))::VARCHAR";
    } else if (c.duck_type == "DATE" || c.duck_type == "BIGINT" || c.duck_type == "INTEGER" ||
               c.duck_type == "SMALLINT" || c.duck_type == "TINYINT" || c.duck_type == "DOUBLE" ||
               c.duck_type == "FLOAT") {
      std::string v = c.duck_type == "DOUBLE" || c.duck_type == "FLOAT"
                          ? "CASE WHEN isnan(" + id + ") THEN NULL ELSE " + id + " END"
                          : id;
      q += ", min(" + v + ")::VARCHAR, max(" + v + ")::VARCHAR";
    } else {
      q += ", NULL, NULL";
    }
    cols.push_back(&c);
  }
  q += " FROM read_parquet(" + duck::QuoteLiteral(file) + ")";
  STRATA_ASSIGN_OR_RETURN(duck::Result r, conn->Query(q));
  std::string mins, maxs, nulls;
  for (size_t i = 0; i < cols.size(); ++i) {
    const ScanColumn& c = *cols[i];
    std::string key = JsonString(c.physical_name) + ":";
    nulls += (nulls.empty() ? "" : ",") + key + r.GetString(1 + 3 * i, 0);
    if (r.IsNull(2 + 3 * i, 0)) continue;
    std::string lo = r.GetString(2 + 3 * i, 0), hi = r.GetString(3 + 3 * i, 0);
    if (c.duck_type == "TIMESTAMPTZ" || c.duck_type == "TIMESTAMP") {
      int64_t lo_us = std::stoll(lo), hi_us = std::stoll(hi);
      int64_t lo_ms = lo_us >= 0 ? lo_us / 1000 : (lo_us - 999) / 1000;
      int64_t hi_ms = hi_us >= 0 ? (hi_us + 999) / 1000 : hi_us / 1000;
      lo = JsonString(IsoMillis(lo_ms));
      hi = JsonString(IsoMillis(hi_ms));
    } else if (c.duck_type == "DATE") {
      lo = JsonString(lo);
      hi = JsonString(hi);
    }
    mins += (mins.empty() ? "" : ",") + key + lo;
    maxs += (maxs.empty() ? "" : ",") + key + hi;
  }
  return "{\"numRecords\":" + r.GetString(0, 0) + ",\"minValues\":{" + mins + "},\"maxValues\":{" +
         maxs + "},\"nullCount\":{" + nulls + "}}";
}

std::string Dirname(const std::string& p) {
  size_t slash = p.rfind('/');
  return slash == std::string::npos ? "" : p.substr(0, slash);
}

}  // namespace

std::optional<int64_t> ParseIntervalHours(const std::string& text) {
  std::string s;
  for (char c : text) s += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (s.rfind("interval ", 0) == 0) s = s.substr(9);
  size_t pos = 0;
  int64_t n = 0;
  try {
    n = std::stoll(s, &pos);
  } catch (const std::exception&) {
    return std::nullopt;
  }
  while (pos < s.size() && s[pos] == ' ') ++pos;
  std::string unit = s.substr(pos);
  if (!unit.empty() && unit.back() == 's') unit.pop_back();
  if (unit == "week") return n * 168;
  if (unit == "day") return n * 24;
  if (unit == "hour") return n;
  if (unit == "minute") return n / 60;
  return std::nullopt;
}

Result<std::vector<std::string>> CleanupExpiredLog(const LogStore& store, const Snapshot& snapshot,
                                                   int64_t now_ms) {
  std::vector<std::string> deleted;
  if (snapshot.Property("delta.enableExpiredLogCleanup") == "false") return deleted;
  int64_t hours = kDefaultLogRetentionHours;
  std::string prop = snapshot.Property("delta.logRetentionDuration");
  if (!prop.empty()) {
    auto h = ParseIntervalHours(prop);
    if (!h)
      return InvalidArgument("table " + store.table_path() +
                             ": cannot parse delta.logRetentionDuration '" + prop + "'");
    hours = *h;
  }
  int64_t now = now_ms ? now_ms : NowMillis();
  int64_t cutoff = now - hours * 3600 * 1000;
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store.List());
  std::optional<int64_t> keep_from;
  std::error_code ec;
  for (const auto& [version, flavours] : listing.checkpoints) {
    if (version > snapshot.version()) break;
    for (const auto& cp : flavours) {
      if (cp.paths.empty()) continue;
      auto mtime = fs::last_write_time(cp.paths[0], ec);
      if (ec) continue;
      int64_t ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                       .count();
      if (ms <= cutoff) keep_from = version;
    }
  }
  if (!keep_from) return deleted;
  auto remove = [&](const std::string& p) -> Status {
    if (!fs::remove(p, ec) && ec) return IOError("deleting " + p + ": " + ec.message());
    deleted.push_back(p);
    return Status::OK();
  };
  for (const auto& [version, path] : listing.commits) {
    if (version >= *keep_from) break;
    STRATA_RETURN_IF_ERROR(remove(path));
    std::string crc = path.substr(0, path.size() - 5) + ".crc";
    if (fs::exists(crc, ec)) STRATA_RETURN_IF_ERROR(remove(crc));
  }
  for (const auto& [version, flavours] : listing.checkpoints) {
    if (version >= *keep_from) break;
    for (const auto& cp : flavours)
      for (const auto& p : cp.paths) STRATA_RETURN_IF_ERROR(remove(p));
  }
  return deleted;
}

Result<VacuumResult> Vacuum(DeltaTable& table, const VacuumOptions& options) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table.LatestSnapshot());
  STRATA_RETURN_IF_ERROR(CheckWritable(snapshot->protocol()));
  std::string prop = snapshot->Property("delta.deletedFileRetentionDuration");
  int64_t min_hours = kDefaultDeletedFileRetentionHours;
  if (!prop.empty()) {
    auto h = ParseIntervalHours(prop);
    if (!h)
      return InvalidArgument("table " + table.path() +
                             ": cannot parse delta.deletedFileRetentionDuration '" + prop + "'");
    min_hours = *h;
  }
  if (options.retain_hours < 0) return InvalidArgument("vacuum retention must not be negative");
  if (options.retain_hours < min_hours && !options.force) {
    return InvalidArgument("vacuum retention of " + std::to_string(options.retain_hours) +
                           " hours is below the table's delta.deletedFileRetentionDuration of " +
                           std::to_string(min_hours) +
                           " hours; concurrent readers and time travel may need those files "
                           "(use --force to override)");
  }
  int64_t now = options.now_ms ? options.now_ms : NowMillis();
  int64_t cutoff = now - options.retain_hours * 3600 * 1000;
  std::set<std::string> keep;
  auto keep_path = [&](const std::string& p) {
    keep.insert(fs::path(p).lexically_normal().string());
  };
  for (const auto& f : snapshot->files()) {
    keep_path(ResolveDataPath(table.path(), f.path));
    if (f.deletion_vector && f.deletion_vector->storage_type != "i") {
      auto dv = DeletionVectorPath(table.path(), *f.deletion_vector);
      if (dv.ok()) keep_path(*dv);
    }
  }
  for (const auto& r : snapshot->tombstones()) {
    if (r.deletion_timestamp.value_or(now) <= cutoff) continue;
    keep_path(ResolveDataPath(table.path(), r.path));
    if (r.deletion_vector && r.deletion_vector->storage_type != "i") {
      auto dv = DeletionVectorPath(table.path(), *r.deletion_vector);
      if (dv.ok()) keep_path(*dv);
    }
  }
  VacuumResult result;
  std::error_code ec;
  fs::recursive_directory_iterator it(table.path(), ec), end;
  if (ec) return IOError("listing " + table.path() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return IOError("listing " + table.path() + ": " + ec.message());
    std::string name = it->path().filename().string();
    bool hidden = !name.empty() && (name[0] == '.' || name[0] == '_');
    if (it->is_directory()) {
      // Partition directories ("a=1") may start with '_'; _delta_log and the like are skipped.
      if (hidden && name.find('=') == std::string::npos) it.disable_recursion_pending();
      continue;
    }
    if (hidden) continue;
    std::string path = it->path().lexically_normal().string();
    if (keep.count(path)) continue;
    auto mtime = fs::last_write_time(it->path(), ec);
    if (ec) continue;
    int64_t mtime_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::file_clock::to_sys(mtime).time_since_epoch())
                           .count();
    if (mtime_ms > cutoff) continue;
    int64_t size = static_cast<int64_t>(it->file_size(ec));
    result.files.push_back(path);
    result.bytes += ec ? 0 : size;
  }
  if (!options.dry_run) {
    for (const auto& p : result.files) {
      if (!fs::remove(p, ec) && ec) return IOError("deleting " + p + ": " + ec.message());
    }
  }
  return result;
}

Result<OptimizeResult> Optimize(DeltaTable& table, const OptimizeOptions& options) {
  if (options.target_file_size <= 0) return InvalidArgument("target file size must be positive");
  std::shared_ptr<const Snapshot> snapshot = options.snapshot;
  if (!snapshot) {
    STRATA_ASSIGN_OR_RETURN(snapshot, table.LatestSnapshot());
  }
  STRATA_RETURN_IF_ERROR(CheckWritable(snapshot->protocol()));
  if (snapshot->column_mapping_mode() != "none")
    return NotSupported("optimize of a column-mapped table " + table.path() + " is not supported");
  STRATA_ASSIGN_OR_RETURN(std::vector<ScanColumn> columns, ScanColumns(*snapshot));
  std::string sort_physical;
  if (!options.sort_by.empty()) {
    for (const auto& c : columns)
      if (c.name == options.sort_by && !c.is_partition) sort_physical = c.physical_name;
    if (sort_physical.empty())
      return InvalidArgument("sort column '" + options.sort_by + "' is not a data column of " +
                             table.path());
  }
  int64_t small =
      options.min_file_size > 0 ? options.min_file_size : options.target_file_size * 3 / 4;
  std::vector<AddFile> in_range;
  if (options.range) {
    STRATA_ASSIGN_OR_RETURN(in_range, PruneFiles(*snapshot, *options.range));
  }
  std::map<PartitionValues, std::vector<const AddFile*>> groups;
  for (const auto& f : options.range ? in_range : snapshot->files()) {
    if (f.deletion_vector || f.size >= small) continue;
    if (options.partition && f.partition_values != *options.partition) continue;
    groups[f.partition_values].push_back(&f);
  }
  STRATA_ASSIGN_OR_RETURN(auto conn, duck::Connection::Open(table.duck()));
  auto txn = table.StartTransaction(snapshot);
  OptimizeResult result;
  std::vector<std::string> written;
  auto cleanup = [&] {
    std::error_code ec;
    for (const auto& p : written) fs::remove(p, ec);
  };
  for (auto& [values, files] : groups) {
    if (static_cast<int>(files.size()) <= options.min_files || files.size() < 2) continue;
    std::vector<std::vector<const AddFile*>> bins(1);
    int64_t bin_bytes = 0;
    for (const AddFile* f : files) {
      if (!bins.back().empty() && bin_bytes + f->size > options.target_file_size) {
        bins.emplace_back();
        bin_bytes = 0;
      }
      bins.back().push_back(f);
      bin_bytes += f->size;
    }
    for (const auto& bin : bins) {
      if (bin.size() < 2) continue;
      std::string list = "[";
      for (size_t i = 0; i < bin.size(); ++i)
        list += (i ? ", " : "") + duck::QuoteLiteral(ResolveDataPath(table.path(), bin[i]->path));
      list += "]";
      std::string dir = Dirname(bin[0]->path);
      std::string name = "part-" + NewUuid() + "-optimized.snappy.parquet";
      std::string log_path = dir.empty() ? name : dir + "/" + name;
      std::string disk = ResolveDataPath(table.path(), log_path);
      std::string select = "SELECT * FROM read_parquet(" + list + ", union_by_name = true)";
      if (!sort_physical.empty())
        select += " ORDER BY " + duck::QuoteIdentifier(sort_physical) + " NULLS LAST";
      Status st = conn->Execute("COPY (" + select + ") TO " + duck::QuoteLiteral(disk) +
                                " (FORMAT parquet, COMPRESSION snappy)");
      if (!st.ok()) {
        cleanup();
        return st.WithContext("optimize of " + table.path());
      }
      written.push_back(disk);
      auto stats = FileStats(conn.get(), disk, columns);
      if (!stats.ok()) {
        cleanup();
        return stats.status().WithContext("stats of " + disk);
      }
      std::error_code ec;
      AddFile add;
      add.path = log_path;
      add.partition_values = values;
      add.size = static_cast<int64_t>(fs::file_size(disk, ec));
      add.modification_time = NowMillis();
      add.data_change = false;
      add.stats = *stats;
      result.bytes_added += add.size;
      ++result.files_added;
      txn->AddFile(std::move(add));
      for (const AddFile* f : bin) {
        RemoveFile rm;
        rm.path = f->path;
        rm.data_change = false;
        rm.extended_file_metadata = true;
        rm.partition_values = f->partition_values;
        rm.size = f->size;
        txn->RemoveFile(std::move(rm));
        result.bytes_removed += f->size;
        ++result.files_removed;
      }
    }
  }
  if (result.files_added == 0) return result;
  std::string predicate = "[]";
  if (options.range) {
    std::string q = "`" + options.range->column + "`";
    std::string cond;
    if (options.range->min_us)
      cond = q + " >= timestamp_micros(" + std::to_string(*options.range->min_us) + ")";
    if (options.range->max_us)
      cond += (cond.empty() ? "" : " AND ") + q + " < timestamp_micros(" +
              std::to_string(*options.range->max_us) + ")";
    if (!cond.empty()) predicate = "[\"" + cond + "\"]";
  }
  std::map<std::string, std::string> params = {
      {"predicate", predicate}, {"targetFileSize", std::to_string(options.target_file_size)}};
  if (!options.sort_by.empty()) params["sortBy"] = "[\"" + options.sort_by + "\"]";
  txn->SetOperation("OPTIMIZE", params,
                    {{"numAddedFiles", std::to_string(result.files_added)},
                     {"numRemovedFiles", std::to_string(result.files_removed)},
                     {"numAddedBytes", std::to_string(result.bytes_added)},
                     {"numRemovedBytes", std::to_string(result.bytes_removed)}});
  auto v = txn->Commit();
  if (!v.ok()) {
    cleanup();
    return v.status().WithContext("optimize commit of " + table.path());
  }
  result.version = *v;
  return result;
}

namespace {

// What AutoCompact would do on `snapshot`: the partitions with more than minNumFiles small
// files, and the target file size. Empty when auto-compaction is off or nothing needs it.
struct AutoCompactPlan {
  std::vector<PartitionValues> partitions;
  int64_t max_size = kDefaultAutoCompactMaxFileSize;
};

Result<AutoCompactPlan> PlanAutoCompact(const DeltaTable& table, const Snapshot& snapshot) {
  AutoCompactPlan plan;
  if (snapshot.Property("delta.autoOptimize.autoCompact") != "true") return plan;
  int64_t min_files = kDefaultAutoCompactMinNumFiles;
  for (auto [key, out] :
       {std::pair{"delta.autoOptimize.autoCompact.minNumFiles", &min_files},
        std::pair{"delta.autoOptimize.autoCompact.maxFileSize", &plan.max_size}}) {
    std::string v = snapshot.Property(key);
    if (v.empty()) continue;
    size_t pos = 0;
    try {
      *out = std::stoll(v, &pos);
    } catch (const std::exception&) {
      pos = 0;
    }
    if (pos != v.size() || *out <= 0)
      return InvalidArgument("table " + table.path() + ": " + key + " = '" + v +
                             "' is not a positive integer");
  }
  int64_t small = plan.max_size * 3 / 4;
  std::map<PartitionValues, int64_t> small_files;
  for (const auto& f : snapshot.files())
    if (!f.deletion_vector && f.size < small) ++small_files[f.partition_values];
  for (const auto& [values, count] : small_files)
    if (count > min_files) plan.partitions.push_back(values);
  return plan;
}

}  // namespace

Result<std::optional<OptimizeResult>> AutoCompact(DeltaTable& table) {
  STRATA_ASSIGN_OR_RETURN(auto snapshot, table.LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(AutoCompactPlan plan, PlanAutoCompact(table, *snapshot));
  std::optional<OptimizeResult> total;
  for (const PartitionValues& values : plan.partitions) {
    OptimizeOptions options;
    options.target_file_size = plan.max_size;
    options.partition = values;
    options.snapshot = snapshot;
    STRATA_ASSIGN_OR_RETURN(OptimizeResult r, Optimize(table, options));
    if (r.version < 0) continue;
    if (!total) total = OptimizeResult{};
    total->version = r.version;
    total->files_added += r.files_added;
    total->files_removed += r.files_removed;
    total->bytes_added += r.bytes_added;
    total->bytes_removed += r.bytes_removed;
    STRATA_ASSIGN_OR_RETURN(snapshot, table.LatestSnapshot());
  }
  return total;
}

void AutoCompactAfterCommit(DeltaTable& table) {
  // Planned first, so that a commit with nothing to compact never touches the lease file.
  auto snapshot = table.LatestSnapshot();
  if (snapshot.ok()) {
    auto plan = PlanAutoCompact(table, **snapshot);
    if (plan.ok() && plan->partitions.empty()) return;
  }
  auto lease = MaintenanceLease::TryAcquire(table.path(), "auto-compaction");
  if (!lease.ok()) {
    spdlog::warn("delta: auto compaction of {} skipped: {}", table.path(),
                 lease.status().ToString());
    return;
  }
  if (!*lease) {
    spdlog::debug(
        "delta: auto compaction of {} skipped: another writer holds the maintenance "
        "lease",
        table.path());
    return;
  }
  auto r = AutoCompact(table);
  if (!r.ok()) {
    spdlog::warn("delta: auto compaction of {} failed (retried after the next commit): {}",
                 table.path(), r.status().ToString());
  } else if (*r) {
    spdlog::info("delta: auto compaction of {} rewrote {} files into {} (version {})", table.path(),
                 (*r)->files_removed, (*r)->files_added, (*r)->version);
  }
}

namespace {

std::mutex& MemberMutex() {
  static std::mutex mu;
  return mu;
}
std::string& MemberName() {
  static std::string name;
  return name;
}

std::string HostName() {
  char buf[256] = {0};
  if (::gethostname(buf, sizeof buf - 1) != 0) return "";
  return buf;
}

std::string HolderJson(const MaintenanceLeaseHolder& h) {
  JsonWriter w;
  w.BeginObject();
  w.Key("pid").Int(h.pid);
  w.Key("host").String(h.host);
  w.Key("member").String(h.member);
  w.Key("sinceMs").Int(h.since_ms);
  w.Key("operation").String(h.operation);
  w.EndObject();
  return w.Take() + "\n";
}

// Opens (creating it and its directory) the lease file of a table.
Result<int> OpenLeaseFile(const std::string& table_path) {
  const std::string path = MaintenanceLeasePath(table_path);
  STRATA_RETURN_IF_ERROR(CreateDirectories(Dirname(path)));
  // No O_TRUNC: a process that fails to take the lease must not wipe the holder's identity.
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return IOError("opening " + path + ": " + std::strerror(errno));
  return fd;
}

}  // namespace

std::string MaintenanceLeaseHolder::ToString() const {
  std::string s = "pid " + std::to_string(pid) + " on host " + (host.empty() ? "?" : host);
  if (!member.empty()) s += " (member " + member + ")";
  if (since_ms > 0) s += " since " + FormatTimestampMicros(since_ms * 1000).substr(0, 19) + " UTC";
  if (!operation.empty()) s += ", running " + operation;
  return s;
}

std::string MaintenanceLeasePath(const std::string& table_path) {
  return table_path + "/_strata/maintenance.lock";
}

void SetMaintenanceMember(const std::string& member) {
  std::lock_guard<std::mutex> lock(MemberMutex());
  MemberName() = member;
}

Result<std::unique_ptr<MaintenanceLease>> MaintenanceLease::TryAcquire(
    const std::string& table_path, const std::string& operation) {
  STRATA_ASSIGN_OR_RETURN(int fd, OpenLeaseFile(table_path));
  const std::string path = MaintenanceLeasePath(table_path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int err = errno;
    ::close(fd);
    if (err == EWOULDBLOCK) return std::unique_ptr<MaintenanceLease>();
    return IOError("locking " + path + ": " + std::strerror(err));
  }
  MaintenanceLeaseHolder h;
  h.pid = ::getpid();
  h.host = HostName();
  {
    std::lock_guard<std::mutex> lock(MemberMutex());
    h.member = MemberName();
  }
  h.since_ms = NowMillis();
  h.operation = operation;
  // The identity is diagnostics only: a failure to write it does not cost the lease.
  const std::string json = HolderJson(h);
  if (::ftruncate(fd, 0) != 0 ||
      ::pwrite(fd, json.data(), json.size(), 0) != static_cast<ssize_t>(json.size())) {
    spdlog::warn("delta: cannot write the holder into {}: {}", path, std::strerror(errno));
  }
  return std::unique_ptr<MaintenanceLease>(new MaintenanceLease(fd, std::move(h)));
}

Result<std::unique_ptr<MaintenanceLease>> MaintenanceLease::Acquire(const std::string& table_path,
                                                                    const std::string& operation,
                                                                    int64_t timeout_ms) {
  const int64_t deadline = NowMillis() + std::max<int64_t>(timeout_ms, 0);
  for (;;) {
    STRATA_ASSIGN_OR_RETURN(auto lease, TryAcquire(table_path, operation));
    if (lease) return lease;
    if (NowMillis() >= deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  char waited[32];
  std::snprintf(waited, sizeof waited, "%.1f", timeout_ms / 1000.0);
  std::string who = "another process";
  auto holder = ReadHolder(table_path);
  if (holder.ok() && *holder) who = (*holder)->ToString();
  return Unavailable("the maintenance lease of table " + table_path + " is held by " + who +
                     " (waited " + waited + " s; lock file " + MaintenanceLeasePath(table_path) +
                     ")");
}

Result<std::optional<MaintenanceLeaseHolder>> MaintenanceLease::ReadHolder(
    const std::string& table_path) {
  const std::string path = MaintenanceLeasePath(table_path);
  auto text = ReadFile(path);
  if (!text.ok()) {
    if (text.status().code() == StatusCode::kNotFound)
      return std::optional<MaintenanceLeaseHolder>();
    return text.status();
  }
  if (text->find_first_not_of(" \n") == std::string::npos)
    return std::optional<MaintenanceLeaseHolder>();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(*text).get(doc) != simdjson::SUCCESS)
    return Corruption("maintenance lease file " + path + " is not JSON");
  MaintenanceLeaseHolder h;
  std::string_view sv;
  int64_t n = 0;
  if (doc["pid"].get_int64().get(n) == simdjson::SUCCESS) h.pid = n;
  if (doc["host"].get_string().get(sv) == simdjson::SUCCESS) h.host = sv;
  if (doc["member"].get_string().get(sv) == simdjson::SUCCESS) h.member = sv;
  if (doc["sinceMs"].get_int64().get(n) == simdjson::SUCCESS) h.since_ms = n;
  if (doc["operation"].get_string().get(sv) == simdjson::SUCCESS) h.operation = sv;
  if (h.pid <= 0) return Corruption("maintenance lease file " + path + " names no pid");
  return std::optional<MaintenanceLeaseHolder>(std::move(h));
}

MaintenanceLease::~MaintenanceLease() {
  if (fd_ >= 0) ::close(fd_);  // closing the only descriptor of the description drops the flock
}

}  // namespace strata::delta
