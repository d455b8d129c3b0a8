#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace strata::thrift {

// Element and field type codes of the Thrift Compact Protocol.
enum class CType : uint8_t {
  kBoolTrue = 1,
  kBoolFalse = 2,
  kByte = 3,
  kI16 = 4,
  kI32 = 5,
  kI64 = 6,
  kDouble = 7,
  kBinary = 8,
  kList = 9,
  kSet = 10,
  kMap = 11,
  kStruct = 12,
};

// Appends Thrift Compact Protocol encodings to a caller-owned byte buffer: enough of the
// protocol for Parquet's page headers and footer (structs with short-form field headers,
// zigzag varint integers, binaries, lists, bools, nested structs).
//
// The caller drives the structure: BeginStruct()/EndStruct() around every struct (the
// outermost one included), one Field*() call per field in increasing field-id order, and for a
// list ListBegin() followed by exactly `size` elements (ListI32/ListBinary for scalars,
// BeginStruct()...EndStruct() for structs). Field ids must increase within a struct; the
// encoder keeps the last id per open struct. Misuse is a programming error (asserted in debug
// builds), not a runtime error. Never allocates beyond growing the output buffer and its small
// struct stack. Not thread-safe.
class CompactWriter {
 public:
  explicit CompactWriter(std::string* out) : out_(out) {}

  void BeginStruct();
  void EndStruct();

  void FieldI32(int16_t id, int32_t v);
  void FieldI64(int16_t id, int64_t v);
  void FieldBool(int16_t id, bool v);
  void FieldBinary(int16_t id, std::string_view v);
  // A nested struct field: write its fields next, then EndStruct().
  void FieldStructBegin(int16_t id);
  // A list field of `size` elements of type `elem`.
  void FieldListBegin(int16_t id, CType elem, uint32_t size);

  // List elements.
  void ListI32(int32_t v) { Varint(ZigZag32(v)); }
  void ListBinary(std::string_view v);

  static uint32_t ZigZag32(int32_t v) {
    return (static_cast<uint32_t>(v) << 1) ^ static_cast<uint32_t>(v >> 31);
  }
  static uint64_t ZigZag64(int64_t v) {
    return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
  }

 private:
  void FieldHeader(int16_t id, CType type);
  void Varint(uint64_t v);

  std::string* out_;
  // Last field id of each open struct, innermost last.
  std::vector<int16_t> last_ids_;
};

}  // namespace strata::thrift
