#include "lake/delta/table.h"

#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <random>

#include "core/file_util.h"
#include "core/json_writer.h"
#include "core/time_util.h"
#include "lake/delta/checkpoint.h"
#include "lake/delta/maintenance.h"

namespace strata::delta {
namespace {

std::string NewUuid() {
  static thread_local std::mt19937_64 rng(std::random_device{}() ^
                                          (static_cast<uint64_t>(::getpid()) << 32) ^
                                          static_cast<uint64_t>(MonotonicNanos()));
  uint64_t a = rng(), b = rng();
  a = (a & 0xFFFFFFFFFFFF0FFFull) | 0x0000000000004000ull;  // version 4
  b = (b & 0x3FFFFFFFFFFFFFFFull) | 0x8000000000000000ull;  // variant 1
  char buf[40];
  std::snprintf(
      buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
      static_cast<unsigned long long>(a >> 32), static_cast<unsigned long long>((a >> 16) & 0xFFFF),
      static_cast<unsigned long long>(a & 0xFFFF), static_cast<unsigned long long>(b >> 48),
      static_cast<unsigned long long>(b & 0xFFFFFFFFFFFFull));
  return buf;
}

std::string JsonStringArray(const std::vector<std::string>& v) {
  JsonWriter w;
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
  return w.Take();
}

std::string JsonStringMap(const std::map<std::string, std::string>& m) {
  JsonWriter w;
  w.BeginObject();
  for (const auto& [k, v] : m) w.Key(k).String(v);
  w.EndObject();
  return w.Take();
}

// numRecords of a stats JSON document, if present.
std::optional<int64_t> NumRecords(const std::optional<std::string>& stats) {
  if (!stats) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  int64_t n;
  if (parser.parse(*stats).get(doc) || doc["numRecords"].get_int64().get(n)) return std::nullopt;
  return n;
}

std::string DescribeSchema(const Schema& s, const std::vector<std::string>& partition_columns) {
  return s.ToSparkJson() + " partitioned by " + JsonStringArray(partition_columns);
}

}  // namespace

const std::vector<std::string>& SupportedWriterFeatures() {
  static const std::vector<std::string> kFeatures = {"appendOnly", "invariants", "timestampNtz",
                                                     "domainMetadata", "vacuumProtocolCheck"};
  return kFeatures;
}

Status CheckWritable(const Protocol& protocol) {
  STRATA_RETURN_IF_ERROR(CheckReadable(protocol));
  int w = protocol.min_writer_version;
  if (w < 1 || (w > 2 && w != 7)) {
    return NotSupported("table requires Delta writer version " + std::to_string(w) +
                        "; strata writes versions 1, 2 and 7 (with supported features)");
  }
  if (w == 7 && protocol.writer_features) {
    const auto& supported = SupportedWriterFeatures();
    for (const auto& f : *protocol.writer_features) {
      if (std::find(supported.begin(), supported.end(), f) == supported.end()) {
        return NotSupported("table requires writer table feature '" + f +
                            "', which strata does not support");
      }
    }
  }
  return Status::OK();
}

DeltaTable::DeltaTable(std::string path, std::shared_ptr<duck::Database> db)
    : store_(std::move(path)), duck_(std::move(db)) {}

Result<std::unique_ptr<DeltaTable>> DeltaTable::Open(const std::string& path) {
  LogStore store(path);
  if (!store.LogExists()) {
    return NotFound("no Delta table at " + path + ": " + store.log_dir() + " does not exist");
  }
  STRATA_ASSIGN_OR_RETURN(auto db, duck::Database::Open("", {{"threads", "1"}}));
  return std::unique_ptr<DeltaTable>(new DeltaTable(path, std::move(db)));
}

Result<std::unique_ptr<DeltaTable>> DeltaTable::CreateIfNotExists(
    const std::string& path, const Schema& schema,
    const std::vector<std::string>& partition_columns,
    const std::map<std::string, std::string>& configuration, const std::string& name) {
  for (const auto& p : partition_columns) {
    if (schema.IndexOf(p) < 0) {
      return InvalidArgument("partition column '" + p + "' is not in the schema of " + path);
    }
  }
  LogStore store(path);
  bool exists = false;
  if (store.LogExists()) {
    STRATA_ASSIGN_OR_RETURN(LogListing listing, store.List());
    exists = listing.LatestVersion().has_value();
  }
  if (!exists) STRATA_RETURN_IF_ERROR(CreateDirectories(store.log_dir()));
  STRATA_ASSIGN_OR_RETURN(auto table, Open(path));
  if (!exists) {
    auto txn = table->StartTransaction(nullptr);
    Protocol protocol;
    protocol.min_reader_version = 1;
    protocol.min_writer_version = 2;
    Metadata m;
    m.id = NewUuid();
    if (!name.empty()) m.name = name;
    m.schema_string = schema.ToSparkJson();
    m.partition_columns = partition_columns;
    m.configuration = configuration;
    m.created_time = NowMillis();
    txn->SetProtocol(protocol);
    txn->SetMetadata(m);
    txn->SetOperation("CREATE TABLE", {{"isManaged", "false"},
                                       {"description", ""},
                                       {"partitionBy", JsonStringArray(partition_columns)},
                                       {"properties", JsonStringMap(configuration)}});
    auto committed = txn->Commit();
    if (committed.ok()) return table;
    if (committed.status().code() != StatusCode::kConflict) return committed.status();
    // Another creator won version 0: fall through and verify its schema.
  }
  STRATA_ASSIGN_OR_RETURN(auto snap, table->LatestSnapshot());
  auto existing = snap->schema();
  if (!existing.ok()) {
    return InvalidArgument("table " + path + " exists with a schema strata cannot compare: " +
                           existing.status().message());
  }
  if (!(*existing == schema) || snap->partition_columns() != partition_columns) {
    return InvalidArgument("table " + path + " exists with schema " +
                           DescribeSchema(*existing, snap->partition_columns()) +
                           ", which differs from the requested " +
                           DescribeSchema(schema, partition_columns));
  }
  return table;
}

Result<std::shared_ptr<const Snapshot>> DeltaTable::LatestSnapshot() const {
  std::shared_ptr<const Snapshot> base;
  {
    std::lock_guard<std::mutex> lock(mu_);
    base = latest_cache_;
  }
  auto snap = Snapshot::Update(base, store_, duck_);
  if (snap.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!latest_cache_ || (*snap)->version() >= latest_cache_->version()) latest_cache_ = *snap;
  }
  return snap;
}

Result<std::shared_ptr<const Snapshot>> DeltaTable::SnapshotAt(int64_t version) const {
  return Snapshot::Load(store_, duck_, version);
}

Result<std::map<int64_t, int64_t>> DeltaTable::CommitTimestamps(const LogListing& listing,
                                                                bool use_ict) const {
  std::map<int64_t, int64_t> out;
  std::optional<int64_t> prev;
  for (const auto& [version, file] : listing.commits) {
    std::optional<int64_t> ts;
    if (use_ict) {
      auto actions = store_.ReadCommit(version);
      if (actions.ok()) {
        for (const auto& a : *actions) {
          if (auto* c = std::get_if<CommitInfo>(&a)) ts = c->in_commit_timestamp;
        }
      }
    }
    if (!ts) {
      STRATA_ASSIGN_OR_RETURN(int64_t mtime, store_.CommitFileTime(version));
      // File times are made strictly increasing with version.
      ts = prev ? std::max(mtime, *prev + 1) : mtime;
    }
    out[version] = *ts;
    prev = *ts;
  }
  return out;
}

Result<int64_t> DeltaTable::VersionTimestamp(int64_t version) const {
  STRATA_ASSIGN_OR_RETURN(auto latest, LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store_.List());
  STRATA_ASSIGN_OR_RETURN(auto ts,
                          CommitTimestamps(listing, latest->in_commit_timestamps_enabled()));
  auto it = ts.find(version);
  if (it == ts.end()) {
    return NotFound("no commit file for version " + std::to_string(version) + " of " + path());
  }
  return it->second;
}

Result<std::shared_ptr<const Snapshot>> DeltaTable::SnapshotAtTimestamp(
    int64_t timestamp_ms) const {
  STRATA_ASSIGN_OR_RETURN(auto latest, LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store_.List());
  STRATA_ASSIGN_OR_RETURN(auto ts,
                          CommitTimestamps(listing, latest->in_commit_timestamps_enabled()));
  std::optional<int64_t> found;
  for (const auto& [version, t] : ts) {
    if (t <= timestamp_ms) found = version;
  }
  if (!found) {
    std::string earliest = ts.empty() ? "none" : FormatTimestampMicros(ts.begin()->second * 1000);
    return NotFound("timestamp " + FormatTimestampMicros(timestamp_ms * 1000) +
                    " is before the earliest available commit of " + path() + " (" + earliest +
                    ")");
  }
  if (*found == latest->version()) return latest;
  return SnapshotAt(*found);
}

Result<std::vector<Action>> DeltaTable::ReadCommitActions(int64_t version) const {
  return store_.ReadCommit(version);
}

Result<std::vector<HistoryEntry>> DeltaTable::History(int limit) const {
  STRATA_ASSIGN_OR_RETURN(auto latest, LatestSnapshot());
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store_.List());
  STRATA_ASSIGN_OR_RETURN(auto ts,
                          CommitTimestamps(listing, latest->in_commit_timestamps_enabled()));
  std::vector<HistoryEntry> out;
  for (auto it = listing.commits.rbegin(); it != listing.commits.rend(); ++it) {
    if (limit > 0 && static_cast<int>(out.size()) >= limit) break;
    HistoryEntry e;
    e.version = it->first;
    e.timestamp = ts[it->first];
    STRATA_ASSIGN_OR_RETURN(auto actions, store_.ReadCommit(it->first));
    for (auto& a : actions) {
      if (auto* c = std::get_if<CommitInfo>(&a)) e.commit_info = std::move(*c);
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<std::unique_ptr<Transaction>> DeltaTable::StartTransaction() {
  STRATA_ASSIGN_OR_RETURN(auto snap, LatestSnapshot());
  return std::make_unique<Transaction>(this, std::move(snap));
}

std::unique_ptr<Transaction> DeltaTable::StartTransaction(
    std::shared_ptr<const Snapshot> read_snapshot) {
  return std::make_unique<Transaction>(this, std::move(read_snapshot));
}

Status DeltaTable::last_checkpoint_status() const {
  std::lock_guard<std::mutex> lock(mu_);
  return last_checkpoint_status_;
}

void DeltaTable::MaybeCheckpoint(int64_t version, int64_t interval) {
  if (version < interval || interval <= 0) return;
  // Due when the newest checkpoint is `interval` or more versions old, not only on exact
  // multiples: a multiple committed by a writer without the maintenance lease is skipped, and
  // the holder's next commit makes up for it.
  auto due = [&] {
    std::optional<LastCheckpoint> last = store_.ReadLastCheckpoint();
    return version - (last ? last->version : 0) >= interval;
  };
  if (!due()) return;
  auto lease = MaintenanceLease::TryAcquire(path(), "checkpoint");
  Status st = lease.status();
  if (!st.ok()) {
    spdlog::warn("delta: checkpoint of {} at version {} skipped: {}", path(), version,
                 st.ToString());
    std::lock_guard<std::mutex> lock(mu_);
    last_checkpoint_status_ = st;
    return;
  }
  if (!*lease) {
    spdlog::debug("delta: checkpoint of {} at version {} left to the maintenance lease holder",
                  path(), version);
    return;
  }
  if (!due()) return;  // the previous holder has just written one
  // Usually the cached latest snapshot brought forward by this very commit.
  auto snap = LatestSnapshot();
  if (snap.ok() && (*snap)->version() != version) snap = SnapshotAt(version);
  if (!snap.ok()) {
    st = snap.status();
  } else {
    auto written = WriteCheckpoint(duck_, store_, **snap);
    if (!written.ok()) st = written.status();
  }
  if (st.ok()) {
    // Expired log files go only after a checkpoint that makes them unnecessary exists.
    auto cleaned = CleanupExpiredLog(store_, **snap);
    if (!cleaned.ok()) {
      spdlog::warn("delta: log cleanup of {} after checkpoint {} failed: {}", path(), version,
                   cleaned.status().ToString());
    } else if (!cleaned->empty()) {
      spdlog::info("delta: log cleanup of {} deleted {} expired log files", path(),
                   cleaned->size());
    }
  }
  if (!st.ok()) {
    spdlog::warn("delta: checkpoint of {} at version {} failed (the commit stands): {}", path(),
                 version, st.ToString());
  }
  std::lock_guard<std::mutex> lock(mu_);
  last_checkpoint_status_ = st;
}

Transaction::Transaction(DeltaTable* table, std::shared_ptr<const Snapshot> read_snapshot)
    : table_(table), read_snapshot_(std::move(read_snapshot)), txn_id_(NewUuid()) {}

int64_t Transaction::read_version() const {
  return read_snapshot_ ? read_snapshot_->version() : -1;
}

void Transaction::AddFile(delta::AddFile add) {
  adds_.push_back(std::move(add));
}

void Transaction::RemoveFile(delta::RemoveFile remove) {
  removes_.push_back(std::move(remove));
}

void Transaction::SetTxn(const std::string& app_id, int64_t version) {
  txns_[app_id] = version;
}

void Transaction::SetOperation(std::string operation, std::map<std::string, std::string> parameters,
                               std::map<std::string, std::string> metrics) {
  operation_ = std::move(operation);
  parameters_ = std::move(parameters);
  metrics_ = std::move(metrics);
}

void Transaction::SetMetadata(Metadata metadata) {
  metadata_ = std::move(metadata);
}
Status Transaction::EvolveSchema(const Schema& data_schema, bool merge_schema) {
  if (!read_snapshot_) return InvalidArgument("schema evolution needs an existing table");
  const std::string& table = table_->path();
  STRATA_ASSIGN_OR_RETURN(Schema current, read_snapshot_->schema());
  std::vector<Field> merged = current.fields();
  bool changed = false;
  for (const Field& f : data_schema.fields()) {
    int i = current.IndexOf(f.name);
    if (i < 0) {
      if (!merge_schema) {
        return InvalidArgument("table " + table + " has no column '" + f.name +
                               "' (enable mergeSchema to add it)");
      }
      if (!f.nullable) {
        return InvalidArgument("cannot add non-nullable column '" + f.name + "' to table " + table +
                               ": only nullable columns can be added");
      }
      merged.push_back(f);
      changed = true;
      continue;
    }
    const Field& t = current.field(static_cast<size_t>(i));
    if (t.type != f.type) {
      return InvalidArgument("column '" + f.name + "' of table " + table + " is " +
                             DeltaTypeName(t.type) + ", the data has " + DeltaTypeName(f.type) +
                             ": changing a column's type is not supported");
    }
    if (!t.nullable && f.nullable) {
      return InvalidArgument("column '" + f.name + "' of table " + table +
                             " is not nullable, the data's is nullable");
    }
  }
  for (const Field& t : current.fields()) {
    if (data_schema.IndexOf(t.name) < 0 && !t.nullable) {
      return InvalidArgument("the data lacks column '" + t.name + "' of table " + table +
                             ", which is not nullable");
    }
  }
  if (!changed) return Status::OK();
  Metadata metadata = metadata_ ? *metadata_ : read_snapshot_->metadata();
  metadata.schema_string = Schema(std::move(merged)).ToSparkJson();
  metadata_ = std::move(metadata);
  return Status::OK();
}

void Transaction::SetProtocol(Protocol protocol) {
  protocol_ = std::move(protocol);
}
void Transaction::AddDomainMetadata(DomainMetadata domain) {
  domains_.push_back(std::move(domain));
}

std::vector<Action> Transaction::BuildActions(int64_t now_ms) const {
  std::vector<Action> out;
  CommitInfo info;
  info.timestamp = now_ms;
  info.operation = operation_;
  info.operation_parameters = parameters_;
  if (read_version() >= 0) info.read_version = read_version();
  info.is_blind_append = removes_.empty() && !metadata_ && !protocol_;
  info.operation_metrics = metrics_;
  int64_t bytes = 0, rows = 0;
  bool rows_known = true;
  for (const auto& a : adds_) {
    bytes += a.size;
    auto n = NumRecords(a.stats);
    if (n) {
      rows += *n;
    } else {
      rows_known = false;
    }
  }
  info.operation_metrics.emplace("numAddedFiles", std::to_string(adds_.size()));
  info.operation_metrics.emplace("numRemovedFiles", std::to_string(removes_.size()));
  info.operation_metrics.emplace("numOutputBytes", std::to_string(bytes));
  if (rows_known) info.operation_metrics.emplace("numOutputRows", std::to_string(rows));
  info.engine_info = kEngineInfo;
  info.txn_id = txn_id_;
  out.emplace_back(std::move(info));
  if (protocol_) out.emplace_back(*protocol_);
  if (metadata_) out.emplace_back(*metadata_);
  for (const auto& [app, v] : txns_) out.emplace_back(Txn{app, v, now_ms});
  for (const auto& d : domains_) out.emplace_back(d);
  for (const auto& r : removes_) {
    delta::RemoveFile copy = r;
    if (!copy.deletion_timestamp) copy.deletion_timestamp = now_ms;
    out.emplace_back(std::move(copy));
  }
  for (const auto& a : adds_) out.emplace_back(a);
  return out;
}

Status Transaction::CheckConflicts(int64_t winner_version,
                                   const std::vector<Action>& winner) const {
  std::string at = " (concurrent commit " + table_->store_.CommitPath(winner_version) + ")";
  if (metadata_ || protocol_) {
    return Conflict("transaction changes the metadata or protocol of " + table_->path() +
                    " but version " + std::to_string(winner_version) + " was committed first" + at);
  }
  for (const auto& a : winner) {
    if (std::holds_alternative<Metadata>(a) || std::holds_alternative<Protocol>(a)) {
      return Conflict("version " + std::to_string(winner_version) +
                      " changed the table metadata or protocol" + at);
    }
    if (auto* t = std::get_if<Txn>(&a)) {
      if (txns_.count(t->app_id)) {
        return Conflict("application '" + t->app_id + "' committed version " +
                        std::to_string(t->version) + " concurrently" + at);
      }
    }
    if (auto* r = std::get_if<delta::RemoveFile>(&a)) {
      for (const auto& mine : removes_) {
        if (mine.path == r->path) {
          return Conflict("file " + r->path + " was removed concurrently" + at);
        }
      }
    }
    if (auto* d = std::get_if<DomainMetadata>(&a)) {
      for (const auto& mine : domains_) {
        if (mine.domain == d->domain) {
          return Conflict("domain '" + d->domain + "' was changed concurrently" + at);
        }
      }
    }
  }
  return Status::OK();
}

Result<int64_t> Transaction::Commit() {
  if (committed_) return InvalidArgument("transaction on " + table_->path() + " already committed");
  if (adds_.empty() && removes_.empty() && txns_.empty() && !metadata_ && !protocol_ &&
      domains_.empty()) {
    return InvalidArgument("empty transaction on " + table_->path());
  }
  const Protocol* protocol = protocol_ ? &*protocol_ : nullptr;
  if (!protocol && read_snapshot_) protocol = &read_snapshot_->protocol();
  if (!protocol) return InvalidArgument("no protocol for a new table at " + table_->path());
  STRATA_RETURN_IF_ERROR(CheckWritable(*protocol).WithContext(table_->path()));
  const Metadata* metadata = metadata_ ? &*metadata_ : nullptr;
  if (!metadata && read_snapshot_) metadata = &read_snapshot_->metadata();
  if (!metadata) return InvalidArgument("no metaData for a new table at " + table_->path());
  if (metadata->schema_string.find("delta.invariants") != std::string::npos) {
    return NotSupported("table " + table_->path() + " has column invariants strata cannot enforce");
  }
  auto append_only = metadata->configuration.find("delta.appendOnly");
  if (append_only != metadata->configuration.end() && append_only->second == "true") {
    for (const auto& r : removes_) {
      if (r.data_change) {
        return InvalidArgument("table " + table_->path() + " is append-only; cannot remove " +
                               r.path);
      }
    }
  }

  int64_t version = read_version() + 1;
  for (int attempt = 0;; ++attempt) {
    if (attempt >= kMaxCommitAttempts) {
      return Conflict("gave up committing to " + table_->path() + " after " +
                      std::to_string(kMaxCommitAttempts) + " attempts");
    }
    Status st = table_->store_.WriteCommit(version, BuildActions(NowMillis()));
    if (st.ok()) break;
    if (st.code() != StatusCode::kAlreadyExists) return st;
    STRATA_ASSIGN_OR_RETURN(std::vector<Action> winner, table_->store_.ReadCommit(version));
    STRATA_RETURN_IF_ERROR(CheckConflicts(version, winner));
    ++version;
  }
  committed_ = true;
  int64_t interval = 10;
  auto it = metadata->configuration.find("delta.checkpointInterval");
  if (it != metadata->configuration.end()) {
    try {
      interval = std::stoll(it->second);
    } catch (const std::exception&) {
      interval = 10;
    }
  }
  table_->MaybeCheckpoint(version, interval);
  return version;
}

}  // namespace strata::delta
