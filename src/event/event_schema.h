#pragma once

#include <string>
#include <vector>

#include "batch/schema.h"

namespace strata {

// Column positions of the bronze table (one row per Kafka record, parsed or not).
namespace bronze {
inline constexpr int kKafkaKey = 0;             // string, null when the record has no key
inline constexpr int kEventId = 1;              // string
inline constexpr int kUserId = 2;               // string
inline constexpr int kSessionId = 3;            // string
inline constexpr int kEventType = 4;            // string, any value (silver validates)
inline constexpr int kPageUrl = 5;              // string
inline constexpr int kReferrer = 6;             // string
inline constexpr int kDeviceType = 7;           // string
inline constexpr int kCountry = 8;              // string
inline constexpr int kEventTimestamp = 9;       // long, ms since the epoch (UTC)
inline constexpr int kProperties = 10;          // string: the JSON object's text, or the string
inline constexpr int kKafkaTopic = 11;          // string, not null
inline constexpr int kKafkaPartition = 12;      // integer, not null
inline constexpr int kKafkaOffset = 13;         // long, not null
inline constexpr int kKafkaTimestamp = 14;      // timestamp (us), null when Kafka has none
inline constexpr int kIngestionTimestamp = 15;  // timestamp (us), not null
inline constexpr int kRawValue = 16;            // string, the record value; set only on error
inline constexpr int kParseError = 17;          // string, null when the record parsed fine
inline constexpr int kEventDate = 18;           // date (UTC) of event_timestamp, else of
                                                // kafka_timestamp, else null
inline constexpr int kNumColumns = 19;
}  // namespace bronze

// The bronze schema, in the column order above. One shared immutable instance.
SchemaPtr BronzeSchema();

// The event types the producer side knows: page_view, click, scroll, add_to_cart, purchase.
const std::vector<std::string>& KnownEventTypes();

}  // namespace strata
