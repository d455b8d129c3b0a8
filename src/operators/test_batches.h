#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "batch/record_batch.h"

namespace strata::test {

// One input row of the operators' tests (a clickstream event).
struct Event {
  std::string event_id;
  std::string user_id;
  std::string event_type;
  int64_t event_time;  // micros
  int32_t partition = 0;
  std::optional<int64_t> value = std::nullopt;
};

inline SchemaPtr EventSchema() {
  return std::make_shared<const Schema>(std::vector<Field>{
      {"event_id", TypeId::kString, true},
      {"user_id", TypeId::kString, true},
      {"event_type", TypeId::kString, true},
      {"event_time", TypeId::kTimestamp, true},
      {"partition", TypeId::kInt32, true},
      {"value", TypeId::kInt64, true},
  });
}

inline RecordBatch MakeBatch(const std::vector<Event>& events) {
  RecordBatch b(EventSchema());
  for (const Event& e : events) {
    b.column(0).AppendString(e.event_id);
    b.column(1).AppendString(e.user_id);
    b.column(2).AppendString(e.event_type);
    b.column(3).AppendInt64(e.event_time);
    b.column(4).AppendInt32(e.partition);
    if (e.value) {
      b.column(5).AppendInt64(*e.value);
    } else {
      b.column(5).AppendNull();
    }
  }
  return b;
}

inline constexpr int64_t kSec = 1'000'000;
inline constexpr int64_t kMin = 60 * kSec;

}  // namespace strata::test
