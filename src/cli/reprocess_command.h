#pragma once

#include <string>

namespace strata::cli {

struct ReprocessArgs {
  std::string config_file;
  std::string data_dir;
  std::string table;  // a gold table or the silver table, catalog name or last part
  std::string from;   // epoch ms or UTC "YYYY-MM-DD[ HH:MM[:SS]]"
  std::string to;
  bool include_late = false;
};

// `strata reprocess --table gold_... --from TIME --to TIME [--include-late]`: recomputes the
// table's windows starting in [from, to) from silver (plus the late table) and replaces them in
// one commit (pipeline/reprocess.h); `--table silver_clickstream` recomputes the silver rows of
// the event-time range from bronze instead, and prints the gold reprocess commands that take
// them into gold. Safe while the pipeline runs. Prints the commit and its counts; exit code 1
// with a one-line error naming the flag, config key or table otherwise.
int RunReprocess(const ReprocessArgs& args);

}  // namespace strata::cli
