#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "batch/schema.h"
#include "core/status.h"
#include "duck/duck.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_store.h"
#include "lake/delta/snapshot.h"

namespace strata::delta {

// "strata/0.1.0": commitInfo.engineInfo of every commit strata writes.
inline constexpr const char* kEngineInfo = "strata/0.1.0";
// Attempts of one Transaction::Commit() before it gives up with Conflict.
inline constexpr int kMaxCommitAttempts = 1000;

// Writer protocol support: reader version 1, writer version 2 (appendOnly, invariants) is what
// strata creates; a table with writer version 7 is writable when all its writer features are
// listed here. Anything else: NotSupported naming the version or feature.
const std::vector<std::string>& SupportedWriterFeatures();
Status CheckWritable(const Protocol& protocol);

// One entry of DeltaTable::History().
struct HistoryEntry {
  int64_t version = 0;
  int64_t timestamp = 0;  // same rule as Snapshot::timestamp()
  CommitInfo commit_info;
};

class Transaction;

// A Delta table on the local file system. Opening reads nothing but the directory; snapshots
// are loaded on demand. Thread-safe: many threads may load snapshots and commit transactions
// at once (commits are serialized by put-if-absent on the commit file, also across
// processes). Owns an in-memory DuckDB database used for Parquet checkpoints.
class DeltaTable {
 public:
  // NotFound if `path` has no _delta_log directory.
  static Result<std::unique_ptr<DeltaTable>> Open(const std::string& path);
  // Creates the table (version 0: protocol 1/2, metaData, commitInfo "CREATE TABLE") unless it
  // exists. If it exists (or a concurrent creator wins), the existing schema and partition
  // columns must equal the requested ones, else InvalidArgument naming both.
  static Result<std::unique_ptr<DeltaTable>> CreateIfNotExists(
      const std::string& path, const Schema& schema,
      const std::vector<std::string>& partition_columns,
      const std::map<std::string, std::string>& configuration, const std::string& name = "");

  const std::string& path() const { return store_.table_path(); }
  const LogStore& log_store() const { return store_; }
  const std::shared_ptr<duck::Database>& duck() const { return duck_; }

  // The newest version. The last snapshot returned is cached and brought forward by replaying
  // only the commits made since (Snapshot::Update), so polling a table is cheap.
  Result<std::shared_ptr<const Snapshot>> LatestSnapshot() const;
  Result<std::shared_ptr<const Snapshot>> SnapshotAt(int64_t version) const;
  // The newest version whose commit timestamp is <= `timestamp_ms`. Commit timestamps are
  // commitInfo.inCommitTimestamp when delta.enableInCommitTimestamps is set, else commit file
  // modification times made strictly increasing with version (as Spark does). A timestamp
  // after the latest commit gives the latest version; one before the earliest available commit
  // gives NotFound.
  Result<std::shared_ptr<const Snapshot>> SnapshotAtTimestamp(int64_t timestamp_ms) const;
  // Commit timestamp (ms) of `version` by the rule above.
  Result<int64_t> VersionTimestamp(int64_t version) const;

  // The actions of one commit, in file order (for streaming reads). NotFound if absent.
  Result<std::vector<Action>> ReadCommitActions(int64_t version) const;
  // Newest first, at most `limit` entries (all when limit <= 0).
  Result<std::vector<HistoryEntry>> History(int limit) const;

  // A transaction reading the latest snapshot (or the given one).
  Result<std::unique_ptr<Transaction>> StartTransaction();
  std::unique_ptr<Transaction> StartTransaction(std::shared_ptr<const Snapshot> read_snapshot);

  // Status of the last checkpoint attempted after a commit by this object (OK if none failed).
  Status last_checkpoint_status() const;

 private:
  friend class Transaction;
  DeltaTable(std::string path, std::shared_ptr<duck::Database> db);
  Result<std::map<int64_t, int64_t>> CommitTimestamps(const LogListing& listing,
                                                      bool use_ict) const;
  void MaybeCheckpoint(int64_t version, int64_t interval);

  LogStore store_;
  std::shared_ptr<duck::Database> duck_;
  mutable std::mutex mu_;
  Status last_checkpoint_status_;                         // guarded by mu_
  mutable std::shared_ptr<const Snapshot> latest_cache_;  // guarded by mu_
};

// A set of changes committed atomically as the next version. Built by one thread (not
// thread-safe); several transactions on the same table may commit concurrently.
class Transaction {
 public:
  Transaction(DeltaTable* table, std::shared_ptr<const Snapshot> read_snapshot);

  // The snapshot this transaction read; -1 version when the table does not exist yet.
  int64_t read_version() const;
  const std::shared_ptr<const Snapshot>& read_snapshot() const { return read_snapshot_; }

  // Adds an already written data file. `add.path` is relative to the table root and
  // URL-encoded (see UrlEncodePath).
  void AddFile(delta::AddFile add);
  // Removes a file; deletion timestamp defaults to now.
  void RemoveFile(delta::RemoveFile remove);
  // Records that application `app_id` has committed its batch `version` (streaming sinks).
  void SetTxn(const std::string& app_id, int64_t version);
  // operation: "WRITE", "STREAMING UPDATE", "OPTIMIZE", ...; parameters and metrics go to
  // commitInfo as string maps.
  void SetOperation(std::string operation, std::map<std::string, std::string> parameters = {},
                    std::map<std::string, std::string> metrics = {});
  void SetMetadata(Metadata metadata);
  // Schema evolution on write: checks the schema of the data this transaction writes against
  // the table's (the read snapshot's). Every data column must exist in the table with the same
  // type, and a non-nullable table column must not be fed from a nullable one; a table column
  // the data lacks must be nullable. With `merge_schema`, data columns the table lacks are
  // appended to the table schema when nullable, and the new metaData is committed with this
  // transaction (which then conflicts with any concurrent commit, like every metadata change).
  // Any other difference is InvalidArgument naming the column and both types; NotSupported for
  // a table schema with nested types. No-op when the schemas match.
  Status EvolveSchema(const Schema& data_schema, bool merge_schema);
  void SetProtocol(Protocol protocol);
  void AddDomainMetadata(DomainMetadata domain);

  // Writes version read_version()+1 with put-if-absent. When another writer got there first,
  // its commit is checked for logical conflicts (same txn appId, a file both remove, a
  // metadata/protocol change, or this transaction changing metadata) -> Conflict; otherwise the
  // commit is retried at the next version. Blind appends never conflict. NotSupported if the
  // table's protocol is not writable by strata; InvalidArgument on an empty transaction or a
  // remove on an append-only table. After a commit, a checkpoint is written when the newest one
  // is delta.checkpointInterval or more versions old and this process gets the table's
  // maintenance lease (MaintenanceLease, else the holder writes it); its failure is logged and kept
  // in last_checkpoint_status(), never returned. Returns the committed version. Call at most once.
  Result<int64_t> Commit();

 private:
  std::vector<Action> BuildActions(int64_t now_ms) const;
  Status CheckConflicts(int64_t winner_version, const std::vector<Action>& winner) const;

  DeltaTable* table_;  // not owned
  std::shared_ptr<const Snapshot> read_snapshot_;
  std::vector<delta::AddFile> adds_;
  std::vector<delta::RemoveFile> removes_;
  std::map<std::string, int64_t> txns_;
  std::vector<DomainMetadata> domains_;
  std::optional<Metadata> metadata_;
  std::optional<Protocol> protocol_;
  std::string operation_ = "WRITE";
  std::map<std::string, std::string> parameters_;
  std::map<std::string, std::string> metrics_;
  std::string txn_id_;
  bool committed_ = false;
};

}  // namespace strata::delta
