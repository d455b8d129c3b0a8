#include "cli/reprocess_command.h"

#include <cstdio>

#include "core/time_util.h"
#include "pipeline/config.h"
#include "pipeline/pipeline.h"
#include "pipeline/reprocess.h"

namespace strata::cli {
namespace {

int Failed(const Status& st) {
  std::string line;
  for (char c : st.ToString()) line += c == '\n' ? std::string(" | ") : std::string(1, c);
  std::fprintf(stderr, "strata: error: %s\n", line.c_str());
  return 1;
}

int PrintSilver(const Result<SilverReprocessResult>& res) {
  if (!res.ok()) return Failed(res.status());
  const std::string range = "[" + FormatTimestampMicros(res->from_ms * 1000) + ", " +
                            FormatTimestampMicros(res->to_ms * 1000) + ")";
  if (res->version < 0) {
    std::printf("%s: nothing to replace: no bronze or silver rows with event_time in %s\n",
                res->table.c_str(), range.c_str());
    return 0;
  }
  std::printf(
      "%s: version %lld replaced rows with event_time in %s from bronze: %lld bronze rows read, "
      "%lld rejected by validation (quarantine unchanged), %lld duplicates dropped, %lld rows "
      "written, %lld replaced, %lld copied, %lld files removed, %lld added\n",
      res->table.c_str(), static_cast<long long>(res->version), range.c_str(),
      static_cast<long long>(res->bronze_rows), static_cast<long long>(res->rows_rejected),
      static_cast<long long>(res->duplicates_dropped), static_cast<long long>(res->rows_written),
      static_cast<long long>(res->rows_replaced), static_cast<long long>(res->rows_copied),
      static_cast<long long>(res->files_removed), static_cast<long long>(res->files_added));
  // The gold queries dropped the commit's rows as late: their windows keep the old counts.
  for (const auto& g : res->gold) {
    std::printf(
        "gold %s still holds the old counts for this range; to recompute them: strata "
        "reprocess --table %s --from %lld --to %lld\n",
        g.table.c_str(), g.table.c_str(), static_cast<long long>(g.from_ms),
        static_cast<long long>(g.to_ms));
  }
  return 0;
}

}  // namespace

int RunReprocess(const ReprocessArgs& args) {
  auto config =
      args.config_file.empty()
          ? ParsePipelineConfig(
                "[pipeline]\ndata_dir = \"" +
                    (args.data_dir.empty() ? std::string("./strata-data") : args.data_dir) + "\"\n",
                "<default>")
          : LoadPipelineConfig(args.config_file);
  if (!config.ok()) return Failed(config.status());
  if (IsGroupMode(*config))
    return Failed(NotSupported(
        "reprocess works on a single process's silver and gold (their one checkpoint); in a "
        "consumer group (kafka group.id) silver and gold keep one checkpoint per partition and "
        "gold holds partials: not supported yet"));
  for (const GoldConfig* g : config->EnabledGoldTables()) {
    if (g->kind == "sessions" &&
        (args.table == g->table || args.table == g->table.substr(g->table.rfind('.') + 1)))
      return Failed(NotSupported("--table: " + g->table +
                                 " is a session table; reprocess recomputes window tables only"));
  }
  ReprocessRequest req;
  req.table = args.table;
  req.include_late = args.include_late;
  auto from = ParseTimeArg(args.from);
  if (!from.ok()) return Failed(from.status().WithContext("--from"));
  auto to = ParseTimeArg(args.to);
  if (!to.ok()) return Failed(to.status().WithContext("--to"));
  req.from_ms = *from;
  req.to_ms = *to;
  if (IsSilverTable(*config, req.table)) return PrintSilver(ReprocessSilver(*config, req));
  auto res = ReprocessGold(*config, req);
  if (!res.ok()) return Failed(res.status());
  std::printf(
      "%s: version %lld replaced windows starting in [%s, %s): %lld rows read (%lld late), "
      "%lld rows written, %lld replaced, %lld files removed, %lld added\n",
      res->table.c_str(), static_cast<long long>(res->version),
      FormatTimestampMicros(res->window_start_ms * 1000).c_str(),
      FormatTimestampMicros(res->window_end_ms * 1000).c_str(),
      static_cast<long long>(res->rows_read), static_cast<long long>(res->late_rows_used),
      static_cast<long long>(res->rows_written), static_cast<long long>(res->rows_replaced),
      static_cast<long long>(res->files_removed), static_cast<long long>(res->files_added));
  return 0;
}

}  // namespace strata::cli
