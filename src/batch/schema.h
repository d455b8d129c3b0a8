#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/status.h"

namespace strata {

// Logical column types. Physical layout per type is described on Column.
enum class TypeId : uint8_t {
  kBool,       // uint8 0/1
  kInt32,      // int32
  kInt64,      // int64
  kDouble,     // double
  kString,     // UTF-8, offsets + chars
  kBinary,     // bytes, offsets + chars
  kTimestamp,  // int64 microseconds since the epoch, UTC (Delta "timestamp")
  kDate,       // int32 days since the epoch (Delta "date")
};

// Delta/Spark type name: "string", "long", "timestamp", ...
const char* DeltaTypeName(TypeId type);
// Inverse of DeltaTypeName for the primitive types strata writes.
Result<TypeId> TypeFromDeltaName(const std::string& name);
bool IsFixedWidth(TypeId type);

struct Field {
  std::string name;
  TypeId type;
  bool nullable = true;
};

// An ordered list of fields. Immutable once shared; pass as std::shared_ptr<const Schema>.
class Schema {
 public:
  Schema() = default;
  explicit Schema(std::vector<Field> fields) : fields_(std::move(fields)) {}

  const std::vector<Field>& fields() const { return fields_; }
  size_t num_fields() const { return fields_.size(); }
  const Field& field(size_t i) const { return fields_[i]; }
  // -1 when absent.
  int IndexOf(const std::string& name) const;
  // The fields named in `names`, in this schema's order; names it lacks are ignored.
  Schema Project(const std::vector<std::string>& names) const;
  // For each field of `part`, the index of the field of this schema with the same name and
  // type; empty when one is missing.
  std::vector<int> IndicesOf(const Schema& part) const;

  // Spark StructType JSON, as Delta's metaData.schemaString wants it:
  // {"type":"struct","fields":[{"name":..,"type":"string","nullable":true,"metadata":{}}]}
  std::string ToSparkJson() const;
  // Parses a StructType of primitive fields. NotSupported for nested types.
  static Result<Schema> FromSparkJson(const std::string& json);

  bool operator==(const Schema& other) const;

 private:
  std::vector<Field> fields_;
};

using SchemaPtr = std::shared_ptr<const Schema>;

}  // namespace strata
