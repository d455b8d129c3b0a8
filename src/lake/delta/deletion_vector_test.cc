#include "lake/delta/deletion_vector.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using delta::testing::TempDir;

std::string Le32(uint32_t v) {
  std::string s(4, '\0');
  for (int i = 0; i < 4; ++i) s[i] = static_cast<char>(v >> (8 * i));
  return s;
}
std::string Le16(uint16_t v) {
  return std::string{static_cast<char>(v), static_cast<char>(v >> 8)};
}
std::string Le64(uint64_t v) {
  return Le32(static_cast<uint32_t>(v)) + Le32(static_cast<uint32_t>(v >> 32));
}

TEST(DeltaDeletionVectorTest, Z85DecodesKnownVector) {
  // ZeroMQ's reference vector: 0x86 0x4F 0xD2 0x6F 0xB5 0x59 0xF7 0x5B is "HelloWorld".
  auto bytes = DecodeZ85("HelloWorld");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("\x86\x4F\xD2\x6F\xB5\x59\xF7\x5B", 8));
  EXPECT_FALSE(DecodeZ85("Hell").ok());
  EXPECT_FALSE(DecodeZ85("Hell~").ok());
}

TEST(DeltaDeletionVectorTest, ParsesArrayRunAndBitmapContainers) {
  std::string data = Le32(1681511377) + Le64(2);
  // Bitmap key 0: no-run cookie, two containers: array {1, 5} at key 0, bitmap at key 1.
  data += Le32(0) + Le32(12346) + Le32(2);
  data += Le16(0) + Le16(1) + Le16(1) + Le16(4096);  // 4097 values -> bitmap container
  data += Le32(0) + Le32(0);                         // offsets (ignored)
  data += Le16(1) + Le16(5);
  std::string bitmap(8192, '\0');
  for (int v = 0; v < 4097; ++v) bitmap[v / 8] |= static_cast<char>(1 << (v % 8));
  data += bitmap;
  // Bitmap key 3: run cookie with one run container [10, 12].
  data += Le32(3) + Le32(12347 | (0u << 16)) + std::string(1, '\x01');
  data += Le16(0) + Le16(2);
  data += Le16(1) + Le16(10) + Le16(2);
  auto rows = ParseRoaringBitmapArray(data, "test");
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  ASSERT_EQ(rows->size(), 2u + 4097u + 3u);
  EXPECT_EQ((*rows)[0], 1u);
  EXPECT_EQ((*rows)[1], 5u);
  EXPECT_EQ((*rows)[2], 65536u);
  EXPECT_EQ((*rows)[2 + 4096], 65536u + 4096u);
  EXPECT_EQ(rows->back(), (3ull << 32) | 12);
  // Truncation and a bad magic are Corruption naming the vector.
  auto cut = ParseRoaringBitmapArray(data.substr(0, 30), "dv-x");
  EXPECT_EQ(cut.status().code(), StatusCode::kCorruption);
  EXPECT_NE(cut.status().message().find("dv-x"), std::string::npos);
  EXPECT_EQ(ParseRoaringBitmapArray("abcdabcdabcd", "y").status().code(), StatusCode::kCorruption);
}

// The on-disk vectors of a table Spark wrote: each decodes to its logged cardinality; a
// flipped byte fails the CRC with an error naming the file.
TEST(DeltaDeletionVectorTest, ReadsSparkWrittenVectorsAndChecksCrc) {
  std::string src = std::string(STRATA_SOURCE_DIR) +
                    "/../shared/conformance/delta/golden-dv-partitioned-with-checkpoint/delta";
  auto table = delta::DeltaTable::Open(src);
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  int with_dv = 0;
  const delta::AddFile* first = nullptr;
  for (const auto& f : (*snap)->files()) {
    if (!f.deletion_vector) continue;
    auto rows = ReadDeletionVector(src, *f.deletion_vector);
    ASSERT_TRUE(rows.ok()) << rows.status().ToString();
    EXPECT_EQ(static_cast<int64_t>(rows->size()), f.deletion_vector->cardinality);
    EXPECT_TRUE(std::is_sorted(rows->begin(), rows->end()));
    if (!first) first = &f;
    ++with_dv;
  }
  ASSERT_GT(with_dv, 0);

  TempDir tmp;
  auto path = DeletionVectorPath(src, *first->deletion_vector);
  ASSERT_TRUE(path.ok());
  auto content = ReadFile(*path);
  ASSERT_TRUE(content.ok());
  std::string rel = path->substr(src.size());
  std::filesystem::create_directories(std::filesystem::path(tmp.path() + rel).parent_path());
  std::string bad = *content;
  bad[*first->deletion_vector->offset + 4 + 6] ^= 0x40;
  ASSERT_TRUE(WriteFileAtomic(tmp.path() + rel, bad).ok());
  auto rows = ReadDeletionVector(tmp.path(), *first->deletion_vector);
  ASSERT_EQ(rows.status().code(), StatusCode::kCorruption);
  EXPECT_NE(rows.status().message().find("deletion_vector_"), std::string::npos)
      << rows.status().ToString();
  std::filesystem::remove(tmp.path() + rel);
  EXPECT_FALSE(ReadDeletionVector(tmp.path(), *first->deletion_vector).ok());
}

TEST(DeltaDeletionVectorTest, InlineVector) {
  // Inline vectors are the same RoaringBitmapArray, Z85-encoded (padded to 4 bytes).
  std::string data = Le32(1681511377) + Le64(1) + Le32(0) + Le32(12346) + Le32(1) + Le16(0) +
                     Le16(2) + Le32(0) + Le16(0) + Le16(7) + Le16(9);
  size_t size = data.size();
  while (data.size() % 4) data.push_back('\0');
  static const char* kAlphabet =
      "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#";
  std::string text;
  for (size_t i = 0; i < data.size(); i += 4) {
    uint64_t v = 0;
    for (int k = 0; k < 4; ++k) v = (v << 8) | static_cast<uint8_t>(data[i + k]);
    char group[5];
    for (int k = 4; k >= 0; --k) {
      group[k] = kAlphabet[v % 85];
      v /= 85;
    }
    text.append(group, 5);
  }
  delta::DeletionVector dv;
  dv.storage_type = "i";
  dv.path_or_inline_dv = text;
  dv.size_in_bytes = static_cast<int32_t>(size);
  dv.cardinality = 3;
  auto rows = ReadDeletionVector("/nowhere", dv);
  ASSERT_TRUE(rows.ok()) << rows.status().ToString();
  EXPECT_EQ(*rows, (std::vector<uint64_t>{0, 7, 9}));
  dv.cardinality = 4;
  EXPECT_EQ(ReadDeletionVector("/nowhere", dv).status().code(), StatusCode::kCorruption);
}

}  // namespace
}  // namespace strata::delta
