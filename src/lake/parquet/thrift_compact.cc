#include "lake/parquet/thrift_compact.h"

#include <cassert>

namespace strata::thrift {

void CompactWriter::Varint(uint64_t v) {
  char buf[10];
  int n = 0;
  while (v >= 0x80) {
    buf[n++] = static_cast<char>((v & 0x7F) | 0x80);
    v >>= 7;
  }
  buf[n++] = static_cast<char>(v);
  out_->append(buf, static_cast<size_t>(n));
}

void CompactWriter::FieldHeader(int16_t id, CType type) {
  assert(!last_ids_.empty());
  int16_t& last = last_ids_.back();
  assert(id > last);
  int delta = id - last;
  if (delta > 0 && delta <= 15) {
    out_->push_back(static_cast<char>((delta << 4) | static_cast<int>(type)));
  } else {
    // Long form: the type alone, then the field id as a zigzag varint i16.
    out_->push_back(static_cast<char>(type));
    Varint(ZigZag32(id));
  }
  last = id;
}

void CompactWriter::BeginStruct() {
  last_ids_.push_back(0);
}

void CompactWriter::EndStruct() {
  assert(!last_ids_.empty());
  out_->push_back(0);  // field stop
  last_ids_.pop_back();
}

void CompactWriter::FieldI32(int16_t id, int32_t v) {
  FieldHeader(id, CType::kI32);
  Varint(ZigZag32(v));
}

void CompactWriter::FieldI64(int16_t id, int64_t v) {
  FieldHeader(id, CType::kI64);
  Varint(ZigZag64(v));
}

void CompactWriter::FieldBool(int16_t id, bool v) {
  // A bool field carries its value in the header's type nibble.
  FieldHeader(id, v ? CType::kBoolTrue : CType::kBoolFalse);
}

void CompactWriter::FieldBinary(int16_t id, std::string_view v) {
  FieldHeader(id, CType::kBinary);
  ListBinary(v);
}

void CompactWriter::ListBinary(std::string_view v) {
  Varint(v.size());
  out_->append(v.data(), v.size());
}

void CompactWriter::FieldStructBegin(int16_t id) {
  FieldHeader(id, CType::kStruct);
  BeginStruct();
}

void CompactWriter::FieldListBegin(int16_t id, CType elem, uint32_t size) {
  FieldHeader(id, CType::kList);
  if (size < 15) {
    out_->push_back(static_cast<char>((size << 4) | static_cast<uint32_t>(elem)));
  } else {
    out_->push_back(static_cast<char>(0xF0 | static_cast<uint32_t>(elem)));
    Varint(size);
  }
}

}  // namespace strata::thrift
