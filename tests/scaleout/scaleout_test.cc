// Scale-out on loopback: `strata kafka`, steady traffic from `strata produce`, and several
// `strata run` processes in one consumer group sharing the tables and checkpoints. One process
// is SIGKILLed, one started later, one stopped cleanly; bronze must then hold every produced
// record exactly once. Silver and gold are spread by Kafka partition too: each process runs
// their sub-queries for the partitions it owns, whose checkpoints (dedup keys, open windows)
// follow the partitions through the shared storage. Silver must then hold every distinct event
// once, and gold (partial aggregates per source partition, merged on read) must equal a batch
// recomputation from silver, window by window.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "kafka/source_reader.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "operators/hyperloglog.h"
#include "pipeline/catalog.h"

namespace strata {
namespace {

using std::chrono::steady_clock;

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";
constexpr int kPartitions = 6;
const std::string kTopic = "clickstream-events";

// A strata subprocess; stdout+stderr go to `log`.
class Process {
 public:
  Process(const std::vector<std::string>& args, const std::string& log) {
    pid_ = ::fork();
    if (pid_ == 0) {
      FILE* f = std::fopen(log.c_str(), "w");
      if (f) {
        ::dup2(::fileno(f), STDOUT_FILENO);
        ::dup2(::fileno(f), STDERR_FILENO);
      }
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(kStrata.c_str()));
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(kStrata.c_str(), argv.data());
      ::_exit(127);
    }
  }
  ~Process() { Signal(SIGKILL); }
  // Sends `sig` and waits for the exit; returns the exit code (-signal when killed).
  int Signal(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    return Wait();
  }
  int Wait() {
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }
  bool running() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
};

// Runs the strata binary with `args` and returns its stdout and stderr.
std::string StrataOutput(const std::string& args) {
  std::string out;
  FILE* p = ::popen((kStrata + " " + args + " 2>&1").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  ::pclose(p);
  return out;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

class ScaleOutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        (std::filesystem::temp_directory_path() / ("strata_scaleout_" + std::to_string(::getpid())))
            .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Starts `strata kafka` and waits for its bootstrap address (its first stdout line).
  std::string StartKafka() {
    kafka_ = std::make_unique<Process>(
        std::vector<std::string>{"kafka", "--brokers", "1", "--partitions",
                                 std::to_string(kPartitions)},
        dir_ + "/kafka.log");
    for (int i = 0; i < 300; ++i) {
      std::string out = ReadFile(dir_ + "/kafka.log");
      auto nl = out.find('\n');
      if (nl != std::string::npos && out.rfind("127.0.0.1", 0) == 0) return out.substr(0, nl);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return "";
  }

  std::string WriteConfig(const std::string& bootstrap) {
    std::string path = dir_ + "/pipeline.toml";
    std::ofstream(path) << "[pipeline]\ndata_dir = \"" << dir_ << "/data\"\n"
                        << "[kafka]\n\"bootstrap.servers\" = \"" << bootstrap << "\"\n"
                        << "\"group.id\" = \"strata-scaleout\"\n"
                        << "\"session.timeout.ms\" = \"6000\"\n"
                        << "[source]\nstartingOffsets = \"earliest\"\n"
                        << "maxOffsetsPerTrigger = 3000\n"
                        << "[bronze]\ntrigger = \"1 second\"\n"
                        << "[silver]\ntrigger = \"2 seconds\"\n"
                        << "[gold]\ntrigger = \"2 seconds\"\noutputMode = \"update\"\n"
                        // short, so that windows become final within the test
                        << "watermark = \"5 seconds\"\n"
                        // one gold table: 2 sub-queries per owned partition, not 6
                        << "[gold.active_users_per_minute]\nenabled = false\n"
                        << "[gold.active_users_5m]\nenabled = false\n"
                        << "[gold.page_views_per_minute]\nenabled = false\n"
                        << "[gold.top_pages]\nenabled = false\n"
                        << "[server]\nlisten = \"127.0.0.1:0\"\n";
    return path;
  }

  std::unique_ptr<Process> Run(const std::string& config, int n) {
    return std::make_unique<Process>(std::vector<std::string>{"run", "--config", config},
                                     dir_ + "/run" + std::to_string(n) + ".log");
  }

  std::string BronzePath() const { return dir_ + "/data/catalog/streaming/bronze_clickstream"; }

  // Each partition's mark in bronze (the next offset to read), -1 when none.
  std::map<int, int64_t> Marks() {
    std::map<int, int64_t> out;
    for (int p = 0; p < kPartitions; ++p) out[p] = -1;
    auto table = delta::DeltaTable::Open(BronzePath());
    if (!table.ok()) return out;
    auto snapshot = (*table)->LatestSnapshot();
    if (!snapshot.ok()) return out;
    const std::string suffix_of = "/" + kTopic + "/";
    for (const auto& [app, txn] : (*snapshot)->txns()) {
      auto at = app.rfind(suffix_of);
      if (app.find("/kafka/") == std::string::npos || at == std::string::npos) continue;
      int p = std::stoi(app.substr(at + suffix_of.size()));
      out[p] = std::max(out[p], txn.version);
    }
    return out;
  }

  std::vector<std::vector<std::string>> Query(const std::string& sql) {
    std::vector<std::vector<std::string>> out;
    const std::string tables = dir_ + "/data/catalog/streaming/";
    auto engine = OpenCatalog({{"bronze", BronzePath()},
                               {"silver", tables + "silver_clickstream"},
                               {"gold", tables + "gold_events_per_minute"}});
    if (!engine.ok()) return out;
    sql::QueryOptions o;
    o.row_limit = 0;
    auto r = (*engine)->Execute(sql, o);
    EXPECT_TRUE(r.ok()) << sql << ": " << r.status().ToString();
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      std::vector<std::string> v;
      for (const auto& cell : row) v.push_back(cell.value_or("NULL"));
      out.push_back(std::move(v));
    }
    return out;
  }

  std::string dir_;
  std::unique_ptr<Process> kafka_;
};

TEST_F(ScaleOutTest, ThreeProcessesOneKilledOneAddedOneStoppedLoseAndDuplicateNothing) {
  const std::string bootstrap = StartKafka();
  ASSERT_FALSE(bootstrap.empty()) << ReadFile(dir_ + "/kafka.log");
  const std::string config = WriteConfig(bootstrap);
  // The traffic (45 s, event time = the wall clock) must cross a minute boundary by more than
  // gold's watermark delay, so that a window closes during the test: start it at second 22-50.
  {
    using std::chrono::system_clock;
    auto second = [] {
      return std::chrono::duration_cast<std::chrono::seconds>(
                 system_clock::now().time_since_epoch())
                 .count() %
             60;
    };
    while (second() < 22 || second() > 50)
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  // Steady traffic for the whole scenario.
  // Only valid events, some delivered twice: silver's truth is then bronze's distinct events.
  Process producer({"produce", "--bootstrap-servers", bootstrap, "--rate", "400", "--duration",
                    "45", "--seed", "9", "--duplicates", "0.02", "--late", "0", "--malformed", "0",
                    "--unknown-types", "0", "--missing-fields", "0"},
                   dir_ + "/produce.log");
  auto a = Run(config, 1);
  // a starts first, so that its silver and gold queries hold their checkpoints: the SIGKILL
  // below must move them.
  for (int i = 0; i < 300 && ReadFile(dir_ + "/run1.log").find("of the group") == std::string::npos;
       ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::this_thread::sleep_for(std::chrono::seconds(2));
  auto b = Run(config, 2);
  auto c = Run(config, 3);
  std::this_thread::sleep_for(std::chrono::seconds(15));

  // `strata status` of a member shows the group, the member and the partitions it owns.
  {
    const std::string log = ReadFile(dir_ + "/run3.log");
    const std::string marker = "dashboard and API on http://";
    auto at = log.find(marker);
    ASSERT_NE(at, std::string::npos) << log;
    std::string address = log.substr(at + marker.size());
    address = address.substr(0, address.find('/'));
    // Shown from the member's first bronze batch on (a loaded machine may take a while).
    std::string status;
    for (int i = 0; i < 120; ++i) {
      status = StrataOutput("status --url http://" + address);
      if (status.find("rebalances) owns: " + kTopic + "-") != std::string::npos) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    EXPECT_NE(status.find("group strata-scaleout member m-"), std::string::npos) << status;
    EXPECT_NE(status.find("rebalances) owns: " + kTopic + "-"), std::string::npos) << status;
  }

  // SIGKILL one member: its partitions move after the session timeout and resume from the
  // bronze marks.
  auto marks_at_kill = Marks();
  for (const auto& [p, m] : marks_at_kill) EXPECT_GE(m, 0) << "partition " << p << " unread";
  EXPECT_EQ(a->Signal(SIGKILL), -SIGKILL);
  auto killed_at = steady_clock::now();
  double resume_s = -1;

  auto d = Run(config, 4);  // a new member joins later
  auto deadline = steady_clock::now() + std::chrono::seconds(120);
  bool stopped_b = false;
  while (steady_clock::now() < deadline) {
    auto marks = Marks();
    bool all_moved = true;
    for (const auto& [p, m] : marks) all_moved = all_moved && m > marks_at_kill[p];
    if (all_moved && resume_s < 0) {
      resume_s = std::chrono::duration<double>(steady_clock::now() - killed_at).count();
    }
    if (!stopped_b && steady_clock::now() - killed_at > std::chrono::seconds(12)) {
      EXPECT_EQ(b->Signal(SIGTERM), 0) << ReadFile(dir_ + "/run2.log");  // a clean stop
      stopped_b = true;
    }
    if (resume_s >= 0 && stopped_b) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  EXPECT_GE(resume_s, 0) << "the killed member's partitions never resumed";
  std::printf("every partition advanced again %.1f s after the SIGKILL\n", resume_s);
  RecordProperty("resume_seconds_after_kill", std::to_string(resume_s));

  EXPECT_EQ(producer.Wait(), 0) << ReadFile(dir_ + "/produce.log");
  // The truth: every offset of every partition, once.
  auto reader = KafkaReader::Create(bootstrap);
  ASSERT_TRUE(reader.ok());
  std::vector<int32_t> parts;
  for (int p = 0; p < kPartitions; ++p) parts.push_back(p);
  auto highs = (*reader)->Watermarks(kTopic, parts, std::chrono::seconds(10));
  ASSERT_TRUE(highs.ok()) << highs.status().ToString();
  int64_t total = 0;
  for (const auto& w : *highs) total += w.high;
  ASSERT_GT(total, 5000);
  bool caught_up = false;
  deadline = steady_clock::now() + std::chrono::seconds(120);
  while (!caught_up && steady_clock::now() < deadline) {
    auto marks = Marks();
    caught_up = true;
    for (const auto& w : *highs) caught_up = caught_up && marks[w.partition] == w.high;
    if (!caught_up) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(caught_up);
  // Silver and gold (wherever they run now) catch up with bronze.
  int64_t distinct_events = 0, silver_rows = 0, gold_events = 0;
  deadline = steady_clock::now() + std::chrono::seconds(120);
  while (steady_clock::now() < deadline) {
    auto r = Query(
        "SELECT (SELECT count(DISTINCT event_id) FROM bronze), (SELECT count(*) FROM silver), "
        "(SELECT coalesce(sum(event_count), 0) FROM gold)");
    if (r.size() == 1) {
      distinct_events = std::stoll(r[0][0]);
      silver_rows = std::stoll(r[0][1]);
      gold_events = std::stoll(r[0][2]);
      if (silver_rows == distinct_events && gold_events == distinct_events) break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_GT(distinct_events, 5000);
  EXPECT_LT(distinct_events, total) << "the generator delivered no duplicates";
  EXPECT_EQ(silver_rows, distinct_events);
  EXPECT_EQ(gold_events, distinct_events);
  auto dup = Query("SELECT count(*) - count(DISTINCT event_id) FROM silver");
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0][0], "0") << "an event is twice in silver";
  EXPECT_EQ(c->Signal(SIGTERM), 0) << ReadFile(dir_ + "/run3.log");
  EXPECT_EQ(d->Signal(SIGTERM), 0) << ReadFile(dir_ + "/run4.log");

  auto rows = Query(
      "SELECT kafka_partition, count(*), count(DISTINCT kafka_offset), min(kafka_offset), "
      "max(kafka_offset) FROM bronze GROUP BY 1 ORDER BY 1");
  ASSERT_EQ(rows.size(), static_cast<size_t>(kPartitions));
  for (const auto& w : *highs) {
    const auto& r = rows[w.partition];
    SCOPED_TRACE("partition " + r[0]);
    EXPECT_EQ(std::stoll(r[1]), w.high) << "rows";
    EXPECT_EQ(std::stoll(r[2]), w.high) << "distinct offsets (a duplicate otherwise)";
    EXPECT_EQ(std::stoll(r[3]), 0);
    EXPECT_EQ(std::stoll(r[4]), w.high - 1);
  }
  // Silver's partitions moved: those of the killed process were started again by another.
  auto silver_started = [&](int n) {
    std::set<int> out;
    const std::string log = ReadFile(dir_ + "/run" + std::to_string(n) + ".log");
    const std::string marker = "silver_clickstream[p";
    for (size_t at = log.find(marker); at != std::string::npos; at = log.find(marker, at + 1)) {
      size_t end = log.find("]: partition assigned, starting", at);
      if (end == std::string::npos || end > at + marker.size() + 4) continue;
      out.insert(std::stoi(log.substr(at + marker.size(), end - at - marker.size())));
    }
    return out;
  };
  std::set<int> killed_parts = silver_started(1), moved;
  EXPECT_FALSE(killed_parts.empty()) << "the first process ran no silver partition";
  for (int n = 2; n <= 4; ++n)
    for (int p : silver_started(n))
      if (killed_parts.count(p)) moved.insert(p);
  EXPECT_EQ(moved, killed_parts) << "silver partitions of the killed process did not move";
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_TRUE(std::filesystem::exists(dir_ + "/data/_checkpoints/silver_clickstream/partitions/" +
                                        std::to_string(p) + "/commits"))
        << "partition " << p;
  }

  // Gold: partial aggregates per source partition, merged on read (`strata query` reads the
  // merged view) equal to the same aggregation of silver, window by window: counts exactly,
  // distinct users as the HyperLogLog sketch of the window's users (merging sketches is exact).
  auto partials = Query("SELECT count(DISTINCT source_partition) FROM gold");
  ASSERT_EQ(partials.size(), 1u);
  EXPECT_EQ(partials[0][0], std::to_string(kPartitions)) << "partials of every partition";
  std::map<std::pair<int64_t, std::string>, std::pair<int64_t, HyperLogLog>> truth;
  for (const auto& r : Query("SELECT epoch_us(time_bucket(INTERVAL 1 minute, event_time)), "
                             "event_type, user_id FROM silver")) {
    auto& t = truth[{std::stoll(r[0]), r[1]}];
    ++t.first;
    if (r[2] != "NULL") t.second.AddString(r[2]);
  }
  const std::string merged = StrataOutput(
      "query --config " + config +
      " --format csv --limit 100000 \"SELECT epoch_us(window_start), event_type, event_count, "
      "unique_users, is_final FROM catalog.streaming.gold_events_per_minute ORDER BY 1, 2\"");
  std::istringstream lines(merged);
  std::string line;
  std::getline(lines, line);  // header
  size_t windows = 0, final_windows = 0;
  while (std::getline(lines, line)) {
    std::vector<std::string> f;
    std::istringstream cells(line);
    for (std::string cell; std::getline(cells, cell, ',');) f.push_back(cell);
    ASSERT_EQ(f.size(), 5u) << line << "\n" << merged;
    auto it = truth.find({std::stoll(f[0]), f[1]});
    ASSERT_NE(it, truth.end()) << "a gold window silver does not have: " << line;
    EXPECT_EQ(std::stoll(f[2]), it->second.first) << line;
    EXPECT_EQ(std::stoll(f[3]), std::llround(it->second.second.Estimate())) << line;
    ++windows;
    if (f[4].rfind("true", 0) == 0) ++final_windows;
  }
  EXPECT_EQ(windows, truth.size()) << merged;
  EXPECT_GT(final_windows, 0u) << merged;
  EXPECT_LT(final_windows, windows) << "the newest windows cannot be final yet";
  // Every member took part, and the killed one's partitions moved.
  int members_with_batches = 0;
  for (int n = 1; n <= 4; ++n) {
    std::string log = ReadFile(dir_ + "/run" + std::to_string(n) + ".log");
    for (size_t at = log.find("assigned partitions ["); at != std::string::npos;
         at = log.find("assigned partitions [", at + 1)) {
      char next = log[at + std::string("assigned partitions [").size()];
      if (next >= '0' && next <= '9') {
        ++members_with_batches;
        break;
      }
    }
  }
  EXPECT_GE(members_with_batches, 3);
}

}  // namespace
}  // namespace strata
