#include "lake/delta/scan.h"

#include <simdjson.h>

#include <map>

#include "duck/duck.h"
#include "lake/delta/deletion_vector.h"
#include "sql/sql_engine.h"

namespace strata::delta {
namespace {

constexpr int64_t kMicrosPerDay = 86400LL * 1000000;

// DuckDB type of a primitive Delta type name; empty when nested or unknown.
std::string DuckTypeOf(const std::string& t) {
  static const std::map<std::string, std::string> kTypes = {
      {"string", "VARCHAR"}, {"long", "BIGINT"},           {"integer", "INTEGER"},
      {"short", "SMALLINT"}, {"byte", "TINYINT"},          {"float", "FLOAT"},
      {"double", "DOUBLE"},  {"boolean", "BOOLEAN"},       {"binary", "BLOB"},
      {"date", "DATE"},      {"timestamp", "TIMESTAMPTZ"}, {"timestamp_ntz", "TIMESTAMP"}};
  if (auto it = kTypes.find(t); it != kTypes.end()) return it->second;
  if (t.rfind("decimal(", 0) == 0 && t.back() == ')') {
    std::string args = t.substr(8, t.size() - 9);
    for (char c : args)
      if (!std::isdigit(static_cast<unsigned char>(c)) && c != ',' && c != ' ') return "";
    return "DECIMAL(" + args + ")";
  }
  if (t == "decimal") return "DECIMAL(10,0)";
  return "";
}

std::string SqlList(const std::vector<std::string>& items) {
  std::string out = "[";
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + duck::QuoteLiteral(items[i]);
  return out + "]";
}

int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

bool ReadDigits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (c < '0' || c > '9') return false;
    v = v * 10 + (c - '0');
  }
  *out = v;
  return true;
}

// Renames the nested fields of `expr` (of Spark type `type`) from physical to logical names
// (column mapping): structs through struct_pack, arrays and maps through list_transform.
std::string MapNested(const std::string& expr, simdjson::dom::element type, int depth) {
  std::string_view kind;
  if (type.is_string() || type["type"].get_string().get(kind)) return expr;
  std::string var = "__x" + std::to_string(depth);
  if (kind == "struct") {
    simdjson::dom::array fields;
    if (type["fields"].get_array().get(fields)) return expr;
    std::string out = "CASE WHEN " + expr + " IS NULL THEN NULL ELSE struct_pack(";
    bool first = true;
    for (auto f : fields) {
      std::string_view name, phys;
      if (f["name"].get_string().get(name)) return expr;
      if (f["metadata"]["delta.columnMapping.physicalName"].get_string().get(phys)) phys = name;
      out +=
          (first ? "" : ", ") + duck::QuoteIdentifier(std::string(name)) + " := " +
          MapNested("struct_extract(" + expr + ", " + duck::QuoteLiteral(std::string(phys)) + ")",
                    f["type"], depth + 1);
      first = false;
    }
    return out + ") END";
  }
  if (kind == "array") {
    return "list_transform(" + expr + ", " + var + " -> " +
           MapNested(var, type["elementType"], depth + 1) + ")";
  }
  if (kind == "map") {
    return "map_from_entries(list_transform(map_entries(" + expr + "), " + var +
           " -> struct_pack(key := " + MapNested(var + ".key", type["keyType"], depth + 1) +
           ", value := " + MapNested(var + ".value", type["valueType"], depth + 1) + ")))";
  }
  return expr;
}

}  // namespace

Result<std::vector<ScanColumn>> ScanColumns(const delta::Snapshot& snapshot) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  const std::string& schema = snapshot.metadata().schema_string;
  if (parser.parse(schema).get(doc))
    return InvalidArgument("table " + snapshot.table_path() + ": schemaString is not JSON");
  simdjson::dom::array fields;
  if (doc["fields"].get_array().get(fields))
    return InvalidArgument("table " + snapshot.table_path() + ": schemaString has no fields");
  bool mapped = snapshot.column_mapping_mode() != "none";
  std::set<std::string> partitions(snapshot.partition_columns().begin(),
                                   snapshot.partition_columns().end());
  std::vector<ScanColumn> out;
  for (auto f : fields) {
    ScanColumn c;
    std::string_view name;
    if (f["name"].get_string().get(name))
      return InvalidArgument("table " + snapshot.table_path() + ": a field has no name");
    c.name = std::string(name);
    c.physical_name = c.name;
    if (mapped) {
      std::string_view phys;
      if (!f["metadata"]["delta.columnMapping.physicalName"].get_string().get(phys))
        c.physical_name = std::string(phys);
    }
    std::string_view type;
    if (!f["type"].get_string().get(type)) {
      c.delta_type = std::string(type);
      c.duck_type = DuckTypeOf(c.delta_type);
    } else {
      c.delta_type = simdjson::minify(f["type"]);
    }
    c.is_partition = partitions.count(c.name) > 0;
    out.push_back(std::move(c));
  }
  return out;
}

std::string ParquetSource(const delta::Snapshot& snapshot, const std::vector<delta::AddFile>& files,
                          bool with_file_columns) {
  std::vector<std::string> paths;
  paths.reserve(files.size());
  bool any_dv = false;
  for (const auto& f : files) {
    paths.push_back(delta::ResolveDataPath(snapshot.table_path(), f.path));
    any_dv |= f.deletion_vector.has_value();
  }
  std::string out = "read_parquet(" + SqlList(paths) + ", union_by_name = true";
  if (with_file_columns) out += ", filename = true";
  if (with_file_columns && any_dv) out += ", file_row_number = true";
  return out + ")";
}

Result<std::string> BuildScanSql(const delta::Snapshot& snapshot,
                                 const std::vector<delta::AddFile>& files,
                                 const std::set<std::string>& present_columns) {
  STRATA_ASSIGN_OR_RETURN(std::vector<ScanColumn> columns, ScanColumns(snapshot));
  auto typed_null = [](const ScanColumn& c) {
    return "CAST(NULL AS " + (c.duck_type.empty() ? std::string("VARCHAR") : c.duck_type) +
           ") AS " + duck::QuoteIdentifier(c.name);
  };
  if (files.empty()) {
    std::string sql = "SELECT ";
    for (size_t i = 0; i < columns.size(); ++i) sql += (i ? ", " : "") + typed_null(columns[i]);
    return sql + " LIMIT 0";
  }
  std::vector<const ScanColumn*> partition_cols;
  bool mapped = snapshot.column_mapping_mode() != "none";
  std::string sql = "SELECT ";
  for (size_t i = 0; i < columns.size(); ++i) {
    const ScanColumn& c = columns[i];
    if (i) sql += ", ";
    std::string out = duck::QuoteIdentifier(c.name);
    if (c.is_partition) {
      std::string p = "p.__strata_p" + std::to_string(partition_cols.size());
      partition_cols.push_back(&c);
      if (c.duck_type == "BLOB") {
        sql += "encode(" + p + ") AS " + out;
      } else {
        sql +=
            "CAST(" + p + " AS " + (c.duck_type.empty() ? "VARCHAR" : c.duck_type) + ") AS " + out;
      }
    } else if (present_columns.count(c.physical_name)) {
      std::string ref = "t." + duck::QuoteIdentifier(c.physical_name);
      if (c.duck_type.empty() && mapped) {
        simdjson::dom::parser parser;
        simdjson::dom::element type;
        if (!parser.parse(c.delta_type).get(type)) ref = MapNested(ref, type, 0);
      }
      sql += c.duck_type.empty() ? ref + " AS " + out
                                 : "CAST(" + ref + " AS " + c.duck_type + ") AS " + out;
    } else {
      sql += typed_null(c);
    }
  }
  bool any_dv = false;
  for (const auto& f : files) any_dv |= f.deletion_vector.has_value();
  sql += " FROM " + ParquetSource(snapshot, files, !partition_cols.empty() || any_dv) + " AS t";
  if (!partition_cols.empty()) {
    sql += " JOIN (VALUES ";
    for (size_t i = 0; i < files.size(); ++i) {
      const auto& f = files[i];
      sql += (i ? ", (" : "(") +
             duck::QuoteLiteral(delta::ResolveDataPath(snapshot.table_path(), f.path));
      for (const ScanColumn* c : partition_cols) {
        auto it = f.partition_values.find(c->physical_name);
        if (it == f.partition_values.end()) it = f.partition_values.find(c->name);
        bool null = it == f.partition_values.end() || !it->second ||
                    (it->second->empty() && c->duck_type != "VARCHAR");
        sql += ", ";
        sql += null ? "NULL::VARCHAR" : duck::QuoteLiteral(*it->second);
      }
      sql += ")";
    }
    sql += ") AS p(__strata_file";
    for (size_t k = 0; k < partition_cols.size(); ++k) sql += ", __strata_p" + std::to_string(k);
    sql += ") ON t.filename = p.__strata_file";
  }
  std::string deleted;
  for (const auto& f : files) {
    if (!f.deletion_vector) continue;
    STRATA_ASSIGN_OR_RETURN(std::vector<uint64_t> rows,
                            ReadDeletionVector(snapshot.table_path(), *f.deletion_vector));
    if (rows.empty()) continue;
    deleted += deleted.empty() ? "(" : ", (";
    deleted += duck::QuoteLiteral(delta::ResolveDataPath(snapshot.table_path(), f.path)) + ", [";
    for (size_t k = 0; k < rows.size(); ++k) {
      if (k) deleted += ",";
      deleted += std::to_string(rows[k]);
    }
    deleted += "]::BIGINT[])";
  }
  if (!deleted.empty()) {
    sql += " ANTI JOIN (SELECT f AS __strata_dv_file, unnest(r) AS __strata_dv_row FROM (VALUES " +
           deleted +
           ") AS dv(f, r)) AS d ON t.filename = d.__strata_dv_file AND t.file_row_number = "
           "d.__strata_dv_row";
  }
  return sql;
}

Result<std::string> ScanSql(duck::Connection* conn, const delta::Snapshot& snapshot,
                            const std::vector<delta::AddFile>& files) {
  std::set<std::string> present;
  if (!files.empty()) {
    STRATA_ASSIGN_OR_RETURN(duck::Result described, conn->Query("DESCRIBE SELECT * FROM " +
                                                                ParquetSource(snapshot, files)));
    for (size_t r = 0; r < described.row_count(); ++r) present.insert(described.GetString(0, r));
  }
  return BuildScanSql(snapshot, files, present);
}

Status RegisterSnapshot(sql::SqlEngine* engine, const std::string& qualified_name,
                        const delta::Snapshot& snapshot, const std::vector<delta::AddFile>& files) {
  std::vector<std::string> parts;
  size_t start = 0;
  while (true) {
    size_t dot = qualified_name.find('.', start);
    parts.push_back(qualified_name.substr(start, dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  if (parts.size() > 3)
    return InvalidArgument("table name '" + qualified_name + "' has more than three parts");
  for (const auto& p : parts)
    if (p.empty()) return InvalidArgument("table name '" + qualified_name + "' has an empty part");
  sql::QueryOptions script;
  script.read_only = false;
  script.row_limit = 0;
  std::set<std::string> present;
  if (!files.empty()) {
    STRATA_ASSIGN_OR_RETURN(
        sql::QueryResult described,
        engine->Execute("DESCRIBE SELECT * FROM " + ParquetSource(snapshot, files), script));
    for (const auto& row : described.rows)
      if (!row.empty() && row[0]) present.insert(*row[0]);
  }
  STRATA_ASSIGN_OR_RETURN(std::string select, BuildScanSql(snapshot, files, present));
  std::string quoted;
  for (size_t i = 0; i < parts.size(); ++i)
    quoted += (i ? "." : "") + duck::QuoteIdentifier(parts[i]);
  std::string text;
  if (parts.size() == 3)
    text += "ATTACH IF NOT EXISTS ':memory:' AS " + duck::QuoteIdentifier(parts[0]) + "; ";
  if (parts.size() >= 2) {
    text += "CREATE SCHEMA IF NOT EXISTS " + duck::QuoteIdentifier(parts[0]);
    if (parts.size() == 3) text += "." + duck::QuoteIdentifier(parts[1]);
    text += "; ";
  }
  text += "CREATE OR REPLACE VIEW " + quoted + " AS " + select;
  auto done = engine->Execute(text, script);
  if (!done.ok()) return done.status().WithContext("registering table " + qualified_name);
  return Status::OK();
}

std::optional<int64_t> ParseTimestampMicros(std::string_view s) {
  int64_t y, mo, d;
  if (!ReadDigits(s, 0, 4, &y) || s.size() < 10 || s[4] != '-' || !ReadDigits(s, 5, 2, &mo) ||
      s[7] != '-' || !ReadDigits(s, 8, 2, &d) || mo < 1 || mo > 12 || d < 1 || d > 31)
    return std::nullopt;
  int64_t us =
      DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * kMicrosPerDay;
  if (s.size() == 10) return us;
  if (s[10] != ' ' && s[10] != 'T') return std::nullopt;
  int64_t h, mi, sec;
  if (!ReadDigits(s, 11, 2, &h) || s.size() < 19 || s[13] != ':' || !ReadDigits(s, 14, 2, &mi) ||
      s[16] != ':' || !ReadDigits(s, 17, 2, &sec))
    return std::nullopt;
  us += ((h * 60 + mi) * 60 + sec) * 1000000;
  size_t pos = 19;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int64_t frac = 0;
    int digits = 0;
    while (pos < s.size() && std::isdigit(static_cast<unsigned char>(s[pos]))) {
      if (digits < 6) {
        frac = frac * 10 + (s[pos] - '0');
        ++digits;
      }
      ++pos;
    }
    while (digits < 6) {
      frac *= 10;
      ++digits;
    }
    us += frac;
  }
  if (pos == s.size()) return us;
  if (s[pos] == 'Z' && pos + 1 == s.size()) return us;
  if ((s[pos] == '+' || s[pos] == '-') && s.size() == pos + 6 && s[pos + 3] == ':') {
    int64_t oh, om;
    if (!ReadDigits(s, pos + 1, 2, &oh) || !ReadDigits(s, pos + 4, 2, &om)) return std::nullopt;
    int64_t off = (oh * 60 + om) * 60 * 1000000;
    return s[pos] == '+' ? us - off : us + off;
  }
  return std::nullopt;
}

Result<std::vector<delta::AddFile>> PruneFiles(const delta::Snapshot& snapshot,
                                               const TimeRange& range) {
  STRATA_ASSIGN_OR_RETURN(std::vector<ScanColumn> columns, ScanColumns(snapshot));
  const ScanColumn* col = nullptr;
  for (const auto& c : columns)
    if (c.name == range.column) col = &c;
  if (!col)
    return InvalidArgument("column '" + range.column + "' is not in table " +
                           snapshot.table_path());
  bool is_date = col->delta_type == "date";
  // True when the closed interval [lo, hi] may intersect [min_us, max_us).
  auto overlaps = [&](int64_t lo, int64_t hi) {
    if (range.min_us && hi < *range.min_us) return false;
    if (range.max_us && lo >= *range.max_us) return false;
    return true;
  };
  std::vector<delta::AddFile> out;
  simdjson::dom::parser parser;
  for (const auto& f : snapshot.files()) {
    if (col->is_partition) {
      auto it = f.partition_values.find(col->physical_name);
      if (it == f.partition_values.end()) it = f.partition_values.find(col->name);
      if (it != f.partition_values.end() && (!it->second || it->second->empty())) continue;
      if (it != f.partition_values.end()) {
        auto v = ParseTimestampMicros(*it->second);
        if (v && !overlaps(*v, is_date ? *v + kMicrosPerDay - 1 : *v)) continue;
      }
      out.push_back(f);
      continue;
    }
    if (!f.stats) {
      out.push_back(f);
      continue;
    }
    simdjson::dom::element stats;
    if (parser.parse(*f.stats).get(stats)) {
      out.push_back(f);
      continue;
    }
    int64_t num_records = -1, null_count = -1;
    if (!stats["numRecords"].get_int64().get(num_records) &&
        !stats["nullCount"][col->physical_name].get_int64().get(null_count) &&
        num_records == null_count) {
      continue;  // every row is null: no row satisfies a range predicate
    }
    std::string_view min_s, max_s;
    if (stats["minValues"][col->physical_name].get_string().get(min_s) ||
        stats["maxValues"][col->physical_name].get_string().get(max_s)) {
      out.push_back(f);
      continue;
    }
    auto lo = ParseTimestampMicros(min_s);
    auto hi = ParseTimestampMicros(max_s);
    if (!lo || !hi) {
      out.push_back(f);
      continue;
    }
    // Timestamp stats are truncated to milliseconds: the true max may lie up to 999 us above.
    int64_t hi_bound = is_date ? *hi + kMicrosPerDay - 1 : *hi + 999;
    if (overlaps(*lo, hi_bound)) out.push_back(f);
  }
  return out;
}

}  // namespace strata::delta
