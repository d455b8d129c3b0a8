#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/schema.h"
#include "core/status.h"
#include "duck/duck.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_store.h"

namespace strata::delta {

// Reader table features strata accepts at the log layer. Data readers must still apply
// deletion vectors and column mapping (both are exposed on the snapshot).
const std::vector<std::string>& SupportedReaderFeatures();

// Refuses a protocol strata cannot read: NotSupported naming the reader version or feature.
Status CheckReadable(const Protocol& protocol);

// The reconciled state of a table at one version: protocol, metadata, active files, remove
// tombstones, txn versions per appId and domain metadata. Immutable once built, so a
// shared_ptr<const Snapshot> may be read by many threads.
class Snapshot {
 public:
  // Builds the snapshot at `version` (latest when nullopt): the newest complete checkpoint at or
  // below the version (_last_checkpoint first, then a listing; a checkpoint that cannot be read
  // makes the next older one, or a full replay, be tried), plus the JSON commits after it.
  // NotFound if the table has no log or the version does not exist; Corruption naming the file
  // and version for a gap in the commits, a bad line, or a missing protocol/metaData;
  // NotSupported for a protocol strata cannot read.
  static Result<std::shared_ptr<const Snapshot>> Load(const LogStore& store,
                                                      const std::shared_ptr<duck::Database>& db,
                                                      std::optional<int64_t> version);

  // The latest snapshot, built from `base` by replaying only the commits after it when they are
  // all present (else a full Load). Returns `base` itself when nothing was committed since.
  // Same errors as Load.
  static Result<std::shared_ptr<const Snapshot>> Update(const std::shared_ptr<const Snapshot>& base,
                                                        const LogStore& store,
                                                        const std::shared_ptr<duck::Database>& db);

  int64_t version() const { return version_; }
  const std::string& table_path() const { return table_path_; }
  const Protocol& protocol() const { return protocol_; }
  const Metadata& metadata() const { return metadata_; }
  // Active files, ordered by path.
  const std::vector<AddFile>& files() const { return files_; }
  // Remove tombstones still in the state (for checkpoints and VACUUM).
  const std::vector<RemoveFile>& tombstones() const { return tombstones_; }
  const std::map<std::string, Txn>& txns() const { return txns_; }
  // Latest committed version of a streaming application id, if any.
  std::optional<int64_t> TxnVersion(const std::string& app_id) const;
  // True when `app_id` has already committed `version` or a later one: a streaming sink skips
  // such a batch (idempotent replay after a restart).
  bool IsTxnCommitted(const std::string& app_id, int64_t version) const {
    auto v = TxnVersion(app_id);
    return v && *v >= version;
  }
  // Active (not removed) domain metadata by domain.
  const std::map<std::string, DomainMetadata>& domain_metadata() const { return domains_; }

  // The table schema; NotSupported when it has nested types (Schema is primitive only).
  Result<Schema> schema() const { return Schema::FromSparkJson(metadata_.schema_string); }
  const std::vector<std::string>& partition_columns() const { return metadata_.partition_columns; }
  const std::map<std::string, std::string>& configuration() const {
    return metadata_.configuration;
  }
  // A table property, or `fallback`.
  std::string Property(const std::string& key, const std::string& fallback = "") const;
  // delta.checkpointInterval (default 10).
  int64_t checkpoint_interval() const;
  // delta.columnMapping.mode ("none" by default).
  std::string column_mapping_mode() const { return Property("delta.columnMapping.mode", "none"); }
  bool in_commit_timestamps_enabled() const {
    return Property("delta.enableInCommitTimestamps") == "true";
  }
  // Commit timestamp of this version in ms: commitInfo.inCommitTimestamp when in-commit
  // timestamps are enabled, else the commit file's modification time.
  int64_t timestamp() const { return timestamp_; }
  // Version of the checkpoint the state was built from, if any.
  std::optional<int64_t> checkpoint_version() const { return checkpoint_version_; }
  // Number of files carrying a deletion vector.
  size_t num_files_with_deletion_vectors() const;

 private:
  struct Replay;
  Snapshot() = default;
  // Applies commits [first_commit, target] to `replay` and builds the snapshot.
  static Result<std::shared_ptr<const Snapshot>> Finish(const LogStore& store,
                                                        const LogListing& listing, Replay& replay,
                                                        int64_t first_commit, int64_t target,
                                                        std::optional<int64_t> checkpoint_version,
                                                        const std::string& checkpoint_file);

  std::string table_path_;
  int64_t version_ = -1;
  Protocol protocol_;
  Metadata metadata_;
  std::vector<AddFile> files_;
  std::vector<RemoveFile> tombstones_;
  std::map<std::string, Txn> txns_;
  std::map<std::string, DomainMetadata> domains_;
  int64_t timestamp_ = 0;
  std::optional<int64_t> checkpoint_version_;
};

// Absolute file-system path of an add/remove path from the log (relative, file:/ or absolute).
std::string ResolveDataPath(const std::string& table_path, const std::string& log_path);

}  // namespace strata::delta
