#include "cli/reprocess_command.h"

#include <cstdio>

#include "core/time_util.h"
#include "pipeline/config.h"
#include "pipeline/reprocess.h"

namespace strata::cli {
namespace {

int Failed(const Status& st) {
  std::string line;
  for (char c : st.ToString()) line += c == '\n' ? std::string(" | ") : std::string(1, c);
  std::fprintf(stderr, "strata: error: %s\n", line.c_str());
  return 1;
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
