#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "core/hash.h"
#include "core/status.h"

namespace strata::state_codec {

// Little-endian encoding helpers shared by the operators' state blobs. Every blob is
//   magic (4 bytes) | version (u8) | body ... | checksum (u64, HashBytes of all bytes before it)
// so that a torn or foreign file is reported as Corruption rather than misread. Strings are
// u32 length + bytes. Integers are little-endian, signed ones two's complement.

class Writer {
 public:
  Writer(const char magic[4], uint8_t version) {
    out_.append(magic, 4);
    U8(version);
  }
  void U8(uint8_t v) { out_.push_back(static_cast<char>(v)); }
  void U32(uint32_t v) { Raw(&v, 4); }
  void U64(uint64_t v) { Raw(&v, 8); }
  void I32(int32_t v) { Raw(&v, 4); }
  void I64(int64_t v) { Raw(&v, 8); }
  void Bytes(std::string_view s) {
    U32(static_cast<uint32_t>(s.size()));
    out_.append(s.data(), s.size());
  }
  std::string* buffer() { return &out_; }
  // Appends the checksum and returns the blob.
  std::string Finish() {
    U64(HashBytes(out_));
    return std::move(out_);
  }

 private:
  void Raw(const void* p, size_t n) {
    static_assert(std::endian::native == std::endian::little, "little-endian host assumed");
    out_.append(static_cast<const char*>(p), n);
  }
  std::string out_;
};

// Reads a blob written by Writer. `what` names the blob in error messages.
class Reader {
 public:
  Reader(std::string_view blob, std::string what) : what_(std::move(what)) { blob_ = blob; }

  // Checks magic, version and checksum; positions after the version byte.
  Status Open(const char magic[4], uint8_t version) { return Open(magic, version, version); }
  // The same, accepting any version in [min_version, max_version] (version() tells which).
  Status Open(const char magic[4], uint8_t min_version, uint8_t max_version) {
    if (blob_.size() < 4 + 1 + 8 || std::memcmp(blob_.data(), magic, 4) != 0) {
      return Corruption(what_ + ": bad magic or truncated (" + std::to_string(blob_.size()) +
                        " bytes)");
    }
    uint64_t stored;
    std::memcpy(&stored, blob_.data() + blob_.size() - 8, 8);
    if (HashBytes(blob_.substr(0, blob_.size() - 8)) != stored) {
      return Corruption(what_ + ": checksum mismatch");
    }
    version_ = static_cast<uint8_t>(blob_[4]);
    if (version_ < min_version || version_ > max_version) {
      return Corruption(what_ + ": unsupported version " + std::to_string(version_));
    }
    pos_ = 5;
    end_ = blob_.size() - 8;
    return Status::OK();
  }
  bool U8(uint8_t* v) { return Raw(v, 1); }
  bool U32(uint32_t* v) { return Raw(v, 4); }
  bool U64(uint64_t* v) { return Raw(v, 8); }
  bool I32(int32_t* v) { return Raw(v, 4); }
  bool I64(int64_t* v) { return Raw(v, 8); }
  bool Bytes(std::string_view* s) {
    uint32_t n;
    if (!U32(&n) || end_ - pos_ < n) return false;
    *s = blob_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  size_t remaining() const { return end_ - pos_; }
  bool at_end() const { return pos_ == end_; }
  Status Truncated() const {
    return Corruption(what_ + ": truncated at byte " + std::to_string(pos_));
  }
  const std::string& what() const { return what_; }
  uint8_t version() const { return version_; }

 private:
  bool Raw(void* p, size_t n) {
    if (end_ - pos_ < n) return false;
    std::memcpy(p, blob_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  std::string_view blob_;
  std::string what_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint8_t version_ = 0;
};

}  // namespace strata::state_codec
