#pragma once

#include <cstdint>
#include <string>

#include "core/status.h"

namespace strata {

// When a query runs its next micro-batch.
//   kProcessingTime: every interval_ms (immediately again when a batch took longer, or when it
//                    left data behind because of the read limit);
//   kAvailableNow: process what the source holds at start, in batches within the read limit,
//                  emit what became final, then stop.
struct Trigger {
  enum class Kind { kProcessingTime, kAvailableNow };
  Kind kind = Kind::kProcessingTime;
  int64_t interval_ms = 10'000;
};

// Parses durations as Spark writes them: "10 seconds", "1 minute", "500 ms", "5 minutes",
// "2 hours", or "0". InvalidArgument names the text.
Result<int64_t> ParseDurationMs(const std::string& text);

}  // namespace strata
