#include "cli/table_commands.h"

#include <chrono>
#include <cstdio>

#include "lake/delta/maintenance.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"
#include "pipeline/config.h"

namespace strata::cli {
namespace {

// One line on stderr, exit code 1 (as every strata command reports errors).
int Failed(const Status& st) {
  std::string line;
  for (char c : st.ToString()) line += c == '\n' ? std::string(" | ") : std::string(1, c);
  std::fprintf(stderr, "strata: error: %s\n", line.c_str());
  return 1;
}

Result<std::unique_ptr<delta::DeltaTable>> OpenTableArg(const std::string& config_file,
                                                        const std::string& data_dir,
                                                        const std::string& arg) {
  Result<PipelineConfig> config =
      config_file.empty()
          ? ParsePipelineConfig("[pipeline]\ndata_dir = \"" +
                                    (data_dir.empty() ? std::string("./strata-data") : data_dir) +
                                    "\"\n",
                                "<defaults>")
          : LoadPipelineConfig(config_file);
  if (!config.ok()) return config.status();
  STRATA_ASSIGN_OR_RETURN(std::string path, ResolveTablePath(arg, config->Tables()));
  return delta::DeltaTable::Open(path);
}

}  // namespace

int RunOptimize(const OptimizeArgs& args) {
  if (!args.sort_by.empty() && !args.zorder_by.empty())
    return Failed(InvalidArgument("give either --sort-by or --zorder-by, not both"));
  auto table = OpenTableArg(args.config_file, args.data_dir, args.table);
  if (!table.ok()) return Failed(table.status());
  delta::OptimizeOptions options;
  options.target_file_size = args.target_file_size;
  options.sort_by = args.sort_by.empty() ? args.zorder_by : args.sort_by;
  if (!args.where_column.empty()) {
    delta::TimeRange range{args.where_column, std::nullopt, std::nullopt};
    for (auto [text, out] :
         {std::pair{&args.from, &range.min_us}, std::pair{&args.to, &range.max_us}}) {
      if (text->empty()) continue;
      *out = delta::ParseTimestampMicros(*text);
      if (!*out) return Failed(InvalidArgument("'" + *text + "' is not a date or timestamp"));
    }
    options.range = range;
  } else if (!args.from.empty() || !args.to.empty()) {
    return Failed(InvalidArgument("--from/--to need --where-column"));
  }
  auto lease = delta::MaintenanceLease::Acquire((*table)->path(), "optimize",
                                                static_cast<int64_t>(args.lease_timeout_s * 1000));
  if (!lease.ok()) return Failed(lease.status());
  auto start = std::chrono::steady_clock::now();
  auto result = delta::Optimize(**table, options);
  if (!result.ok()) return Failed(result.status());
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (result->version < 0) {
    std::printf("nothing to optimize in %s\n", (*table)->path().c_str());
    return 0;
  }
  std::printf(
      "optimized %s: version %lld, removed %lld files (%lld bytes), added %lld files (%lld "
      "bytes) in %.2f s (%.1f MB/s read)\n",
      (*table)->path().c_str(), static_cast<long long>(result->version),
      static_cast<long long>(result->files_removed), static_cast<long long>(result->bytes_removed),
      static_cast<long long>(result->files_added), static_cast<long long>(result->bytes_added),
      secs, secs > 0 ? result->bytes_removed / secs / 1e6 : 0.0);
  return 0;
}

int RunVacuum(const VacuumArgs& args) {
  auto table = OpenTableArg(args.config_file, args.data_dir, args.table);
  if (!table.ok()) return Failed(table.status());
  delta::VacuumOptions options;
  options.retain_hours = args.retain_hours;
  options.dry_run = args.dry_run;
  options.force = args.force;
  std::unique_ptr<delta::MaintenanceLease> lease;  // a dry run deletes nothing: no lease
  if (!args.dry_run) {
    auto taken = delta::MaintenanceLease::Acquire(
        (*table)->path(), "vacuum", static_cast<int64_t>(args.lease_timeout_s * 1000));
    if (!taken.ok()) return Failed(taken.status());
    lease = std::move(*taken);
  }
  auto result = delta::Vacuum(**table, options);
  if (!result.ok()) return Failed(result.status());
  for (const auto& f : result->files) std::printf("%s\n", f.c_str());
  std::printf("%s %zu files (%lld bytes) from %s\n", args.dry_run ? "would delete" : "deleted",
              result->files.size(), static_cast<long long>(result->bytes),
              (*table)->path().c_str());
  return 0;
}

}  // namespace strata::cli
