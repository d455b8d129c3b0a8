#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "duck/duck.h"
#include "lake/delta/actions.h"
#include "lake/delta/log_store.h"

namespace strata::delta {

class Snapshot;

// Reads every action of a checkpoint through DuckDB: classic single-file and multi-part
// Parquet checkpoints, V2 checkpoints (UUID-named Parquet or JSON top-level file) and the
// Parquet sidecar files they reference under _delta_log/_sidecars/. Struct-only statistics
// (add.stats_parsed) are turned into a stats JSON string. Corruption names the checkpoint file.
// Thread-safe: opens its own connection on `db`.
Result<std::vector<Action>> ReadCheckpoint(const std::shared_ptr<duck::Database>& db,
                                           const std::string& log_dir,
                                           const CheckpointFiles& checkpoint);

// Reads the actions stored in Parquet checkpoint or sidecar files (columns txn, add, remove,
// metaData, protocol, domainMetadata, checkpointMetadata, sidecar; absent columns are fine).
Result<std::vector<Action>> ReadParquetActions(duck::Connection& conn,
                                               const std::vector<std::string>& paths);

// The DuckDB column types of the classic checkpoint schema, in column order, as
// (name, type) pairs; used to write checkpoints and by tests to check what was written.
const std::vector<std::pair<std::string, std::string>>& CheckpointColumns();

// Writes the classic single-file checkpoint `NNN.checkpoint.parquet` for `snapshot` (protocol,
// metaData, txn, domainMetadata, active add files, and remove tombstones younger than
// delta.deletedFileRetentionDuration, default one week) and then `_last_checkpoint`. The file
// appears atomically (written under a hidden temporary name, then renamed). IOError/Internal
// on failure; a failure leaves the table readable as before.
Result<LastCheckpoint> WriteCheckpoint(const std::shared_ptr<duck::Database>& db,
                                       const LogStore& store, const Snapshot& snapshot);

}  // namespace strata::delta
