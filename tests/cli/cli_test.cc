// The strata binary as a user runs it: separate processes, real sockets, real files.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>

namespace {

const std::string kStrata = std::string(STRATA_BINARY_DIR) + "/strata";

struct Output {
  int exit_code = -1;
  std::string out;  // stdout and stderr together
};

Output Strata(const std::string& args) {
  Output o;
  std::string cmd = kStrata + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return o;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) o.out.append(buf.data(), n);
  int status = ::pclose(p);
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return o;
}

int CountLines(const std::string& s) {
  int n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// `strata kafka` in a child process; its first stdout line is the bootstrap address.
class KafkaProcess {
 public:
  KafkaProcess() {
    int fds[2];
    if (::pipe(fds) != 0) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(fds[1], STDOUT_FILENO);
      ::close(fds[0]);
      ::execl(kStrata.c_str(), kStrata.c_str(), "kafka", "--partitions", "4",
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::close(fds[1]);
    FILE* f = ::fdopen(fds[0], "r");
    char line[512] = {0};
    if (f && std::fgets(line, sizeof line, f)) bootstrap_ = line;
    while (!bootstrap_.empty() && (bootstrap_.back() == '\n')) bootstrap_.pop_back();
    out_ = f;
  }
  ~KafkaProcess() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status;
      ::waitpid(pid_, &status, 0);
    }
    if (out_) std::fclose(out_);
  }
  const std::string& bootstrap() const { return bootstrap_; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  std::string bootstrap_;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = (std::filesystem::temp_directory_path() /
            ("strata_cli_" + std::to_string(::getpid()) + "_" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name()))
               .string();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string WriteConfig(const std::string& toml) {
    std::string path = dir_ + "/pipeline.toml";
    std::ofstream(path) << toml;
    return path;
  }
  std::string dir_;
};

TEST_F(CliTest, ProduceRunQueryAcrossProcesses) {
  KafkaProcess kafka;
  ASSERT_FALSE(kafka.bootstrap().empty());
  Output produced = Strata("produce --bootstrap-servers " + kafka.bootstrap() +
                           " --count 3000 --rate 20000 --malformed 0.01 --seed 3");
  ASSERT_EQ(produced.exit_code, 0) << produced.out;
  EXPECT_NE(produced.out.find("produced 3000 events"), std::string::npos) << produced.out;

  ::setenv("STRATA_TEST_PASSWORD", "s3cret-value", 1);
  std::string config =
      WriteConfig("[pipeline]\ndata_dir = \"" + dir_ +
                  "/data\"\n[kafka]\n\"bootstrap.servers\" = \"" + kafka.bootstrap() +
                  "\"\n\"sasl.password\" = \"${secret:STRATA_TEST_PASSWORD}\"\n"
                  "[source]\nstartingOffsets = \"earliest\"\n");
  Output run = Strata("run --config " + config + " --available-now");
  ASSERT_EQ(run.exit_code, 0) << run.out;
  EXPECT_EQ(run.out.find("s3cret-value"), std::string::npos) << "a secret was printed";

  Output q = Strata("query --config " + config +
                    " --format csv \"SELECT count(*) AS n, count(parse_error) AS bad FROM "
                    "catalog.streaming.bronze_clickstream\"");
  ASSERT_EQ(q.exit_code, 0) << q.out;
  // RFC 4180 CSV; about 1% of the records are malformed and kept with their reason.
  ASSERT_EQ(q.out.rfind("n,bad\r\n3000,", 0), 0u) << q.out;
  int bad = std::stoi(q.out.substr(std::string("n,bad\r\n3000,").size()));
  EXPECT_GT(bad, 10);
  EXPECT_LT(bad, 60);

  Output history = Strata("history --config " + config + " catalog.streaming.bronze_clickstream");
  ASSERT_EQ(history.exit_code, 0) << history.out;
  EXPECT_NE(history.out.find("STREAMING UPDATE"), std::string::npos);
  Output describe = Strata("describe " + dir_ + "/data/catalog/streaming/silver_clickstream");
  ASSERT_EQ(describe.exit_code, 0) << describe.out;
  EXPECT_NE(describe.out.find("event_time"), std::string::npos);
}

TEST_F(CliTest, DemoRunsAgainOnTheSameTablesAndNoticesTheNewCluster) {
  std::string args =
      "demo --data-dir " + dir_ + "/demo --rate 500 --duration 6 --summary-interval 2";
  Output first = Strata(args);
  ASSERT_EQ(first.exit_code, 0) << first.out;
  EXPECT_NE(first.out.find("bronze"), std::string::npos) << first.out;
  Output count1 =
      Strata("query --data-dir " + dir_ +
             "/demo --format csv \"SELECT count(*) FROM catalog.streaming.bronze_clickstream\"");
  ASSERT_EQ(count1.exit_code, 0) << count1.out;
  int64_t rows1 = std::stoll(count1.out.substr(count1.out.find('\n') + 1));
  EXPECT_GT(rows1, 0);

  Output second = Strata(args);
  ASSERT_EQ(second.exit_code, 0) << second.out;
  EXPECT_NE(second.out.find("Kafka cluster changed"), std::string::npos) << second.out;
  Output count2 =
      Strata("query --data-dir " + dir_ +
             "/demo --format csv \"SELECT count(*) FROM catalog.streaming.bronze_clickstream\"");
  int64_t rows2 = std::stoll(count2.out.substr(count2.out.find('\n') + 1));
  EXPECT_GT(rows2, rows1);  // the old rows are kept, the new cluster's are added
}

TEST_F(CliTest, BadInputGivesOneLineErrorsNamingTheThing) {
  struct Case {
    std::string args;
    std::string expected;
  };
  std::string bad_key = WriteConfig("[bronze]\ntrigerr = \"1 s\"\n");
  std::string cases_dir = dir_;
  std::vector<Case> cases = {
      {"run --config " + bad_key, "bronze.trigerr"},
      {"run --config " + dir_ + "/missing.toml", "missing.toml"},
      {"query --data-dir " + dir_ + " \"SELEC 1\"", "SELEC"},
      {"query --data-dir " + dir_ + " \"SELECT * FROM nope\"", "nope"},
      {"query --data-dir " + dir_ + " \"SELECT * FROM catalog.streaming.nope\"", "catalog"},
      {"describe --data-dir " + dir_ + " catalog.streaming.nope", "catalog.streaming.nope"},
      {"history --data-dir " + dir_ + " /no/such/table", "/no/such/table"},
  };
  for (const auto& c : cases) {
    Output o = Strata(c.args);
    EXPECT_NE(o.exit_code, 0) << c.args;
    EXPECT_EQ(CountLines(o.out), 1) << c.args << "\n" << o.out;
    EXPECT_NE(o.out.find(c.expected), std::string::npos) << c.args << "\n" << o.out;
  }
  // The wrong type of a key.
  std::string wrong_type = WriteConfig("[source]\nmaxOffsetsPerTrigger = \"lots\"\n");
  Output o = Strata("run --config " + wrong_type);
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.out.find("source.maxOffsetsPerTrigger"), std::string::npos) << o.out;
}

TEST_F(CliTest, UnreachableBrokerFailsWithItsAddress) {
  std::string config = WriteConfig("[pipeline]\ndata_dir = \"" + dir_ +
                                   "/data\"\n[kafka]\n\"bootstrap.servers\" = \"127.0.0.1:1\"\n");
  Output o = Strata("--log-level error run --config " + config + " --available-now");
  EXPECT_NE(o.exit_code, 0);
  EXPECT_NE(o.out.find("127.0.0.1:1"), std::string::npos) << o.out;
  // Nothing was half-written: the bronze checkpoint holds no batch.
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/data/_checkpoints/bronze_clickstream/offsets/0"));
}

// `strata reprocess --table silver_clickstream` on tables written by `strata run`: refused past
// the silver watermark, then the range is replaced by the batch recomputation from bronze.
TEST_F(CliTest, ReprocessSilverFromBronze) {
  KafkaProcess kafka;
  ASSERT_FALSE(kafka.bootstrap().empty());
  Output produced = Strata("produce --bootstrap-servers " + kafka.bootstrap() +
                           " --count 1500 --rate 500 --duplicates 0.05 --malformed 0.02 --late 0 "
                           "--seed 4");
  ASSERT_EQ(produced.exit_code, 0) << produced.out;
  std::string config = WriteConfig(
      "[pipeline]\ndata_dir = \"" + dir_ + "/data\"\n[kafka]\n\"bootstrap.servers\" = \"" +
      kafka.bootstrap() +
      "\"\n[source]\nstartingOffsets = \"earliest\"\nmaxOffsetsPerTrigger = 250\n"
      "[silver]\nwatermark = \"1 second\"\nmaxFilesPerTrigger = 1\n"
      "[gold]\nenabled = false\n[gold.active_users_per_minute]\nenabled = false\n"
      "[gold.active_users_5m]\nenabled = false\n[gold.page_views_per_minute]\nenabled = false\n"
      "[gold.top_pages]\nenabled = false\n");
  Output run = Strata("--log-level error run --config " + config + " --available-now");
  ASSERT_EQ(run.exit_code, 0) << run.out;

  auto scalar = [&](const std::string& sql) {
    Output q = Strata("query --config " + config + " --format csv \"" + sql + "\"");
    EXPECT_EQ(q.exit_code, 0) << q.out;
    return std::stoll(q.out.substr(q.out.find('\n') + 1));
  };
  const int64_t to =
      scalar("SELECT max(event_timestamp) - 2500 FROM catalog.streaming.silver_clickstream");
  const std::string range = " --from 0 --to " + std::to_string(to);

  Output refused =
      Strata("reprocess --config " + config + " --table silver_clickstream --from 0 --to " +
             std::to_string(to + 60000));
  EXPECT_EQ(refused.exit_code, 1);
  EXPECT_EQ(CountLines(refused.out), 1) << refused.out;
  EXPECT_NE(refused.out.find("--to"), std::string::npos) << refused.out;

  const std::string silver_count =
      "SELECT count(*) FROM catalog.streaming.silver_clickstream WHERE event_timestamp < " +
      std::to_string(to);
  const int64_t truth = scalar(
      "SELECT count(DISTINCT (kafka_partition, event_id)) FROM "
      "catalog.streaming.bronze_clickstream WHERE parse_error IS NULL AND event_id <> '' AND "
      "user_id <> '' AND event_type IN ('page_view', 'click', 'scroll', 'purchase', "
      "'add_to_cart') AND event_timestamp < " +
      std::to_string(to));
  for (int i = 0; i < 2; ++i) {  // a second run gives the same table
    Output o = Strata("reprocess --config " + config + " --table silver_clickstream" + range);
    ASSERT_EQ(o.exit_code, 0) << o.out;
    EXPECT_NE(o.out.find("silver_clickstream: version"), std::string::npos) << o.out;
    EXPECT_NE(o.out.find("rows written"), std::string::npos) << o.out;
    EXPECT_EQ(scalar(silver_count), truth);
  }
  Output history = Strata("history --config " + config + " catalog.streaming.silver_clickstream");
  EXPECT_NE(history.out.find("REPROCESS"), std::string::npos) << history.out;
}

}  // namespace
