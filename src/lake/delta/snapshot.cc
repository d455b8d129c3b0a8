#include "lake/delta/snapshot.h"

#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_map>

#include "lake/delta/checkpoint.h"
#include "lake/delta/partition_values.h"

namespace strata::delta {
namespace {

std::string FileKey(const std::string& table_path, const std::string& path,
                    const std::optional<DeletionVector>& dv) {
  std::string key = ResolveDataPath(table_path, path);
  key.push_back('\0');
  if (dv) key += dv->UniqueId();
  return key;
}

int64_t FileTimeMillis(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000 + st.st_mtim.tv_nsec / 1'000'000;
}

}  // namespace

// Accumulates actions in log order into the reconciled state.
struct Snapshot::Replay {
  std::string table_path;
  std::optional<Protocol> protocol;
  std::optional<Metadata> metadata;
  std::unordered_map<std::string, AddFile> adds;
  std::unordered_map<std::string, RemoveFile> removes;
  std::map<std::string, Txn> txns;
  std::map<std::string, DomainMetadata> domains;
  std::optional<int64_t> in_commit_timestamp;  // of the last commit applied

  void Apply(Action&& action) {
    if (auto* a = std::get_if<AddFile>(&action)) {
      std::string key = FileKey(table_path, a->path, a->deletion_vector);
      removes.erase(key);
      adds[key] = std::move(*a);
    } else if (auto* r = std::get_if<RemoveFile>(&action)) {
      std::string key = FileKey(table_path, r->path, r->deletion_vector);
      adds.erase(key);
      removes[key] = std::move(*r);
    } else if (auto* m = std::get_if<Metadata>(&action)) {
      metadata = std::move(*m);
    } else if (auto* p = std::get_if<Protocol>(&action)) {
      protocol = std::move(*p);
    } else if (auto* t = std::get_if<Txn>(&action)) {
      txns[t->app_id] = std::move(*t);
    } else if (auto* d = std::get_if<DomainMetadata>(&action)) {
      if (d->removed) {
        domains.erase(d->domain);
      } else {
        domains[d->domain] = std::move(*d);
      }
    } else if (auto* c = std::get_if<CommitInfo>(&action)) {
      in_commit_timestamp = c->in_commit_timestamp;
    }
    // cdc, checkpointMetadata and sidecar do not change the snapshot state.
  }
};

const std::vector<std::string>& SupportedReaderFeatures() {
  static const std::vector<std::string> kFeatures = {
      "columnMapping",       "deletionVectors", "timestampNtz",        "v2Checkpoint",
      "vacuumProtocolCheck", "typeWidening",    "typeWidening-preview"};
  return kFeatures;
}

Status CheckReadable(const Protocol& protocol) {
  if (protocol.min_reader_version < 1 || protocol.min_reader_version > 3) {
    return NotSupported("table requires Delta reader version " +
                        std::to_string(protocol.min_reader_version) +
                        "; strata reads reader versions 1 to 3");
  }
  if (protocol.min_reader_version == 3 && protocol.reader_features) {
    const auto& supported = SupportedReaderFeatures();
    for (const auto& f : *protocol.reader_features) {
      if (std::find(supported.begin(), supported.end(), f) == supported.end()) {
        return NotSupported("table requires reader table feature '" + f +
                            "', which strata does not support");
      }
    }
  }
  return Status::OK();
}

std::string ResolveDataPath(const std::string& table_path, const std::string& log_path) {
  std::string p = log_path;
  if (p.rfind("file://", 0) == 0) {
    return UrlDecode(p.substr(7));
  }
  if (p.rfind("file:", 0) == 0) return UrlDecode(p.substr(5));
  if (!p.empty() && p[0] == '/') return UrlDecode(p);
  return table_path + "/" + UrlDecode(p);
}

std::optional<int64_t> Snapshot::TxnVersion(const std::string& app_id) const {
  auto it = txns_.find(app_id);
  if (it == txns_.end()) return std::nullopt;
  return it->second.version;
}

std::string Snapshot::Property(const std::string& key, const std::string& fallback) const {
  auto it = metadata_.configuration.find(key);
  return it == metadata_.configuration.end() ? fallback : it->second;
}

int64_t Snapshot::checkpoint_interval() const {
  std::string v = Property("delta.checkpointInterval");
  if (v.empty()) return 10;
  try {
    int64_t n = std::stoll(v);
    return n > 0 ? n : 10;
  } catch (const std::exception&) {
    return 10;
  }
}

size_t Snapshot::num_files_with_deletion_vectors() const {
  return static_cast<size_t>(std::count_if(files_.begin(), files_.end(),
                                           [](const AddFile& f) { return f.deletion_vector; }));
}

Result<std::shared_ptr<const Snapshot>> Snapshot::Load(const LogStore& store,
                                                       const std::shared_ptr<duck::Database>& db,
                                                       std::optional<int64_t> version) {
  if (!store.LogExists()) return NotFound("no Delta log at " + store.log_dir());
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store.List());
  std::optional<int64_t> latest = listing.LatestVersion();
  if (!latest) return NotFound("Delta log " + store.log_dir() + " has no commits");
  int64_t target = version.value_or(*latest);
  if (target < 0 || target > *latest) {
    return NotFound("version " + std::to_string(target) + " of " + store.table_path() +
                    " does not exist (latest is " + std::to_string(*latest) + ")");
  }

  // Checkpoint candidates at or below the target, newest first. _last_checkpoint is a hint;
  // the listing is authoritative (a stale or corrupt _last_checkpoint is harmless).
  std::vector<const CheckpointFiles*> candidates;
  std::optional<LastCheckpoint> hint = store.ReadLastCheckpoint();
  for (auto it = listing.checkpoints.rbegin(); it != listing.checkpoints.rend(); ++it) {
    if (it->first > target) continue;
    // Prefer the flavour _last_checkpoint names (its part count) when several exist.
    std::vector<const CheckpointFiles*> at_version;
    for (const auto& cp : it->second) at_version.push_back(&cp);
    if (hint && hint->version == it->first && hint->parts) {
      std::stable_partition(at_version.begin(), at_version.end(),
                            [&](const CheckpointFiles* c) { return c->num_parts == *hint->parts; });
    }
    candidates.insert(candidates.end(), at_version.begin(), at_version.end());
  }

  Replay replay;
  replay.table_path = store.table_path();
  std::optional<int64_t> used_checkpoint;
  int64_t next_commit = 0;
  for (const CheckpointFiles* cp : candidates) {
    // Commits after the checkpoint must all be there, or no older checkpoint can help either.
    for (int64_t v = cp->version + 1; v <= target; ++v) {
      if (!listing.commits.count(v)) {
        return Corruption("missing commit file " + store.CommitPath(v) + " for version " +
                          std::to_string(v) + " (log of " + store.table_path() +
                          " is not contiguous)");
      }
    }
    auto actions = ReadCheckpoint(db, store.log_dir(), *cp);
    if (!actions.ok()) {
      spdlog::warn("delta: cannot read checkpoint {} of {}: {}; trying an older one", cp->version,
                   store.table_path(), actions.status().ToString());
      continue;
    }
    for (auto& a : *actions) replay.Apply(std::move(a));
    used_checkpoint = cp->version;
    next_commit = cp->version + 1;
    break;
  }
  if (!used_checkpoint) {
    for (int64_t v = 0; v <= target; ++v) {
      if (!listing.commits.count(v)) {
        return Corruption("missing commit file " + store.CommitPath(v) + " for version " +
                          std::to_string(v) + " and no usable checkpoint at or below version " +
                          std::to_string(target) + " in " + store.log_dir());
      }
    }
  }
  std::string checkpoint_file;
  if (used_checkpoint) {
    for (const CheckpointFiles* cp : candidates) {
      if (cp->version == *used_checkpoint) checkpoint_file = cp->paths.front();
    }
  }
  return Finish(store, listing, replay, next_commit, target, used_checkpoint, checkpoint_file);
}

Result<std::shared_ptr<const Snapshot>> Snapshot::Finish(const LogStore& store,
                                                         const LogListing& listing, Replay& replay,
                                                         int64_t next_commit, int64_t target,
                                                         std::optional<int64_t> used_checkpoint,
                                                         const std::string& checkpoint_file) {
  for (int64_t v = next_commit; v <= target; ++v) {
    STRATA_ASSIGN_OR_RETURN(std::vector<Action> actions, store.ReadCommit(v));
    replay.in_commit_timestamp.reset();
    for (auto& a : actions) replay.Apply(std::move(a));
  }

  if (!replay.protocol) {
    return Corruption("no protocol action in the log of " + store.table_path() + " up to version " +
                      std::to_string(target));
  }
  if (!replay.metadata) {
    return Corruption("no metaData action in the log of " + store.table_path() + " up to version " +
                      std::to_string(target));
  }
  STRATA_RETURN_IF_ERROR(CheckReadable(*replay.protocol).WithContext(store.table_path()));

  std::shared_ptr<Snapshot> snap(new Snapshot());
  snap->table_path_ = store.table_path();
  snap->version_ = target;
  snap->protocol_ = std::move(*replay.protocol);
  snap->metadata_ = std::move(*replay.metadata);
  snap->txns_ = std::move(replay.txns);
  snap->domains_ = std::move(replay.domains);
  snap->checkpoint_version_ = used_checkpoint;
  snap->files_.reserve(replay.adds.size());
  for (auto& [k, a] : replay.adds) snap->files_.push_back(std::move(a));
  std::sort(snap->files_.begin(), snap->files_.end(),
            [](const AddFile& a, const AddFile& b) { return a.path < b.path; });
  for (auto& [k, r] : replay.removes) snap->tombstones_.push_back(std::move(r));
  std::sort(snap->tombstones_.begin(), snap->tombstones_.end(),
            [](const RemoveFile& a, const RemoveFile& b) { return a.path < b.path; });

  // Timestamp of the version.
  std::optional<int64_t> ict;
  if (snap->in_commit_timestamps_enabled()) {
    if (next_commit <= target) {
      ict = replay.in_commit_timestamp;
    } else if (listing.commits.count(target)) {
      auto actions = store.ReadCommit(target);
      if (actions.ok()) {
        for (const auto& a : *actions) {
          if (auto* c = std::get_if<CommitInfo>(&a)) ict = c->in_commit_timestamp;
        }
      }
    }
  }
  if (ict) {
    snap->timestamp_ = *ict;
  } else if (listing.commits.count(target)) {
    snap->timestamp_ = FileTimeMillis(listing.commits.at(target));
  } else if (!checkpoint_file.empty()) {
    snap->timestamp_ = FileTimeMillis(checkpoint_file);
  }
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

Result<std::shared_ptr<const Snapshot>> Snapshot::Update(
    const std::shared_ptr<const Snapshot>& base, const LogStore& store,
    const std::shared_ptr<duck::Database>& db) {
  if (!base) return Load(store, db, std::nullopt);
  if (!store.LogExists()) return NotFound("no Delta log at " + store.log_dir());
  STRATA_ASSIGN_OR_RETURN(LogListing listing, store.List());
  std::optional<int64_t> latest = listing.LatestVersion();
  if (!latest || *latest < base->version()) return Load(store, db, std::nullopt);
  if (*latest == base->version()) return base;
  for (int64_t v = base->version() + 1; v <= *latest; ++v) {
    if (!listing.commits.count(v)) return Load(store, db, std::nullopt);
  }
  Replay replay;
  replay.table_path = base->table_path_;
  replay.protocol = base->protocol_;
  replay.metadata = base->metadata_;
  replay.txns = base->txns_;
  replay.domains = base->domains_;
  replay.adds.reserve(base->files_.size());
  for (const auto& f : base->files_) {
    replay.adds.emplace(FileKey(replay.table_path, f.path, f.deletion_vector), f);
  }
  for (const auto& r : base->tombstones_) {
    replay.removes.emplace(FileKey(replay.table_path, r.path, r.deletion_vector), r);
  }
  return Finish(store, listing, replay, base->version() + 1, *latest, base->checkpoint_version_,
                "");
}

}  // namespace strata::delta
