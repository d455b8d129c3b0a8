#pragma once

#include <map>
#include <mutex>
#include <string>

#include "stream/progress.h"

namespace strata {

// Running totals per query, fed by progress events. Thread-safe: queries report from their own
// threads; readers take a consistent copy.
class PipelineMetrics : public QueryListener {
 public:
  struct QueryTotals {
    std::string name;
    int64_t batches = 0;
    int64_t input_rows = 0;
    std::map<std::string, int64_t> table_rows;  // rows written per table
    int64_t watermark_ms = 0;
    int64_t source_lag = 0;
    double last_input_rate = 0;
    double last_processed_rate = 0;
    int64_t last_batch_ms = 0;
    int64_t dropped_duplicates = 0;
    int64_t late_rows = 0;
    int64_t quarantined_rows = 0;
    int64_t dropped_by_watermark = 0;
    int64_t state_rows = 0;
    // Per expectation name: rows that passed and failed since start.
    std::map<std::string, std::pair<int64_t, int64_t>> expectations;
  };

  void OnQueryProgress(const QueryProgress& p) override;
  std::map<std::string, QueryTotals> Snapshot() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, QueryTotals> totals_;  // guarded by mu_, by query name
};

}  // namespace strata
