// Bad input: corrupt or truncated commits, unknown actions and missing checkpoint parts give
// errors naming the file and version, and no writer commits on top of such a log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using testing::EventSchema;
using testing::MakeAdd;
using testing::TempDir;
namespace fs = std::filesystem;

class DeltaBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Sub("t");
    auto t = DeltaTable::CreateIfNotExists(path_, EventSchema(), {}, {});
    ASSERT_TRUE(t.ok());
    auto txn = (*t)->StartTransaction();
    ASSERT_TRUE(txn.ok());
    (*txn)->AddFile(MakeAdd("a.parquet"));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  void WriteCommit(int64_t version, const std::string& text) {
    std::ofstream(LogStore(path_).CommitPath(version)) << text;
  }
  bool CommitExists(int64_t version) { return fs::exists(LogStore(path_).CommitPath(version)); }

  TempDir dir_;
  std::string path_;
};

TEST_F(DeltaBadInputTest, WriterRefusesToCommitOnATruncatedCommit) {
  WriteCommit(2, "{\"add\":{\"path\":\"b.parquet\",\"partitionValues\":{},\"size\":1,");
  auto table = DeltaTable::Open(path_);
  ASSERT_TRUE(table.ok());
  auto txn = (*table)->StartTransaction();
  ASSERT_FALSE(txn.ok());
  EXPECT_EQ(txn.status().code(), StatusCode::kCorruption);
  EXPECT_NE(txn.status().message().find("00000000000000000002.json"), std::string::npos)
      << txn.status().ToString();
  EXPECT_NE(txn.status().message().find("version 2"), std::string::npos) << txn.status().ToString();
  EXPECT_FALSE(CommitExists(3));
}

TEST_F(DeltaBadInputTest, TransactionThatLosesToAnUnreadableCommitDoesNotWriteAfterIt) {
  auto table = DeltaTable::Open(path_);
  ASSERT_TRUE(table.ok());
  auto txn = (*table)->StartTransaction();  // reads version 1
  ASSERT_TRUE(txn.ok());
  // Another "writer" commits version 2 with an action strata does not know.
  WriteCommit(2, "{\"futureAction\":{\"x\":1}}\n");
  (*txn)->AddFile(MakeAdd("c.parquet"));
  auto v = (*txn)->Commit();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kCorruption);
  EXPECT_NE(v.status().message().find("unknown action 'futureAction'"), std::string::npos)
      << v.status().ToString();
  EXPECT_NE(v.status().message().find("version 2"), std::string::npos) << v.status().ToString();
  EXPECT_FALSE(CommitExists(3));
  // Readers refuse the table the same way.
  auto fresh = DeltaTable::Open(path_);
  ASSERT_TRUE(fresh.ok());
  EXPECT_EQ((*fresh)->LatestSnapshot().status().code(), StatusCode::kCorruption);
}

TEST_F(DeltaBadInputTest, WriterRefusesAnUnknownWriterFeatureAddedLater) {
  WriteCommit(2,
              "{\"protocol\":{\"minReaderVersion\":1,\"minWriterVersion\":7,"
              "\"writerFeatures\":[\"rowTracking\"]}}\n");
  auto table = DeltaTable::Open(path_);
  ASSERT_TRUE(table.ok());
  auto txn = (*table)->StartTransaction();
  ASSERT_TRUE(txn.ok());  // readable...
  (*txn)->AddFile(MakeAdd("d.parquet"));
  auto v = (*txn)->Commit();  // ...but not writable
  EXPECT_EQ(v.status().code(), StatusCode::kNotSupported) << v.status().ToString();
  EXPECT_NE(v.status().message().find("rowTracking"), std::string::npos);
  EXPECT_FALSE(CommitExists(3));
}

// A multi-part checkpoint with a part missing is not used; when the commits it replaced are
// gone too, the error names the missing commit and version.
TEST(DeltaBadInputCheckpointTest, MissingCheckpointPartWithoutCommitsIsCorruption) {
  TempDir dir;
  std::string src = std::string(STRATA_SOURCE_DIR) +
                    "/../shared/conformance/delta/golden-multi-part-checkpoint/delta";
  fs::copy(src, dir.Sub("t"), fs::copy_options::recursive);
  std::string log = dir.Sub("t") + "/_delta_log/";
  {
    auto whole = DeltaTable::Open(dir.Sub("t"));
    ASSERT_TRUE(whole.ok());
    auto snap = (*whole)->LatestSnapshot();
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ((*snap)->checkpoint_version(), 1);
  }
  fs::remove(log + "00000000000000000001.checkpoint.0000000002.0000000002.parquet");
  // With the commits present, the reader replays them instead.
  {
    auto t = DeltaTable::Open(dir.Sub("t"));
    ASSERT_TRUE(t.ok());
    auto snap = (*t)->LatestSnapshot();
    ASSERT_TRUE(snap.ok()) << snap.status().ToString();
    EXPECT_EQ((*snap)->checkpoint_version(), std::nullopt);
  }
  fs::remove(log + "00000000000000000000.json");
  auto t = DeltaTable::Open(dir.Sub("t"));
  ASSERT_TRUE(t.ok());
  auto snap = (*t)->LatestSnapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kCorruption) << snap.status().ToString();
  EXPECT_NE(snap.status().message().find("version 0"), std::string::npos)
      << snap.status().ToString();
  auto txn = (*t)->StartTransaction();
  EXPECT_FALSE(txn.ok());
}

}  // namespace
}  // namespace strata::delta
