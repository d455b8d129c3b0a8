#include "lake/delta/checkpoint.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/file_util.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

namespace fs = std::filesystem;
using testing::MakeAdd;
using testing::TempDir;

// Creates a partitioned table and commits `n` appends (one file each, some with a txn), with
// a remove every 7th commit.
std::unique_ptr<DeltaTable> BuildTable(const std::string& path, int n) {
  auto table = DeltaTable::CreateIfNotExists(path, testing::EventSchema(), {"event_date"}, {});
  EXPECT_TRUE(table.ok()) << table.status().ToString();
  for (int i = 1; i <= n; ++i) {
    auto txn = (*table)->StartTransaction();
    EXPECT_TRUE(txn.ok());
    AddFile a = MakeAdd("event_date=2026-11-" + std::to_string(10 + i % 3) + "/part-" +
                        std::to_string(i) + ".parquet");
    a.partition_values["event_date"] = "2026-11-" + std::to_string(10 + i % 3);
    if (i % 5 == 0) a.partition_values["event_date"] = std::nullopt;
    (*txn)->AddFile(a);
    if (i % 7 == 0) {
      RemoveFile r;
      r.path = "event_date=2026-11-" + std::to_string(10 + (i - 1) % 3) + "/part-" +
               std::to_string(i - 1) + ".parquet";
      (*txn)->RemoveFile(r);
    }
    if (i % 2 == 0) (*txn)->SetTxn("app-" + std::to_string(i % 4), i);
    auto v = (*txn)->Commit();
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    EXPECT_TRUE((*table)->last_checkpoint_status().ok())
        << (*table)->last_checkpoint_status().ToString();
  }
  return std::move(table).value();
}

void ExpectSameState(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.version(), b.version());
  ASSERT_EQ(a.files().size(), b.files().size());
  for (size_t i = 0; i < a.files().size(); ++i) {
    EXPECT_EQ(a.files()[i].path, b.files()[i].path);
    EXPECT_EQ(a.files()[i].partition_values, b.files()[i].partition_values);
    EXPECT_EQ(a.files()[i].size, b.files()[i].size);
    EXPECT_EQ(a.files()[i].stats, b.files()[i].stats);
  }
  ASSERT_EQ(a.txns().size(), b.txns().size());
  for (const auto& [app, t] : a.txns()) EXPECT_EQ(b.TxnVersion(app), t.version) << app;
  EXPECT_EQ(a.metadata().id, b.metadata().id);
  EXPECT_EQ(a.metadata().schema_string, b.metadata().schema_string);
  EXPECT_EQ(a.metadata().partition_columns, b.metadata().partition_columns);
  EXPECT_EQ(a.metadata().configuration, b.metadata().configuration);
  EXPECT_EQ(a.protocol().min_reader_version, b.protocol().min_reader_version);
  EXPECT_EQ(a.protocol().min_writer_version, b.protocol().min_writer_version);
  ASSERT_EQ(a.tombstones().size(), b.tombstones().size());
}

// Copies the log of `from` into a new table dir `to`, keeping the files `keep` accepts.
template <typename Keep>
void CopyLog(const std::string& from, const std::string& to, Keep keep) {
  ASSERT_TRUE(CreateDirectories(to + "/_delta_log").ok());
  for (const auto& e : fs::directory_iterator(from + "/_delta_log")) {
    std::string name = e.path().filename().string();
    if (e.is_regular_file() && keep(name)) fs::copy_file(e.path(), to + "/_delta_log/" + name);
  }
}

TEST(DeltaCheckpointTest, WrittenEveryTenCommitsAndEquivalentToReplay) {
  TempDir dir;
  std::string path = dir.Sub("t");
  auto table = BuildTable(path, 25);
  EXPECT_TRUE(fs::exists(path + "/_delta_log/00000000000000000010.checkpoint.parquet"));
  EXPECT_TRUE(fs::exists(path + "/_delta_log/00000000000000000020.checkpoint.parquet"));
  EXPECT_FALSE(fs::exists(path + "/_delta_log/00000000000000000025.checkpoint.parquet"));
  auto last = table->log_store().ReadLastCheckpoint();
  ASSERT_TRUE(last);
  EXPECT_EQ(last->version, 20);
  ASSERT_OK_AND_ASSIGN(auto reader, DeltaTable::Open(path));
  ASSERT_OK_AND_ASSIGN(auto with_cp, reader->LatestSnapshot());
  EXPECT_EQ(with_cp->checkpoint_version(), 20);
  // The writer's cached, incrementally updated snapshot holds the same state.
  ASSERT_OK_AND_ASSIGN(auto cached, table->LatestSnapshot());
  ExpectSameState(*with_cp, *cached);
  EXPECT_EQ(last->num_of_add_files.value_or(-1),
            static_cast<int64_t>(table->SnapshotAt(20).value()->files().size()));

  // Full replay of the JSON commits only.
  std::string json_only = dir.Sub("json-only");
  CopyLog(path, json_only,
          [](const std::string& n) { return n.find(".json") != std::string::npos; });
  ASSERT_OK_AND_ASSIGN(auto replay_table, DeltaTable::Open(json_only));
  ASSERT_OK_AND_ASSIGN(auto replayed, replay_table->LatestSnapshot());
  EXPECT_EQ(replayed->checkpoint_version(), std::nullopt);
  ExpectSameState(*with_cp, *replayed);

  // Only the checkpoint at 20 and later commits: the older JSON is gone.
  std::string cp_only = dir.Sub("cp-only");
  CopyLog(path, cp_only, [](const std::string& n) {
    if (n.find("checkpoint") != std::string::npos) return n.rfind("00000000000000000020", 0) == 0;
    return n.size() == 25 && n.substr(0, 20) > "00000000000000000020";
  });
  ASSERT_OK_AND_ASSIGN(auto cp_table, DeltaTable::Open(cp_only));
  ASSERT_OK_AND_ASSIGN(auto from_cp, cp_table->LatestSnapshot());
  EXPECT_EQ(from_cp->checkpoint_version(), 20);
  ExpectSameState(*with_cp, *from_cp);
  // The checkpoint version itself, and nothing older, is reconstructable.
  ASSERT_OK_AND_ASSIGN(auto at20, cp_table->SnapshotAt(20));
  ExpectSameState(*table->SnapshotAt(20).value(), *at20);
  auto at19 = cp_table->SnapshotAt(19);
  EXPECT_EQ(at19.status().code(), StatusCode::kCorruption);
}

TEST(DeltaCheckpointTest, ParquetSchemaFollowsTheProtocol) {
  TempDir dir;
  auto table = BuildTable(dir.path(), 10);
  std::string cp = dir.path() + "/_delta_log/00000000000000000010.checkpoint.parquet";
  ASSERT_TRUE(fs::exists(cp));
  ASSERT_OK_AND_ASSIGN(auto db, duck::Database::Open());
  ASSERT_OK_AND_ASSIGN(auto conn, duck::Connection::Open(db));
  ASSERT_OK_AND_ASSIGN(auto desc, conn->Query("DESCRIBE SELECT * FROM read_parquet(" +
                                              duck::QuoteLiteral(cp) + ")"));
  std::map<std::string, std::string> types;
  for (size_t r = 0; r < desc.row_count(); ++r) types[desc.GetString(0, r)] = desc.GetString(1, r);
  ASSERT_EQ(types.size(), 6u);
  EXPECT_NE(types["add"].find("partitionValues MAP(VARCHAR, VARCHAR)"), std::string::npos)
      << types["add"];
  EXPECT_NE(types["add"].find("stats VARCHAR"), std::string::npos);
  EXPECT_NE(types["add"].find("size BIGINT"), std::string::npos) << types["add"];
  EXPECT_NE(types["add"].find("dataChange BOOLEAN"), std::string::npos);
  EXPECT_NE(types["remove"].find("deletionTimestamp BIGINT"), std::string::npos);
  EXPECT_NE(types["metaData"].find("partitionColumns VARCHAR[]"), std::string::npos);
  EXPECT_NE(types["metaData"].find("format STRUCT(provider VARCHAR"), std::string::npos);
  EXPECT_NE(types["protocol"].find("minReaderVersion INTEGER"), std::string::npos);
  EXPECT_NE(types["txn"].find("appId VARCHAR"), std::string::npos);
  EXPECT_NE(types["domainMetadata"].find("\"domain\" VARCHAR"), std::string::npos)
      << types["domainMetadata"];

  // Row content: one protocol, one metaData, the active adds, with a null partition value.
  ASSERT_OK_AND_ASSIGN(
      auto counts,
      conn->Query("SELECT count(protocol), count(metaData), count(add), count(txn), "
                  "count(*) FILTER (WHERE add.partitionValues['event_date'] IS NULL AND add IS "
                  "NOT NULL) FROM read_parquet(" +
                  duck::QuoteLiteral(cp) + ")"));
  EXPECT_EQ(counts.GetInt64(0, 0), 1);
  EXPECT_EQ(counts.GetInt64(1, 0), 1);
  EXPECT_EQ(counts.GetInt64(2, 0), 9);  // 10 adds, one removed at commit 7
  EXPECT_EQ(counts.GetInt64(3, 0), 2);  // app-0 and app-2
  EXPECT_EQ(counts.GetInt64(4, 0), 2);  // files 5 and 10
  ASSERT_OK_AND_ASSIGN(auto ps,
                       conn->Query("SELECT count(*) FROM parquet_schema(" + duck::QuoteLiteral(cp) +
                                   ") WHERE name IN ('key_value', 'partitionValues')"));
  EXPECT_GE(ps.GetInt64(0, 0), 2);
}

TEST(DeltaCheckpointTest, CorruptLastCheckpointFallsBackToListing) {
  TempDir dir;
  auto table = BuildTable(dir.path(), 12);
  ASSERT_OK(WriteFileAtomic(dir.path() + "/_delta_log/_last_checkpoint", "{not json"));
  ASSERT_OK_AND_ASSIGN(auto snap, table->SnapshotAt(12));
  EXPECT_EQ(snap->version(), 12);
  EXPECT_EQ(snap->checkpoint_version(), 10);
  // _last_checkpoint pointing at a checkpoint that does not exist is ignored too.
  ASSERT_OK(
      WriteFileAtomic(dir.path() + "/_delta_log/_last_checkpoint", R"({"version":11,"size":3})"));
  ASSERT_OK_AND_ASSIGN(auto snap2, table->SnapshotAt(12));
  EXPECT_EQ(snap2->checkpoint_version(), 10);
}

TEST(DeltaCheckpointTest, UnreadableCheckpointFallsBackToReplay) {
  TempDir dir;
  auto table = BuildTable(dir.path(), 11);
  std::string cp = dir.path() + "/_delta_log/00000000000000000010.checkpoint.parquet";
  fs::remove(cp);
  ASSERT_OK(WriteFileAtomic(cp, "garbage, not parquet"));
  ASSERT_OK_AND_ASSIGN(auto snap, table->SnapshotAt(11));
  EXPECT_EQ(snap->checkpoint_version(), std::nullopt);
  EXPECT_EQ(snap->version(), 11);
}

TEST(DeltaCheckpointTest, CustomIntervalAndReadParquetActionsRoundTrip) {
  TempDir dir;
  auto table = DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {},
                                             {{"delta.checkpointInterval", "2"}});
  ASSERT_TRUE(table.ok());
  auto txn = (*table)->StartTransaction();
  ASSERT_TRUE(txn.ok());
  AddFile a = MakeAdd("with%20space.parquet");
  a.tags = {{"k", "v"}};
  a.deletion_vector = DeletionVector{"u", "abcdefghijklmnopqrst", 1, 40, 3};
  (*txn)->AddFile(a);
  DomainMetadata d{"strata.test", R"({"a":1})", false};
  (*txn)->AddDomainMetadata(d);
  ASSERT_TRUE((*txn)->Commit().ok());
  // Version 1, interval 2: nothing yet.
  auto txn2 = (*table)->StartTransaction();
  ASSERT_TRUE(txn2.ok());
  (*txn2)->AddFile(MakeAdd("b.parquet"));
  ASSERT_OK_AND_ASSIGN(int64_t v, (*txn2)->Commit());
  EXPECT_EQ(v, 2);
  std::string cp = dir.path() + "/_delta_log/00000000000000000002.checkpoint.parquet";
  ASSERT_TRUE(fs::exists(cp));
  ASSERT_OK_AND_ASSIGN(auto conn, duck::Connection::Open((*table)->duck()));
  ASSERT_OK_AND_ASSIGN(auto actions, ReadParquetActions(*conn, {cp}));
  const AddFile* read = nullptr;
  const DomainMetadata* dm = nullptr;
  for (const auto& act : actions) {
    if (auto* f = std::get_if<AddFile>(&act); f && f->path == a.path) read = f;
    if (auto* m = std::get_if<DomainMetadata>(&act)) dm = m;
  }
  ASSERT_NE(read, nullptr);
  EXPECT_EQ(read->tags, a.tags);
  ASSERT_TRUE(read->deletion_vector);
  EXPECT_EQ(read->deletion_vector->UniqueId(), a.deletion_vector->UniqueId());
  EXPECT_EQ(read->stats, a.stats);
  EXPECT_FALSE(read->data_change);
  ASSERT_NE(dm, nullptr);
  EXPECT_EQ(dm->configuration, d.configuration);
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

TEST(DeltaCheckpointTest, ExpiredTombstonesAreDropped) {
  TempDir dir;
  auto table =
      DeltaTable::CreateIfNotExists(dir.path(), testing::EventSchema(), {},
                                    {{"delta.checkpointInterval", "2"},
                                     {"delta.deletedFileRetentionDuration", "interval 1 day"}});
  ASSERT_TRUE(table.ok());
  {
    auto txn = (*table)->StartTransaction();
    ASSERT_TRUE(txn.ok());
    (*txn)->AddFile(MakeAdd("old.parquet"));
    (*txn)->AddFile(MakeAdd("recent.parquet"));
    ASSERT_TRUE((*txn)->Commit().ok());
  }
  auto txn = (*table)->StartTransaction();
  ASSERT_TRUE(txn.ok());
  RemoveFile expired;
  expired.path = "old.parquet";
  expired.deletion_timestamp = 1000;  // 1970: far beyond one day
  (*txn)->RemoveFile(expired);
  RemoveFile recent;
  recent.path = "recent.parquet";
  (*txn)->RemoveFile(recent);
  ASSERT_OK_AND_ASSIGN(int64_t v, (*txn)->Commit());
  ASSERT_EQ(v, 2);
  ASSERT_OK((*table)->last_checkpoint_status());
  ASSERT_OK_AND_ASSIGN(auto conn, duck::Connection::Open((*table)->duck()));
  ASSERT_OK_AND_ASSIGN(
      auto actions,
      ReadParquetActions(*conn,
                         {dir.path() + "/_delta_log/00000000000000000002.checkpoint.parquet"}));
  std::vector<std::string> removed;
  for (const auto& a : actions) {
    if (auto* r = std::get_if<RemoveFile>(&a)) removed.push_back(r->path);
    EXPECT_FALSE(std::holds_alternative<AddFile>(a));
  }
  EXPECT_EQ(removed, std::vector<std::string>{"recent.parquet"});
}

}  // namespace
}  // namespace strata::delta
