#include "stream/trigger.h"

#include <cctype>
#include <charconv>

namespace strata {

Result<int64_t> ParseDurationMs(const std::string& text) {
  size_t i = 0;
  while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i]))) ++i;
  double value = 0;
  auto [p, ec] = std::from_chars(text.data() + i, text.data() + text.size(), value);
  if (ec != std::errc() || value < 0)
    return InvalidArgument("'" + text + "' is not a duration (expected e.g. \"10 seconds\")");
  std::string unit;
  for (const char* q = p; q < text.data() + text.size(); ++q) {
    if (!std::isspace(static_cast<unsigned char>(*q)))
      unit.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(*q))));
  }
  double mult;
  if (unit.empty() && value == 0)
    mult = 0;
  else if (unit == "ms" || unit == "millisecond" || unit == "milliseconds")
    mult = 1;
  else if (unit == "s" || unit == "sec" || unit == "second" || unit == "seconds")
    mult = 1000;
  else if (unit == "m" || unit == "min" || unit == "minute" || unit == "minutes")
    mult = 60'000;
  else if (unit == "h" || unit == "hour" || unit == "hours")
    mult = 3'600'000;
  else if (unit == "d" || unit == "day" || unit == "days")
    mult = 86'400'000;
  else
    return InvalidArgument("'" + text + "' has an unknown time unit '" + unit +
                           "' (use ms, seconds, minutes, hours or days)");
  return static_cast<int64_t>(value * mult);
}

}  // namespace strata
