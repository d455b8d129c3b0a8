#include "lake/delta/deletion_vector.h"

#include <array>
#include <cstring>

#include "core/file_util.h"
#include "lake/delta/snapshot.h"

namespace strata::delta {
namespace {

constexpr std::string_view kZ85Alphabet =
    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
constexpr uint32_t kRoaringArrayMagic = 1681511377;
constexpr uint32_t kSerialCookieNoRun = 12346;
constexpr uint32_t kSerialCookie = 12347;
constexpr uint32_t kNoOffsetThreshold = 4;

// Little-endian reader over a byte buffer; every read checks bounds.
class Reader {
 public:
  Reader(std::string_view data, const std::string& what) : data_(data), what_(what) {}
  template <typename T>
  Status Read(T* out) {
    if (pos_ + sizeof(T) > data_.size()) {
      return Corruption("deletion vector " + what_ + " is truncated at byte " +
                        std::to_string(pos_));
    }
    T v = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      v |= static_cast<T>(static_cast<T>(static_cast<uint8_t>(data_[pos_ + i])) << (8 * i));
    pos_ += sizeof(T);
    *out = v;
    return Status::OK();
  }
  Status Skip(size_t n) {
    if (pos_ + n > data_.size())
      return Corruption("deletion vector " + what_ + " is truncated at byte " +
                        std::to_string(pos_));
    pos_ += n;
    return Status::OK();
  }

 private:
  std::string_view data_;
  const std::string& what_;
  size_t pos_ = 0;
};

uint32_t Crc32(std::string_view data) {
  static const std::array<uint32_t, 256> table = [] {
    std::array<uint32_t, 256> t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
      t[i] = c;
    }
    return t;
  }();
  uint32_t crc = 0xFFFFFFFFu;
  for (unsigned char ch : data) crc = table[(crc ^ ch) & 0xFF] ^ (crc >> 8);
  return crc ^ 0xFFFFFFFFu;
}

uint32_t BigEndian32(const char* p) {
  return (static_cast<uint32_t>(static_cast<uint8_t>(p[0])) << 24) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[1])) << 16) |
         (static_cast<uint32_t>(static_cast<uint8_t>(p[2])) << 8) |
         static_cast<uint32_t>(static_cast<uint8_t>(p[3]));
}

// One portable 32-bit Roaring bitmap; appends (high << 32 | value) to `out`.
Status ParseRoaring32(Reader& r, uint64_t high, const std::string& what,
                      std::vector<uint64_t>* out) {
  uint32_t cookie = 0;
  STRATA_RETURN_IF_ERROR(r.Read(&cookie));
  uint32_t size = 0;
  bool has_run = false;
  std::vector<uint8_t> run_flags;
  if ((cookie & 0xFFFF) == kSerialCookie) {
    has_run = true;
    size = (cookie >> 16) + 1;
    run_flags.resize((size + 7) / 8);
    for (auto& b : run_flags) STRATA_RETURN_IF_ERROR(r.Read(&b));
  } else if (cookie == kSerialCookieNoRun) {
    STRATA_RETURN_IF_ERROR(r.Read(&size));
  } else {
    return Corruption("deletion vector " + what + " has an unknown Roaring cookie " +
                      std::to_string(cookie));
  }
  std::vector<uint16_t> keys(size), cards(size);
  for (uint32_t i = 0; i < size; ++i) {
    STRATA_RETURN_IF_ERROR(r.Read(&keys[i]));
    STRATA_RETURN_IF_ERROR(r.Read(&cards[i]));
  }
  if (!has_run || size >= kNoOffsetThreshold) STRATA_RETURN_IF_ERROR(r.Skip(4 * size));
  for (uint32_t i = 0; i < size; ++i) {
    uint64_t base = (high << 32) | (static_cast<uint64_t>(keys[i]) << 16);
    uint32_t card = static_cast<uint32_t>(cards[i]) + 1;
    bool is_run = has_run && (run_flags[i / 8] >> (i % 8)) & 1;
    if (is_run) {
      uint16_t runs = 0;
      STRATA_RETURN_IF_ERROR(r.Read(&runs));
      for (uint16_t k = 0; k < runs; ++k) {
        uint16_t start = 0, len = 0;
        STRATA_RETURN_IF_ERROR(r.Read(&start));
        STRATA_RETURN_IF_ERROR(r.Read(&len));
        for (uint32_t v = start; v <= static_cast<uint32_t>(start) + len; ++v)
          out->push_back(base | v);
      }
    } else if (card <= 4096) {
      for (uint32_t k = 0; k < card; ++k) {
        uint16_t v = 0;
        STRATA_RETURN_IF_ERROR(r.Read(&v));
        out->push_back(base | v);
      }
    } else {
      for (uint32_t w = 0; w < 1024; ++w) {
        uint64_t word = 0;
        STRATA_RETURN_IF_ERROR(r.Read(&word));
        while (word) {
          int bit = __builtin_ctzll(word);
          out->push_back(base | (w * 64 + bit));
          word &= word - 1;
        }
      }
    }
  }
  return Status::OK();
}

std::string FormatUuid(const std::string& bytes) {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) s += '-';
    auto b = static_cast<uint8_t>(bytes[i]);
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

}  // namespace

Result<std::string> DecodeZ85(std::string_view text) {
  if (text.size() % 5 != 0)
    return InvalidArgument("Z85 text of length " + std::to_string(text.size()) +
                           " is not a multiple of 5");
  std::string out;
  out.reserve(text.size() / 5 * 4);
  for (size_t i = 0; i < text.size(); i += 5) {
    uint64_t v = 0;
    for (size_t k = 0; k < 5; ++k) {
      size_t d = kZ85Alphabet.find(text[i + k]);
      if (d == std::string_view::npos)
        return InvalidArgument(std::string("invalid Z85 character '") + text[i + k] + "'");
      v = v * 85 + d;
    }
    if (v > 0xFFFFFFFFull) return InvalidArgument("Z85 group out of range");
    out.push_back(static_cast<char>(v >> 24));
    out.push_back(static_cast<char>(v >> 16));
    out.push_back(static_cast<char>(v >> 8));
    out.push_back(static_cast<char>(v));
  }
  return out;
}

Result<std::vector<uint64_t>> ParseRoaringBitmapArray(std::string_view data,
                                                      const std::string& what) {
  Reader r(data, what);
  uint32_t magic = 0;
  STRATA_RETURN_IF_ERROR(r.Read(&magic));
  if (magic != kRoaringArrayMagic)
    return Corruption("deletion vector " + what + " has magic " + std::to_string(magic) +
                      ", expected " + std::to_string(kRoaringArrayMagic));
  uint64_t count = 0;
  STRATA_RETURN_IF_ERROR(r.Read(&count));
  if (count > data.size())
    return Corruption("deletion vector " + what + " claims " + std::to_string(count) + " bitmaps");
  std::vector<uint64_t> rows;
  for (uint64_t i = 0; i < count; ++i) {
    uint32_t key = 0;
    STRATA_RETURN_IF_ERROR(r.Read(&key));
    STRATA_RETURN_IF_ERROR(ParseRoaring32(r, key, what, &rows));
  }
  return rows;
}

Result<std::string> DeletionVectorPath(const std::string& table_path,
                                       const delta::DeletionVector& dv) {
  if (dv.storage_type == "p") return delta::ResolveDataPath(table_path, dv.path_or_inline_dv);
  if (dv.storage_type != "u")
    return InvalidArgument("deletion vector of storage type '" + dv.storage_type + "' has no file");
  const std::string& s = dv.path_or_inline_dv;
  if (s.size() < 20)
    return InvalidArgument("deletion vector descriptor '" + s + "' is shorter than a UUID");
  STRATA_ASSIGN_OR_RETURN(std::string uuid, DecodeZ85(std::string_view(s).substr(s.size() - 20)));
  std::string prefix = s.substr(0, s.size() - 20);
  std::string dir = table_path;
  if (!prefix.empty()) dir += "/" + prefix;
  return dir + "/deletion_vector_" + FormatUuid(uuid) + ".bin";
}

Result<std::vector<uint64_t>> ReadDeletionVector(const std::string& table_path,
                                                 const delta::DeletionVector& dv) {
  std::string what;
  std::string bitmap;
  if (dv.storage_type == "i") {
    what = "inline '" + dv.path_or_inline_dv + "'";
    auto decoded = DecodeZ85(dv.path_or_inline_dv);
    if (!decoded.ok())
      return Corruption("deletion vector " + what + ": " + decoded.status().message());
    if (decoded->size() < static_cast<size_t>(dv.size_in_bytes))
      return Corruption("deletion vector " + what + " is shorter than its sizeInBytes");
    bitmap = decoded->substr(0, dv.size_in_bytes);
  } else {
    STRATA_ASSIGN_OR_RETURN(std::string path, DeletionVectorPath(table_path, dv));
    int64_t offset = dv.offset.value_or(1);
    what = path + " at offset " + std::to_string(offset);
    STRATA_ASSIGN_OR_RETURN(std::string content, ReadFile(path));
    if (content.empty() || content[0] != 1)
      return Corruption("deletion vector file " + path + " has an unknown format version");
    if (offset < 1 || static_cast<size_t>(offset) + 4 + dv.size_in_bytes + 4 > content.size())
      return Corruption("deletion vector " + what + " of " + std::to_string(dv.size_in_bytes) +
                        " bytes lies beyond the end of the file");
    uint32_t size = BigEndian32(content.data() + offset);
    if (size != static_cast<uint32_t>(dv.size_in_bytes))
      return Corruption("deletion vector " + what + " has size " + std::to_string(size) +
                        ", the log says " + std::to_string(dv.size_in_bytes));
    bitmap = content.substr(offset + 4, size);
    uint32_t want_crc = BigEndian32(content.data() + offset + 4 + size);
    if (Crc32(bitmap) != want_crc)
      return Corruption("deletion vector " + what + " fails its CRC-32 check");
  }
  STRATA_ASSIGN_OR_RETURN(std::vector<uint64_t> rows, ParseRoaringBitmapArray(bitmap, what));
  if (static_cast<int64_t>(rows.size()) != dv.cardinality)
    return Corruption("deletion vector " + what + " holds " + std::to_string(rows.size()) +
                      " rows, the log says cardinality " + std::to_string(dv.cardinality));
  return rows;
}

}  // namespace strata::delta
