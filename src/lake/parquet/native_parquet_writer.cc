#include "lake/parquet/native_parquet_writer.h"

#include <fcntl.h>
#include <lz4.h>
#include <snappy-c.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>

#include "lake/parquet/thrift_compact.h"

namespace strata {

namespace {

// Enum values of parquet.thrift.
constexpr int32_t kTypeBoolean = 0;
constexpr int32_t kTypeInt32 = 1;
constexpr int32_t kTypeInt64 = 2;
constexpr int32_t kTypeDouble = 5;
constexpr int32_t kTypeByteArray = 6;
constexpr int32_t kRepetitionRequired = 0;
constexpr int32_t kRepetitionOptional = 1;
constexpr int32_t kConvertedUtf8 = 0;
constexpr int32_t kConvertedDate = 6;
constexpr int32_t kConvertedTimestampMicros = 10;
constexpr int32_t kConvertedInt32 = 17;
constexpr int32_t kConvertedInt64 = 18;
constexpr int32_t kEncodingPlain = 0;
constexpr int32_t kEncodingRle = 3;
constexpr int32_t kEncodingRleDictionary = 8;
constexpr int32_t kPageData = 0;
constexpr int32_t kPageDictionary = 2;
constexpr int32_t kCodecUncompressed = 0;
constexpr int32_t kCodecSnappy = 1;
constexpr int32_t kCodecZstd = 6;
constexpr int32_t kCodecLz4Raw = 7;

// String statistics longer than this are left out of the footer (as DuckDB does for huge ones).
constexpr size_t kMaxStatBytes = 4096;
// A run of equal values at least this long becomes an RLE run in the hybrid encoding.
constexpr size_t kMinRleRun = 16;
// Output is written to the file whenever this much has accumulated.
constexpr size_t kFlushBytes = 8 << 20;
constexpr uint32_t kDictFull = std::numeric_limits<uint32_t>::max();
constexpr size_t kInitialDictSlots = 1024;
// A column chunk whose first page of PLAIN values the codec shrinks to more than this share of
// its size is written uncompressed (random ids: snappy saves ~10% of them at the cost of a pass).
constexpr double kMinCompressedShare = 0.875;

// A growable byte buffer that keeps its capacity across Clear() and never zero-fills what it
// is about to overwrite except when growing.
class ByteBuffer {
 public:
  uint8_t* data() { return buf_.data(); }
  const uint8_t* data() const { return buf_.data(); }
  size_t size() const { return size_; }
  void Clear() { size_ = 0; }
  // Room for n more bytes at data() + size(); Advance() commits what was written.
  uint8_t* Grow(size_t n) {
    if (buf_.size() < size_ + n) buf_.resize(std::max(size_ + n, buf_.size() * 2));
    return buf_.data() + size_;
  }
  void Advance(size_t n) { size_ += n; }
  void Append(const void* p, size_t n) {
    if (n == 0) return;
    std::memcpy(Grow(n), p, n);
    size_ += n;
  }
  void PutByte(uint8_t b) {
    *Grow(1) = b;
    ++size_;
  }
  void PutU32(uint32_t v) {
    uint8_t b[4] = {static_cast<uint8_t>(v), static_cast<uint8_t>(v >> 8),
                    static_cast<uint8_t>(v >> 16), static_cast<uint8_t>(v >> 24)};
    Append(b, 4);
  }
  void PutVarint(uint64_t v) {
    uint8_t* p = Grow(10);
    size_t n = 0;
    while (v >= 0x80) {
      p[n++] = static_cast<uint8_t>((v & 0x7F) | 0x80);
      v >>= 7;
    }
    p[n++] = static_cast<uint8_t>(v);
    size_ += n;
  }
  void PatchU32(size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i)
      buf_[at + static_cast<size_t>(i)] = static_cast<uint8_t>(v >> (8 * i));
  }

 private:
  std::vector<uint8_t> buf_;
  size_t size_ = 0;
};

int BitWidth(uint32_t max_value) {
  int w = 0;
  while (max_value != 0) {
    ++w;
    max_value >>= 1;
  }
  return w;
}

// count values (padded with zeros to a multiple of 8) as one bit-packed run.
template <typename T>
void PutBitPacked(const T* v, size_t count, int width, ByteBuffer* out) {
  size_t groups = (count + 7) / 8;
  out->PutVarint((static_cast<uint64_t>(groups) << 1) | 1);
  uint8_t* p = out->Grow(groups * static_cast<size_t>(width));
  size_t n = 0;
  uint64_t acc = 0;
  int bits = 0;
  for (size_t i = 0; i < groups * 8; ++i) {
    uint64_t x = i < count ? static_cast<uint64_t>(v[i]) : 0;
    acc |= x << bits;
    bits += width;
    while (bits >= 8) {
      p[n++] = static_cast<uint8_t>(acc);
      acc >>= 8;
      bits -= 8;
    }
  }
  out->Advance(n);
}

void PutRleRun(uint64_t count, uint32_t value, int width, ByteBuffer* out) {
  out->PutVarint(count << 1);
  for (int i = 0; i < (width + 7) / 8; ++i) out->PutByte(static_cast<uint8_t>(value >> (8 * i)));
}

// The RLE/bit-packed hybrid encoding of v[0..n) (each value < 2^width): runs of at least
// kMinRleRun equal values become RLE runs; everything between them is bit-packed, the packed
// stretch borrowing values from the following run to fill its last group of 8 (only the final
// stretch may be padded, since a reader takes padding for values).
template <typename T>
void EncodeHybrid(const T* v, size_t n, int width, ByteBuffer* out) {
  size_t literal_start = 0;
  size_t i = 0;
  while (i < n) {
    const T x = v[i];
    size_t j = i + 1;
    while (j < n && v[j] == x) ++j;
    size_t run = j - i;
    if (run >= kMinRleRun) {
      size_t pending = i - literal_start;
      size_t pad = (8 - pending % 8) % 8;
      if (pending + pad > 0) PutBitPacked(v + literal_start, pending + pad, width, out);
      PutRleRun(run - pad, static_cast<uint32_t>(x), width, out);
      literal_start = j;
    }
    i = j;
  }
  if (literal_start < n) PutBitPacked(v + literal_start, n - literal_start, width, out);
}

uint64_t Load64(const char* p) {
  uint64_t w;
  std::memcpy(&w, p, 8);
  return w;
}

uint64_t Load32(const char* p) {
  uint32_t w;
  std::memcpy(&w, p, 4);
  return w;
}

// 64x64 -> 128-bit multiply folded to 64 bits: every input bit reaches both halves.
__extension__ typedef unsigned __int128 Uint128;

uint64_t FoldedMultiply(uint64_t a, uint64_t b) {
  const Uint128 r = static_cast<Uint128>(a) * b;
  return static_cast<uint64_t>(r) ^ static_cast<uint64_t>(r >> 64);
}

constexpr uint64_t kHashK0 = 0xA0761D6478BD642Full;
constexpr uint64_t kHashK1 = 0xE7037ED1A0B428DBull;
constexpr uint64_t kHashK2 = 0x8EBC6AF09C88C6E3ull;

// A hash of n bytes, with fixed-size (possibly overlapping) loads instead of a byte loop or a
// variable-length memcpy: strings of up to 16 bytes cost one multiply, longer ones one per 16
// bytes. Both halves of the result are well mixed (the slot uses the low bits, the tag the
// high ones).
uint64_t HashBytes(const char* p, size_t n) {
  uint64_t a = 0, b = 0;
  uint64_t seed = kHashK0 ^ n;
  if (n <= 16) {
    if (n >= 8) {
      a = Load64(p);
      b = Load64(p + n - 8);
    } else if (n >= 4) {
      a = Load32(p);
      b = Load32(p + n - 4);
    } else if (n > 0) {
      const auto* u = reinterpret_cast<const uint8_t*>(p);
      a = (uint64_t{u[0]} << 16) | (uint64_t{u[n / 2]} << 8) | u[n - 1];
    }
  } else {
    size_t left = n;
    const char* q = p;
    while (left > 16) {
      seed = FoldedMultiply(Load64(q) ^ kHashK1, Load64(q + 8) ^ seed);
      q += 16;
      left -= 16;
    }
    a = Load64(p + n - 16);
    b = Load64(p + n - 8);
  }
  return FoldedMultiply(kHashK2 ^ n, FoldedMultiply(a ^ kHashK1, b ^ seed));
}

// Equality of n bytes at a and b, with fixed-size loads for the short strings that dominate
// dictionary columns (memcmp is a call and a length dispatch).
bool SameBytes(const char* a, const char* b, size_t n) {
  if (n >= 8 && n <= 16) {
    return ((Load64(a) ^ Load64(b)) | (Load64(a + n - 8) ^ Load64(b + n - 8))) == 0;
  }
  if (n >= 4 && n < 8) {
    return ((Load32(a) ^ Load32(b)) | (Load32(a + n - 4) ^ Load32(b + n - 4))) == 0;
  }
  if (n > 16 && n <= 64) {
    for (size_t i = 0; i + 8 < n; i += 8) {
      if (Load64(a + i) != Load64(b + i)) return false;
    }
    return Load64(a + n - 8) == Load64(b + n - 8);
  }
  return n == 0 || std::memcmp(a, b, n) == 0;
}

// Unsigned byte order, as Parquet orders BYTE_ARRAY statistics.
// The first 8 bytes usually decide (ids, hashes), as one big-endian integer comparison; memcmp
// only when they are equal.
bool LessBytes(std::string_view a, std::string_view b) {
  if (a.size() >= 8 && b.size() >= 8) {
    const uint64_t x = __builtin_bswap64(Load64(a.data())), y = __builtin_bswap64(Load64(b.data()));
    if (x != y) return x < y;
  }
  size_t n = std::min(a.size(), b.size());
  int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  return c < 0 || (c == 0 && a.size() < b.size());
}

template <typename T>
struct MinMax {
  bool has = false;
  T min{};
  T max{};
  void Update(T v) {
    if constexpr (std::is_floating_point_v<T>) {
      if (std::isnan(v)) return;
    }
    if (!has) {
      min = max = v;
      has = true;
      return;
    }
    if (v < min) min = v;
    if (max < v) max = v;
  }
};

struct StringMinMax {
  bool has = false;
  std::string_view min;
  std::string_view max;
  void Update(std::string_view v) {
    if (!has) {
      min = max = v;
      has = true;
      return;
    }
    if (LessBytes(v, min)) min = v;
    if (LessBytes(max, v)) max = v;
  }
};

// Folds a chunk's min/max into the file's (earlier chunks win ties, as one pass in row order
// would).
template <typename T>
void MergeMinMax(const MinMax<T>& mm, ColumnSummary* fs) {
  if (!mm.has) return;
  if constexpr (std::is_floating_point_v<T>) {
    if (!fs->has_min_max || mm.min < fs->min_double) fs->min_double = mm.min;
    if (!fs->has_min_max || fs->max_double < mm.max) fs->max_double = mm.max;
  } else {
    const int64_t lo = static_cast<int64_t>(mm.min), hi = static_cast<int64_t>(mm.max);
    if (!fs->has_min_max || lo < fs->min_int) fs->min_int = lo;
    if (!fs->has_min_max || fs->max_int < hi) fs->max_int = hi;
  }
  fs->has_min_max = true;
}

void MergeMinMax(const StringMinMax& mm, ColumnSummary* fs) {
  if (!mm.has) return;
  if (!fs->has_min_max || LessBytes(mm.min, fs->min_bytes)) fs->min_bytes.assign(mm.min);
  if (!fs->has_min_max || LessBytes(fs->max_bytes, mm.max)) fs->max_bytes.assign(mm.max);
  fs->has_min_max = true;
}

struct ChunkMeta {
  int32_t type = 0;
  int64_t file_offset = 0;
  int64_t data_page_offset = 0;
  int64_t dictionary_page_offset = -1;
  int64_t num_values = 0;
  int64_t total_compressed = 0;
  int64_t total_uncompressed = 0;
  uint32_t encodings = 0;  // bit i set: Encoding i used
  // The chunk's codec: the file's, or uncompressed when the chunk's first page holds PLAIN
  // values the codec shrank to more than kMinCompressedShare of their size (random ids: the
  // codec costs a pass and saves little).
  ParquetCodec codec = ParquetCodec::kUncompressed;
  bool codec_decided = false;
  int64_t null_count = 0;
  bool has_min_max = false;
  std::string min;
  std::string max;
};

struct RowGroupMeta {
  int64_t num_rows = 0;
  int64_t file_offset = 0;
  std::vector<ChunkMeta> chunks;
};

int32_t PhysicalType(TypeId t) {
  switch (t) {
    case TypeId::kBool:
      return kTypeBoolean;
    case TypeId::kInt32:
    case TypeId::kDate:
      return kTypeInt32;
    case TypeId::kInt64:
    case TypeId::kTimestamp:
      return kTypeInt64;
    case TypeId::kDouble:
      return kTypeDouble;
    case TypeId::kString:
    case TypeId::kBinary:
      return kTypeByteArray;
  }
  return kTypeByteArray;
}

int32_t CodecId(ParquetCodec c) {
  switch (c) {
    case ParquetCodec::kSnappy:
      return kCodecSnappy;
    case ParquetCodec::kZstd:
      return kCodecZstd;
    case ParquetCodec::kLz4:
      return kCodecLz4Raw;
    case ParquetCodec::kUncompressed:
      return kCodecUncompressed;
  }
  return kCodecUncompressed;
}

template <typename T>
std::string_view ValueBytes(const T& v) {
  return std::string_view(reinterpret_cast<const char*>(&v), sizeof(T));
}

}  // namespace

struct NativeParquetWriter::State {
  struct DictEntry {
    uint32_t offset;  // of the value's bytes in dict_page
    uint32_t len;
  };

  ~State() {
    if (zstd != nullptr) ZSTD_freeCCtx(zstd);
  }

  NativeParquetOptions opts;
  const uint32_t* sel = nullptr;  // selection vector of the current file, or null
  // Whole-file statistics per column of the current file, or null when not asked for.
  std::vector<ColumnSummary>* file_stats = nullptr;
  int fd = -1;
  std::string path;
  int64_t flushed = 0;  // bytes already written to fd

  ByteBuffer out;         // file bytes not yet written
  ByteBuffer chunk;       // data pages of a dictionary chunk, held until its dictionary is final
  ByteBuffer values;      // encoded values of the current page
  ByteBuffer page;        // the current page, uncompressed
  ByteBuffer compressed;  // the current page, compressed
  ByteBuffer dict_page;   // PLAIN dictionary values of the current chunk
  std::vector<uint8_t> levels;
  std::vector<uint32_t> indices;
  std::string header;
  // Open addressing: (hash >> 32) << 32 | (entry index + 1), 0 when empty. The hash tag in the
  // slot spares a visit to the entry for most mismatches.
  std::vector<uint64_t> slots;
  std::vector<DictEntry> entries;
  ZSTD_CCtx* zstd = nullptr;
  std::vector<char> lz4_state;
  std::vector<RowGroupMeta> groups;
  size_t num_groups = 0;

  int64_t Pos() const { return flushed + static_cast<int64_t>(out.size()); }

  Status Flush() {
    size_t done = 0;
    while (done < out.size()) {
      ssize_t n = ::write(fd, out.data() + done, out.size() - done);
      if (n < 0) {
        if (errno == EINTR) continue;
        return IOError("cannot write Parquet file " + path + ": " + std::strerror(errno));
      }
      done += static_cast<size_t>(n);
    }
    flushed += static_cast<int64_t>(out.size());
    out.Clear();
    return Status::OK();
  }

  // Compresses `in` with `codec`; the result is (*data, *size), valid until the next call.
  Status Compress(ParquetCodec codec, const ByteBuffer& in, const uint8_t** data, size_t* size) {
    const size_t n = in.size();
    compressed.Clear();
    switch (codec) {
      case ParquetCodec::kUncompressed:
        *data = in.data();
        *size = n;
        return Status::OK();
      case ParquetCodec::kSnappy: {
        size_t cap = snappy_max_compressed_length(n);
        char* dst = reinterpret_cast<char*>(compressed.Grow(cap));
        size_t len = cap;
        if (snappy_compress(reinterpret_cast<const char*>(in.data()), n, dst, &len) != SNAPPY_OK) {
          return Internal("snappy failed on a page of " + path);
        }
        compressed.Advance(len);
        break;
      }
      case ParquetCodec::kZstd: {
        if (zstd == nullptr) zstd = ZSTD_createCCtx();
        if (zstd == nullptr) return Internal("cannot create a zstd context for " + path);
        size_t cap = ZSTD_compressBound(n);
        int level = opts.compression_level == 0 ? 3 : opts.compression_level;
        size_t len = ZSTD_compressCCtx(zstd, compressed.Grow(cap), cap, in.data(), n, level);
        if (ZSTD_isError(len)) {
          return Internal("zstd failed on a page of " + path + ": " + ZSTD_getErrorName(len));
        }
        compressed.Advance(len);
        break;
      }
      case ParquetCodec::kLz4: {
        if (n > static_cast<size_t>(LZ4_MAX_INPUT_SIZE)) {
          return Internal("page too large for lz4 in " + path);
        }
        if (lz4_state.empty()) lz4_state.resize(static_cast<size_t>(LZ4_sizeofState()));
        int cap = LZ4_compressBound(static_cast<int>(n));
        int len = LZ4_compress_fast_extState(
            lz4_state.data(), reinterpret_cast<const char*>(in.data()),
            reinterpret_cast<char*>(compressed.Grow(static_cast<size_t>(cap))), static_cast<int>(n),
            cap, 1);
        if (len <= 0) return Internal("lz4 failed on a page of " + path);
        compressed.Advance(static_cast<size_t>(len));
        break;
      }
    }
    *data = compressed.data();
    *size = compressed.size();
    return Status::OK();
  }

  // Appends page header + compressed `page` to `sink`.
  Status EmitPage(int32_t page_type, int32_t num_values, int32_t encoding, ByteBuffer* sink,
                  ChunkMeta* meta) {
    const uint8_t* data = nullptr;
    size_t size = 0;
    STRATA_RETURN_IF_ERROR(Compress(meta->codec, page, &data, &size));
    if (!meta->codec_decided) {
      // The chunk's first page decides: a codec that saves under 1/8 of PLAIN values is dropped
      // for the whole chunk (this page is written as it was). A dictionary chunk keeps it: its
      // first pages are indices, and the dictionary page, written last, usually compresses.
      meta->codec_decided = true;
      if (meta->codec != ParquetCodec::kUncompressed && page_type == kPageData &&
          encoding == kEncodingPlain &&
          static_cast<double>(size) > kMinCompressedShare * static_cast<double>(page.size())) {
        meta->codec = ParquetCodec::kUncompressed;
        data = page.data();
        size = page.size();
      }
    }
    if (page.size() > static_cast<size_t>(std::numeric_limits<int32_t>::max()) ||
        size > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
      return Internal("a Parquet page of " + path + " exceeds 2 GiB");
    }
    header.clear();
    thrift::CompactWriter w(&header);
    w.BeginStruct();
    w.FieldI32(1, page_type);
    w.FieldI32(2, static_cast<int32_t>(page.size()));
    w.FieldI32(3, static_cast<int32_t>(size));
    if (page_type == kPageData) {
      w.FieldStructBegin(5);
      w.FieldI32(1, num_values);
      w.FieldI32(2, encoding);
      w.FieldI32(3, kEncodingRle);
      w.FieldI32(4, kEncodingRle);
      w.EndStruct();
    } else {
      w.FieldStructBegin(7);
      w.FieldI32(1, num_values);
      w.FieldI32(2, encoding);
      w.EndStruct();
    }
    w.EndStruct();
    sink->Append(header.data(), header.size());
    sink->Append(data, size);
    meta->total_uncompressed += static_cast<int64_t>(header.size() + page.size());
    meta->total_compressed += static_cast<int64_t>(header.size() + size);
    meta->encodings |= 1u << encoding;
    return Status::OK();
  }

  // Builds a data page from definition levels (lv[0..n), or all valid) and `values`, and emits
  // it.
  Status WriteDataPage(size_t n, const uint8_t* lv, bool all_valid, int32_t encoding,
                       ByteBuffer* sink, ChunkMeta* meta) {
    page.Clear();
    page.PutU32(0);
    if (all_valid) {
      PutRleRun(n, 1, 1, &page);
    } else {
      EncodeHybrid(lv, n, 1, &page);
    }
    page.PatchU32(0, static_cast<uint32_t>(page.size() - 4));
    page.Append(values.data(), values.size());
    return EmitPage(kPageData, static_cast<int32_t>(n), encoding, sink, meta);
  }

  uint32_t RowAt(size_t i) const { return sel ? sel[i] : static_cast<uint32_t>(i); }

  template <typename T>
  Status EncodeFixed(const Column& col, const T* data, size_t begin, size_t end, ChunkMeta* meta,
                     ColumnSummary* fs) {
    const uint8_t* validity = col.validity();
    const bool no_nulls = col.null_count() == 0;
    const size_t page_rows = std::max<size_t>(1, opts.page_bytes / sizeof(T));
    MinMax<T> mm;
    for (size_t p = begin; p < end;) {
      const size_t pe = std::min(end, p + page_rows);
      const size_t cnt = pe - p;
      values.Clear();
      T* dst = reinterpret_cast<T*>(values.Grow(cnt * sizeof(T)));
      size_t k = 0;
      const uint8_t* lv = validity + p;
      if (sel == nullptr && no_nulls) {
        std::memcpy(dst, data + p, cnt * sizeof(T));
        for (size_t x = 0; x < cnt; ++x) mm.Update(dst[x]);
        k = cnt;
      } else if (sel == nullptr) {
        for (size_t x = p; x < pe; ++x) {
          if (validity[x]) {
            dst[k++] = data[x];
            mm.Update(data[x]);
          }
        }
      } else {
        levels.resize(cnt);
        lv = levels.data();
        for (size_t x = p; x < pe; ++x) {
          uint32_t r = sel[x];
          uint8_t valid = validity[r];
          levels[x - p] = valid;
          if (valid) {
            dst[k++] = data[r];
            mm.Update(data[r]);
          }
        }
      }
      values.Advance(k * sizeof(T));
      meta->null_count += static_cast<int64_t>(cnt - k);
      STRATA_RETURN_IF_ERROR(WriteDataPage(cnt, lv, k == cnt, kEncodingPlain, &out, meta));
      p = pe;
    }
    if (fs != nullptr) MergeMinMax(mm, fs);
    if (mm.has) {
      T lo = mm.min, hi = mm.max;
      if constexpr (std::is_floating_point_v<T>) {
        // Parquet's rule for zeros: the minimum is written as -0.0, the maximum as +0.0.
        if (lo == 0) lo = -0.0;
        if (hi == 0) hi = 0.0;
      }
      meta->has_min_max = true;
      meta->min.assign(ValueBytes(lo));
      meta->max.assign(ValueBytes(hi));
    }
    return Status::OK();
  }

  Status EncodeBool(const Column& col, size_t begin, size_t end, ChunkMeta* meta,
                    ColumnSummary* fs) {
    const uint8_t* validity = col.validity();
    const uint8_t* data = col.bool_data();
    const size_t page_rows = std::max<size_t>(8, opts.page_bytes * 8);
    bool seen[2] = {false, false};
    for (size_t p = begin; p < end;) {
      const size_t pe = std::min(end, p + page_rows);
      const size_t cnt = pe - p;
      values.Clear();
      uint8_t* dst = values.Grow((cnt + 7) / 8);
      std::memset(dst, 0, (cnt + 7) / 8);
      levels.resize(cnt);
      size_t k = 0;
      for (size_t x = p; x < pe; ++x) {
        uint32_t r = RowAt(x);
        uint8_t valid = validity[r];
        levels[x - p] = valid;
        if (valid) {
          uint8_t b = data[r] != 0;
          seen[b] = true;
          dst[k / 8] |= static_cast<uint8_t>(b << (k % 8));
          ++k;
        }
      }
      values.Advance((k + 7) / 8);
      meta->null_count += static_cast<int64_t>(cnt - k);
      STRATA_RETURN_IF_ERROR(
          WriteDataPage(cnt, levels.data(), k == cnt, kEncodingPlain, &out, meta));
      p = pe;
    }
    if (fs != nullptr && (seen[0] || seen[1])) {
      MinMax<int64_t> mm;
      if (seen[0]) mm.Update(0);
      if (seen[1]) mm.Update(1);
      MergeMinMax(mm, fs);
    }
    if (seen[0] || seen[1]) {
      meta->has_min_max = true;
      meta->min.assign(1, seen[0] ? '\0' : '\1');
      meta->max.assign(1, seen[1] ? '\1' : '\0');
    }
    return Status::OK();
  }

  void ResetDict() {
    entries.clear();
    dict_page.Clear();
    if (slots.size() != kInitialDictSlots) {
      slots.assign(kInitialDictSlots, 0);
    } else {
      std::fill(slots.begin(), slots.end(), 0);
    }
  }

  // Rebuilds the slot table with `size` slots (a power of two above twice the entries).
  void RehashDictSlots(size_t size) {
    slots.assign(size, 0);
    const size_t mask = slots.size() - 1;
    for (size_t e = 0; e < entries.size(); ++e) {
      const uint64_t h = HashBytes(
          reinterpret_cast<const char*>(dict_page.data()) + entries[e].offset, entries[e].len);
      size_t pos = h & mask;
      while (slots[pos] != 0) pos = (pos + 1) & mask;
      slots[pos] = (h & 0xFFFFFFFF00000000ull) | (e + 1);
    }
  }

  // The dictionary index of `s`, inserting it if new; kDictFull when it would outgrow the
  // limits.
  uint32_t DictIndex(std::string_view s) {
    const uint64_t h = HashBytes(s.data(), s.size());
    const size_t mask = slots.size() - 1;
    const uint64_t tag = h & 0xFFFFFFFF00000000ull;
    size_t pos = h & mask;
    while (uint64_t slot = slots[pos]) {
      if ((slot & 0xFFFFFFFF00000000ull) == tag) {
        const uint32_t index = static_cast<uint32_t>(slot) - 1;
        const DictEntry& e = entries[index];
        if (e.len == s.size() &&
            SameBytes(reinterpret_cast<const char*>(dict_page.data()) + e.offset, s.data(),
                      s.size())) {
          return index;
        }
      }
      pos = (pos + 1) & mask;
    }
    if (entries.size() >= opts.dictionary_max_entries ||
        dict_page.size() + 4 + s.size() > opts.dictionary_max_bytes) {
      return kDictFull;
    }
    dict_page.PutU32(static_cast<uint32_t>(s.size()));
    entries.push_back({static_cast<uint32_t>(dict_page.size()), static_cast<uint32_t>(s.size())});
    dict_page.Append(s.data(), s.size());
    slots[pos] = tag | entries.size();
    if (entries.size() * 2 > slots.size()) RehashDictSlots(slots.size() * 2);
    return static_cast<uint32_t>(entries.size() - 1);
  }

  // Fills the dictionary with the first non-null values of the chunk and decides from them
  // whether a dictionary is worth it for the whole chunk. A sample that covers the chunk, or
  // that is at most half distinct, decides directly. Otherwise the number of repeats in the
  // sample estimates the column's cardinality D (birthday paradox: n values drawn from D
  // equally likely ones repeat about n^2 / 2D times), hence the distinct values among the
  // chunk's R rows, D (1 - e^(-R/D)): the dictionary is kept when those are at most half the
  // rows and fit the entry and byte limits. Ids (no repeats) give up after the sample; a few
  // tens of thousands of users keep theirs.
  bool SampleDictionary(const Column& col, size_t begin, size_t end) {
    const uint8_t* validity = col.validity();
    size_t sampled = 0;
    size_t sampled_bytes = 0;
    size_t x = begin;
    for (; x < end && sampled < opts.dictionary_sample_values; ++x) {
      uint32_t r = RowAt(x);
      if (!validity[r]) continue;
      ++sampled;
      std::string_view s = col.String(r);
      sampled_bytes += s.size() + 4;
      if (DictIndex(s) == kDictFull) return false;
    }
    const size_t distinct = entries.size();
    if (sampled == 0 || x == end) return sampled == 0 || distinct * 2 <= sampled;
    const double n = static_cast<double>(sampled);
    const double repeats = static_cast<double>(sampled - distinct);
    if (repeats == 0) return false;
    // D from the repeats, then the distinct values expected among the chunk's R rows.
    const double population = n * n / (2 * repeats);
    const double rows = static_cast<double>(end - begin);
    const double in_chunk = population * (1 - std::exp(-rows / population));
    const double avg_bytes = static_cast<double>(sampled_bytes) / n;
    const bool keep =
        distinct * 2 <= sampled ||
        (in_chunk * 2 <= rows && in_chunk <= static_cast<double>(opts.dictionary_max_entries) &&
         in_chunk * avg_bytes <= static_cast<double>(opts.dictionary_max_bytes));
    if (keep) {
      // Room for the expected entries up front instead of doubling (and rehashing) towards it.
      const size_t expected = static_cast<size_t>(
          std::min(in_chunk * 1.25, static_cast<double>(opts.dictionary_max_entries)));
      size_t size = slots.size();
      while (size < 2 * expected) size *= 2;
      if (size > slots.size()) RehashDictSlots(size);
    }
    return keep;
  }

  Status EncodeByteArray(const Column& col, size_t begin, size_t end, ChunkMeta* meta,
                         ColumnSummary* fs, bool* used_dict) {
    const uint8_t* validity = col.validity();
    const uint32_t* offsets = col.offsets();
    const char* chars = col.chars();
    ResetDict();
    bool dict_mode = opts.dictionary && SampleDictionary(col, begin, end);
    if (!dict_mode) ResetDict();
    *used_dict = dict_mode;
    StringMinMax mm;  // over the PLAIN part; the dictionary's entries are added at the end
    ByteBuffer* sink = dict_mode ? &chunk : &out;
    chunk.Clear();
    std::string_view last;            // the previous dictionary-encoded value
    uint32_t last_index = kDictFull;  // and its index (kDictFull: none yet)
    size_t p = begin;
    while (p < end) {
      size_t x = p;
      size_t raw = 0;
      size_t k = 0;
      values.Clear();
      const bool gather_levels = sel != nullptr;
      if (gather_levels) levels.clear();
      if (dict_mode) {
        indices.clear();
        bool full = false;
        for (; x < end && raw < opts.page_bytes; ++x) {
          uint32_t r = RowAt(x);
          uint8_t valid = validity[r];
          if (valid) {
            std::string_view s(chars + offsets[r], offsets[r + 1] - offsets[r]);
            // A repeat of the previous value (constant columns, runs) skips the hash table.
            uint32_t idx = last_index;
            if (idx == kDictFull || s.size() != last.size() ||
                !SameBytes(s.data(), last.data(), s.size())) {
              idx = DictIndex(s);
              if (idx == kDictFull) {
                full = true;
                break;
              }
              last = s;
              last_index = idx;
            }
            indices.push_back(idx);
            raw += s.size() + 4;
            ++k;
          }
          if (gather_levels) levels.push_back(valid);
        }
        if (x > p) {
          int32_t encoding = kEncodingPlain;  // a page of nulls before any value: no values
          if (!entries.empty()) {
            int width = std::max(1, BitWidth(static_cast<uint32_t>(entries.size() - 1)));
            values.PutByte(static_cast<uint8_t>(width));
            EncodeHybrid(indices.data(), indices.size(), width, &values);
            encoding = kEncodingRleDictionary;
          }
          meta->null_count += static_cast<int64_t>((x - p) - k);
          STRATA_RETURN_IF_ERROR(WriteDataPage(x - p, gather_levels ? levels.data() : validity + p,
                                               k == x - p, encoding, sink, meta));
        }
        if (full) dict_mode = false;  // the rest of the chunk is PLAIN
      } else {
        for (; x < end && values.size() < opts.page_bytes; ++x) {
          uint32_t r = RowAt(x);
          uint8_t valid = validity[r];
          if (valid) {
            uint32_t len = offsets[r + 1] - offsets[r];
            uint8_t* dst = values.Grow(4 + len);
            std::memcpy(dst, &len, 4);
            std::memcpy(dst + 4, chars + offsets[r], len);
            values.Advance(4 + len);
            mm.Update(std::string_view(chars + offsets[r], len));
            ++k;
          }
          if (gather_levels) levels.push_back(valid);
        }
        meta->null_count += static_cast<int64_t>((x - p) - k);
        STRATA_RETURN_IF_ERROR(WriteDataPage(x - p, gather_levels ? levels.data() : validity + p,
                                             k == x - p, kEncodingPlain, sink, meta));
      }
      p = x;
    }
    if (*used_dict) {
      for (const DictEntry& e : entries) {
        mm.Update(
            std::string_view(reinterpret_cast<const char*>(dict_page.data()) + e.offset, e.len));
      }
      if (entries.empty()) *used_dict = false;
    }
    if (fs != nullptr) MergeMinMax(mm, fs);
    if (mm.has && mm.min.size() <= kMaxStatBytes && mm.max.size() <= kMaxStatBytes) {
      meta->has_min_max = true;
      meta->min.assign(mm.min);
      meta->max.assign(mm.max);
    }
    return Status::OK();
  }

  // Encodes rows [begin, end) of `col` as one column chunk; folds its statistics into `fs`
  // when not null.
  Status EncodeChunk(const Column& col, size_t begin, size_t end, ChunkMeta* meta,
                     ColumnSummary* fs) {
    STRATA_RETURN_IF_ERROR(EncodeChunkValues(col, begin, end, meta, fs));
    if (fs != nullptr) fs->null_count += meta->null_count;
    return Status::OK();
  }

  Status EncodeChunkValues(const Column& col, size_t begin, size_t end, ChunkMeta* meta,
                           ColumnSummary* fs) {
    meta->type = PhysicalType(col.type());
    meta->file_offset = Pos();
    meta->data_page_offset = Pos();
    meta->dictionary_page_offset = -1;
    meta->num_values = static_cast<int64_t>(end - begin);
    meta->total_compressed = 0;
    meta->total_uncompressed = 0;
    meta->encodings = 1u << kEncodingRle;
    meta->codec = opts.codec;
    meta->codec_decided = false;
    meta->null_count = 0;
    meta->has_min_max = false;
    switch (col.type()) {
      case TypeId::kBool:
        return EncodeBool(col, begin, end, meta, fs);
      case TypeId::kInt32:
      case TypeId::kDate:
        return EncodeFixed(col, col.int32_data(), begin, end, meta, fs);
      case TypeId::kInt64:
      case TypeId::kTimestamp:
        return EncodeFixed(col, col.int64_data(), begin, end, meta, fs);
      case TypeId::kDouble:
        return EncodeFixed(col, col.double_data(), begin, end, meta, fs);
      case TypeId::kString:
      case TypeId::kBinary:
        break;
    }
    bool used_dict = false;
    STRATA_RETURN_IF_ERROR(EncodeByteArray(col, begin, end, meta, fs, &used_dict));
    if (used_dict) {
      // The dictionary page goes first, then the data pages held back in `chunk`.
      meta->dictionary_page_offset = Pos();
      page.Clear();
      page.Append(dict_page.data(), dict_page.size());
      STRATA_RETURN_IF_ERROR(EmitPage(kPageDictionary, static_cast<int32_t>(entries.size()),
                                      kEncodingPlain, &out, meta));
      meta->data_page_offset = Pos();
      out.Append(chunk.data(), chunk.size());
    } else if (chunk.size() > 0) {
      // Every page was a page of nulls written while the dictionary was still empty.
      out.Append(chunk.data(), chunk.size());
    }
    return Status::OK();
  }

  // Converted (legacy) and logical types: the converted ones are those DuckDB writes (INT_32 and
  // INT_64 included), the logical ones are added for string, date and timestamp.
  void WriteLogicalType(TypeId t, thrift::CompactWriter* w) {
    switch (t) {
      case TypeId::kInt32:
        w->FieldI32(6, kConvertedInt32);
        break;
      case TypeId::kInt64:
        w->FieldI32(6, kConvertedInt64);
        break;
      case TypeId::kString:
        w->FieldI32(6, kConvertedUtf8);
        w->FieldStructBegin(10);
        w->FieldStructBegin(1);  // STRING
        w->EndStruct();
        w->EndStruct();
        break;
      case TypeId::kDate:
        w->FieldI32(6, kConvertedDate);
        w->FieldStructBegin(10);
        w->FieldStructBegin(6);  // DATE
        w->EndStruct();
        w->EndStruct();
        break;
      case TypeId::kTimestamp:
        w->FieldI32(6, kConvertedTimestampMicros);
        w->FieldStructBegin(10);
        w->FieldStructBegin(8);  // TIMESTAMP
        w->FieldBool(1, true);   // isAdjustedToUTC
        w->FieldStructBegin(2);  // unit
        w->FieldStructBegin(2);  // MICROS
        w->EndStruct();
        w->EndStruct();
        w->EndStruct();
        w->EndStruct();
        break;
      default:
        break;
    }
  }

  void WriteFooter(const Schema& schema, int64_t num_rows) {
    header.clear();
    thrift::CompactWriter w(&header);
    const size_t ncols = schema.num_fields();
    w.BeginStruct();
    w.FieldI32(1, 1);  // version
    w.FieldListBegin(2, thrift::CType::kStruct, static_cast<uint32_t>(ncols + 1));
    w.BeginStruct();
    w.FieldI32(3, kRepetitionRequired);
    w.FieldBinary(4, "duckdb_schema");
    w.FieldI32(5, static_cast<int32_t>(ncols));
    w.EndStruct();
    for (const Field& f : schema.fields()) {
      w.BeginStruct();
      w.FieldI32(1, PhysicalType(f.type));
      w.FieldI32(3, kRepetitionOptional);
      w.FieldBinary(4, f.name);
      WriteLogicalType(f.type, &w);
      w.EndStruct();
    }
    w.FieldI64(3, num_rows);
    w.FieldListBegin(4, thrift::CType::kStruct, static_cast<uint32_t>(num_groups));
    for (size_t g = 0; g < num_groups; ++g) {
      const RowGroupMeta& rg = groups[g];
      int64_t total_uncompressed = 0, total_compressed = 0;
      w.BeginStruct();
      w.FieldListBegin(1, thrift::CType::kStruct, static_cast<uint32_t>(ncols));
      for (size_t c = 0; c < ncols; ++c) {
        const ChunkMeta& m = rg.chunks[c];
        total_uncompressed += m.total_uncompressed;
        total_compressed += m.total_compressed;
        w.BeginStruct();
        w.FieldI64(2, m.file_offset);
        w.FieldStructBegin(3);
        w.FieldI32(1, m.type);
        uint32_t nenc = static_cast<uint32_t>(__builtin_popcount(m.encodings));
        w.FieldListBegin(2, thrift::CType::kI32, nenc);
        for (int e = 0; e < 32; ++e) {
          if (m.encodings & (1u << e)) w.ListI32(e);
        }
        w.FieldListBegin(3, thrift::CType::kBinary, 1);
        w.ListBinary(schema.field(c).name);
        w.FieldI32(4, CodecId(m.codec));
        w.FieldI64(5, m.num_values);
        w.FieldI64(6, m.total_uncompressed);
        w.FieldI64(7, m.total_compressed);
        w.FieldI64(9, m.data_page_offset);
        if (m.dictionary_page_offset >= 0) w.FieldI64(11, m.dictionary_page_offset);
        w.FieldStructBegin(12);
        w.FieldI64(3, m.null_count);
        if (m.has_min_max) {
          w.FieldBinary(5, m.max);
          w.FieldBinary(6, m.min);
        }
        w.EndStruct();  // Statistics
        w.EndStruct();  // ColumnMetaData
        w.EndStruct();  // ColumnChunk
      }
      w.FieldI64(2, total_uncompressed);
      w.FieldI64(3, rg.num_rows);
      w.FieldI64(5, rg.file_offset);
      w.FieldI64(6, total_compressed);
      w.EndStruct();
    }
    w.FieldBinary(6, "strata");
    w.FieldListBegin(7, thrift::CType::kStruct, static_cast<uint32_t>(ncols));
    for (size_t c = 0; c < ncols; ++c) {
      w.BeginStruct();
      w.FieldStructBegin(1);  // TYPE_ORDER
      w.EndStruct();
      w.EndStruct();
    }
    w.EndStruct();
  }

  Status Encode(const RecordBatch& batch, size_t num_rows) {
    out.Clear();
    out.Append("PAR1", 4);
    const size_t rg_rows = static_cast<size_t>(opts.row_group_size);
    num_groups = 0;
    if (file_stats != nullptr) file_stats->assign(batch.num_columns(), ColumnSummary());
    for (size_t begin = 0; begin < num_rows; begin += rg_rows) {
      const size_t end = std::min(num_rows, begin + rg_rows);
      if (groups.size() <= num_groups) groups.emplace_back();
      RowGroupMeta& rg = groups[num_groups++];
      rg.num_rows = static_cast<int64_t>(end - begin);
      rg.file_offset = Pos();
      rg.chunks.resize(batch.num_columns());
      for (size_t c = 0; c < batch.num_columns(); ++c) {
        STRATA_RETURN_IF_ERROR(EncodeChunk(batch.column(c), begin, end, &rg.chunks[c],
                                           file_stats ? &(*file_stats)[c] : nullptr));
        if (out.size() >= kFlushBytes) STRATA_RETURN_IF_ERROR(Flush());
      }
    }
    WriteFooter(*batch.schema(), static_cast<int64_t>(num_rows));
    out.Append(header.data(), header.size());
    out.PutU32(static_cast<uint32_t>(header.size()));
    out.Append("PAR1", 4);
    return Flush();
  }
};

NativeParquetWriter::NativeParquetWriter() : state_(std::make_unique<State>()) {}

NativeParquetWriter::~NativeParquetWriter() = default;

Result<int64_t> NativeParquetWriter::WriteFile(const RecordBatch& batch,
                                               const std::vector<uint32_t>* rows,
                                               const std::string& path,
                                               const NativeParquetOptions& opts,
                                               std::vector<ColumnSummary>* column_stats) {
  if (opts.row_group_size < 1) {
    return InvalidArgument("row_group_size must be positive (writing " + path + ")");
  }
  State& s = *state_;
  s.opts = opts;
  s.opts.page_bytes = std::max<size_t>(1, opts.page_bytes);
  s.sel = rows ? rows->data() : nullptr;
  s.file_stats = column_stats;
  s.path = path;
  s.flushed = 0;
  s.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (s.fd < 0) return IOError("cannot create Parquet file " + path + ": " + std::strerror(errno));
  Status st = s.Encode(batch, rows ? rows->size() : batch.num_rows());
  int rc = ::close(s.fd);
  int err = errno;
  s.fd = -1;
  s.sel = nullptr;
  s.file_stats = nullptr;
  STRATA_RETURN_IF_ERROR(st);
  if (rc != 0) return IOError("cannot close Parquet file " + path + ": " + std::strerror(err));
  return s.flushed;
}

}  // namespace strata
