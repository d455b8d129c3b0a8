#include "stream/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"

namespace strata {
namespace {

class CheckpointTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_ckpt_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
};

TEST_F(CheckpointTest, NewCheckpointHasNoMetadata) {
  Checkpoint c(dir_);
  EXPECT_EQ(c.LoadMetadata().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(c.LatestCommitted().value(), -1);
}

TEST_F(CheckpointTest, RoundTripsPlansAndCommits) {
  Checkpoint c(dir_);
  ASSERT_TRUE(c.CreateMetadata({1, "qid", "q", "src", "fp"}).ok());
  EXPECT_EQ(c.CreateMetadata({1, "other", "q", "src", "fp"}).code(), StatusCode::kAlreadyExists);
  auto m = c.LoadMetadata();
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_EQ(m->query_id, "qid");

  ASSERT_TRUE(c.WritePlanned({0, 1000, 0, R"({"a":1})", R"({"a":5})"}).ok());
  ASSERT_TRUE(c.WritePlanned({1, 2000, 7, R"({"a":5})", R"({"a":9})"}).ok());
  ASSERT_TRUE(c.WriteCommitted({0, 7}).ok());
  EXPECT_EQ(c.LatestPlanned().value(), 1);
  EXPECT_EQ(c.LatestCommitted().value(), 0);
  auto p = c.LoadPlanned(1);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->start, R"({"a":5})");
  EXPECT_EQ(p->end, R"({"a":9})");
  EXPECT_EQ(p->watermark_ms, 7);
}

TEST_F(CheckpointTest, CorruptFileIsNamed) {
  Checkpoint c(dir_);
  ASSERT_TRUE(c.CreateMetadata({1, "qid", "q", "src", "fp"}).ok());
  ASSERT_TRUE(WriteFileAtomic(dir_ + "/offsets/3", "{not json").ok());
  auto p = c.LoadPlanned(3);
  EXPECT_EQ(p.status().code(), StatusCode::kCorruption);
  EXPECT_NE(p.status().message().find("offsets/3"), std::string::npos);
}

TEST_F(CheckpointTest, NewerFormatIsRefused) {
  ASSERT_TRUE(CreateDirectories(dir_).ok());
  ASSERT_TRUE(
      WriteFileAtomic(dir_ + "/metadata",
                      R"({"formatVersion":99,"id":"x","name":"n","source":"s","fingerprint":"f"})")
          .ok());
  auto m = Checkpoint(dir_).LoadMetadata();
  EXPECT_EQ(m.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace strata
