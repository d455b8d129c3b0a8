#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <set>
#include <thread>

#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using testing::MakeAdd;
using testing::TempDir;

// Commits `n` single-file appends named "<prefix>-<i>.parquet", each in its own transaction
// started from the latest snapshot. Returns the number of failed commits.
int AppendMany(const std::string& path, const std::string& prefix, int n) {
  auto table = DeltaTable::Open(path);
  if (!table.ok()) return n;
  int failures = 0;
  for (int i = 0; i < n; ++i) {
    auto txn = (*table)->StartTransaction();
    if (!txn.ok()) {
      ++failures;
      continue;
    }
    (*txn)->AddFile(MakeAdd(prefix + "-" + std::to_string(i) + ".parquet"));
    (*txn)->SetOperation("WRITE", {{"mode", "Append"}});
    if (!(*txn)->Commit().ok()) ++failures;
  }
  return failures;
}

void ExpectAllFiles(const std::string& path, const std::vector<std::string>& prefixes, int n) {
  auto table = DeltaTable::Open(path);
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  std::set<std::string> paths;
  for (const auto& f : (*snap)->files()) paths.insert(f.path);
  EXPECT_EQ(paths.size(), prefixes.size() * n);
  for (const auto& p : prefixes) {
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(paths.count(p + "-" + std::to_string(i) + ".parquet")) << p << " " << i;
    }
  }
  EXPECT_EQ((*snap)->version(), static_cast<int64_t>(prefixes.size()) * n);
}

TEST(DeltaConcurrencyTest, TwoThreadsAppendWithoutLoss) {
  TempDir dir;
  ASSERT_TRUE(DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {}).ok());
  constexpr int kPerThread = 25;
  int fail_a = 0, fail_b = 0;
  std::thread a([&] { fail_a = AppendMany(dir.path(), "a", kPerThread); });
  std::thread b([&] { fail_b = AppendMany(dir.path(), "b", kPerThread); });
  a.join();
  b.join();
  EXPECT_EQ(fail_a, 0);
  EXPECT_EQ(fail_b, 0);
  ExpectAllFiles(dir.path(), {"a", "b"}, kPerThread);
}

TEST(DeltaConcurrencyTest, TwoProcessesAppendWithoutLoss) {
  TempDir dir;
  ASSERT_TRUE(DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {}).ok());
  constexpr int kPerProcess = 20;
  std::vector<pid_t> children;
  for (const char* prefix : {"p", "q"}) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failures = AppendMany(dir.path(), prefix, kPerProcess);
      ::_exit(failures == 0 ? 0 : 1);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child " << pid;
  }
  ExpectAllFiles(dir.path(), {"p", "q"}, kPerProcess);
}

TEST(DeltaConcurrencyTest, SameTxnAppIdConflicts) {
  TempDir dir;
  auto table = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {});
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  auto first = (*table)->StartTransaction(*snap);
  auto second = (*table)->StartTransaction(*snap);
  auto other_app = (*table)->StartTransaction(*snap);
  first->AddFile(MakeAdd("x1.parquet"));
  first->SetTxn("stream-A", 7);
  second->AddFile(MakeAdd("x2.parquet"));
  second->SetTxn("stream-A", 7);
  other_app->AddFile(MakeAdd("y.parquet"));
  other_app->SetTxn("stream-B", 1);
  ASSERT_TRUE(first->Commit().ok());
  auto v = second->Commit();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kConflict);
  EXPECT_NE(v.status().message().find("stream-A"), std::string::npos);
  // A different appId from the same stale snapshot is a blind append: retried, no conflict.
  auto w = other_app->Commit();
  ASSERT_TRUE(w.ok()) << w.status().ToString();
  EXPECT_EQ(*w, 2);
  auto latest = (*table)->LatestSnapshot();
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->TxnVersion("stream-A"), 7);
  EXPECT_EQ((*latest)->TxnVersion("stream-B"), 1);
  EXPECT_EQ((*latest)->files().size(), 2u);
}

TEST(DeltaConcurrencyTest, ConcurrentRemoveOfSameFileConflicts) {
  TempDir dir;
  auto table = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {});
  ASSERT_TRUE(table.ok());
  {
    auto txn = (*table)->StartTransaction();
    ASSERT_TRUE(txn.ok());
    (*txn)->AddFile(MakeAdd("a.parquet"));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  auto t1 = (*table)->StartTransaction(*snap);
  auto t2 = (*table)->StartTransaction(*snap);
  RemoveFile r;
  r.path = "a.parquet";
  t1->RemoveFile(r);
  t1->AddFile(MakeAdd("a-compacted-1.parquet"));
  t2->RemoveFile(r);
  t2->AddFile(MakeAdd("a-compacted-2.parquet"));
  ASSERT_TRUE(t1->Commit().ok());
  auto v = t2->Commit();
  EXPECT_EQ(v.status().code(), StatusCode::kConflict);
  EXPECT_NE(v.status().message().find("a.parquet"), std::string::npos);
}

TEST(DeltaConcurrencyTest, MetadataChangeConflictsWithConcurrentCommit) {
  TempDir dir;
  auto table = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {});
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  auto append = (*table)->StartTransaction(*snap);
  auto alter = (*table)->StartTransaction(*snap);
  append->AddFile(MakeAdd("a.parquet"));
  Metadata m = (*snap)->metadata();
  m.configuration["delta.checkpointInterval"] = "3";
  alter->SetMetadata(m);
  ASSERT_TRUE(append->Commit().ok());
  EXPECT_EQ(alter->Commit().status().code(), StatusCode::kConflict);
}

TEST(DeltaConcurrencyTest, ConcurrentCreateOfSameTableSucceedsOnce) {
  TempDir dir;
  Status a, b;
  std::thread ta([&] {
    a = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {}).status();
  });
  std::thread tb([&] {
    b = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {}, {}).status();
  });
  ta.join();
  tb.join();
  EXPECT_TRUE(a.ok()) << a.ToString();
  EXPECT_TRUE(b.ok()) << b.ToString();
  auto table = DeltaTable::Open(dir.path());
  ASSERT_TRUE(table.ok());
  auto snap = (*table)->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->version(), 0);
}

}  // namespace
}  // namespace strata::delta
