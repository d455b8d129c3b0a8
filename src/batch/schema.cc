#include "batch/schema.h"

#include <simdjson.h>

#include <algorithm>

#include "core/json_writer.h"

namespace strata {

const char* DeltaTypeName(TypeId type) {
  switch (type) {
    case TypeId::kBool:
      return "boolean";
    case TypeId::kInt32:
      return "integer";
    case TypeId::kInt64:
      return "long";
    case TypeId::kDouble:
      return "double";
    case TypeId::kString:
      return "string";
    case TypeId::kBinary:
      return "binary";
    case TypeId::kTimestamp:
      return "timestamp";
    case TypeId::kDate:
      return "date";
  }
  return "unknown";
}

Result<TypeId> TypeFromDeltaName(const std::string& name) {
  if (name == "boolean") return TypeId::kBool;
  if (name == "integer") return TypeId::kInt32;
  if (name == "long") return TypeId::kInt64;
  if (name == "double") return TypeId::kDouble;
  if (name == "string") return TypeId::kString;
  if (name == "binary") return TypeId::kBinary;
  if (name == "timestamp") return TypeId::kTimestamp;
  if (name == "date") return TypeId::kDate;
  return NotSupported("column type '" + name + "' is not supported by strata's columnar batches");
}

bool IsFixedWidth(TypeId type) {
  return type != TypeId::kString && type != TypeId::kBinary;
}

int Schema::IndexOf(const std::string& name) const {
  for (size_t i = 0; i < fields_.size(); ++i)
    if (fields_[i].name == name) return static_cast<int>(i);
  return -1;
}

std::string Schema::ToSparkJson() const {
  JsonWriter w;
  w.BeginObject().Key("type").String("struct").Key("fields").BeginArray();
  for (const auto& f : fields_) {
    w.BeginObject();
    w.Key("name").String(f.name);
    w.Key("type").String(DeltaTypeName(f.type));
    w.Key("nullable").Bool(f.nullable);
    w.Key("metadata").BeginObject().EndObject();
    w.EndObject();
  }
  w.EndArray().EndObject();
  return w.Take();
}

Result<Schema> Schema::FromSparkJson(const std::string& json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc)) return Corruption("schema is not valid JSON");
  simdjson::dom::array fields;
  if (doc["fields"].get_array().get(fields)) return Corruption("schema has no fields array");
  std::vector<Field> out;
  for (simdjson::dom::element f : fields) {
    std::string_view name, type;
    bool nullable = true;
    if (f["name"].get_string().get(name)) return Corruption("schema field without a name");
    if (f["type"].get_string().get(type))
      return NotSupported("field '" + std::string(name) + "' has a nested type");
    if (f["nullable"].get_bool().get(nullable)) nullable = true;  // absent: nullable
    STRATA_ASSIGN_OR_RETURN(TypeId t, TypeFromDeltaName(std::string(type)));
    out.push_back(Field{std::string(name), t, nullable});
  }
  return Schema(std::move(out));
}

Schema Schema::Project(const std::vector<std::string>& names) const {
  std::vector<Field> kept;
  for (const Field& f : fields_)
    if (std::find(names.begin(), names.end(), f.name) != names.end()) kept.push_back(f);
  return Schema(std::move(kept));
}

std::vector<int> Schema::IndicesOf(const Schema& part) const {
  std::vector<int> indices;
  indices.reserve(part.num_fields());
  for (const Field& f : part.fields()) {
    int i = IndexOf(f.name);
    if (i < 0 || fields_[static_cast<size_t>(i)].type != f.type) return {};
    indices.push_back(i);
  }
  return indices;
}

bool Schema::operator==(const Schema& other) const {
  if (fields_.size() != other.fields_.size()) return false;
  for (size_t i = 0; i < fields_.size(); ++i) {
    if (fields_[i].name != other.fields_[i].name || fields_[i].type != other.fields_[i].type ||
        fields_[i].nullable != other.fields_[i].nullable)
      return false;
  }
  return true;
}

}  // namespace strata
