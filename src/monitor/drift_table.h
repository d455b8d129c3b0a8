#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "batch/record_batch.h"
#include "core/status.h"

namespace strata {
class ParquetWriter;
namespace delta {
class DeltaTable;
}
}  // namespace strata

namespace strata::monitor {

// One schema-drift detection: a record whose JSON does not fit the event schema.
struct DriftRecord {
  int64_t detected_at_ms = 0;
  std::string kind;              // "new_field" | "missing_field" | "type_change"
  std::string field;             // top-level JSON key
  std::string expected_type;     // JSON type the schema wants; "" = null (new fields)
  std::string observed_type;     // JSON type seen; "" = null (missing fields)
  int32_t kafka_partition = -1;  // -1 = null
  int64_t kafka_offset = -1;     // -1 = null
  std::string sample;            // the raw record value
};

// The Delta table <bronze table>_schema_drift: the first `samples_per_subject` records of each
// drift subject (kind + field), written by a background thread so that detection never blocks
// the bronze query or the quality tap. Rows are buffered and committed every
// `commit_interval_ms` (one Parquet file, one blind append) and on Stop(). Open() reads how many
// rows each subject already has, so a restart does not write a subject's first records again;
// rows buffered when the process dies are lost (the table keeps the first records seen by a
// run that committed them, not necessarily the very first in Kafka). Thread-safe.
class SchemaDriftTable {
 public:
  // Creates the table at `path` if needed. Errors name the table.
  static Result<std::unique_ptr<SchemaDriftTable>> Open(const std::string& path,
                                                        const std::string& table_name,
                                                        int64_t commit_interval_ms,
                                                        size_t samples_per_subject);
  ~SchemaDriftTable();
  // Commits what is buffered and stops the thread. Idempotent.
  void Stop();

  // True when subject (kind, field) still wants records: a cheap check before building one.
  bool Wants(std::string_view kind, std::string_view field) const;
  // Buffers `r` unless its subject has its samples already. Never blocks on I/O.
  void Record(DriftRecord r);
  // Commits the buffered rows now (from the caller's thread). OK when there are none.
  Status Flush();
  static SchemaPtr TableSchema();

 private:
  SchemaDriftTable(std::string path, std::string table_name, int64_t interval_ms, size_t samples);

  std::string path_;
  std::string table_name_;
  int64_t interval_ms_;
  size_t samples_;
  std::unique_ptr<delta::DeltaTable> table_;
  std::unique_ptr<ParquetWriter> writer_;
  std::mutex commit_mu_;  // serializes commits (timer thread vs Flush)
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, size_t, std::less<>> counts_;  // guarded by mu_: "kind:field" -> rows
  RecordBatch pending_;                                // guarded by mu_
  bool stop_ = false;                                  // guarded by mu_
  std::thread thread_;
};

}  // namespace strata::monitor
