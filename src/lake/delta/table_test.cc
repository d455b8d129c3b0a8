#include "lake/delta/table.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/file_util.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using testing::MakeAdd;
using testing::TempDir;

void SetMtime(const std::string& path, int64_t ms) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = ms / 1000;
  ts[0].tv_nsec = ts[1].tv_nsec = (ms % 1000) * 1'000'000;
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), ts, 0), 0) << path;
}

std::unique_ptr<DeltaTable> Create(const std::string& path,
                                   std::map<std::string, std::string> config = {}) {
  auto t =
      DeltaTable::CreateIfNotExists(path, testing::EventSchema(), {"event_date"}, config, "events");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

int64_t CommitAdds(DeltaTable& table, std::vector<std::string> paths) {
  auto txn = table.StartTransaction();
  EXPECT_TRUE(txn.ok());
  for (const auto& p : paths) (*txn)->AddFile(MakeAdd(p));
  (*txn)->SetOperation("WRITE", {{"mode", "Append"}});
  auto v = (*txn)->Commit();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : -1;
}

TEST(DeltaTableTest, OpenMissingTableIsNotFound) {
  TempDir dir;
  auto t = DeltaTable::Open(dir.Sub("nope"));
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kNotFound);
  EXPECT_NE(t.status().message().find("_delta_log"), std::string::npos);
}

TEST(DeltaTableTest, CreateWritesProtocolMetadataAndCommitInfo) {
  TempDir dir;
  auto table = Create(dir.path(), {{"delta.checkpointInterval", "5"}});
  ASSERT_TRUE(table);
  ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
  EXPECT_EQ(snap->version(), 0);
  EXPECT_EQ(snap->protocol().min_reader_version, 1);
  EXPECT_EQ(snap->protocol().min_writer_version, 2);
  EXPECT_EQ(snap->metadata().name, "events");
  EXPECT_EQ(snap->partition_columns(), std::vector<std::string>{"event_date"});
  EXPECT_EQ(snap->checkpoint_interval(), 5);
  ASSERT_OK_AND_ASSIGN(Schema schema, snap->schema());
  EXPECT_EQ(schema, testing::EventSchema());
  ASSERT_OK_AND_ASSIGN(auto history, table->History(10));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].commit_info.operation, "CREATE TABLE");
  EXPECT_EQ(history[0].commit_info.engine_info, kEngineInfo);
  EXPECT_EQ(history[0].commit_info.operation_parameters.at("partitionBy"), "[\"event_date\"]");
}

TEST(DeltaTableTest, CreateIfNotExistsVerifiesSchema) {
  TempDir dir;
  ASSERT_TRUE(Create(dir.path()));
  // Same schema: opens the existing table.
  ASSERT_TRUE(Create(dir.path()));
  Schema other({{"x", TypeId::kInt32, true}});
  auto t = DeltaTable::CreateIfNotExists(dir.path(), other, {}, {}, "");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(t.status().message().find("event_id"), std::string::npos) << t.status().message();
  EXPECT_NE(t.status().message().find("\"x\""), std::string::npos);
}

TEST(DeltaTableTest, SeveralCommitsReplay) {
  TempDir dir;
  auto table = Create(dir.path());
  EXPECT_EQ(CommitAdds(*table, {"a.parquet", "b.parquet"}), 1);
  EXPECT_EQ(CommitAdds(*table, {"c.parquet"}), 2);
  {
    auto txn = table->StartTransaction();
    ASSERT_TRUE(txn.ok());
    RemoveFile r;
    r.path = "a.parquet";
    (*txn)->RemoveFile(r);
    (*txn)->AddFile(MakeAdd("d.parquet"));
    (*txn)->SetOperation("OPTIMIZE");
    ASSERT_OK_AND_ASSIGN(int64_t v, (*txn)->Commit());
    EXPECT_EQ(v, 3);
  }
  ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
  EXPECT_EQ(snap->version(), 3);
  std::vector<std::string> paths;
  for (const auto& f : snap->files()) paths.push_back(f.path);
  EXPECT_EQ(paths, (std::vector<std::string>{"b.parquet", "c.parquet", "d.parquet"}));
  ASSERT_EQ(snap->tombstones().size(), 1u);
  EXPECT_EQ(snap->tombstones()[0].path, "a.parquet");
  EXPECT_TRUE(snap->tombstones()[0].deletion_timestamp.has_value());

  ASSERT_OK_AND_ASSIGN(auto v1, table->SnapshotAt(1));
  EXPECT_EQ(v1->files().size(), 2u);
  auto v9 = table->SnapshotAt(9);
  EXPECT_EQ(v9.status().code(), StatusCode::kNotFound);

  ASSERT_OK_AND_ASSIGN(auto history, table->History(2));
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[0].version, 3);
  EXPECT_EQ(history[0].commit_info.operation, "OPTIMIZE");
  EXPECT_EQ(history[0].commit_info.is_blind_append, false);
  EXPECT_EQ(history[1].commit_info.is_blind_append, true);
  EXPECT_EQ(history[1].commit_info.operation_metrics.at("numAddedFiles"), "1");
  EXPECT_EQ(history[1].commit_info.operation_metrics.at("numOutputRows"), "10");
  EXPECT_EQ(history[1].commit_info.read_version, 1);
  EXPECT_TRUE(history[1].commit_info.txn_id.has_value());

  ASSERT_OK_AND_ASSIGN(auto actions, table->ReadCommitActions(2));
  EXPECT_TRUE(std::holds_alternative<CommitInfo>(actions[0]));
  EXPECT_EQ(std::get<AddFile>(actions.back()).path, "c.parquet");
}

TEST(DeltaTableTest, TxnIdempotence) {
  TempDir dir;
  auto table = Create(dir.path());
  for (int64_t batch = 0; batch < 3; ++batch) {
    ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
    auto done = snap->TxnVersion("sink-1");
    if (done && *done >= batch) continue;
    auto txn = table->StartTransaction(snap);
    txn->AddFile(MakeAdd("batch-" + std::to_string(batch) + ".parquet"));
    txn->SetTxn("sink-1", batch);
    txn->SetOperation("STREAMING UPDATE",
                      {{"outputMode", "Append"}, {"epochId", std::to_string(batch)}});
    ASSERT_OK(txn->Commit().status());
  }
  // A replay of batch 1 after a "restart" is skipped by the sink check.
  ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
  EXPECT_EQ(snap->TxnVersion("sink-1"), 2);
  EXPECT_EQ(snap->TxnVersion("other"), std::nullopt);
  EXPECT_TRUE(snap->IsTxnCommitted("sink-1", 1));
  EXPECT_TRUE(snap->IsTxnCommitted("sink-1", 2));
  EXPECT_FALSE(snap->IsTxnCommitted("sink-1", 3));
  EXPECT_FALSE(snap->IsTxnCommitted("other", 0));
  EXPECT_EQ(snap->files().size(), 3u);
  EXPECT_EQ(snap->version(), 3);
}

TEST(DeltaTableTest, LatestSnapshotIsUpdatedIncrementally) {
  TempDir dir;
  auto table = Create(dir.path());
  CommitAdds(*table, {"a.parquet", "b.parquet"});
  ASSERT_OK_AND_ASSIGN(auto first, table->LatestSnapshot());
  ASSERT_OK_AND_ASSIGN(auto again, table->LatestSnapshot());
  EXPECT_EQ(first.get(), again.get());  // nothing committed: the cached snapshot itself
  // Another writer (a separate table object) removes a file, changes metadata, sets a txn.
  ASSERT_OK_AND_ASSIGN(auto other, DeltaTable::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto txn, other->StartTransaction());
  RemoveFile r;
  r.path = "a.parquet";
  txn->RemoveFile(r);
  txn->SetTxn("app", 4);
  Metadata m = first->metadata();
  m.configuration["delta.checkpointInterval"] = "100";
  txn->SetMetadata(m);
  ASSERT_OK(txn->Commit().status());
  CommitAdds(*other, {"c.parquet"});
  ASSERT_OK_AND_ASSIGN(auto updated, table->LatestSnapshot());
  ASSERT_OK_AND_ASSIGN(auto fresh_table, DeltaTable::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(auto full, fresh_table->LatestSnapshot());
  EXPECT_EQ(updated->version(), 3);
  EXPECT_EQ(full->version(), 3);
  ASSERT_EQ(updated->files().size(), full->files().size());
  for (size_t i = 0; i < full->files().size(); ++i) {
    EXPECT_EQ(updated->files()[i].path, full->files()[i].path);
  }
  EXPECT_EQ(updated->tombstones().size(), 1u);
  EXPECT_EQ(updated->TxnVersion("app"), 4);
  EXPECT_EQ(updated->checkpoint_interval(), 100);
  EXPECT_EQ(updated->metadata().configuration, full->metadata().configuration);
}

TEST(DeltaTableTest, TimeTravelByVersionAndTimestamp) {
  TempDir dir;
  auto table = Create(dir.path());
  CommitAdds(*table, {"a.parquet"});
  CommitAdds(*table, {"b.parquet"});
  const LogStore& store = table->log_store();
  SetMtime(store.CommitPath(0), 1'000'000);
  SetMtime(store.CommitPath(1), 2'000'000);
  SetMtime(store.CommitPath(2), 3'000'000);
  ASSERT_OK_AND_ASSIGN(auto s1, table->SnapshotAtTimestamp(2'500'000));
  EXPECT_EQ(s1->version(), 1);
  EXPECT_EQ(s1->files().size(), 1u);
  EXPECT_EQ(s1->timestamp(), 2'000'000);
  ASSERT_OK_AND_ASSIGN(auto s2, table->SnapshotAtTimestamp(3'000'000));
  EXPECT_EQ(s2->version(), 2);
  ASSERT_OK_AND_ASSIGN(auto s0, table->SnapshotAtTimestamp(1'000'000));
  EXPECT_EQ(s0->version(), 0);
  auto before = table->SnapshotAtTimestamp(999'999);
  EXPECT_EQ(before.status().code(), StatusCode::kNotFound);
  // Non-monotonic file times are made increasing with version.
  SetMtime(store.CommitPath(2), 1'500'000);
  ASSERT_OK_AND_ASSIGN(int64_t t2, table->VersionTimestamp(2));
  EXPECT_EQ(t2, 2'000'001);
  ASSERT_OK_AND_ASSIGN(auto s, table->SnapshotAtTimestamp(1'600'000));
  EXPECT_EQ(s->version(), 0);
}

TEST(DeltaTableTest, InCommitTimestampsWinOverFileTimes) {
  TempDir dir;
  auto table = Create(dir.path(), {{"delta.enableInCommitTimestamps", "true"}});
  const LogStore& store = table->log_store();
  // A commit written by another engine with an in-commit timestamp.
  CommitInfo ci;
  ci.in_commit_timestamp = 5'000'000;
  ci.operation = "WRITE";
  ASSERT_OK(store.WriteCommit(1, {ci, MakeAdd("x.parquet")}));
  SetMtime(store.CommitPath(1), 9'000'000);
  ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
  EXPECT_EQ(snap->timestamp(), 5'000'000);
  ASSERT_OK_AND_ASSIGN(auto s, table->SnapshotAtTimestamp(6'000'000));
  EXPECT_EQ(s->version(), 1);
}

TEST(DeltaTableTest, TruncatedCommitIsCorruptionNamingFile) {
  TempDir dir;
  auto table = Create(dir.path());
  CommitAdds(*table, {"a.parquet"});
  std::string path = table->log_store().CommitPath(1);
  std::filesystem::permissions(path, std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::add);
  {
    std::ofstream out(path, std::ios::app);
    out << R"({"add":{"path":"b.parquet","partitionValues":{},"si)";
  }
  auto snap = table->LatestSnapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kCorruption);
  EXPECT_NE(snap.status().message().find("00000000000000000001.json"), std::string::npos)
      << snap.status().message();
  EXPECT_NE(snap.status().message().find("version 1"), std::string::npos);
}

TEST(DeltaTableTest, MissingCommitIsCorruptionNamingVersion) {
  TempDir dir;
  auto table = Create(dir.path());
  CommitAdds(*table, {"a.parquet"});
  CommitAdds(*table, {"b.parquet"});
  std::filesystem::remove(table->log_store().CommitPath(1));
  // A fresh reader (the writer's cached snapshot would only replay commits after it).
  ASSERT_OK_AND_ASSIGN(auto reader, DeltaTable::Open(dir.path()));
  auto snap = reader->LatestSnapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kCorruption);
  EXPECT_NE(snap.status().message().find("00000000000000000001.json"), std::string::npos)
      << snap.status().message();
}

TEST(DeltaTableTest, UnsupportedReaderFeatureIsRefusedByName) {
  TempDir dir;
  auto table = Create(dir.path());
  Protocol p{3, 7, std::vector<std::string>{"deletionVectors", "fancyNewFeature"},
             std::vector<std::string>{"deletionVectors", "fancyNewFeature"}};
  ASSERT_OK(table->log_store().WriteCommit(1, {CommitInfo{}, p}));
  auto snap = table->LatestSnapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(snap.status().message().find("fancyNewFeature"), std::string::npos);
  // The version before the upgrade is still readable.
  EXPECT_TRUE(table->SnapshotAt(0).ok());
}

TEST(DeltaTableTest, ReaderVersionFourIsRefused) {
  TempDir dir;
  auto table = Create(dir.path());
  ASSERT_OK(table->log_store().WriteCommit(1, {Protocol{4, 7, std::nullopt, std::nullopt}}));
  auto snap = table->LatestSnapshot();
  ASSERT_FALSE(snap.ok());
  EXPECT_EQ(snap.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(snap.status().message().find("reader version 4"), std::string::npos);
}

TEST(DeltaTableTest, UnsupportedWriterFeatureRefusesCommit) {
  TempDir dir;
  auto table = Create(dir.path());
  Protocol p{3, 7, std::vector<std::string>{}, std::vector<std::string>{"identityColumns"}};
  ASSERT_OK(table->log_store().WriteCommit(1, {p}));
  auto txn = table->StartTransaction();
  ASSERT_TRUE(txn.ok());
  (*txn)->AddFile(MakeAdd("a.parquet"));
  auto v = (*txn)->Commit();
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(v.status().message().find("identityColumns"), std::string::npos);
}

TEST(DeltaTableTest, AppendOnlyTableRefusesRemove) {
  TempDir dir;
  auto table = Create(dir.path(), {{"delta.appendOnly", "true"}});
  CommitAdds(*table, {"a.parquet"});
  auto txn = table->StartTransaction();
  ASSERT_TRUE(txn.ok());
  RemoveFile r;
  r.path = "a.parquet";
  (*txn)->RemoveFile(r);
  auto v = (*txn)->Commit();
  EXPECT_EQ(v.status().code(), StatusCode::kInvalidArgument);
}

TEST(DeltaTableTest, CommitIsNeverOverwritten) {
  TempDir dir;
  auto table = Create(dir.path());
  auto st = table->log_store().WriteCommit(0, {MakeAdd("x.parquet")});
  EXPECT_EQ(st.code(), StatusCode::kAlreadyExists);
  ASSERT_OK_AND_ASSIGN(auto snap, table->LatestSnapshot());
  EXPECT_TRUE(snap->files().empty());
}

}  // namespace
}  // namespace strata::delta
