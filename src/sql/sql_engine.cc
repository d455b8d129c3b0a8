#include "sql/sql_engine.h"

#include <duckdb.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstring>
#include <limits>
#include <set>
#include <thread>

#include "core/json_writer.h"
#include "duck/chunk.h"
#include "duck/duck.h"
#include "sql/hll_functions.h"

namespace strata::sql {

namespace {

bool IsIdentChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

bool MatchWordAt(const std::string& s, size_t i, const char* word) {
  size_t n = std::strlen(word);
  if (i + n > s.size()) return false;
  if (i > 0 && IsIdentChar(s[i - 1])) return false;
  for (size_t k = 0; k < n; ++k) {
    char c = s[i + k];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[k]) return false;
  }
  return i + n == s.size() || !IsIdentChar(s[i + n]);
}

size_t SkipSpace(const std::string& s, size_t i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r')) ++i;
  return i;
}

// Index just past the literal, quoted identifier or comment starting at i, or i if none does.
size_t SkipQuotedOrComment(const std::string& s, size_t i) {
  char c = s[i];
  if (c == '\'' || c == '"') {
    size_t j = i + 1;
    while (j < s.size()) {
      if (s[j] == c) {
        if (j + 1 < s.size() && s[j + 1] == c) {
          j += 2;
          continue;
        }
        return j + 1;
      }
      ++j;
    }
    return s.size();
  }
  if (c == '-' && i + 1 < s.size() && s[i + 1] == '-') {
    size_t j = s.find('\n', i);
    return j == std::string::npos ? s.size() : j;
  }
  if (c == '/' && i + 1 < s.size() && s[i + 1] == '*') {
    size_t j = s.find("*/", i + 2);
    return j == std::string::npos ? s.size() : j + 2;
  }
  return i;
}

struct DeltaRef {
  std::string path;
  std::optional<int64_t> version;
  std::optional<std::string> timestamp;
  bool operator==(const DeltaRef& o) const {
    return path == o.path && version == o.version && timestamp == o.timestamp;
  }
};

std::string DeltaViewName(size_t i) {
  return "__strata_delta_" + std::to_string(i);
}

// Rewrites Spark spellings into DuckDB's. When `refs` is given, delta.`path` [VERSION AS OF n |
// TIMESTAMP AS OF 'ts'] references are replaced by view names and collected.
Result<std::string> Rewrite(const std::string& s, std::vector<DeltaRef>* refs) {
  std::string out;
  out.reserve(s.size() + 16);
  size_t i = 0;
  while (i < s.size()) {
    size_t skip = SkipQuotedOrComment(s, i);
    if (skip != i) {
      out.append(s, i, skip - i);
      i = skip;
      continue;
    }
    char c = s[i];
    if (c == 'c' || c == 'C') {
      const char* kw = MatchWordAt(s, i, "current_timestamp") ? "current_timestamp"
                       : MatchWordAt(s, i, "current_date")    ? "current_date"
                                                              : nullptr;
      if (kw) {
        size_t n = std::strlen(kw);
        size_t j = SkipSpace(s, i + n);
        if (j < s.size() && s[j] == '(') {
          size_t k = SkipSpace(s, j + 1);
          if (k < s.size() && s[k] == ')') {
            out.append(s, i, n);
            i = k + 1;
            continue;
          }
        }
      }
    }
    if (refs && (c == 'd' || c == 'D') && MatchWordAt(s, i, "delta")) {
      size_t j = SkipSpace(s, i + 5);
      if (j < s.size() && s[j] == '.') {
        j = SkipSpace(s, j + 1);
        if (j < s.size() && s[j] == '`') {
          size_t end = s.find('`', j + 1);
          if (end == std::string::npos)
            return InvalidArgument("unterminated delta.`path` reference");
          DeltaRef ref;
          ref.path = s.substr(j + 1, end - j - 1);
          size_t k = SkipSpace(s, end + 1);
          auto as_of = [&](const char* word) -> size_t {
            if (!MatchWordAt(s, k, word)) return 0;
            size_t p = SkipSpace(s, k + std::strlen(word));
            if (!MatchWordAt(s, p, "as")) return 0;
            p = SkipSpace(s, p + 2);
            if (!MatchWordAt(s, p, "of")) return 0;
            return SkipSpace(s, p + 2);
          };
          size_t next = end + 1;
          if (size_t p = as_of("version")) {
            size_t q = p;
            while (q < s.size() && s[q] >= '0' && s[q] <= '9') ++q;
            int64_t v = 0;
            if (q == p || std::from_chars(s.data() + p, s.data() + q, v).ec != std::errc()) {
              return InvalidArgument("VERSION AS OF needs a non-negative integer for delta.`" +
                                     ref.path + "`");
            }
            ref.version = v;
            next = q;
          } else if (size_t p2 = as_of("timestamp")) {
            if (p2 >= s.size() || s[p2] != '\'') {
              return InvalidArgument("TIMESTAMP AS OF needs a quoted timestamp for delta.`" +
                                     ref.path + "`");
            }
            size_t q = SkipQuotedOrComment(s, p2);
            std::string lit = s.substr(p2 + 1, q - p2 - 2);
            std::string ts;
            for (size_t x = 0; x < lit.size(); ++x) {
              ts.push_back(lit[x]);
              if (lit[x] == '\'' && x + 1 < lit.size() && lit[x + 1] == '\'') ++x;
            }
            ref.timestamp = ts;
            next = q;
          }
          size_t idx = refs->size();
          for (size_t r = 0; r < refs->size(); ++r)
            if ((*refs)[r] == ref) idx = r;
          if (idx == refs->size()) refs->push_back(ref);
          out += DeltaViewName(idx);
          i = next;
          continue;
        }
      }
    }
    if (c == '`') {
      // Spark quotes identifiers with backticks; DuckDB with double quotes.
      size_t end = s.find('`', i + 1);
      if (end == std::string::npos) return InvalidArgument("unterminated `identifier`");
      out += duck::QuoteIdentifier(s.substr(i + 1, end - i - 1));
      i = end + 1;
      continue;
    }
    if (IsIdentChar(c)) {
      size_t j = i;
      while (j < s.size() && IsIdentChar(s[j])) ++j;
      out.append(s, i, j - i);
      i = j;
      continue;
    }
    out.push_back(c);
    ++i;
  }
  return out;
}

Result<std::vector<std::string>> SplitName(const std::string& name) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = name.find('.', start);
    std::string part =
        name.substr(start, dot == std::string::npos ? std::string::npos : dot - start);
    if (part.empty()) return InvalidArgument("bad table name '" + name + "'");
    parts.push_back(part);
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() > 3) return InvalidArgument("table name '" + name + "' has more than 3 parts");
  return parts;
}

std::string QuoteName(const std::vector<std::string>& parts) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i) out += ".";
    out += duck::QuoteIdentifier(parts[i]);
  }
  return out;
}

std::string Error(duckdb_result* r) {
  const char* e = duckdb_result_error(r);
  return e ? e : "unknown DuckDB error";
}

// Interrupts a connection once a deadline passes, unless stopped first.
class Watchdog {
 public:
  Watchdog(duckdb_connection conn, int64_t timeout_ms) {
    if (timeout_ms <= 0) return;
    thread_ = std::thread([this, conn, timeout_ms] {
      std::unique_lock<std::mutex> lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return stop_; })) {
        return;
      }
      fired_ = true;
      // An interrupt that lands between two steps (resolving, binding, executing) can be
      // missed, so keep interrupting until the query gives up.
      do {
        duckdb_interrupt(conn);
      } while (!cv_.wait_for(lock, std::chrono::milliseconds(20), [this] { return stop_; }));
    });
  }
  ~Watchdog() { Stop(); }
  void Stop() {
    if (!thread_.joinable()) return;
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  bool fired() {
    std::lock_guard<std::mutex> lock(mu_);
    return fired_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  bool fired_ = false;
  std::thread thread_;
};

// ---- value rendering ----

void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

std::string FormatDateDays(int64_t days) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04lld-%02u-%02u", static_cast<long long>(y), m, d);
  return buf;
}

std::string FormatTimeMicros(int64_t micros) {
  int64_t s = micros / 1000000, frac = micros % 1000000;
  char buf[40];
  int n = std::snprintf(buf, sizeof buf, "%02lld:%02lld:%02lld", static_cast<long long>(s / 3600),
                        static_cast<long long>(s / 60 % 60), static_cast<long long>(s % 60));
  if (frac) {
    n += std::snprintf(buf + n, sizeof buf - n, ".%06lld", static_cast<long long>(frac));
    while (buf[n - 1] == '0') buf[--n] = '\0';
  }
  return buf;
}

std::string FormatTimestamp(int64_t micros, bool tz) {
  int64_t days = micros / 86400000000LL, rem = micros % 86400000000LL;
  if (rem < 0) {
    rem += 86400000000LL;
    --days;
  }
  std::string out = FormatDateDays(days) + " " + FormatTimeMicros(rem);
  if (tz) out += "+00";
  return out;
}

std::string Int128ToString(bool negative, __uint128_t v) {
  char buf[48];
  int n = 0;
  do {
    buf[n++] = static_cast<char>('0' + static_cast<int>(v % 10));
    v /= 10;
  } while (v);
  std::string out = negative ? "-" : "";
  while (n) out.push_back(buf[--n]);
  return out;
}

std::string DoubleToString(double v) {
  if (v != v) return "nan";
  if (v == std::numeric_limits<double>::infinity()) return "inf";
  if (v == -std::numeric_limits<double>::infinity()) return "-inf";
  char buf[64];
  if (v == std::trunc(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.1f", v);  // 1000000.0 rather than 1e+06
    return buf;
  }
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, r.ptr);
}

struct ColumnKind {
  duckdb_type type = DUCKDB_TYPE_INVALID;
  duckdb_type internal = DUCKDB_TYPE_INVALID;  // decimal / enum storage
  uint8_t scale = 0;
  std::vector<std::string> enum_values;
  std::string name;
};

std::string TypeName(duckdb_logical_type lt) {
  duckdb_type t = duckdb_get_type_id(lt);
  if (t == DUCKDB_TYPE_DECIMAL) {
    return "DECIMAL(" + std::to_string(duckdb_decimal_width(lt)) + "," +
           std::to_string(duckdb_decimal_scale(lt)) + ")";
  }
  return duck::DuckTypeIdName(t);
}

ColumnKind KindOf(duckdb_logical_type lt) {
  ColumnKind k;
  k.type = duckdb_get_type_id(lt);
  k.name = TypeName(lt);
  if (k.type == DUCKDB_TYPE_DECIMAL) {
    k.internal = duckdb_decimal_internal_type(lt);
    k.scale = duckdb_decimal_scale(lt);
  } else if (k.type == DUCKDB_TYPE_ENUM) {
    k.internal = duckdb_enum_internal_type(lt);
    uint32_t n = duckdb_enum_dictionary_size(lt);
    for (uint32_t i = 0; i < n; ++i) {
      char* v = duckdb_enum_dictionary_value(lt, i);
      k.enum_values.emplace_back(v ? v : "");
      if (v) duckdb_free(v);
    }
  }
  return k;
}

template <typename T>
T At(const void* data, size_t row) {
  return static_cast<const T*>(data)[row];
}

std::string DecimalToString(const ColumnKind& k, const void* data, size_t row) {
  bool neg = false;
  __uint128_t mag = 0;
  auto set = [&](__int128_t v) {
    neg = v < 0;
    mag = neg ? static_cast<__uint128_t>(-v) : static_cast<__uint128_t>(v);
  };
  switch (k.internal) {
    case DUCKDB_TYPE_SMALLINT:
      set(At<int16_t>(data, row));
      break;
    case DUCKDB_TYPE_INTEGER:
      set(At<int32_t>(data, row));
      break;
    case DUCKDB_TYPE_BIGINT:
      set(At<int64_t>(data, row));
      break;
    default: {
      duckdb_hugeint h = At<duckdb_hugeint>(data, row);
      set((static_cast<__int128_t>(h.upper) << 64) | h.lower);
    }
  }
  std::string digits = Int128ToString(false, mag);
  if (k.scale > 0) {
    if (digits.size() <= k.scale) digits.insert(0, k.scale - digits.size() + 1, '0');
    digits.insert(digits.size() - k.scale, ".");
  }
  return neg ? "-" + digits : digits;
}

std::string ValueToString(const ColumnKind& k, duckdb_vector vec, const void* data, size_t row) {
  switch (k.type) {
    case DUCKDB_TYPE_BOOLEAN:
      return At<bool>(data, row) ? "true" : "false";
    case DUCKDB_TYPE_TINYINT:
      return std::to_string(At<int8_t>(data, row));
    case DUCKDB_TYPE_SMALLINT:
      return std::to_string(At<int16_t>(data, row));
    case DUCKDB_TYPE_INTEGER:
      return std::to_string(At<int32_t>(data, row));
    case DUCKDB_TYPE_BIGINT:
      return std::to_string(At<int64_t>(data, row));
    case DUCKDB_TYPE_UTINYINT:
      return std::to_string(At<uint8_t>(data, row));
    case DUCKDB_TYPE_USMALLINT:
      return std::to_string(At<uint16_t>(data, row));
    case DUCKDB_TYPE_UINTEGER:
      return std::to_string(At<uint32_t>(data, row));
    case DUCKDB_TYPE_UBIGINT:
      return std::to_string(At<uint64_t>(data, row));
    case DUCKDB_TYPE_HUGEINT: {
      duckdb_hugeint h = At<duckdb_hugeint>(data, row);
      __int128_t v = (static_cast<__int128_t>(h.upper) << 64) | h.lower;
      return Int128ToString(v < 0,
                            v < 0 ? static_cast<__uint128_t>(-v) : static_cast<__uint128_t>(v));
    }
    case DUCKDB_TYPE_UHUGEINT: {
      duckdb_uhugeint h = At<duckdb_uhugeint>(data, row);
      return Int128ToString(false, (static_cast<__uint128_t>(h.upper) << 64) | h.lower);
    }
    case DUCKDB_TYPE_FLOAT:
      return DoubleToString(At<float>(data, row));
    case DUCKDB_TYPE_DOUBLE:
      return DoubleToString(At<double>(data, row));
    case DUCKDB_TYPE_DECIMAL:
      return DecimalToString(k, data, row);
    case DUCKDB_TYPE_VARCHAR: {
      duckdb_string_t s = At<duckdb_string_t>(data, row);
      return std::string(duckdb_string_t_data(&s), duckdb_string_t_length(s));
    }
    case DUCKDB_TYPE_BLOB: {
      duckdb_string_t s = At<duckdb_string_t>(data, row);
      const char* p = duckdb_string_t_data(&s);
      std::string out;
      for (uint32_t i = 0; i < duckdb_string_t_length(s); ++i) {
        auto b = static_cast<unsigned char>(p[i]);
        if (b >= 32 && b < 127 && b != '\\' && b != '\'' && b != '"') {
          out.push_back(static_cast<char>(b));
        } else {
          char hex[8];
          std::snprintf(hex, sizeof hex, "\\x%02X", b);
          out += hex;
        }
      }
      return out;
    }
    case DUCKDB_TYPE_DATE:
      return FormatDateDays(At<int32_t>(data, row));
    case DUCKDB_TYPE_TIME:
      return FormatTimeMicros(At<int64_t>(data, row));
    case DUCKDB_TYPE_TIMESTAMP:
      return FormatTimestamp(At<int64_t>(data, row), false);
    case DUCKDB_TYPE_TIMESTAMP_TZ:
      return FormatTimestamp(At<int64_t>(data, row), true);
    case DUCKDB_TYPE_TIMESTAMP_S:
      return FormatTimestamp(At<int64_t>(data, row) * 1000000, false);
    case DUCKDB_TYPE_TIMESTAMP_MS:
      return FormatTimestamp(At<int64_t>(data, row) * 1000, false);
    case DUCKDB_TYPE_TIMESTAMP_NS:
      return FormatTimestamp(At<int64_t>(data, row) / 1000, false);
    case DUCKDB_TYPE_INTERVAL: {
      duckdb_interval iv = At<duckdb_interval>(data, row);
      std::string out;
      if (iv.months) out += std::to_string(iv.months) + (iv.months == 1 ? " month " : " months ");
      if (iv.days) out += std::to_string(iv.days) + (iv.days == 1 ? " day " : " days ");
      if (iv.micros || out.empty()) {
        out +=
            (iv.micros < 0 ? "-" : "") + FormatTimeMicros(iv.micros < 0 ? -iv.micros : iv.micros);
      } else {
        out.pop_back();
      }
      return out;
    }
    case DUCKDB_TYPE_UUID: {
      duckdb_hugeint h = At<duckdb_hugeint>(data, row);
      uint64_t hi = static_cast<uint64_t>(h.upper) ^ (uint64_t{1} << 63), lo = h.lower;
      char buf[40];
      std::snprintf(buf, sizeof buf, "%08llx-%04llx-%04llx-%04llx-%012llx",
                    static_cast<unsigned long long>(hi >> 32),
                    static_cast<unsigned long long>((hi >> 16) & 0xffff),
                    static_cast<unsigned long long>(hi & 0xffff),
                    static_cast<unsigned long long>(lo >> 48),
                    static_cast<unsigned long long>(lo & 0xffffffffffffull));
      return buf;
    }
    case DUCKDB_TYPE_ENUM: {
      uint64_t idx = k.internal == DUCKDB_TYPE_UTINYINT    ? At<uint8_t>(data, row)
                     : k.internal == DUCKDB_TYPE_USMALLINT ? At<uint16_t>(data, row)
                                                           : At<uint32_t>(data, row);
      return idx < k.enum_values.size() ? k.enum_values[idx] : "";
    }
    default:
      return "<" + k.name + " value>";
  }
}

bool IsNumeric(const std::string& type) {
  static const std::set<std::string> kNumeric = {"TINYINT",  "SMALLINT",  "INTEGER",  "BIGINT",
                                                 "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT",
                                                 "HUGEINT",  "UHUGEINT",  "FLOAT",    "DOUBLE"};
  return kNumeric.count(type) > 0 || type.rfind("DECIMAL", 0) == 0;
}

// Runs one prepared statement and collects up to row_limit rows.
Status CollectRows(duckdb_prepared_statement prepared, const QueryOptions& options,
                   QueryResult* out) {
  duckdb_pending_result pending = nullptr;
  if (duckdb_pending_prepared_streaming(prepared, &pending) == DuckDBError) {
    std::string msg = duckdb_pending_error(pending) ? duckdb_pending_error(pending) : "?";
    duckdb_destroy_pending(&pending);
    return InvalidArgument(msg);
  }
  duckdb_result raw;
  duckdb_state st = duckdb_execute_pending(pending, &raw);
  duckdb_destroy_pending(&pending);
  duck::Result result(raw);
  if (st == DuckDBError) return InvalidArgument(Error(result.raw()));

  size_t ncols = duckdb_column_count(result.raw());
  out->column_names.clear();
  out->column_types.clear();
  out->rows.clear();
  out->truncated = false;
  out->row_limit = options.row_limit;
  std::vector<ColumnKind> kinds(ncols);
  for (size_t c = 0; c < ncols; ++c) {
    out->column_names.emplace_back(duckdb_column_name(result.raw(), c));
    duckdb_logical_type lt = duckdb_column_logical_type(result.raw(), c);
    kinds[c] = KindOf(lt);
    duckdb_destroy_logical_type(&lt);
    out->column_types.push_back(kinds[c].name);
  }
  const size_t limit = options.row_limit == 0 ? SIZE_MAX : options.row_limit;
  while (true) {
    duckdb_data_chunk chunk = duckdb_fetch_chunk(*result.raw());
    if (chunk == nullptr) {
      const char* e = duckdb_result_error(result.raw());
      if (e) return InvalidArgument(e);
      break;
    }
    size_t n = duckdb_data_chunk_get_size(chunk);
    std::vector<duckdb_vector> vecs(ncols);
    std::vector<const void*> data(ncols);
    std::vector<uint64_t*> masks(ncols);
    for (size_t c = 0; c < ncols; ++c) {
      vecs[c] = duckdb_data_chunk_get_vector(chunk, c);
      data[c] = duckdb_vector_get_data(vecs[c]);
      masks[c] = duckdb_vector_get_validity(vecs[c]);
    }
    size_t r = 0;
    for (; r < n && out->rows.size() < limit; ++r) {
      std::vector<std::optional<std::string>> row(ncols);
      for (size_t c = 0; c < ncols; ++c) {
        if (kinds[c].type == DUCKDB_TYPE_SQLNULL ||
            (masks[c] && !duckdb_validity_row_is_valid(masks[c], r)))
          continue;
        row[c] = ValueToString(kinds[c], vecs[c], data[c], r);
      }
      out->rows.push_back(std::move(row));
    }
    duckdb_destroy_data_chunk(&chunk);
    if (r < n) {
      out->truncated = true;
      break;
    }
    if (n == 0) break;
    if (out->rows.size() >= limit) {
      // Peek whether anything follows.
      duckdb_data_chunk more = duckdb_fetch_chunk(*result.raw());
      if (more) {
        out->truncated = duckdb_data_chunk_get_size(more) > 0;
        duckdb_destroy_data_chunk(&more);
      }
      break;
    }
  }
  return Status::OK();
}

bool IsAllowedReadOnly(duckdb_statement_type t) {
  return t == DUCKDB_STATEMENT_TYPE_SELECT;
}

// The first keyword of a statement (lower case), skipping blanks, comments and parentheses.
std::string FirstKeyword(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    size_t skip = SkipQuotedOrComment(s, i);
    if (skip != i && s[i] != '\'' && s[i] != '"') {
      i = skip;
      continue;
    }
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == ';') {
      ++i;
      continue;
    }
    break;
  }
  std::string word;
  while (i < s.size() && IsIdentChar(s[i])) {
    char c = s[i++];
    word.push_back(c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c);
  }
  return word;
}

// Checked before binding, so that a refused statement gets a clear message rather than a
// binder error; the prepared statement type is checked again after binding.
bool StartsLikeAQuery(const std::string& sql) {
  static const std::set<std::string> kQueryStarts = {"select", "with",     "from", "values",
                                                     "table",  "describe", "show", "summarize",
                                                     "pivot",  "unpivot"};
  return kQueryStarts.count(FirstKeyword(sql)) > 0;
}

const char* StatementTypeName(duckdb_statement_type t) {
  switch (t) {
    case DUCKDB_STATEMENT_TYPE_SELECT:
      return "SELECT";
    case DUCKDB_STATEMENT_TYPE_INSERT:
      return "INSERT";
    case DUCKDB_STATEMENT_TYPE_UPDATE:
      return "UPDATE";
    case DUCKDB_STATEMENT_TYPE_EXPLAIN:
      return "EXPLAIN";
    case DUCKDB_STATEMENT_TYPE_DELETE:
      return "DELETE";
    case DUCKDB_STATEMENT_TYPE_CREATE:
      return "CREATE";
    case DUCKDB_STATEMENT_TYPE_ALTER:
      return "ALTER";
    case DUCKDB_STATEMENT_TYPE_COPY:
      return "COPY";
    case DUCKDB_STATEMENT_TYPE_VARIABLE_SET:
      return "SET VARIABLE";
    case DUCKDB_STATEMENT_TYPE_SET:
      return "SET";
    case DUCKDB_STATEMENT_TYPE_DROP:
      return "DROP";
    case DUCKDB_STATEMENT_TYPE_EXPORT:
      return "EXPORT";
    case DUCKDB_STATEMENT_TYPE_PRAGMA:
      return "PRAGMA";
    case DUCKDB_STATEMENT_TYPE_ATTACH:
      return "ATTACH";
    case DUCKDB_STATEMENT_TYPE_DETACH:
      return "DETACH";
    case DUCKDB_STATEMENT_TYPE_LOAD:
      return "LOAD";
    case DUCKDB_STATEMENT_TYPE_TRANSACTION:
      return "TRANSACTION";
    case DUCKDB_STATEMENT_TYPE_CALL:
      return "CALL";
    default:
      return "non-SELECT";
  }
}

// SELECT text that reads `table` through DuckDB, reading the files' footers with `conn`.
Result<std::string> BuildViewSql(duck::Connection* conn, const TableFiles& table) {
  if (!table.select_sql.empty()) return table.select_sql;
  if (!table.schema) return InvalidArgument("table has no schema");
  const Schema& schema = *table.schema;
  std::set<std::string> partition(table.partition_columns.begin(), table.partition_columns.end());
  for (const auto& p : partition) {
    if (schema.IndexOf(p) < 0)
      return InvalidArgument("partition column " + p + " is not in the schema");
  }
  auto typed_null = [](const Field& f) {
    return "CAST(NULL AS " + std::string(duck::DuckTypeName(f.type)) + ") AS " +
           duck::QuoteIdentifier(f.name);
  };
  if (table.files.empty()) {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < schema.num_fields(); ++i)
      sql += (i ? ", " : "") + typed_null(schema.field(i));
    return sql + " LIMIT 0";
  }
  std::string list = "[";
  for (size_t i = 0; i < table.files.size(); ++i)
    list += (i ? ", " : "") + duck::QuoteLiteral(table.files[i].path);
  list += "]";
  std::string source = "read_parquet(" + list + ", union_by_name = true";
  if (!partition.empty()) source += ", filename = true";
  source += ")";
  STRATA_ASSIGN_OR_RETURN(duck::Result described, conn->Query("DESCRIBE SELECT * FROM " + source));
  std::set<std::string> present;
  for (size_t r = 0; r < described.row_count(); ++r) present.insert(described.GetString(0, r));

  std::string sql = "SELECT ";
  for (size_t i = 0; i < schema.num_fields(); ++i) {
    const Field& f = schema.field(i);
    if (i) sql += ", ";
    std::string q = duck::QuoteIdentifier(f.name);
    if (partition.count(f.name)) {
      sql += "CAST(p." + q + " AS " + duck::DuckTypeName(f.type) + ") AS " + q;
    } else if (present.count(f.name)) {
      sql += "CAST(t." + q + " AS " + duck::DuckTypeName(f.type) + ") AS " + q;
    } else {
      sql += typed_null(f);
    }
  }
  sql += " FROM " + source + " AS t";
  if (!partition.empty()) {
    sql += " JOIN (VALUES ";
    for (size_t i = 0; i < table.files.size(); ++i) {
      const DataFile& file = table.files[i];
      sql += (i ? ", (" : "(") + duck::QuoteLiteral(file.path);
      for (const auto& p : table.partition_columns) {
        auto it = file.partition_values.find(p);
        sql += ", ";
        sql += (it == file.partition_values.end() || !it->second) ? "NULL"
                                                                  : duck::QuoteLiteral(*it->second);
      }
      sql += ")";
    }
    sql += ") AS p(__strata_file";
    for (const auto& p : table.partition_columns) sql += ", " + duck::QuoteIdentifier(p);
    sql += ") ON t.filename = p.__strata_file";
  }
  return sql;
}

}  // namespace

std::string SqlEngine::RewriteSparkSql(const std::string& sql) {
  auto r = Rewrite(sql, nullptr);
  return r.ok() ? *r : sql;
}

Result<std::unique_ptr<SqlEngine>> SqlEngine::Open(const SqlEngineOptions& options) {
  std::unique_ptr<SqlEngine> e(new SqlEngine());
  e->options_ = options;
  std::vector<std::pair<std::string, std::string>> config = {
      {"threads", std::to_string(options.threads < 1 ? 1 : options.threads)}};
  if (!options.memory_limit.empty()) config.emplace_back("memory_limit", options.memory_limit);
  STRATA_ASSIGN_OR_RETURN(e->db_, duck::Database::Open("", config));
  STRATA_ASSIGN_OR_RETURN(e->admin_, duck::Connection::Open(e->db_));
  STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET GLOBAL TimeZone = 'UTC'"));
  // Dashboards re-read the same immutable data files: keep their footers in memory (DuckDB
  // re-validates a cached footer against the file's modification time).
  STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET GLOBAL parquet_metadata_cache = true"));
  STRATA_RETURN_IF_ERROR(RegisterHllFunctions(e->admin_->raw()));
  if (options.restrict_file_access) {
    std::string dirs = "[";
    for (size_t i = 0; i < options.allowed_directories.size(); ++i) {
      std::string d = options.allowed_directories[i];
      if (!d.empty() && d.back() != '/') d += '/';
      dirs += (i ? ", " : "") + duck::QuoteLiteral(d);
    }
    dirs += "]";
    STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET allowed_directories = " + dirs));
    STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET autoinstall_known_extensions = false"));
    STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET autoload_known_extensions = false"));
    STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET enable_external_access = false"));
    STRATA_RETURN_IF_ERROR(e->admin_->Execute("SET lock_configuration = true"));
  }
  return e;
}

SqlEngine::~SqlEngine() = default;

void SqlEngine::SetDeltaResolver(DeltaResolver resolver) {
  std::lock_guard<std::mutex> lock(mu_);
  resolver_ = std::move(resolver);
}

std::string QuotedTableName(const std::string& qualified_name) {
  std::string out;
  size_t start = 0;
  while (true) {
    size_t dot = qualified_name.find('.', start);
    if (!out.empty()) out += ".";
    out += duck::QuoteIdentifier(qualified_name.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return out;
}

Status SqlEngine::RegisterTable(const std::string& qualified_name, const TableFiles& table) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitName(qualified_name));
  std::lock_guard<std::mutex> lock(mu_);
  if (parts.size() == 3) {
    STRATA_RETURN_IF_ERROR(
        admin_->Execute("ATTACH IF NOT EXISTS ':memory:' AS " + duck::QuoteIdentifier(parts[0]))
            .WithContext("attaching catalog " + parts[0]));
  }
  if (parts.size() >= 2) {
    std::vector<std::string> schema(parts.begin(), parts.end() - 1);
    STRATA_RETURN_IF_ERROR(admin_->Execute("CREATE SCHEMA IF NOT EXISTS " + QuoteName(schema))
                               .WithContext("creating schema for " + qualified_name));
  }
  auto select = BuildViewSql(admin_.get(), table);
  if (!select.ok()) return select.status().WithContext("registering table " + qualified_name);
  return admin_->Execute("CREATE OR REPLACE VIEW " + QuoteName(parts) + " AS " + *select)
      .WithContext("registering table " + qualified_name);
}

Status SqlEngine::DropTable(const std::string& qualified_name) {
  STRATA_ASSIGN_OR_RETURN(std::vector<std::string> parts, SplitName(qualified_name));
  std::lock_guard<std::mutex> lock(mu_);
  return admin_->Execute("DROP VIEW IF EXISTS " + QuoteName(parts))
      .WithContext("dropping table " + qualified_name);
}

Result<QueryResult> SqlEngine::Execute(const std::string& sql, const QueryOptions& options) {
  std::vector<DeltaRef> refs;
  STRATA_ASSIGN_OR_RETURN(std::string text, Rewrite(sql, &refs));
  // Refuse early, before resolving tables, with a message that names the statement; the
  // prepared statement's type is checked again below, after binding.
  if (options.read_only && !StartsLikeAQuery(text)) {
    std::string word = FirstKeyword(text);
    for (char& ch : word) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    return InvalidArgument("read-only queries accept only SELECT; refused a " +
                           (word.empty() ? std::string("non-SELECT") : word) + " statement");
  }
  STRATA_ASSIGN_OR_RETURN(std::unique_ptr<duck::Connection> conn, duck::Connection::Open(db_));

  // The watchdog covers resolving, binding (which reads Parquet footers) and execution.
  Watchdog watchdog(conn->raw(), options.timeout_ms);
  auto finish = [&](Status st) -> Status {
    watchdog.Stop();
    if (!st.ok() && watchdog.fired()) {
      return Cancelled("query interrupted after its " + std::to_string(options.timeout_ms) +
                       " ms timeout");
    }
    return st;
  };

  if (!refs.empty()) {
    DeltaResolver resolver;
    {
      std::lock_guard<std::mutex> lock(mu_);
      resolver = resolver_;
    }
    if (!resolver) return InvalidArgument("delta.`path` tables are not enabled (no resolver)");
    for (size_t i = 0; i < refs.size(); ++i) {
      auto files = resolver(refs[i].path, refs[i].version, refs[i].timestamp);
      if (!files.ok()) return finish(files.status().WithContext("delta.`" + refs[i].path + "`"));
      auto select = BuildViewSql(conn.get(), *files);
      if (!select.ok()) return finish(select.status().WithContext("delta.`" + refs[i].path + "`"));
      Status st =
          conn->Execute("CREATE OR REPLACE TEMP VIEW " + DeltaViewName(i) + " AS " + *select);
      if (!st.ok()) return finish(st.WithContext("delta.`" + refs[i].path + "`"));
    }
  }

  duckdb_extracted_statements stmts = nullptr;
  idx_t count = duckdb_extract_statements(conn->raw(), text.c_str(), &stmts);
  struct ExtractedGuard {
    duckdb_extracted_statements* s;
    ~ExtractedGuard() { duckdb_destroy_extracted(s); }
  } guard{&stmts};
  if (count == 0) {
    const char* e = duckdb_extract_statements_error(stmts);
    return finish(InvalidArgument(e ? e : "no statement"));
  }
  if (options.read_only && count != 1) {
    return finish(InvalidArgument("read-only queries take exactly one statement, got " +
                                  std::to_string(count)));
  }
  QueryResult result;
  for (idx_t i = 0; i < count; ++i) {
    duckdb_prepared_statement prepared = nullptr;
    if (duckdb_prepare_extracted_statement(conn->raw(), stmts, i, &prepared) == DuckDBError) {
      std::string msg = duckdb_prepare_error(prepared) ? duckdb_prepare_error(prepared) : "?";
      duckdb_destroy_prepare(&prepared);
      return finish(InvalidArgument(msg));
    }
    duckdb_statement_type type = duckdb_prepared_statement_type(prepared);
    if (options.read_only && !IsAllowedReadOnly(type)) {
      duckdb_destroy_prepare(&prepared);
      return finish(
          InvalidArgument(std::string("read-only queries accept only SELECT; refused a ") +
                          StatementTypeName(type) + " statement"));
    }
    Status st = CollectRows(prepared, options, &result);
    duckdb_destroy_prepare(&prepared);
    if (!st.ok()) return finish(st);
  }
  Status st = finish(Status::OK());
  if (!st.ok()) return st;
  return result;
}

// ---- formatting ----

namespace {

size_t DisplayWidth(const std::string& s) {
  size_t w = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++w;  // count UTF-8 code points
  return w;
}

void Pad(std::string& out, const std::string& s, size_t width, bool right) {
  size_t w = DisplayWidth(s);
  if (right) out.append(width - w, ' ');
  out += s;
  if (!right) out.append(width - w, ' ');
}

}  // namespace

std::string FormatTable(const QueryResult& r) {
  const size_t n = r.column_names.size();
  std::vector<size_t> width(n);
  std::vector<bool> right(n);
  for (size_t c = 0; c < n; ++c) {
    width[c] = std::max(DisplayWidth(r.column_names[c]), DisplayWidth(r.column_types[c]));
    right[c] = IsNumeric(r.column_types[c]);
    for (const auto& row : r.rows)
      width[c] = std::max(width[c], DisplayWidth(row[c] ? *row[c] : "NULL"));
  }
  auto rule = [&](const char* l, const char* m, const char* rr) {
    std::string s = l;
    for (size_t c = 0; c < n; ++c) {
      for (size_t k = 0; k < width[c] + 2; ++k) s += "─";
      s += c + 1 < n ? m : rr;
    }
    return s + "\n";
  };
  std::string out = rule("┌", "┬", "┐");
  auto line = [&](auto cell, bool align) {
    out += "│";
    for (size_t c = 0; c < n; ++c) {
      out += " ";
      Pad(out, cell(c), width[c], align && right[c]);
      out += " │";
    }
    out += "\n";
  };
  line([&](size_t c) { return r.column_names[c]; }, false);
  line([&](size_t c) { return r.column_types[c]; }, false);
  out += rule("├", "┼", "┤");
  for (const auto& row : r.rows) line([&](size_t c) { return row[c] ? *row[c] : "NULL"; }, true);
  out += rule("└", "┴", "┘");
  out += std::to_string(r.rows.size()) + (r.rows.size() == 1 ? " row" : " rows");
  if (r.truncated) out += " (truncated at the limit of " + std::to_string(r.row_limit) + " rows)";
  out += "\n";
  return out;
}

std::string FormatCsv(const QueryResult& r) {
  std::string out;
  auto cell = [&](const std::string& s) {
    if (s.find_first_of(",\"\r\n") == std::string::npos) {
      out += s;
      return;
    }
    out.push_back('"');
    for (char c : s) {
      if (c == '"') out.push_back('"');
      out.push_back(c);
    }
    out.push_back('"');
  };
  for (size_t c = 0; c < r.column_names.size(); ++c) {
    if (c) out.push_back(',');
    cell(r.column_names[c]);
  }
  out += "\r\n";
  for (const auto& row : r.rows) {
    for (size_t c = 0; c < row.size(); ++c) {
      if (c) out.push_back(',');
      if (row[c]) cell(*row[c]);
    }
    out += "\r\n";
  }
  return out;
}

std::string FormatJson(const QueryResult& r) {
  JsonWriter w;
  w.BeginObject().Key("columns").BeginArray();
  for (size_t c = 0; c < r.column_names.size(); ++c) {
    w.BeginObject().Key("name").String(r.column_names[c]).Key("type").String(r.column_types[c]);
    w.EndObject();
  }
  w.EndArray().Key("rows").BeginArray();
  for (const auto& row : r.rows) {
    w.BeginArray();
    for (size_t c = 0; c < row.size(); ++c) {
      const auto& v = row[c];
      const std::string& type = r.column_types[c];
      if (!v) {
        w.Null();
      } else if (type == "BOOLEAN") {
        w.Bool(*v == "true");
      } else if (IsNumeric(type) && *v != "nan" && *v != "inf" && *v != "-inf") {
        w.Raw(*v);
      } else {
        w.String(*v);
      }
    }
    w.EndArray();
  }
  w.EndArray().Key("truncated").Bool(r.truncated).EndObject();
  return w.Take();
}

}  // namespace strata::sql
