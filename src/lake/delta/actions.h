#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace strata::delta {

// The actions of the Delta transaction log (PROTOCOL.md, "Actions"). Field names follow the
// protocol in snake_case; optional protocol fields are std::optional. Plain value types: no
// thread-safety concerns.

struct Protocol {
  int32_t min_reader_version = 1;
  int32_t min_writer_version = 2;
  // Present only for reader version 3 / writer version 7 (table features).
  std::optional<std::vector<std::string>> reader_features;
  std::optional<std::vector<std::string>> writer_features;
};

struct Metadata {
  std::string id;
  std::optional<std::string> name;
  std::optional<std::string> description;
  std::string format_provider = "parquet";
  std::map<std::string, std::string> format_options;
  std::string schema_string;
  std::vector<std::string> partition_columns;
  std::map<std::string, std::string> configuration;
  std::optional<int64_t> created_time;
};

// Deletion vector descriptor, kept as parsed fields; strata does not read DV files.
struct DeletionVector {
  std::string storage_type;  // "u" (relative UUID path), "i" (inline), "p" (absolute path)
  std::string path_or_inline_dv;
  std::optional<int32_t> offset;
  int32_t size_in_bytes = 0;
  int64_t cardinality = 0;  // number of deleted rows
  // storageType + pathOrInlineDv [+ "@" + offset]: the key part used in log reconciliation.
  std::string UniqueId() const;
};

using PartitionValues = std::map<std::string, std::optional<std::string>>;

struct AddFile {
  std::string path;  // as in the log: a URL-encoded path relative to the table root (or a URI)
  PartitionValues partition_values;
  int64_t size = 0;
  int64_t modification_time = 0;
  bool data_change = true;
  std::optional<std::string> stats;  // the statistics JSON document, as a string
  std::map<std::string, std::string> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
  std::optional<std::string> clustering_provider;
};

struct RemoveFile {
  std::string path;
  std::optional<int64_t> deletion_timestamp;
  bool data_change = true;
  std::optional<bool> extended_file_metadata;
  std::optional<PartitionValues> partition_values;
  std::optional<int64_t> size;
  std::map<std::string, std::string> tags;
  std::optional<DeletionVector> deletion_vector;
  std::optional<int64_t> base_row_id;
  std::optional<int64_t> default_row_commit_version;
};

struct Txn {
  std::string app_id;
  int64_t version = 0;
  std::optional<int64_t> last_updated;
};

// Free-form provenance. Known fields are parsed; `raw` keeps the whole object as read.
struct CommitInfo {
  std::optional<int64_t> timestamp;
  std::optional<int64_t> in_commit_timestamp;
  std::string operation;
  // Values are strings as Spark writes them ("Append", "[]"); a non-string value read from a
  // log is kept as its JSON text.
  std::map<std::string, std::string> operation_parameters;
  std::map<std::string, std::string> operation_metrics;
  std::optional<std::string> engine_info;
  std::optional<bool> is_blind_append;
  std::optional<int64_t> read_version;
  std::optional<std::string> txn_id;
  std::string raw;  // the JSON object as read; empty for commitInfo built in memory
};

struct DomainMetadata {
  std::string domain;
  std::string configuration;  // a JSON document as a string
  bool removed = false;
};

// Change data file (CDF). Snapshots ignore these; kept for streaming readers.
struct AddCdcFile {
  std::string path;
  int64_t size = 0;
  std::string raw;
};

// V2 checkpoint header.
struct CheckpointMetadata {
  int64_t version = 0;
};

// V2 checkpoint pointer to a file under _delta_log/_sidecars/.
struct SidecarFile {
  std::string path;
  int64_t size_in_bytes = 0;
  int64_t modification_time = 0;
};

using Action = std::variant<Protocol, Metadata, AddFile, RemoveFile, Txn, CommitInfo,
                            DomainMetadata, AddCdcFile, CheckpointMetadata, SidecarFile>;

// Parses one line of a commit (or checkpoint JSON) into an action. `file` and `version` only
// name the source in errors: Corruption for invalid JSON, a missing required field, or an
// unknown top-level action.
Result<Action> ParseAction(std::string_view line, const std::string& file, int64_t version);

// Parses a whole newline-delimited commit file (blank lines are skipped). Corruption names the
// file, version and line number of the first bad line.
Result<std::vector<Action>> ParseActions(std::string_view content, const std::string& file,
                                         int64_t version);

// One action as one compact JSON line (without the trailing newline).
std::string SerializeAction(const Action& action);
// All actions, each followed by '\n': the content of a commit file.
std::string SerializeActions(const std::vector<Action>& actions);

}  // namespace strata::delta
