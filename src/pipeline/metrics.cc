#include "pipeline/metrics.h"

namespace strata {

void PipelineMetrics::OnQueryProgress(const QueryProgress& p) {
  std::lock_guard<std::mutex> lock(mu_);
  QueryTotals& t = totals_[p.name];
  t.name = p.name;
  t.batches += 1;
  t.input_rows += p.num_input_rows;
  for (const auto& table : p.tables) t.table_rows[table.table] += table.rows;
  t.watermark_ms = p.watermark_ms;
  t.source_lag = p.source_lag;
  t.last_input_rate = p.input_rows_per_second;
  t.last_processed_rate = p.processed_rows_per_second;
  auto it = p.duration_ms.find("triggerExecution");
  t.last_batch_ms = it == p.duration_ms.end() ? 0 : it->second;
  t.dropped_duplicates += p.state.rows_dropped_duplicates;
  t.late_rows += p.state.rows_late;
  t.quarantined_rows += p.state.rows_quarantined;
  t.dropped_by_watermark += p.state.rows_dropped_by_watermark;
  t.state_rows = p.state.state_rows;
  for (const auto& e : p.state.expectations) {
    auto& [passed, failed] = t.expectations[e.name];
    passed += e.passed;
    failed += e.failed;
  }
}

std::map<std::string, PipelineMetrics::QueryTotals> PipelineMetrics::Snapshot() const {
  std::lock_guard<std::mutex> lock(mu_);
  return totals_;
}

}  // namespace strata
