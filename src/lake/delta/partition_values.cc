#include "lake/delta/partition_values.h"

#include <cstdio>
#include <ctime>

#include "core/time_util.h"

namespace strata::delta {
namespace {

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

void AppendPercent(std::string& out, unsigned char c) {
  static const char kHex[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHex[c >> 4]);
  out.push_back(kHex[c & 15]);
}

bool NeedsPathEscape(unsigned char c) {
  if (c < 0x20 || c == 0x7F) return true;
  switch (c) {
    case '"':
    case '#':
    case '%':
    case '\'':
    case '*':
    case '/':
    case ':':
    case '=':
    case '?':
    case '\\':
    case '[':
    case ']':
    case '^':
    case '{':
    case '}':
      return true;
    default:
      return false;
  }
}

std::string FormatTimestampPartition(int64_t micros) {
  int64_t secs = micros / 1'000'000;
  int64_t frac = micros % 1'000'000;
  if (frac < 0) {
    frac += 1'000'000;
    --secs;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(frac));
  return buf;
}

}  // namespace

Result<std::optional<std::string>> SerializePartitionValue(const Column& column, size_t row) {
  if (column.IsNull(row)) return std::optional<std::string>();
  switch (column.type()) {
    case TypeId::kBool:
      return std::optional<std::string>(column.Bool(row) ? "true" : "false");
    case TypeId::kInt32:
      return std::optional<std::string>(std::to_string(column.Int32(row)));
    case TypeId::kInt64:
      return std::optional<std::string>(std::to_string(column.Int64(row)));
    case TypeId::kDouble: {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%.17g", column.Double(row));
      return std::optional<std::string>(buf);
    }
    case TypeId::kString:
      return std::optional<std::string>(std::string(column.String(row)));
    case TypeId::kDate:
      return std::optional<std::string>(FormatDate(column.Int32(row)));
    case TypeId::kTimestamp:
      return std::optional<std::string>(FormatTimestampPartition(column.Int64(row)));
    case TypeId::kBinary:
      break;
  }
  return NotSupported("binary partition columns are not supported");
}

std::string EscapePartitionPathValue(const std::optional<std::string>& value) {
  if (!value || value->empty()) return std::string(kHiveDefaultPartition);
  std::string out;
  out.reserve(value->size());
  for (unsigned char c : *value) {
    if (NeedsPathEscape(c)) {
      AppendPercent(out, c);
    } else {
      out.push_back(static_cast<char>(c));
    }
  }
  return out;
}

std::string PartitionDirectory(const std::vector<std::string>& partition_columns,
                               const PartitionValues& values) {
  std::string out;
  for (const auto& col : partition_columns) {
    auto it = values.find(col);
    std::optional<std::string> v = it == values.end() ? std::nullopt : it->second;
    out += EscapePartitionPathValue(std::optional<std::string>(col));
    out.push_back('=');
    out += EscapePartitionPathValue(v);
    out.push_back('/');
  }
  return out;
}

std::string UrlEncodePath(std::string_view path) {
  std::string out;
  out.reserve(path.size());
  for (unsigned char c : path) {
    bool keep = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                c == '-' || c == '.' || c == '_' || c == '~' || c == '/' || c == '=' || c == '@' ||
                c == '!' || c == '$' || c == '&' || c == '(' || c == ')' || c == '*' || c == '+' ||
                c == ',' || c == ';';
    if (keep) {
      out.push_back(static_cast<char>(c));
    } else {
      AppendPercent(out, c);
    }
  }
  return out;
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexValue(s[i + 1]), lo = HexValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

}  // namespace strata::delta
