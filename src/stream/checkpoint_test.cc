#include "stream/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "core/hash.h"

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

// State files are written blob by blob and read back whole; a torn or altered file is named as
// corrupt, never misread; files of the earlier format (one checksum at the end) still load.
TEST_F(CheckpointTest, StateIsWrittenBlobByBlobAndVerified) {
  Checkpoint c(dir_);
  ASSERT_TRUE(c.CreateMetadata({1, "qid", "q", "src", "fp"}).ok());
  const std::string big(3 << 20, 'x');
  {
    auto w = c.BeginState(0, /*snapshot=*/true);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Add({kGlobalStatePartition, "global"}).ok());
    ASSERT_TRUE((*w)->Add({0, big}).ok());
    ASSERT_TRUE((*w)->Add({7, ""}).ok());
    EXPECT_EQ((*w)->blob_bytes(), static_cast<int64_t>(6 + big.size()));
    ASSERT_TRUE((*w)->Finish().ok());
  }
  ASSERT_TRUE(c.WriteState(1, false, {{0, "d1"}}).ok());
  {
    // An attempt that never finished leaves nothing.
    auto w = c.BeginState(2, false);
    ASSERT_TRUE(w.ok());
    ASSERT_TRUE((*w)->Add({0, "d2"}).ok());
  }
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/state/2.delta"));
  size_t files = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_ + "/state")) (void)e, ++files;
  EXPECT_EQ(files, 2u);

  std::vector<StateBlob> snapshot;
  std::vector<std::vector<StateBlob>> deltas;
  int64_t snapshot_batch = -1;
  ASSERT_TRUE(c.LoadState(1, &snapshot, &deltas, &snapshot_batch).ok());
  EXPECT_EQ(snapshot_batch, 0);
  ASSERT_EQ(snapshot.size(), 3u);
  EXPECT_EQ(snapshot[0].partition, kGlobalStatePartition);
  EXPECT_EQ(snapshot[0].bytes, "global");
  EXPECT_EQ(snapshot[1].partition, 0);
  EXPECT_EQ(snapshot[1].bytes, big);
  EXPECT_EQ(snapshot[2].partition, 7);
  EXPECT_EQ(snapshot[2].bytes, "");
  ASSERT_EQ(deltas.size(), 1u);
  EXPECT_EQ(deltas[0][0].bytes, "d1");

  // A changed byte inside a blob, a cut-off file, a lost trailer: each is Corruption naming it.
  const std::string path = dir_ + "/state/0.snapshot";
  const std::string good = ReadFile(path).value();
  auto expect_corrupt = [&](const std::string& content, const char* what) {
    ASSERT_TRUE(WriteFileAtomic(path, content).ok());
    Status st = c.LoadState(1, &snapshot, &deltas, &snapshot_batch);
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << what << ": " << st.ToString();
    EXPECT_NE(st.message().find("0.snapshot"), std::string::npos) << st.ToString();
  };
  std::string flipped = good;
  flipped[40 + big.size() / 2] ^= 1;
  expect_corrupt(flipped, "flipped byte");
  expect_corrupt(good.substr(0, good.size() - 100), "cut off");
  expect_corrupt(good.substr(0, good.size() - 16), "no trailer");

  // Version 1: "STB1" | u32 count | (i32 partition | u64 size | bytes)... | u64 checksum.
  std::string v1 = "STB1";
  auto put = [&v1](auto v) { v1.append(reinterpret_cast<const char*>(&v), sizeof v); };
  put(uint32_t{1});
  put(int32_t{3});
  put(uint64_t{5});
  v1 += "hello";
  put(HashBytes(v1));
  ASSERT_TRUE(WriteFileAtomic(path, v1).ok());
  ASSERT_TRUE(c.LoadState(1, &snapshot, &deltas, &snapshot_batch).ok());
  ASSERT_EQ(snapshot.size(), 1u);
  EXPECT_EQ(snapshot[0].partition, 3);
  EXPECT_EQ(snapshot[0].bytes, "hello");
}

}  // namespace
}  // namespace strata
