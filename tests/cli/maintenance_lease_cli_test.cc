// `strata optimize` and `strata vacuum` take the table's maintenance lease: while this test
// process holds it, the commands (other processes) wait --lease-timeout and fail naming the
// holder; once it is released they run.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "lake/delta/maintenance.h"
#include "lake/delta/table.h"

namespace strata {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(STRATA_BINARY_DIR) + "/strata";

// Exit code and stdout+stderr of `strata <args>`.
std::pair<int, std::string> Strata(const std::string& args) {
  std::string out;
  FILE* p = ::popen((kBinary + " " + args + " 2>&1").c_str(), "r");
  if (!p) return {-1, out};
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

TEST(MaintenanceLeaseCliTest, OptimizeAndVacuumWaitForTheLeaseAndNameItsHolder) {
  const std::string dir =
      (fs::temp_directory_path() / ("strata_lease_cli_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  const std::string table = dir + "/t";
  auto created =
      delta::DeltaTable::CreateIfNotExists(table, Schema({{"id", TypeId::kInt64, true}}), {}, {});
  ASSERT_TRUE(created.ok()) << created.status().ToString();

  delta::SetMaintenanceMember("m-cli-test");
  auto held = delta::MaintenanceLease::TryAcquire(table, "auto-compaction");
  ASSERT_TRUE(held.ok() && *held);
  const std::string holder = "pid " + std::to_string(::getpid());
  for (const std::string cmd : {"optimize", "vacuum --retain 0 --force"}) {
    auto [code, out] = Strata(cmd + " --lease-timeout 0.5 " + table);
    EXPECT_EQ(code, 1) << out;
    EXPECT_NE(out.find("maintenance lease of table " + table + " is held by " + holder),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("m-cli-test"), std::string::npos) << out;
    EXPECT_NE(out.find("running auto-compaction"), std::string::npos) << out;
  }
  // A dry run deletes nothing and needs no lease.
  auto [dry_code, dry] = Strata("vacuum --retain 0 --force --dry-run " + table);
  EXPECT_EQ(dry_code, 0) << dry;

  held->reset();
  auto [opt_code, opt] = Strata("optimize --lease-timeout 5 " + table);
  EXPECT_EQ(opt_code, 0) << opt;
  EXPECT_NE(opt.find("nothing to optimize"), std::string::npos) << opt;
  auto [vac_code, vac] = Strata("vacuum --retain 0 --force " + table);
  EXPECT_EQ(vac_code, 0) << vac;
  // The last holder's identity stays in the file for diagnostics; the lock file survives.
  auto last = delta::MaintenanceLease::ReadHolder(table);
  ASSERT_TRUE(last.ok() && last->has_value());
  EXPECT_EQ((*last)->operation, "vacuum");
  EXPECT_NE((*last)->pid, ::getpid());
  EXPECT_TRUE(fs::exists(delta::MaintenanceLeasePath(table)));
  delta::SetMaintenanceMember("");
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace strata
