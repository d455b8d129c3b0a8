#include "core/time_util.h"

#include <chrono>
#include <cstdio>
#include <ctime>

namespace strata {

int64_t NowMicros() {
  using namespace std::chrono;
  return duration_cast<microseconds>(system_clock::now().time_since_epoch()).count();
}
int64_t NowMillis() {
  return NowMicros() / 1000;
}
int64_t MonotonicNanos() {
  using namespace std::chrono;
  return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
}

namespace {
int64_t FloorDiv(int64_t a, int64_t b) {
  return a / b - ((a % b != 0) && ((a < 0) != (b < 0)));
}
}  // namespace

int32_t DaysFromMicros(int64_t micros) {
  return static_cast<int32_t>(FloorDiv(micros, 86'400'000'000LL));
}

std::string FormatTimestampMicros(int64_t micros) {
  int64_t secs = FloorDiv(micros, 1'000'000);
  int64_t frac_ms = (micros - secs * 1'000'000) / 1000;
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];  // room for any int fields, so that the compiler sees no truncation
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac_ms));
  return buf;
}

std::string FormatDate(int32_t days) {
  std::time_t t = static_cast<std::time_t>(days) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];  // room for any int fields
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
  return buf;
}

}  // namespace strata
