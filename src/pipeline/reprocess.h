#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "pipeline/config.h"

namespace strata {

struct ReprocessRequest {
  // A gold table (catalog name or its last part, gold_events_per_minute), or the silver table.
  std::string table;
  // Gold: windows with window_start in [from, to) (widened to whole slides); silver: rows with
  // event_time in [from, to).
  int64_t from_ms = 0;
  int64_t to_ms = 0;
  bool include_late = false;  // gold only: also the late table's rows (deduplicated on event_id)
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

// The result of ReprocessSilver.
struct SilverReprocessResult {
  std::string table;
  int64_t version = -1;            // the commit; -1 when the range held nothing to replace
  int64_t from_ms = 0, to_ms = 0;  // the event-time range replaced
  int64_t watermark_ms = 0;        // the silver query's committed watermark
  int64_t bronze_rows = 0;         // bronze rows with event_timestamp in the range
  int64_t rows_rejected = 0;       // of which broke a validation rule (quarantine is left as it is)
  int64_t duplicates_dropped = 0;
  int64_t rows_written = 0;   // recomputed silver rows
  int64_t rows_replaced = 0;  // silver rows of the range removed
  int64_t rows_copied = 0;    // rows outside the range carried over from the removed files
  int64_t files_removed = 0, files_added = 0;
  // The enabled window gold tables read silver: each should be reprocessed over these window
  // starts (every window holding an event of the range) to take the new silver rows in.
  // Session tables keep their sessions (they cannot be reprocessed).
  struct GoldRange {
    std::string table;
    int64_t from_ms = 0, to_ms = 0;
  };
  std::vector<GoldRange> gold;
};

// True when `table` names the pipeline's silver table (catalog name or its last part).
bool IsSilverTable(const PipelineConfig& config, const std::string& table);

// Recomputes the silver rows with event_time in [from, to) in batch from bronze, through the
// streaming query's own SilverProcessor (same validation, event_time, dedup key and current
// dimension tables) with no watermark: every valid row of the range is kept, including rows the
// stream sent to the late table, and duplicates are dropped over the whole range (the first
// copy in arrival order wins: by kafka_partition, then ingestion time, then kafka_offset; as in
// the stream, copies are looked for within their Kafka partition). Rows breaking a rule or a
// `drop` expectation are counted; the quarantine, late and quality tables are not changed. The
// silver rows of the range are then replaced in one Delta commit (operation REPROCESS): every file
// of the range's partitions that holds a row of the range is removed and its other rows rewritten
// with the recomputed ones. Safe while the pipeline runs: `to` must be <= the silver query's
// committed watermark (no later batch can write an on-time row below it); every enabled gold table
// must read silver with ignoreChanges (it reads the commit's new files) and have a committed
// watermark past the end of every window holding a row of the commit's new files, so that it drops
// them as late rather than counting them twice. A concurrent commit removing the same files is
// retried up to 5 times. InvalidArgument naming the flag or config key otherwise; the table's
// errors as is. Memory: the range's bronze rows are held at once.
Result<SilverReprocessResult> ReprocessSilver(const PipelineConfig& config,
                                              const ReprocessRequest& req);

// "1700000000000" (epoch ms), "2026-11-24 07:00", "2026-11-24T07:00:00Z" (UTC).
Result<int64_t> ParseTimeArg(const std::string& text);

}  // namespace strata
