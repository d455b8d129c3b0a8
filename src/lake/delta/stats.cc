#include "lake/delta/stats.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <type_traits>
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
struct RenderedStats {
  std::string name;
  std::optional<std::string> min, max;
  int64_t nulls = 0;
};

std::string Quote(std::string_view s) {
  std::string out;
  AppendJsonString(out, s);
  return out;
}

// Exact min/max of the valid values of v[0..n), NaN left out (the first of equal ones, as
// std::min/max keep). False when there is none.
template <typename T>
bool MinMaxOf(const T* v, const uint8_t* valid, size_t n, T* lo, T* hi) {
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    if (!valid[i]) continue;
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v[i])) continue;
    }
    if (!any) {
      *lo = *hi = v[i];
      any = true;
    } else {
      *lo = std::min(*lo, v[i]);
      *hi = std::max(*hi, v[i]);
    }
  }
  return any;
}

template <typename T>
void IntMinMax(const T* v, const uint8_t* valid, size_t n, ColumnSummary* cs) {
  T lo = 0, hi = 0;
  cs->has_min_max = MinMaxOf(v, valid, n, &lo, &hi);
  cs->min_int = lo;
  cs->max_int = hi;
}

RenderedStats Render(TypeId type, const std::string& name, const ColumnSummary& cs) {
  RenderedStats rs;
  rs.name = name;
  rs.nulls = cs.null_count;
  if (!cs.has_min_max) return rs;
  switch (type) {
    case TypeId::kInt32:
    case TypeId::kInt64:
      rs.min = std::to_string(cs.min_int);
      rs.max = std::to_string(cs.max_int);
      break;
    case TypeId::kDate:
      rs.min = Quote(FormatDate(static_cast<int32_t>(cs.min_int)));
      rs.max = Quote(FormatDate(static_cast<int32_t>(cs.max_int)));
      break;
    case TypeId::kTimestamp:
      rs.min = Quote(FormatTimestampMicros(FloorMillisMicros(cs.min_int)));
      rs.max = Quote(FormatTimestampMicros(CeilMillisMicros(cs.max_int)));
      break;
    case TypeId::kDouble:
      if (std::isfinite(cs.min_double) && std::isfinite(cs.max_double)) {
        JsonWriter a, b;
        a.Double(cs.min_double);
        b.Double(cs.max_double);
        rs.min = a.Take();
        rs.max = b.Take();
      }
      break;
    case TypeId::kString: {
      rs.min = Quote(TruncateMinString(cs.min_bytes));
      std::string max;
      if (TruncateMaxString(cs.max_bytes, &max)) rs.max = Quote(max);
      break;
    }
    case TypeId::kBool:
    case TypeId::kBinary:
      break;
  }
  return rs;
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

ColumnSummary SummarizeColumn(const Column& col) {
  ColumnSummary cs;
  const size_t n = col.size();
  cs.null_count = static_cast<int64_t>(col.null_count());
  const uint8_t* valid = col.validity();
  switch (col.type()) {
    case TypeId::kInt32:
    case TypeId::kDate:
      IntMinMax(col.int32_data(), valid, n, &cs);
      break;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      IntMinMax(col.int64_data(), valid, n, &cs);
      break;
    case TypeId::kDouble:
      cs.has_min_max = MinMaxOf(col.double_data(), valid, n, &cs.min_double, &cs.max_double);
      break;
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
      cs.has_min_max = any;
      cs.min_bytes.assign(lo);
      cs.max_bytes.assign(hi);
      break;
    }
    case TypeId::kBool:
    case TypeId::kBinary:
      break;
  }
  return cs;
}

namespace {

std::string RenderJson(int64_t num_records, const std::vector<RenderedStats>& stats) {
  JsonWriter w;
  w.BeginObject();
  w.Key("numRecords").Int(num_records);
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

// Calls fn(column index) for the columns that get statistics: the first `num_indexed_cols`
// not in `skip_columns`.
template <typename Fn>
void ForIndexedColumns(const Schema& schema, size_t num_indexed_cols,
                       const std::vector<std::string>& skip_columns, Fn&& fn) {
  size_t indexed = 0;
  for (size_t c = 0; c < schema.num_fields() && indexed < num_indexed_cols; ++c) {
    const std::string& name = schema.field(c).name;
    if (std::find(skip_columns.begin(), skip_columns.end(), name) != skip_columns.end()) continue;
    fn(c);
    ++indexed;
  }
}

}  // namespace

std::string ComputeStatsJson(const RecordBatch& batch, size_t num_indexed_cols,
                             const std::vector<std::string>& skip_columns) {
  const Schema& schema = *batch.schema();
  std::vector<RenderedStats> stats;
  ForIndexedColumns(schema, num_indexed_cols, skip_columns, [&](size_t c) {
    const Column& col = batch.column(c);
    stats.push_back(Render(col.type(), schema.field(c).name, SummarizeColumn(col)));
  });
  return RenderJson(static_cast<int64_t>(batch.num_rows()), stats);
}

std::string StatsJsonFromSummaries(const Schema& schema, int64_t num_records,
                                   const std::vector<ColumnSummary>& columns,
                                   size_t num_indexed_cols,
                                   const std::vector<std::string>& skip_columns) {
  std::vector<RenderedStats> stats;
  ForIndexedColumns(schema, num_indexed_cols, skip_columns, [&](size_t c) {
    if (c >= columns.size()) return;
    stats.push_back(Render(schema.field(c).type, schema.field(c).name, columns[c]));
  });
  return RenderJson(num_records, stats);
}

}  // namespace strata::delta
