#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/delta/actions.h"

namespace strata::delta {

// One checkpoint found in _delta_log/. Multi-part checkpoints list all their parts in order.
struct CheckpointFiles {
  enum class Kind { kClassic, kMultiPart, kV2Parquet, kV2Json };
  int64_t version = 0;
  Kind kind = Kind::kClassic;
  std::vector<std::string> paths;  // absolute file paths
  int num_parts = 1;
};

// The result of listing _delta_log/: commit files by version and complete checkpoints by version
// (incomplete multi-part sets are left out). Hidden files (".x.crc", ".tmp"), version checksum
// files (*.crc), compacted logs and unrelated names are ignored.
struct LogListing {
  std::map<int64_t, std::string> commits;  // version -> absolute path of NNN.json
  std::map<int64_t, std::vector<CheckpointFiles>> checkpoints;
  std::optional<int64_t> LatestVersion() const;
};

// Contents of _delta_log/_last_checkpoint.
struct LastCheckpoint {
  int64_t version = 0;
  int64_t size = 0;  // number of actions
  std::optional<int64_t> parts;
  std::optional<int64_t> size_in_bytes;
  std::optional<int64_t> num_of_add_files;
};

// File layout of one table's log on a local file system. Stateless apart from the path, so
// thread-safe; every method does its own I/O and reports IOError/Corruption naming the file.
class LogStore {
 public:
  explicit LogStore(std::string table_path);

  const std::string& table_path() const { return table_path_; }
  const std::string& log_dir() const { return log_dir_; }

  // "00000000000000000007.json"
  static std::string CommitFileName(int64_t version);
  // "00000000000000000010.checkpoint.parquet"
  static std::string CheckpointFileName(int64_t version);
  std::string CommitPath(int64_t version) const;

  bool LogExists() const;
  Result<LogListing> List() const;

  // Parsed actions of commit `version`. NotFound if the file is missing; Corruption (naming
  // the file and version) if any line cannot be parsed.
  Result<std::vector<Action>> ReadCommit(int64_t version) const;
  // Creates commit `version` with put-if-absent. AlreadyExists if another writer won.
  Status WriteCommit(int64_t version, const std::vector<Action>& actions) const;
  // Modification time of the commit file in milliseconds since the epoch.
  Result<int64_t> CommitFileTime(int64_t version) const;

  // nullopt when the file is absent, empty or unreadable (the caller lists instead).
  std::optional<LastCheckpoint> ReadLastCheckpoint() const;
  Status WriteLastCheckpoint(const LastCheckpoint& cp) const;

 private:
  std::string table_path_;
  std::string log_dir_;
};

}  // namespace strata::delta
