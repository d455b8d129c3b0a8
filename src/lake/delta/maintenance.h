#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "lake/delta/scan.h"
#include "lake/delta/table.h"

namespace strata::delta {

// Default of delta.deletedFileRetentionDuration: 7 days.
inline constexpr int64_t kDefaultDeletedFileRetentionHours = 168;

// Hours of a Delta interval property ("interval 1 week", "interval 36 hours", "7 days");
// nullopt when it cannot be parsed.
std::optional<int64_t> ParseIntervalHours(const std::string& text);

// Default of delta.logRetentionDuration: 30 days.
inline constexpr int64_t kDefaultLogRetentionHours = 720;

// Log cleanup (metadata cleanup): deletes the JSON commits, checkpoints and version checksum
// files of versions below C, where C is the newest checkpoint whose file is older than
// delta.logRetentionDuration (default 30 days). Everything from C on is kept, so the latest
// snapshot and time travel back to C still work. Does nothing when
// delta.enableExpiredLogCleanup is "false" or no checkpoint is old enough. `now_ms` 0 = now.
// Returns the paths deleted. Called by DeltaTable after each checkpoint it writes; errors
// (unparseable property, I/O) name the table or file.
Result<std::vector<std::string>> CleanupExpiredLog(const LogStore& store, const Snapshot& snapshot,
                                                   int64_t now_ms = 0);

struct VacuumOptions {
  int64_t retain_hours = kDefaultDeletedFileRetentionHours;
  bool dry_run = false;
  // Allows a retention below delta.deletedFileRetentionDuration.
  bool force = false;
  // Clock (ms) used for ages; 0 = now.
  int64_t now_ms = 0;
};

struct VacuumResult {
  std::vector<std::string> files;  // absolute paths deleted (or that would be, in a dry run)
  int64_t bytes = 0;
};

// VACUUM: deletes the data files (and deletion-vector files) under the table directory that the
// latest snapshot does not reference, that no remove tombstone younger than the retention
// names, and whose modification time is older than the retention. This also removes orphans of
// writers that crashed between writing data files and committing. _delta_log and hidden or
// underscore-prefixed entries (other than partition directories) are never touched.
// InvalidArgument when retain_hours is below the table's delta.deletedFileRetentionDuration and
// !force; the snapshot's errors (unreadable log, unsupported protocol) refuse the vacuum.
Result<VacuumResult> Vacuum(DeltaTable& table, const VacuumOptions& options);

struct OptimizeOptions {
  int64_t target_file_size = 128LL * 1024 * 1024;
  // Files at or above this size are left alone; 0 = target_file_size * 3 / 4.
  int64_t min_file_size = 0;
  // Rows of each new file are sorted by this column (logical name), if set.
  std::string sort_by;
  // Only partitions whose number of small files is above this are compacted.
  int min_files = 1;
  // When set, only files whose partition values equal these are considered.
  std::optional<PartitionValues> partition;
  // Only files that may hold rows in this time range (PruneFiles: partition values and stats)
  // are considered, like OPTIMIZE ... WHERE on a time column.
  std::optional<TimeRange> range;
  // The snapshot to compact (default: the latest); the commit is checked against everything
  // committed after it.
  std::shared_ptr<const Snapshot> snapshot;
};

struct OptimizeResult {
  int64_t version = -1;  // -1 when there was nothing to do
  int64_t files_removed = 0;
  int64_t files_added = 0;
  int64_t bytes_removed = 0;
  int64_t bytes_added = 0;
};

// OPTIMIZE (bin-packing): per partition, groups files smaller than min_file_size (files with a
// deletion vector excluded) into bins of up to target_file_size, rewrites each bin of two or
// more files into one Parquet file (through the table's DuckDB, optionally sorted) with stats,
// and commits all bins in one transaction of dataChange=false removes and adds (operation
// OPTIMIZE with operationMetrics). Concurrent blind appends do not conflict; a concurrent
// remove of a file this one rewrote makes the commit fail with Conflict (the new files are then
// orphans for VACUUM). NotSupported on a table strata cannot write.
Result<OptimizeResult> Optimize(DeltaTable& table, const OptimizeOptions& options);

// Table properties of automatic compaction (as Databricks names them):
//   delta.autoOptimize.autoCompact = true            enables it (off by default)
//   delta.autoOptimize.autoCompact.minNumFiles = N   compact a partition when it has more than N
//                                                    small files (default 50)
//   delta.autoOptimize.autoCompact.maxFileSize = B   target file size in bytes (default 128 MiB);
//                                                    files below 3/4 of it count as small
inline constexpr int kDefaultAutoCompactMinNumFiles = 50;
inline constexpr int64_t kDefaultAutoCompactMaxFileSize = 128LL * 1024 * 1024;

// Runs Optimize on every partition of the latest snapshot with more than minNumFiles small
// files, when delta.autoOptimize.autoCompact is "true". nullopt when disabled (one property
// lookup on the cached snapshot: nothing else is done) or when no partition needs it.
// Errors are Optimize's (e.g. Conflict with a concurrent remove) or InvalidArgument for a
// malformed property.
Result<std::optional<OptimizeResult>> AutoCompact(DeltaTable& table);

// AutoCompact for writers that just committed (the streaming sink): never fails the caller;
// a failure is logged as a warning (the data commit stands, the next commit tries again).
// Runs only under the table's maintenance lease (MaintenanceLease::TryAcquire): when another
// writer holds it, compaction is skipped (logged at debug level): it is that writer's turn.
void AutoCompactAfterCommit(DeltaTable& table);

// Who holds (or last held) a table's maintenance lease, as its holder wrote it.
struct MaintenanceLeaseHolder {
  int64_t pid = 0;
  std::string host;
  std::string member;     // SetMaintenanceMember() of the holder's process, "" if none
  int64_t since_ms = 0;   // when the lease was taken (wall clock)
  std::string operation;  // "checkpoint", "auto-compaction", "optimize", "vacuum", ...

  // "pid 123 on host h (member m) since 2026-11-24 13:00:00 UTC, running optimize"
  std::string ToString() const;
};

// The lock file of the maintenance lease: <table>/_strata/maintenance.lock. The directory is
// underscore-prefixed, so Delta readers, our log listing and VACUUM ignore it.
std::string MaintenanceLeasePath(const std::string& table_path);

// The name this process gives itself in the leases it takes (e.g. its consumer-group member);
// "" by default. Thread-safe.
void SetMaintenanceMember(const std::string& member);

// The right to maintain one table (write Delta log checkpoints and clean the log, compact,
// vacuum): table maintenance runs in one process (one holder) at a time. The lease is an
// exclusive flock(2) on MaintenanceLeasePath(), taken without blocking, so the kernel drops it
// when the holder's process dies; the holder writes its identity (MaintenanceLeaseHolder as
// JSON) into the file for diagnostics. flock locks belong to an open file description: two
// leases taken in one process (two DeltaTable objects, two threads) exclude each other too.
// Needs a file system whose flock works across the machines sharing the table (see
// docs/scale-out.md). Held for one maintenance operation, released by the destructor.
// Not thread-safe (one owner); different objects may be used from different threads.
class MaintenanceLease {
 public:
  // Takes the lease if it is free: nullptr when another holder has it. IOError naming the lock
  // file when it cannot be created or locked for another reason.
  static Result<std::unique_ptr<MaintenanceLease>> TryAcquire(const std::string& table_path,
                                                              const std::string& operation);
  // Waits up to `timeout_ms` for the lease (polling every 100 ms). Unavailable naming the table
  // and the holder (ReadHolder) when it is still held after that.
  static Result<std::unique_ptr<MaintenanceLease>> Acquire(const std::string& table_path,
                                                           const std::string& operation,
                                                           int64_t timeout_ms);
  // The identity written by the current (or, when the lease is free, the last) holder;
  // nullopt when no lease was ever taken or the file holds no identity yet. Corruption naming
  // the file when it is not a holder's JSON.
  static Result<std::optional<MaintenanceLeaseHolder>> ReadHolder(const std::string& table_path);

  ~MaintenanceLease();
  MaintenanceLease(const MaintenanceLease&) = delete;
  MaintenanceLease& operator=(const MaintenanceLease&) = delete;

  const MaintenanceLeaseHolder& holder() const { return holder_; }

 private:
  MaintenanceLease(int fd, MaintenanceLeaseHolder holder) : fd_(fd), holder_(std::move(holder)) {}
  int fd_ = -1;
  MaintenanceLeaseHolder holder_;
};

}  // namespace strata::delta
