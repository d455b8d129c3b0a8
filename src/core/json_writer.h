#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata {

// Appends compact JSON to a string. The caller is responsible for well-formed nesting; keys
// and values are escaped. Commas are inserted automatically. Not thread-safe.
//   JsonWriter w; w.BeginObject(); w.Key("a"); w.Int(1); w.EndObject(); w.str() == {"a":1}
class JsonWriter {
 public:
  JsonWriter& BeginObject();
  JsonWriter& EndObject();
  JsonWriter& BeginArray();
  JsonWriter& EndArray();
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& UInt(uint64_t value);
  JsonWriter& Double(double value);  // non-finite values are written as null
  JsonWriter& Bool(bool value);
  JsonWriter& Null();
  // Inserts already-serialized JSON as one value.
  JsonWriter& Raw(std::string_view json);

  const std::string& str() const { return out_; }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue();
  std::string out_;
  std::vector<bool> first_;  // per open container: no element written yet
  bool after_key_ = false;
};

// Appends `s` to `out` as a quoted, escaped JSON string.
void AppendJsonString(std::string& out, std::string_view s);

}  // namespace strata
