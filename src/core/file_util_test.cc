#include "core/file_util.h"

#include <gtest/gtest.h>

#include <filesystem>

namespace strata {
namespace {

class FileUtilTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        std::filesystem::temp_directory_path() / ("strata_file_util_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    ASSERT_TRUE(CreateDirectories(dir_.string()).ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(FileUtilTest, WriteIfAbsentRefusesSecondWriter) {
  std::string p = (dir_ / "00000.json").string();
  ASSERT_TRUE(WriteFileIfAbsent(p, "first").ok());
  Status st = WriteFileIfAbsent(p, "second");
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ReadFile(p).value(), "first");
}

TEST_F(FileUtilTest, AtomicWriteReplaces) {
  std::string p = (dir_ / "f").string();
  ASSERT_TRUE(WriteFileAtomic(p, "a").ok());
  ASSERT_TRUE(WriteFileAtomic(p, "bb").ok());
  EXPECT_EQ(ReadFile(p).value(), "bb");
  // No temporary files are left behind.
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) (void)e, ++n;
  EXPECT_EQ(n, 1u);
}

TEST_F(FileUtilTest, ReadMissingIsNotFound) {
  EXPECT_EQ(ReadFile((dir_ / "nope").string()).status().code(), StatusCode::kNotFound);
}

TEST_F(FileUtilTest, AtomicFileWriterAppearsOnlyOnCommit) {
  std::string p = (dir_ / "big").string();
  ASSERT_TRUE(WriteFileAtomic(p, "old").ok());
  {
    auto w = AtomicFileWriter::Open(p);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Append("new ").ok());
    ASSERT_TRUE((*w)->Append("content").ok());
    EXPECT_EQ((*w)->bytes_written(), 11u);
    EXPECT_EQ(ReadFile(p).value(), "old");  // untouched until the commit
    ASSERT_TRUE((*w)->Commit().ok());
    EXPECT_FALSE((*w)->Append("more").ok());
  }
  EXPECT_EQ(ReadFile(p).value(), "new content");
  {
    auto w = AtomicFileWriter::Open(p);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Append("abandoned").ok());
  }  // destroyed without Commit: the old file stays and the temporary is gone
  EXPECT_EQ(ReadFile(p).value(), "new content");
  size_t n = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_)) (void)e, ++n;
  EXPECT_EQ(n, 1u);
  EXPECT_EQ(AtomicFileWriter::Open((dir_ / "no" / "such" / "dir").string()).status().code(),
            StatusCode::kIOError);
}

}  // namespace
}  // namespace strata
