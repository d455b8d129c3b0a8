#include "event/event_schema.h"

namespace strata {

SchemaPtr BronzeSchema() {
  static const SchemaPtr kSchema = std::make_shared<const Schema>(std::vector<Field>{
      {"kafka_key", TypeId::kString, true},
      {"event_id", TypeId::kString, true},
      {"user_id", TypeId::kString, true},
      {"session_id", TypeId::kString, true},
      {"event_type", TypeId::kString, true},
      {"page_url", TypeId::kString, true},
      {"referrer", TypeId::kString, true},
      {"device_type", TypeId::kString, true},
      {"country", TypeId::kString, true},
      {"event_timestamp", TypeId::kInt64, true},
      {"properties", TypeId::kString, true},
      {"kafka_topic", TypeId::kString, false},
      {"kafka_partition", TypeId::kInt32, false},
      {"kafka_offset", TypeId::kInt64, false},
      {"kafka_timestamp", TypeId::kTimestamp, true},
      {"ingestion_timestamp", TypeId::kTimestamp, false},
      {"raw_value", TypeId::kString, true},
      {"parse_error", TypeId::kString, true},
      {"event_date", TypeId::kDate, true},
  });
  return kSchema;
}

const std::vector<std::string>& KnownEventTypes() {
  static const std::vector<std::string> kTypes = {"page_view", "click", "scroll", "add_to_cart",
                                                  "purchase"};
  return kTypes;
}

}  // namespace strata
