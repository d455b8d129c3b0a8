#pragma once

#include <cstdint>
#include <string>

namespace strata {

// Wall-clock time in microseconds and milliseconds since the Unix epoch (UTC).
int64_t NowMicros();
int64_t NowMillis();
// Monotonic clock in nanoseconds, for durations.
int64_t MonotonicNanos();

// "2026-11-24T06:34:14.123Z" from microseconds since the epoch.
std::string FormatTimestampMicros(int64_t micros);
// Days since the epoch (floor) from microseconds.
int32_t DaysFromMicros(int64_t micros);
// "2026-11-24" from days since the epoch.
std::string FormatDate(int32_t days);

}  // namespace strata
