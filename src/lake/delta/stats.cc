#include "lake/delta/stats.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <vector>

#include "core/json_writer.h"
#include "core/time_util.h"

namespace strata::delta {
namespace {

// Byte length of the first `n` UTF-8 code points of `s` (or s.size()).
size_t PrefixBytes(std::string_view s, size_t n) {
  size_t i = 0, chars = 0;
  while (i < s.size() && chars < n) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xE  ? 3
                 : (c >> 3) == 0x1E ? 4
                                    : 1;
    i = std::min(s.size(), i + len);
    ++chars;
  }
  return i;
}

int64_t FloorMillisMicros(int64_t us) {
  int64_t ms = us / 1000;
  if (us % 1000 < 0) --ms;
  return ms * 1000;
}

int64_t CeilMillisMicros(int64_t us) {
  int64_t f = FloorMillisMicros(us);
  return f == us ? us : f + 1000;
}

// Per-column result: min/max already rendered as JSON values, or absent.
struct ColumnStats {
  std::string name;
  std::optional<std::string> min, max;
  int64_t nulls = 0;
};

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

ColumnStats Compute(const Column& col, const std::string& name) {
  ColumnStats cs;
  cs.name = name;
  const size_t n = col.size();
  cs.nulls = static_cast<int64_t>(col.null_count());
  const uint8_t* valid = col.validity();
  switch (col.type()) {
    case TypeId::kInt32:
    case TypeId::kDate: {
      const int32_t* v = col.int32_data();
      bool any = false;
      int32_t lo = 0, hi = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i]) continue;
        if (!any) {
          lo = hi = v[i];
          any = true;
        } else {
          lo = std::min(lo, v[i]);
          hi = std::max(hi, v[i]);
        }
      }
      if (any) {
        if (col.type() == TypeId::kDate) {
          cs.min = Quote(FormatDate(lo));
          cs.max = Quote(FormatDate(hi));
        } else {
          cs.min = std::to_string(lo);
          cs.max = std::to_string(hi);
        }
      }
      break;
    }
    case TypeId::kInt64:
    case TypeId::kTimestamp: {
      const int64_t* v = col.int64_data();
      bool any = false;
      int64_t lo = 0, hi = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i]) continue;
        if (!any) {
          lo = hi = v[i];
          any = true;
        } else {
          lo = std::min(lo, v[i]);
          hi = std::max(hi, v[i]);
        }
      }
      if (any) {
        if (col.type() == TypeId::kTimestamp) {
          cs.min = Quote(FormatTimestampMicros(FloorMillisMicros(lo)));
          cs.max = Quote(FormatTimestampMicros(CeilMillisMicros(hi)));
        } else {
          cs.min = std::to_string(lo);
          cs.max = std::to_string(hi);
        }
      }
      break;
    }
    case TypeId::kDouble: {
      const double* v = col.double_data();
      bool any = false;
      double lo = 0, hi = 0;
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i] || std::isnan(v[i])) continue;
        if (!any) {
          lo = hi = v[i];
          any = true;
        } else {
          lo = std::min(lo, v[i]);
          hi = std::max(hi, v[i]);
        }
      }
      if (any && std::isfinite(lo) && std::isfinite(hi)) {
        JsonWriter a, b;
        a.Double(lo);
        b.Double(hi);
        cs.min = a.Take();
        cs.max = b.Take();
      }
      break;
    }
    case TypeId::kString: {
      bool any = false;
      std::string_view lo, hi;
      for (size_t i = 0; i < n; ++i) {
        if (!valid[i]) continue;
        std::string_view s = col.String(i);
        if (!any) {
          lo = hi = s;
          any = true;
        } else {
          if (s < lo) lo = s;
          if (s > hi) hi = s;
        }
      }
      if (any) {
        cs.min = Quote(TruncateMinString(lo));
        std::string max;
        if (TruncateMaxString(hi, &max)) cs.max = Quote(max);
      }
      break;
    }
    case TypeId::kBool:
    case TypeId::kBinary:
      break;
  }
  return cs;
}

}  // namespace

std::string TruncateMinString(std::string_view s, size_t max_chars) {
  return std::string(s.substr(0, PrefixBytes(s, max_chars)));
}

bool TruncateMaxString(std::string_view s, std::string* out, size_t max_chars) {
  size_t cut = PrefixBytes(s, max_chars);
  if (cut == s.size()) {
    *out = std::string(s);
    return true;
  }
  static constexpr std::string_view kMaxCodePoint = "\xF4\x8F\xBF\xBF";  // U+10FFFF
  if (s.substr(cut, kMaxCodePoint.size()) == kMaxCodePoint) return false;
  *out = std::string(s.substr(0, cut));
  out->append(kMaxCodePoint);
  return true;
}

std::string ComputeStatsJson(const RecordBatch& batch, size_t num_indexed_cols,
                             const std::vector<std::string>& skip_columns) {
  std::vector<ColumnStats> stats;
  size_t indexed = 0;
  for (size_t c = 0; c < batch.num_columns() && indexed < num_indexed_cols; ++c) {
    const std::string& name = batch.schema()->field(c).name;
    if (std::find(skip_columns.begin(), skip_columns.end(), name) != skip_columns.end()) continue;
    stats.push_back(Compute(batch.column(c), name));
    ++indexed;
  }
  JsonWriter w;
  w.BeginObject();
  w.Key("numRecords").Int(static_cast<int64_t>(batch.num_rows()));
  w.Key("minValues").BeginObject();
  for (const auto& s : stats) {
    if (s.min) w.Key(s.name).Raw(*s.min);
  }
  w.EndObject();
  w.Key("maxValues").BeginObject();
  for (const auto& s : stats) {
    if (s.max) w.Key(s.name).Raw(*s.max);
  }
  w.EndObject();
  w.Key("nullCount").BeginObject();
  for (const auto& s : stats) w.Key(s.name).Int(s.nulls);
  w.EndObject();
  w.EndObject();
  return w.Take();
}

}  // namespace strata::delta
