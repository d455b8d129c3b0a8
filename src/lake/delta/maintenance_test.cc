#include "lake/delta/maintenance.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "core/time_util.h"
#include "duck/duck.h"
#include "lake/delta/scan.h"
#include "lake/delta/test_util.h"

namespace strata::delta {
namespace {

using testing::TempDir;
namespace fs = std::filesystem;

class DeltaMaintenanceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = dir_.Sub("t");
    Schema schema({{"id", TypeId::kInt64, true},
                   {"ts", TypeId::kTimestamp, true},
                   {"name", TypeId::kString, true},
                   {"day", TypeId::kString, true}});
    auto table = DeltaTable::CreateIfNotExists(path_, schema, {"day"}, {});
    ASSERT_TRUE(table.ok()) << table.status().ToString();
    table_ = std::move(table).value();
    auto conn = duck::Connection::Open(table_->duck());
    ASSERT_TRUE(conn.ok());
    conn_ = std::move(conn).value();
  }

  // Writes ids [from, to) into day=<day>/<name> (not committed); returns its AddFile.
  AddFile WriteFile(const std::string& day, const std::string& name, int from, int to) {
    fs::create_directories(path_ + "/day=" + day);
    std::string rel = "day=" + day + "/" + name;
    std::string disk = path_ + "/" + rel;
    Status st = conn_->Execute(
        "COPY (SELECT (" + std::to_string(to + from - 1) +
        " - range)::BIGINT AS id, make_timestamp(range * 1000000) AS ts, 'n' || range::VARCHAR AS "
        "name FROM range(" +
        std::to_string(from) + ", " + std::to_string(to) + ")) TO " + duck::QuoteLiteral(disk) +
        " (FORMAT parquet)");
    EXPECT_TRUE(st.ok()) << st.ToString();
    AddFile add;
    add.path = rel;
    add.partition_values["day"] = day;
    add.size = static_cast<int64_t>(fs::file_size(disk));
    add.modification_time = 1;
    add.stats = "{\"numRecords\":" + std::to_string(to - from) + "}";
    return add;
  }

  int64_t Commit(std::vector<AddFile> adds) {
    auto txn = table_->StartTransaction();
    EXPECT_TRUE(txn.ok());
    for (auto& a : adds) (*txn)->AddFile(std::move(a));
    auto v = (*txn)->Commit();
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : -1;
  }

  // Every row of the latest snapshot through the scan SQL, as "id|ts|name|day" lines, sorted.
  std::vector<std::string> Rows() {
    auto fresh = DeltaTable::Open(path_);
    EXPECT_TRUE(fresh.ok());
    auto snap = (*fresh)->LatestSnapshot();
    EXPECT_TRUE(snap.ok()) << snap.status().ToString();
    auto sql = ScanSql(conn_.get(), **snap, (*snap)->files());
    EXPECT_TRUE(sql.ok()) << sql.status().ToString();
    auto r = conn_->Query("SELECT concat_ws('|', id, epoch_us(ts), name, day) FROM (" + *sql +
                          ") ORDER BY 1");
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::vector<std::string> out;
    for (size_t i = 0; r.ok() && i < r->row_count(); ++i) out.push_back(r->GetString(0, i));
    return out;
  }

  TempDir dir_;
  std::string path_;
  std::unique_ptr<DeltaTable> table_;
  std::unique_ptr<duck::Connection> conn_;
};

TEST(DeltaIntervalTest, ParsesDeltaIntervals) {
  EXPECT_EQ(ParseIntervalHours("interval 1 week"), 168);
  EXPECT_EQ(ParseIntervalHours("interval 30 days"), 720);
  EXPECT_EQ(ParseIntervalHours("INTERVAL 36 HOURS"), 36);
  EXPECT_EQ(ParseIntervalHours("2 days"), 48);
  EXPECT_EQ(ParseIntervalHours("soon"), std::nullopt);
}

TEST_F(DeltaMaintenanceTest, VacuumRemovesUncommittedOrphansOnly) {
  Commit({WriteFile("a", "f1.parquet", 0, 10), WriteFile("b", "f2.parquet", 10, 20)});
  std::vector<std::string> before = Rows();
  ASSERT_EQ(before.size(), 20u);
  // A writer crashed after writing its data file, before committing.
  WriteFile("a", "orphan.parquet", 100, 110);
  std::string orphan = path_ + "/day=a/orphan.parquet";
  ASSERT_TRUE(fs::exists(orphan));

  // Below the table's 7-day minimum without --force: refused, naming the property.
  auto refused = Vacuum(*table_, {.retain_hours = 0});
  ASSERT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("deletedFileRetentionDuration"), std::string::npos);
  // Default retention: the orphan is too young.
  auto young = Vacuum(*table_, {});
  ASSERT_TRUE(young.ok()) << young.status().ToString();
  EXPECT_TRUE(young->files.empty());
  // Dry run lists it and deletes nothing.
  auto dry = Vacuum(*table_, {.retain_hours = 0, .dry_run = true, .force = true});
  ASSERT_TRUE(dry.ok());
  ASSERT_EQ(dry->files, std::vector<std::string>{orphan});
  EXPECT_TRUE(fs::exists(orphan));
  // Forced, retention 0: gone; the table is unchanged and readable.
  auto done = Vacuum(*table_, {.retain_hours = 0, .force = true});
  ASSERT_TRUE(done.ok()) << done.status().ToString();
  EXPECT_EQ(done->files, std::vector<std::string>{orphan});
  EXPECT_GT(done->bytes, 0);
  EXPECT_FALSE(fs::exists(orphan));
  EXPECT_TRUE(fs::exists(path_ + "/day=a/f1.parquet"));
  EXPECT_TRUE(fs::exists(path_ + "/_delta_log/00000000000000000001.json"));
  EXPECT_EQ(Rows(), before);
}

TEST_F(DeltaMaintenanceTest, VacuumKeepsYoungTombstonesAndDeletesExpiredOnes) {
  Commit({WriteFile("a", "f1.parquet", 0, 10)});
  auto txn = table_->StartTransaction();
  ASSERT_TRUE(txn.ok());
  RemoveFile rm;
  rm.path = "day=a/f1.parquet";
  (*txn)->RemoveFile(rm);
  (*txn)->AddFile(WriteFile("a", "f2.parquet", 0, 10));
  ASSERT_TRUE((*txn)->Commit().ok());
  // The removed file is still within a 1-hour retention when `now` is now...
  auto kept = Vacuum(*table_, {.retain_hours = 1, .force = true});
  ASSERT_TRUE(kept.ok());
  EXPECT_TRUE(kept->files.empty());
  // ...and past it two hours later (its mtime is older too).
  auto later =
      Vacuum(*table_, {.retain_hours = 1, .force = true, .now_ms = NowMillis() + 2 * 3600 * 1000});
  ASSERT_TRUE(later.ok());
  EXPECT_EQ(later->files, std::vector<std::string>{path_ + "/day=a/f1.parquet"});
  EXPECT_EQ(Rows().size(), 10u);
}

TEST_F(DeltaMaintenanceTest, OptimizeWithATimeRangeRewritesOnlyFilesThatMayMatch) {
  auto with_ts = [&](AddFile a, const std::string& lo, const std::string& hi) {
    a.stats = "{\"numRecords\":5,\"minValues\":{\"ts\":\"" + lo + "\"},\"maxValues\":{\"ts\":\"" +
              hi + "\"},\"nullCount\":{\"ts\":0}}";
    return a;
  };
  Commit({with_ts(WriteFile("a", "1.parquet", 0, 5), "1970-01-01T00:00:00.000Z",
                  "1970-01-01T00:00:04.000Z"),
          with_ts(WriteFile("a", "2.parquet", 5, 10), "1970-01-01T00:00:05.000Z",
                  "1970-01-01T00:00:09.000Z"),
          with_ts(WriteFile("a", "3.parquet", 10, 15), "1970-01-01T00:00:10.000Z",
                  "1970-01-01T00:00:14.000Z")});
  std::vector<std::string> before = Rows();
  OptimizeOptions options;
  options.target_file_size = 1 << 20;
  options.range = TimeRange{"ts", 5000000, std::nullopt};
  auto result = Optimize(*table_, options);
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 2);
  auto snap = table_->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  std::set<std::string> paths;
  for (const auto& f : (*snap)->files()) paths.insert(f.path);
  EXPECT_TRUE(paths.count("day=a/1.parquet"));
  EXPECT_FALSE(paths.count("day=a/2.parquet"));
  EXPECT_EQ(Rows(), before);
  auto history = table_->History(1);
  ASSERT_TRUE(history.ok());
  EXPECT_NE(history->at(0).commit_info.operation_parameters.at("predicate").find("`ts` >="),
            std::string::npos);
}

TEST_F(DeltaMaintenanceTest, OptimizeCompactsSmallFilesPerPartitionWithoutDataChange) {
  Commit({WriteFile("a", "1.parquet", 0, 5), WriteFile("a", "2.parquet", 5, 10)});
  Commit({WriteFile("a", "3.parquet", 10, 15), WriteFile("b", "4.parquet", 15, 20)});
  Commit({WriteFile("b", "5.parquet", 20, 25)});
  std::vector<std::string> before = Rows();
  ASSERT_EQ(before.size(), 25u);
  auto result = Optimize(*table_, {.target_file_size = 1 << 20, .sort_by = "id"});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 5);
  EXPECT_EQ(result->files_added, 2);
  EXPECT_EQ(Rows(), before);
  auto actions = table_->ReadCommitActions(result->version);
  ASSERT_TRUE(actions.ok());
  int adds = 0, removes = 0;
  for (const auto& a : *actions) {
    if (auto* add = std::get_if<AddFile>(&a)) {
      EXPECT_FALSE(add->data_change);
      ASSERT_TRUE(add->stats.has_value());
      EXPECT_NE(add->stats->find("\"numRecords\""), std::string::npos);
      EXPECT_NE(add->stats->find("\"minValues\":{\"id\""), std::string::npos) << *add->stats;
      EXPECT_EQ(add->path.rfind("day=", 0), 0u) << add->path;
      ++adds;
    } else if (auto* rm = std::get_if<RemoveFile>(&a)) {
      EXPECT_FALSE(rm->data_change);
      ++removes;
    } else if (auto* ci = std::get_if<CommitInfo>(&a)) {
      EXPECT_EQ(ci->operation, "OPTIMIZE");
    }
  }
  EXPECT_EQ(adds, 2);
  EXPECT_EQ(removes, 5);
  // Sorted by id within each new file.
  auto snap = table_->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  for (const auto& f : (*snap)->files()) {
    auto r = conn_->Query(
        "SELECT bool_and(id > prev) FROM (SELECT id, lag(id) OVER () AS prev "
        "FROM read_parquet(" +
        duck::QuoteLiteral(ResolveDataPath(path_, f.path)) + ")) WHERE prev IS NOT NULL");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->GetString(0, 0), "true") << f.path;
  }
  // Nothing left to do: no commit.
  auto again = Optimize(*table_, {.target_file_size = 1 << 20});
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->version, -1);
  // The replaced files become vacuumable once their tombstones expire.
  auto vac = Vacuum(*table_, {.retain_hours = 0, .force = true, .now_ms = NowMillis() + 1000});
  ASSERT_TRUE(vac.ok());
  EXPECT_EQ(vac->files.size(), 5u);
  EXPECT_EQ(Rows(), before);
}

TEST_F(DeltaMaintenanceTest, OptimizeCommitsOverConcurrentAppendAndConflictsOnRemove) {
  Commit({WriteFile("a", "1.parquet", 0, 5), WriteFile("a", "2.parquet", 5, 10)});
  auto read = table_->LatestSnapshot();
  ASSERT_TRUE(read.ok());
  // A streaming writer appends after OPTIMIZE read its snapshot: a blind append never
  // conflicts with a rewrite of other files, OPTIMIZE commits at the next version.
  auto other = DeltaTable::Open(path_);
  ASSERT_TRUE(other.ok());
  auto append = (*other)->StartTransaction();
  ASSERT_TRUE(append.ok());
  (*append)->AddFile(WriteFile("a", "3.parquet", 10, 15));
  auto appended = (*append)->Commit();
  ASSERT_TRUE(appended.ok());
  ASSERT_EQ(*appended, 2);
  auto result =
      Optimize(*table_, {.target_file_size = 1 << 20, .min_file_size = 1 << 20, .snapshot = *read});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->version, 3);
  EXPECT_EQ(result->files_removed, 2);
  EXPECT_EQ(Rows().size(), 15u);

  // A writer that removed a file OPTIMIZE rewrote wins; OPTIMIZE fails with Conflict and
  // leaves no new data file behind.
  auto read2 = table_->LatestSnapshot();
  ASSERT_TRUE(read2.ok());
  auto del = (*other)->StartTransaction();
  ASSERT_TRUE(del.ok());
  RemoveFile rm;
  rm.path = "day=a/3.parquet";
  (*del)->RemoveFile(rm);
  ASSERT_TRUE((*del)->Commit().ok());
  size_t files_before = 0;
  for (auto& e : fs::directory_iterator(path_ + "/day=a")) files_before += e.is_regular_file();
  auto conflict = Optimize(
      *table_, {.target_file_size = 1 << 20, .min_file_size = 1 << 20, .snapshot = *read2});
  EXPECT_EQ(conflict.status().code(), StatusCode::kConflict) << conflict.status().ToString();
  size_t files_after = 0;
  for (auto& e : fs::directory_iterator(path_ + "/day=a")) files_after += e.is_regular_file();
  EXPECT_EQ(files_after, files_before);
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

void Age(const std::string& path, int64_t days) {
  namespace fs = std::filesystem;
  fs::last_write_time(path, fs::last_write_time(path) - std::chrono::hours(24 * days));
}

// After a checkpoint, log files older than delta.logRetentionDuration (here 2 days) and below
// the newest checkpoint that is itself expired are deleted; the table still reads at the latest
// version and back to that checkpoint.
TEST(DeltaLogCleanupTest, CheckpointDeletesExpiredCommitsBelowExpiredCheckpoint) {
  testing::TempDir dir;
  auto table = DeltaTable::CreateIfNotExists(dir.Sub("t"), testing::EventSchema(), {},
                                             {{"delta.logRetentionDuration", "interval 2 days"}});
  ASSERT_TRUE(table.ok()) << table.status().ToString();
  auto commit = [&](int i) {
    auto txn = (*table)->StartTransaction();
    ASSERT_TRUE(txn.ok());
    (*txn)->AddFile(testing::MakeAdd("f" + std::to_string(i) + ".parquet"));
    ASSERT_TRUE((*txn)->Commit().ok());
  };
  for (int i = 1; i <= 20; ++i) commit(i);  // checkpoints at 10 and 20
  LogStore store(dir.Sub("t"));
  for (int v = 0; v <= 12; ++v) Age(store.CommitPath(v), 3);
  Age(store.log_dir() + "/" + LogStore::CheckpointFileName(10), 3);
  for (int i = 21; i <= 30; ++i) commit(i);  // checkpoint 30 triggers the cleanup
  ASSERT_TRUE((*table)->last_checkpoint_status().ok());
  auto listing = store.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->commits.begin()->first, 10);
  EXPECT_EQ(listing->checkpoints.begin()->first, 10);
  EXPECT_EQ(listing->commits.rbegin()->first, 30);
  auto fresh = DeltaTable::Open(dir.Sub("t"));
  ASSERT_TRUE(fresh.ok());
  auto latest = (*fresh)->LatestSnapshot();
  ASSERT_TRUE(latest.ok()) << latest.status().ToString();
  EXPECT_EQ((*latest)->files().size(), 30u);
  auto at10 = (*fresh)->SnapshotAt(10);
  ASSERT_TRUE(at10.ok()) << at10.status().ToString();
  EXPECT_EQ((*at10)->files().size(), 10u);
  EXPECT_FALSE((*fresh)->SnapshotAt(5).ok());
  // Nothing expired: nothing deleted.
  auto none = CleanupExpiredLog(store, **latest);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

TEST_F(DeltaMaintenanceTest, AutoCompactIsOffByDefaultAndCompactsPartitionsOverTheLimit) {
  for (int i = 0; i < 4; ++i)
    Commit({WriteFile("a", "a" + std::to_string(i) + ".parquet", i * 10, i * 10 + 10)});
  Commit({WriteFile("b", "b0.parquet", 100, 105), WriteFile("b", "b1.parquet", 105, 110)});
  auto off = AutoCompact(*table_);
  ASSERT_TRUE(off.ok());
  EXPECT_FALSE(off->has_value());
  std::vector<std::string> before = Rows();

  auto snap = table_->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  Metadata m = (*snap)->metadata();
  m.configuration["delta.autoOptimize.autoCompact"] = "true";
  m.configuration["delta.autoOptimize.autoCompact.minNumFiles"] = "3";
  m.configuration["delta.autoOptimize.autoCompact.maxFileSize"] = "1048576";
  auto txn = table_->StartTransaction();
  ASSERT_TRUE(txn.ok());
  (*txn)->SetMetadata(m);
  ASSERT_TRUE((*txn)->Commit().ok());

  auto on = AutoCompact(*table_);
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  ASSERT_TRUE(on->has_value());
  EXPECT_EQ((*on)->files_removed, 4);  // partition a (4 > 3); b has only 2
  EXPECT_EQ((*on)->files_added, 1);
  EXPECT_EQ(Rows(), before);
  auto again = AutoCompact(*table_);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

// Manual measurement (run with --gtest_also_run_disabled_tests): OPTIMIZE of 64 files of 100k
// rows each into one partition; prints the read throughput. Checks the row count.
TEST_F(DeltaMaintenanceTest, DISABLED_OptimizeThroughput) {
  std::vector<AddFile> adds;
  for (int i = 0; i < 64; ++i)
    adds.push_back(
        WriteFile("a", "f" + std::to_string(i) + ".parquet", i * 100000, (i + 1) * 100000));
  Commit(std::move(adds));
  auto start = std::chrono::steady_clock::now();
  auto result = Optimize(*table_, {.target_file_size = 1LL << 30});
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(result->files_removed, 64);
  auto r = conn_->Query("SELECT count(*) FROM read_parquet(" +
                        duck::QuoteLiteral(path_ + "/day=a/part-*.parquet") + ")");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->GetInt64(0, 0), 6400000);
  std::printf("optimize: %lld -> %lld bytes, 6.4M rows in %.2f s: %.1f MB/s read, %.2f M rows/s\n",
              static_cast<long long>(result->bytes_removed),
              static_cast<long long>(result->bytes_added), secs, result->bytes_removed / secs / 1e6,
              6.4 / secs);
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

// VACUUM deletes files, so it requires a table strata can write: a Spark table with the
// deletionVectors writer feature is refused by name and nothing is deleted.
TEST(DeltaVacuumDvTest, RefusesTablesWithUnsupportedWriterFeatures) {
  testing::TempDir dir;
  std::string src = std::string(STRATA_SOURCE_DIR) +
                    "/../shared/conformance/delta/golden-dv-partitioned-with-checkpoint/delta";
  fs::copy(src, dir.Sub("t"), fs::copy_options::recursive);
  fs::path orphan = fs::path(dir.Sub("t")) / "orphan.parquet";
  std::ofstream(orphan.string()) << "x";
  auto table = DeltaTable::Open(dir.Sub("t"));
  ASSERT_TRUE(table.ok());
  auto result = Vacuum(**table, {.retain_hours = 0, .force = true, .now_ms = NowMillis() + 1000});
  ASSERT_EQ(result.status().code(), StatusCode::kNotSupported);
  EXPECT_NE(result.status().message().find("deletionVectors"), std::string::npos);
  EXPECT_TRUE(fs::exists(orphan));
  auto optimized = Optimize(**table, {});
  EXPECT_EQ(optimized.status().code(), StatusCode::kNotSupported);
}

}  // namespace
}  // namespace strata::delta

namespace strata::delta {
namespace {

// Commits one (not existing) file per call through `table`; returns the version.
int64_t CommitOne(DeltaTable& table, int n) {
  auto txn = table.StartTransaction();
  EXPECT_TRUE(txn.ok());
  (*txn)->AddFile(testing::MakeAdd("f" + std::to_string(n) + ".parquet"));
  auto v = (*txn)->Commit();
  EXPECT_TRUE(v.ok()) << v.status().ToString();
  return v.ok() ? *v : -1;
}

int64_t LastCheckpointVersion(const DeltaTable& table) {
  auto last = table.log_store().ReadLastCheckpoint();
  return last ? last->version : -1;
}

TEST(DeltaMaintenanceLeaseTest, TwoOpensInOneProcessExcludeEachOther) {
  testing::TempDir dir;
  const std::string table = dir.Sub("t");
  SetMaintenanceMember("m-lease-test");
  auto first = MaintenanceLease::TryAcquire(table, "optimize");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_NE(*first, nullptr);
  EXPECT_TRUE(fs::exists(table + "/_strata/maintenance.lock"));
  // flock belongs to the open file description: a second open in this process is refused.
  auto second = MaintenanceLease::TryAcquire(table, "vacuum");
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  EXPECT_EQ(*second, nullptr);
  auto holder = MaintenanceLease::ReadHolder(table);
  ASSERT_TRUE(holder.ok()) << holder.status().ToString();
  ASSERT_TRUE(holder->has_value());
  EXPECT_EQ((*holder)->pid, ::getpid());
  EXPECT_EQ((*holder)->member, "m-lease-test");
  EXPECT_EQ((*holder)->operation, "optimize");
  EXPECT_GT((*holder)->since_ms, 0);
  auto waited = MaintenanceLease::Acquire(table, "vacuum", 200);
  ASSERT_EQ(waited.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(waited.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << waited.status().ToString();
  EXPECT_NE(waited.status().message().find("m-lease-test"), std::string::npos);
  first->reset();
  auto third = MaintenanceLease::TryAcquire(table, "vacuum");
  ASSERT_TRUE(third.ok());
  EXPECT_NE(*third, nullptr);
  SetMaintenanceMember("");
}

TEST(DeltaMaintenanceLeaseTest, ALeaseHeldByAChildProcessIsFreedWhenTheChildDies) {
  testing::TempDir dir;
  const std::string table = dir.Sub("t");
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    ::close(ready[0]);
    auto lease = MaintenanceLease::TryAcquire(table, "vacuum");
    char c = lease.ok() && *lease ? 'y' : 'n';
    if (::write(ready[1], &c, 1) != 1) ::_exit(2);
    for (;;) ::pause();  // holds the lease until killed
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ASSERT_EQ(c, 'y');
  auto refused = MaintenanceLease::TryAcquire(table, "optimize");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(*refused, nullptr);
  auto waited = MaintenanceLease::Acquire(table, "optimize", 300);
  ASSERT_EQ(waited.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(waited.status().message().find("pid " + std::to_string(child)), std::string::npos)
      << waited.status().ToString();
  EXPECT_NE(waited.status().message().find("running vacuum"), std::string::npos);
  ::kill(child, SIGKILL);
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  auto taken = MaintenanceLease::Acquire(table, "optimize", 5000);
  ASSERT_TRUE(taken.ok()) << taken.status().ToString();
  EXPECT_EQ((*taken)->holder().pid, ::getpid());
}

TEST(DeltaMaintenanceLeaseTest, AWriterWithoutTheLeaseSkipsCheckpointsAndTheHolderCatchesUp) {
  testing::TempDir dir;
  const std::string path = dir.Sub("t");
  auto a = DeltaTable::CreateIfNotExists(path, testing::EventSchema(), {},
                                         {{"delta.checkpointInterval", "3"}});
  ASSERT_TRUE(a.ok()) << a.status().ToString();
  auto b = DeltaTable::Open(path);
  ASSERT_TRUE(b.ok());
  {
    auto other = MaintenanceLease::TryAcquire(path, "optimize");  // someone else's turn
    ASSERT_TRUE(other.ok() && *other);
    for (int i = 1; i <= 4; ++i) EXPECT_EQ(CommitOne(i % 2 ? **a : **b, i), i);
    EXPECT_EQ(LastCheckpointVersion(**a), -1);  // 3 was a multiple, but the lease was taken
  }
  // The lease is free: the next commit writes the overdue checkpoint, off the multiples.
  EXPECT_EQ(CommitOne(**b, 5), 5);
  EXPECT_EQ(LastCheckpointVersion(**a), 5);
  EXPECT_TRUE((*b)->last_checkpoint_status().ok());
  EXPECT_EQ(CommitOne(**a, 6), 6);
  EXPECT_EQ(CommitOne(**b, 7), 7);
  EXPECT_EQ(LastCheckpointVersion(**a), 5);
  EXPECT_EQ(CommitOne(**a, 8), 8);
  EXPECT_EQ(LastCheckpointVersion(**a), 8);
  // The lease directory is invisible to readers and to VACUUM.
  auto fresh = DeltaTable::Open(path);
  ASSERT_TRUE(fresh.ok());
  auto snap = (*fresh)->LatestSnapshot();
  ASSERT_TRUE(snap.ok()) << snap.status().ToString();
  EXPECT_EQ((*snap)->version(), 8);
  EXPECT_EQ((*snap)->files().size(), 8u);
  auto vacuumed = Vacuum(**fresh, {.retain_hours = 0, .force = true, .now_ms = NowMillis() + 1000});
  ASSERT_TRUE(vacuumed.ok()) << vacuumed.status().ToString();
  EXPECT_TRUE(vacuumed->files.empty());
  EXPECT_TRUE(fs::exists(MaintenanceLeasePath(path)));
}

TEST_F(DeltaMaintenanceTest, AutoCompactionAfterCommitWaitsForTheLease) {
  auto snap = table_->LatestSnapshot();
  ASSERT_TRUE(snap.ok());
  Metadata m = (*snap)->metadata();
  m.configuration["delta.autoOptimize.autoCompact"] = "true";
  m.configuration["delta.autoOptimize.autoCompact.minNumFiles"] = "2";
  m.configuration["delta.autoOptimize.autoCompact.maxFileSize"] = "1048576";
  auto txn = table_->StartTransaction();
  ASSERT_TRUE(txn.ok());
  (*txn)->SetMetadata(m);
  ASSERT_TRUE((*txn)->Commit().ok());
  for (int i = 0; i < 3; ++i)
    Commit({WriteFile("a", "a" + std::to_string(i) + ".parquet", i * 10, i * 10 + 10)});
  std::vector<std::string> before = Rows();
  auto files = [&] {
    auto s = table_->LatestSnapshot();
    EXPECT_TRUE(s.ok());
    return s.ok() ? (*s)->files().size() : 0u;
  };
  {
    auto other = MaintenanceLease::TryAcquire(path_, "vacuum");
    ASSERT_TRUE(other.ok() && *other);
    AutoCompactAfterCommit(*table_);
    EXPECT_EQ(files(), 3u);  // skipped: another holder's turn
  }
  AutoCompactAfterCommit(*table_);
  EXPECT_EQ(files(), 1u);
  EXPECT_EQ(Rows(), before);
}

}  // namespace
}  // namespace strata::delta
