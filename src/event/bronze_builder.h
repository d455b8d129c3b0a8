#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "batch/record_batch.h"
#include "kafka/record.h"

namespace strata {

// Builds bronze RecordBatches (event/event_schema.h) straight from Kafka records: the record's
// coordinates go to the kafka_* columns and its value is parsed as a JSON event with simdjson
// On-Demand into the event columns. One parser and one padded buffer are reused; appending
// allocates nothing per record beyond column growth.
//
// A record that cannot be fully understood still becomes a row, with `parse_error` saying why
// and `raw_value` holding the value (raw_value is null on rows without error):
//   "malformed JSON: <simdjson error>"   not JSON, not an object, or a broken document (all
//                                         event columns null)
//   "missing required field <name>"      event_id, user_id, event_type or event_timestamp is
//                                         absent or null
//   "field <name>: expected <type>"      a value of the wrong JSON type (that column is null)
// When several fields are wrong, the first in column order is named. The other, valid fields
// are kept. Unknown event types are not an error here (silver validates them); unknown fields
// are ignored and counted. `properties` may be a JSON object (its JSON text is stored) or a
// string (stored as is). Fields of values that are skipped (unknown fields) are not validated
// in depth.
//
// Lifecycle: Append()/OnRecords() any number of records, then Finish() to take the batch;
// the builder is then empty and reusable. Not thread-safe.
class BronzeBatchBuilder : public RecordSink {
 public:
  BronzeBatchBuilder();
  ~BronzeBatchBuilder() override;
  BronzeBatchBuilder(const BronzeBatchBuilder&) = delete;
  BronzeBatchBuilder& operator=(const BronzeBatchBuilder&) = delete;

  // The value of ingestion_timestamp for the rows appended from now on, in microseconds since
  // the epoch. A micro-batch sets its fixed processing time here so that a re-run yields the
  // same rows. Until it is set, the builder uses the wall clock at the first append of a batch.
  void set_ingestion_timestamp_micros(int64_t micros) {
    ingestion_micros_ = micros;
    ingestion_is_set_ = true;
  }

  // Called with the name of every field the bronze schema does not know (schema drift
  // detection). Optional; called on the appending thread.
  void set_unknown_field_hook(std::function<void(std::string_view field)> hook) {
    unknown_field_hook_ = std::move(hook);
  }

  // Makes room for `rows` more typical events totalling about `value_bytes` of values. After
  // Finish() the builder reserves what the finished batch used, so this is only needed for the
  // first batch or a larger one.
  void Reserve(size_t rows, size_t value_bytes);

  // Appends one row for `record` read from `topic`.
  void Append(std::string_view topic, const KafkaRecord& record);
  // RecordSink: appends every record; always OK.
  Status OnRecords(std::string_view topic, const KafkaRecord* records, size_t count) override;

  size_t num_rows() const { return batch_.num_rows(); }
  // Rows with a parse_error / unknown fields seen, in the batch being built.
  size_t error_rows() const { return error_rows_; }
  uint64_t unknown_fields() const { return unknown_fields_; }

  // The rows appended since the last Finish(); resets the builder (counters included).
  RecordBatch Finish();

 private:
  struct Parser;
  void ParseValue(std::string_view value);

  std::unique_ptr<Parser> parser_;
  RecordBatch batch_;
  int64_t ingestion_micros_ = -1;
  bool ingestion_is_set_ = false;
  size_t error_rows_ = 0;
  uint64_t unknown_fields_ = 0;
  std::function<void(std::string_view)> unknown_field_hook_;
};

}  // namespace strata
