#include "lake/delta/actions.h"

#include <simdjson.h>

#include "core/json_writer.h"

namespace strata::delta {
namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string Where(const std::string& file, int64_t version) {
  return file + " (version " + std::to_string(version) + ")";
}

bool IsNull(const element& e) {
  return e.type() == simdjson::dom::element_type::NULL_VALUE;
}

// Looks up `key`; absent and JSON null both give false.
bool Get(const object& o, std::string_view key, element* out) {
  if (o.at_key(key).get(*out)) return false;
  return !IsNull(*out);
}

std::optional<std::string> OptString(const object& o, std::string_view key) {
  element e;
  std::string_view s;
  if (!Get(o, key, &e) || e.get_string().get(s)) return std::nullopt;
  return std::string(s);
}

std::optional<int64_t> OptInt(const object& o, std::string_view key) {
  element e;
  if (!Get(o, key, &e)) return std::nullopt;
  int64_t v;
  if (!e.get_int64().get(v)) return v;
  uint64_t u;
  if (!e.get_uint64().get(u)) return static_cast<int64_t>(u);
  double d;
  if (!e.get_double().get(d)) return static_cast<int64_t>(d);
  std::string_view s;  // some writers quote numbers
  if (!e.get_string().get(s)) {
    try {
      return std::stoll(std::string(s));
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::optional<bool> OptBool(const object& o, std::string_view key) {
  element e;
  bool b;
  if (!Get(o, key, &e) || e.get_bool().get(b)) return std::nullopt;
  return b;
}

// A string map; a non-string value is kept as its JSON text. Accepts both a JSON object and
// DuckDB's list-of-{key,value} form of a MAP.
std::map<std::string, std::optional<std::string>> OptStringMap(const object& o,
                                                               std::string_view key) {
  std::map<std::string, std::optional<std::string>> out;
  element e;
  if (!Get(o, key, &e)) return out;
  auto value_of = [](element v) -> std::optional<std::string> {
    if (IsNull(v)) return std::nullopt;
    std::string_view s;
    if (!v.get_string().get(s)) return std::string(s);
    return simdjson::minify(v);
  };
  object obj;
  if (!e.get_object().get(obj)) {
    for (auto field : obj) out[std::string(field.key)] = value_of(field.value);
    return out;
  }
  simdjson::dom::array arr;
  if (!e.get_array().get(arr)) {
    for (element kv : arr) {
      std::string_view k;
      element v;
      if (kv["key"].get_string().get(k)) continue;
      if (kv["value"].get(v)) continue;
      out[std::string(k)] = value_of(v);
    }
  }
  return out;
}

std::map<std::string, std::string> StringMap(const object& o, std::string_view key) {
  std::map<std::string, std::string> out;
  for (auto& [k, v] : OptStringMap(o, key)) {
    if (v) out[k] = *v;
  }
  return out;
}

std::optional<std::vector<std::string>> OptStringList(const object& o, std::string_view key) {
  element e;
  simdjson::dom::array arr;
  if (!Get(o, key, &e) || e.get_array().get(arr)) return std::nullopt;
  std::vector<std::string> out;
  for (element x : arr) {
    std::string_view s;
    if (!x.get_string().get(s)) out.emplace_back(s);
  }
  return out;
}

Result<std::string> RequiredString(const object& o, std::string_view key, std::string_view action,
                                   const std::string& where) {
  auto v = OptString(o, key);
  if (!v) {
    return Corruption("action " + std::string(action) + " without string field '" +
                      std::string(key) + "' in " + where);
  }
  return *v;
}

std::optional<DeletionVector> OptDeletionVector(const object& o) {
  element e;
  object dv;
  if (!Get(o, "deletionVector", &e) || e.get_object().get(dv)) return std::nullopt;
  DeletionVector out;
  out.storage_type = OptString(dv, "storageType").value_or("");
  out.path_or_inline_dv = OptString(dv, "pathOrInlineDv").value_or("");
  if (auto off = OptInt(dv, "offset")) out.offset = static_cast<int32_t>(*off);
  out.size_in_bytes = static_cast<int32_t>(OptInt(dv, "sizeInBytes").value_or(0));
  out.cardinality = OptInt(dv, "cardinality").value_or(0);
  if (out.storage_type.empty() && out.path_or_inline_dv.empty()) return std::nullopt;
  return out;
}

Result<Action> ParseAdd(const object& o, const std::string& where) {
  AddFile a;
  STRATA_ASSIGN_OR_RETURN(a.path, RequiredString(o, "path", "add", where));
  a.partition_values = OptStringMap(o, "partitionValues");
  a.size = OptInt(o, "size").value_or(0);
  a.modification_time = OptInt(o, "modificationTime").value_or(0);
  a.data_change = OptBool(o, "dataChange").value_or(true);
  a.stats = OptString(o, "stats");
  element parsed;
  if (!a.stats && Get(o, "stats_parsed", &parsed)) a.stats = simdjson::minify(parsed);
  a.tags = StringMap(o, "tags");
  a.deletion_vector = OptDeletionVector(o);
  a.base_row_id = OptInt(o, "baseRowId");
  a.default_row_commit_version = OptInt(o, "defaultRowCommitVersion");
  a.clustering_provider = OptString(o, "clusteringProvider");
  return Action(std::move(a));
}

Result<Action> ParseRemove(const object& o, const std::string& where) {
  RemoveFile r;
  STRATA_ASSIGN_OR_RETURN(r.path, RequiredString(o, "path", "remove", where));
  r.deletion_timestamp = OptInt(o, "deletionTimestamp");
  r.data_change = OptBool(o, "dataChange").value_or(true);
  r.extended_file_metadata = OptBool(o, "extendedFileMetadata");
  element pv;
  if (Get(o, "partitionValues", &pv)) r.partition_values = OptStringMap(o, "partitionValues");
  r.size = OptInt(o, "size");
  r.tags = StringMap(o, "tags");
  r.deletion_vector = OptDeletionVector(o);
  r.base_row_id = OptInt(o, "baseRowId");
  r.default_row_commit_version = OptInt(o, "defaultRowCommitVersion");
  return Action(std::move(r));
}

Result<Action> ParseMetadata(const object& o, const std::string& where) {
  Metadata m;
  STRATA_ASSIGN_OR_RETURN(m.id, RequiredString(o, "id", "metaData", where));
  m.name = OptString(o, "name");
  m.description = OptString(o, "description");
  element fe;
  object format;
  if (Get(o, "format", &fe) && !fe.get_object().get(format)) {
    m.format_provider = OptString(format, "provider").value_or("parquet");
    m.format_options = StringMap(format, "options");
  }
  // Some early writers (and log-only test tables) omit schemaString; schema() reports that.
  m.schema_string = OptString(o, "schemaString").value_or("");
  m.partition_columns = OptStringList(o, "partitionColumns").value_or(std::vector<std::string>{});
  m.configuration = StringMap(o, "configuration");
  m.created_time = OptInt(o, "createdTime");
  return Action(std::move(m));
}

Result<Action> ParseProtocol(const object& o, const std::string& where) {
  Protocol p;
  auto r = OptInt(o, "minReaderVersion");
  auto w = OptInt(o, "minWriterVersion");
  if (!r || !w)
    return Corruption("protocol action without minReaderVersion/minWriterVersion in " + where);
  p.min_reader_version = static_cast<int32_t>(*r);
  p.min_writer_version = static_cast<int32_t>(*w);
  p.reader_features = OptStringList(o, "readerFeatures");
  p.writer_features = OptStringList(o, "writerFeatures");
  return Action(std::move(p));
}

Result<Action> ParseCommitInfo(const object& o) {
  CommitInfo c;
  c.timestamp = OptInt(o, "timestamp");
  c.in_commit_timestamp = OptInt(o, "inCommitTimestamp");
  c.operation = OptString(o, "operation").value_or("");
  c.operation_parameters = StringMap(o, "operationParameters");
  c.operation_metrics = StringMap(o, "operationMetrics");
  c.engine_info = OptString(o, "engineInfo");
  c.is_blind_append = OptBool(o, "isBlindAppend");
  c.read_version = OptInt(o, "readVersion");
  c.txn_id = OptString(o, "txnId");
  c.raw = simdjson::minify(o);
  return Action(std::move(c));
}

Result<Action> ParseObject(const object& top, const std::string& where) {
  auto it = top.begin();
  if (it == top.end()) return Corruption("empty action object in " + where);
  std::string_view key = it.key();
  object o;
  if (it.value().get_object().get(o)) {
    return Corruption("action '" + std::string(key) + "' is not an object in " + where);
  }
  if (key == "add") return ParseAdd(o, where);
  if (key == "remove") return ParseRemove(o, where);
  if (key == "metaData") return ParseMetadata(o, where);
  if (key == "protocol") return ParseProtocol(o, where);
  if (key == "commitInfo") return ParseCommitInfo(o);
  if (key == "txn") {
    Txn t;
    STRATA_ASSIGN_OR_RETURN(t.app_id, RequiredString(o, "appId", "txn", where));
    auto v = OptInt(o, "version");
    if (!v) return Corruption("txn action without version in " + where);
    t.version = *v;
    t.last_updated = OptInt(o, "lastUpdated");
    return Action(std::move(t));
  }
  if (key == "domainMetadata") {
    DomainMetadata d;
    STRATA_ASSIGN_OR_RETURN(d.domain, RequiredString(o, "domain", "domainMetadata", where));
    d.configuration = OptString(o, "configuration").value_or("");
    d.removed = OptBool(o, "removed").value_or(false);
    return Action(std::move(d));
  }
  if (key == "cdc") {
    AddCdcFile c;
    STRATA_ASSIGN_OR_RETURN(c.path, RequiredString(o, "path", "cdc", where));
    c.size = OptInt(o, "size").value_or(0);
    c.raw = simdjson::minify(o);
    return Action(std::move(c));
  }
  if (key == "checkpointMetadata") {
    CheckpointMetadata c;
    c.version = OptInt(o, "version").value_or(0);
    return Action(c);
  }
  if (key == "sidecar") {
    SidecarFile s;
    STRATA_ASSIGN_OR_RETURN(s.path, RequiredString(o, "path", "sidecar", where));
    s.size_in_bytes = OptInt(o, "sizeInBytes").value_or(0);
    s.modification_time = OptInt(o, "modificationTime").value_or(0);
    return Action(std::move(s));
  }
  return Corruption("unknown action '" + std::string(key) + "' in " + where);
}

Result<Action> ParseWith(simdjson::dom::parser& parser, std::string_view line,
                         const std::string& where) {
  element doc;
  if (auto err = parser.parse(line.data(), line.size()).get(doc)) {
    return Corruption("invalid JSON in " + where + ": " + simdjson::error_message(err));
  }
  object top;
  if (doc.get_object().get(top)) return Corruption("action is not a JSON object in " + where);
  return ParseObject(top, where);
}

void WriteStringMap(JsonWriter& w, const std::map<std::string, std::string>& m) {
  w.BeginObject();
  for (const auto& [k, v] : m) w.Key(k).String(v);
  w.EndObject();
}

void WritePartitionValues(JsonWriter& w, const PartitionValues& m) {
  w.BeginObject();
  for (const auto& [k, v] : m) {
    w.Key(k);
    if (v) {
      w.String(*v);
    } else {
      w.Null();
    }
  }
  w.EndObject();
}

void WriteDeletionVector(JsonWriter& w, const DeletionVector& dv) {
  w.BeginObject();
  w.Key("storageType").String(dv.storage_type);
  w.Key("pathOrInlineDv").String(dv.path_or_inline_dv);
  if (dv.offset) w.Key("offset").Int(*dv.offset);
  w.Key("sizeInBytes").Int(dv.size_in_bytes);
  w.Key("cardinality").Int(dv.cardinality);
  w.EndObject();
}

void WriteStringList(JsonWriter& w, const std::vector<std::string>& v) {
  w.BeginArray();
  for (const auto& s : v) w.String(s);
  w.EndArray();
}

struct Serializer {
  JsonWriter& w;

  void operator()(const Protocol& p) {
    w.Key("protocol").BeginObject();
    w.Key("minReaderVersion").Int(p.min_reader_version);
    w.Key("minWriterVersion").Int(p.min_writer_version);
    if (p.reader_features) WriteStringList(w.Key("readerFeatures"), *p.reader_features);
    if (p.writer_features) WriteStringList(w.Key("writerFeatures"), *p.writer_features);
    w.EndObject();
  }
  void operator()(const Metadata& m) {
    w.Key("metaData").BeginObject();
    w.Key("id").String(m.id);
    if (m.name) w.Key("name").String(*m.name);
    if (m.description) w.Key("description").String(*m.description);
    w.Key("format").BeginObject();
    w.Key("provider").String(m.format_provider);
    WriteStringMap(w.Key("options"), m.format_options);
    w.EndObject();
    w.Key("schemaString").String(m.schema_string);
    WriteStringList(w.Key("partitionColumns"), m.partition_columns);
    WriteStringMap(w.Key("configuration"), m.configuration);
    if (m.created_time) w.Key("createdTime").Int(*m.created_time);
    w.EndObject();
  }
  void operator()(const AddFile& a) {
    w.Key("add").BeginObject();
    w.Key("path").String(a.path);
    WritePartitionValues(w.Key("partitionValues"), a.partition_values);
    w.Key("size").Int(a.size);
    w.Key("modificationTime").Int(a.modification_time);
    w.Key("dataChange").Bool(a.data_change);
    if (a.stats) w.Key("stats").String(*a.stats);
    if (!a.tags.empty()) WriteStringMap(w.Key("tags"), a.tags);
    if (a.deletion_vector) WriteDeletionVector(w.Key("deletionVector"), *a.deletion_vector);
    if (a.base_row_id) w.Key("baseRowId").Int(*a.base_row_id);
    if (a.default_row_commit_version) {
      w.Key("defaultRowCommitVersion").Int(*a.default_row_commit_version);
    }
    if (a.clustering_provider) w.Key("clusteringProvider").String(*a.clustering_provider);
    w.EndObject();
  }
  void operator()(const RemoveFile& r) {
    w.Key("remove").BeginObject();
    w.Key("path").String(r.path);
    if (r.deletion_timestamp) w.Key("deletionTimestamp").Int(*r.deletion_timestamp);
    w.Key("dataChange").Bool(r.data_change);
    if (r.extended_file_metadata) w.Key("extendedFileMetadata").Bool(*r.extended_file_metadata);
    if (r.partition_values) WritePartitionValues(w.Key("partitionValues"), *r.partition_values);
    if (r.size) w.Key("size").Int(*r.size);
    if (!r.tags.empty()) WriteStringMap(w.Key("tags"), r.tags);
    if (r.deletion_vector) WriteDeletionVector(w.Key("deletionVector"), *r.deletion_vector);
    if (r.base_row_id) w.Key("baseRowId").Int(*r.base_row_id);
    if (r.default_row_commit_version) {
      w.Key("defaultRowCommitVersion").Int(*r.default_row_commit_version);
    }
    w.EndObject();
  }
  void operator()(const Txn& t) {
    w.Key("txn").BeginObject();
    w.Key("appId").String(t.app_id);
    w.Key("version").Int(t.version);
    if (t.last_updated) w.Key("lastUpdated").Int(*t.last_updated);
    w.EndObject();
  }
  void operator()(const CommitInfo& c) {
    w.Key("commitInfo").BeginObject();
    if (c.in_commit_timestamp) w.Key("inCommitTimestamp").Int(*c.in_commit_timestamp);
    if (c.timestamp) w.Key("timestamp").Int(*c.timestamp);
    w.Key("operation").String(c.operation);
    WriteStringMap(w.Key("operationParameters"), c.operation_parameters);
    if (c.read_version) w.Key("readVersion").Int(*c.read_version);
    if (c.is_blind_append) w.Key("isBlindAppend").Bool(*c.is_blind_append);
    if (!c.operation_metrics.empty())
      WriteStringMap(w.Key("operationMetrics"), c.operation_metrics);
    if (c.engine_info) w.Key("engineInfo").String(*c.engine_info);
    if (c.txn_id) w.Key("txnId").String(*c.txn_id);
    w.EndObject();
  }
  void operator()(const DomainMetadata& d) {
    w.Key("domainMetadata").BeginObject();
    w.Key("domain").String(d.domain);
    w.Key("configuration").String(d.configuration);
    w.Key("removed").Bool(d.removed);
    w.EndObject();
  }
  void operator()(const AddCdcFile& c) { w.Key("cdc").Raw(c.raw); }
  void operator()(const CheckpointMetadata& c) {
    w.Key("checkpointMetadata").BeginObject().Key("version").Int(c.version).EndObject();
  }
  void operator()(const SidecarFile& s) {
    w.Key("sidecar").BeginObject();
    w.Key("path").String(s.path);
    w.Key("sizeInBytes").Int(s.size_in_bytes);
    w.Key("modificationTime").Int(s.modification_time);
    w.EndObject();
  }
};

}  // namespace

std::string DeletionVector::UniqueId() const {
  std::string id = storage_type + path_or_inline_dv;
  if (offset) id += "@" + std::to_string(*offset);
  return id;
}

Result<Action> ParseAction(std::string_view line, const std::string& file, int64_t version) {
  simdjson::dom::parser parser;
  return ParseWith(parser, line, Where(file, version));
}

Result<std::vector<Action>> ParseActions(std::string_view content, const std::string& file,
                                         int64_t version) {
  simdjson::dom::parser parser;
  std::vector<Action> out;
  size_t pos = 0;
  int line_no = 0;
  while (pos < content.size()) {
    size_t end = content.find('\n', pos);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
    auto action =
        ParseWith(parser, line, Where(file, version) + " line " + std::to_string(line_no));
    if (!action.ok()) return action.status();
    out.push_back(std::move(action).value());
  }
  return out;
}

std::string SerializeAction(const Action& action) {
  JsonWriter w;
  w.BeginObject();
  std::visit(Serializer{w}, action);
  w.EndObject();
  return w.Take();
}

std::string SerializeActions(const std::vector<Action>& actions) {
  std::string out;
  for (const auto& a : actions) {
    out += SerializeAction(a);
    out.push_back('\n');
  }
  return out;
}

}  // namespace strata::delta
