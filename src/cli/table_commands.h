#pragma once

#include <cstdint>
#include <string>

namespace strata::cli {

struct OptimizeArgs {
  std::string config_file;
  std::string data_dir;
  std::string table;  // catalog name or path
  std::string sort_by;
  std::string zorder_by;  // one column: same as sort_by (Z-order of one column is a sort)
  int64_t target_file_size = 128LL * 1024 * 1024;
  // Optional time range on a date/timestamp column: only files whose partition values or
  // stats allow a row in [from, to) are compacted.
  std::string where_column;
  std::string from;
  std::string to;
  // How long to wait for the table's maintenance lease (delta::MaintenanceLease) when another
  // process holds it; the command then fails naming the holder.
  double lease_timeout_s = 30;
};

struct VacuumArgs {
  std::string config_file;
  std::string data_dir;
  std::string table;
  int64_t retain_hours = 168;
  bool dry_run = false;
  bool force = false;
  double lease_timeout_s = 30;  // as OptimizeArgs::lease_timeout_s (not taken by --dry-run)
};

// `strata optimize TABLE [--sort-by COL | --zorder-by COL] [--target-file-size BYTES]
//  [--where-column COL [--from TS] [--to TS]]`:
// bin-packing compaction (delta::Optimize) under the table's maintenance lease; prints the commit
// and its metrics. Exit code 0 on success (also when there was nothing to compact), 1 with a
// one-line error otherwise.
int RunOptimize(const OptimizeArgs& args);

// `strata vacuum TABLE --retain HOURS [--dry-run] [--force]` (delta::Vacuum, under the
// maintenance lease unless --dry-run); prints the files
// deleted (or that would be, with --dry-run) and their total size.
int RunVacuum(const VacuumArgs& args);

}  // namespace strata::cli
