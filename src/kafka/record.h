#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/status.h"

namespace strata {

// One Kafka record as seen by a source reader's consumer: a non-owning view whose bytes belong
// to the reader and stay valid only for the duration of the RecordSink::OnRecords call that
// delivered it. `offset` is the record's own offset (not "next to read").
struct KafkaRecord {
  std::string_view key;    // empty when the record has no key (see has_key)
  std::string_view value;  // empty when the record has a null value (see has_value)
  int64_t offset = 0;
  int64_t timestamp_ms = -1;  // create/log-append time in ms since the epoch; -1 when unknown
  int32_t partition = 0;
  bool has_key = false;
  bool has_value = false;
};

// Receives the records of one read, a batch at a time, in offset order within each partition
// (partitions interleave). Implemented by whoever turns records into columns. Called on the
// reader's thread only. Returning a non-OK status aborts the read, which returns that status.
class RecordSink {
 public:
  virtual ~RecordSink() = default;
  [[nodiscard]] virtual Status OnRecords(std::string_view topic, const KafkaRecord* records,
                                         size_t count) = 0;
};

// Sees every record a source reads, beside the sink that decodes them (e.g. data-quality
// monitoring of the producers' raw JSON). Called on the reader's thread with views valid only
// during the call: copy what is kept. Must not block and cannot fail the read. A record may be
// seen again when a batch is read again (a retry or a replay after a restart).
class RecordObserver {
 public:
  virtual ~RecordObserver() = default;
  virtual void ObserveRecords(std::string_view topic, const KafkaRecord* records, size_t count) = 0;
};

}  // namespace strata
