#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"
#include "pipeline/config.h"

namespace strata {

struct ReprocessRequest {
  std::string table;    // a gold table: catalog name or its last part (gold_events_per_minute)
  int64_t from_ms = 0;  // windows with window_start in [from, to) (widened to whole slides)
  int64_t to_ms = 0;
  bool include_late = false;  // also the silver late table's rows (deduplicated on event_id)
};

struct ReprocessResult {
  std::string table;
  int64_t version = -1;                            // the commit
  int64_t window_start_ms = 0, window_end_ms = 0;  // the range of window starts replaced
  int64_t rows_read = 0;                           // silver (+ late) rows in the event-time range
  int64_t late_rows_used = 0;                      // of which from the late table
  int64_t rows_written = 0;                        // recomputed gold rows
  int64_t rows_replaced = 0;                       // gold rows removed
  int64_t files_removed = 0, files_added = 0;
  int64_t watermark_ms = 0;  // the streaming query's committed watermark
};

// Recomputes the gold windows whose start is in [from, to) in batch from silver (and the late
// table when asked) with the table's own window settings, and replaces those windows in the gold
// table in one Delta commit (copy-on-write: the files holding them are removed, their other rows
// rewritten with the new rows, all final). Runs while the streaming query runs: only windows the
// query has already finalized (end <= the watermark of its last committed batch, read from its
// checkpoint) may be replaced, so the stream never writes them again; a concurrent commit that
// removes the same files is retried up to 5 times. InvalidArgument naming the flag for a range
// beyond the watermark, an unknown table, or a query without a committed batch yet.
Result<ReprocessResult> ReprocessGold(const PipelineConfig& config, const ReprocessRequest& req);

// "1700000000000" (epoch ms), "2026-11-24 07:00", "2026-11-24T07:00:00Z" (UTC).
Result<int64_t> ParseTimeArg(const std::string& text);

}  // namespace strata
