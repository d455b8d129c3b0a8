#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "batch/record_batch.h"
#include "stream/progress.h"

namespace strata {
class ParquetWriter;
namespace delta {
class DeltaTable;
}
}  // namespace strata

namespace strata::monitor {

// Writes progress events as rows of a Delta table (one row per batch: ids, name, batch_id,
// timestamp, input/processed rates, triggerExecution ms, watermark, source lag, output rows,
// latency p50/p99, and the whole progress JSON), so that trends can be charted with SQL. Rows
// are buffered in memory and committed by a background thread every `commit_interval_ms` (one
// Parquet file, one blind-append commit), never on the query's thread; at most `max_rows` are
// buffered (the oldest are dropped and counted when a commit keeps failing). Stop() (and the
// destructor) commits what is buffered. Thread-safe.
class ProgressTable : public QueryListener {
 public:
  // Creates the table at `path` if needed. Errors name the path.
  static Result<std::shared_ptr<ProgressTable>> Open(const std::string& path,
                                                     const std::string& table_name,
                                                     int64_t commit_interval_ms,
                                                     size_t max_rows = 100'000);
  ~ProgressTable() override;
  void Stop();

  void OnQueryProgress(const QueryProgress& progress) override;
  // Commits the buffered rows now (from the caller's thread). OK when there are none.
  Status Flush();
  static SchemaPtr TableSchema();

 private:
  ProgressTable(std::string path, std::string table_name, int64_t interval_ms, size_t max_rows);
  Status CommitRows(RecordBatch rows);

  std::string path_;
  std::string table_name_;
  int64_t interval_ms_;
  size_t max_rows_;
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetWriter> writer_;
  std::mutex commit_mu_;  // serializes commits (timer thread vs Flush)
  std::mutex mu_;
  std::condition_variable cv_;
  RecordBatch pending_;   // guarded by mu_
  uint64_t dropped_ = 0;  // guarded by mu_
  bool stop_ = false;     // guarded by mu_
  std::thread thread_;
};

}  // namespace strata::monitor
