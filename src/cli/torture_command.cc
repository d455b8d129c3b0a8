// `strata torture`: the crash test. It runs the pipeline in a child process against an embedded
// Kafka cluster in another child process (`strata kafka`, which keeps the data while the
// pipeline dies), kills the pipeline with SIGKILL at random instants and at deterministic crash
// points (inside the sink commit and inside checkpoint writes), restarts it each time, then
// drains it and checks every layer against the truth computed from the records in Kafka.
// With --broker-faults it takes brokers down and up under a running pipeline instead.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <simdjson.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "cli/commands.h"
#include "connectors/kafka_source.h"
#include "core/time_util.h"
#include "kafka/source_reader.h"
#include "lake/delta/snapshot.h"
#include "lake/delta/table.h"
#include "pipeline/catalog.h"
#include "pipeline/config.h"
#include "stream/checkpoint.h"

namespace strata::cli {

namespace {

namespace fs = std::filesystem;

std::string SelfExe() {
  std::error_code ec;
  auto p = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "strata" : p.string();
}

// A child process running this binary with `args`; stdout (and stdin, when asked) piped.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::map<std::string, std::string>& env,
        bool pipe_stdin, const std::string& log_file) {
    int out[2], in[2] = {-1, -1};
    if (::pipe(out) != 0 || (pipe_stdin && ::pipe(in) != 0)) return;
    pid_ = ::fork();
    if (pid_ == 0) {
      ::dup2(out[1], STDOUT_FILENO);
      if (!log_file.empty()) {
        int fd = ::open(log_file.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) ::dup2(fd, STDERR_FILENO);
      }
      if (pipe_stdin) ::dup2(in[0], STDIN_FILENO);
      ::close(out[0]);
      if (pipe_stdin) ::close(in[1]);
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      std::string exe = SelfExe();
      std::vector<char*> argv{const_cast<char*>(exe.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      ::execv(exe.c_str(), argv.data());
      ::_exit(127);
    }
    ::close(out[1]);
    out_ = ::fdopen(out[0], "r");
    if (pipe_stdin) {
      ::close(in[0]);
      in_ = in[1];
    }
  }
  ~Child() {
    Kill(SIGKILL);
    Wait();
    if (out_) std::fclose(out_);
    if (in_ >= 0) ::close(in_);
  }
  std::string ReadLine() {
    char buf[1024] = {0};
    if (!out_ || !std::fgets(buf, sizeof buf, out_)) return "";
    std::string s(buf);
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
  }
  void Send(const std::string& line) {
    if (in_ >= 0) (void)!::write(in_, (line + "\n").data(), line.size() + 1);
  }
  void Kill(int sig) {
    if (pid_ > 0 && !exited_) ::kill(pid_, sig);
  }
  // Waits for exit; returns the exit code, or -signal.
  int Wait() {
    if (pid_ <= 0 || exited_) return status_;
    int st = 0;
    ::waitpid(pid_, &st, 0);
    exited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return status_;
  }
  // Non-blocking: true once the child has exited.
  bool Exited() {
    if (pid_ <= 0 || exited_) return true;
    int st = 0;
    if (::waitpid(pid_, &st, WNOHANG) == pid_) {
      exited_ = true;
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    }
    return exited_;
  }
  bool ok() const { return pid_ > 0; }

 private:
  pid_t pid_ = -1;
  FILE* out_ = nullptr;
  int in_ = -1;
  bool exited_ = false;
  int status_ = -1;
};

struct Check {
  int passed = 0, failed = 0;
  void Expect(bool ok, const std::string& what) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::printf("  FAIL: %s\n", what.c_str());
    }
  }
};

int64_t LatestCommitted(const std::string& checkpoint_dir) {
  auto r = Checkpoint(checkpoint_dir).LatestCommitted();
  return r.ok() ? *r : -1;
}

}  // namespace

int RunTorture(const TortureArgs& args) {
  std::mt19937_64 rng(args.seed);
  std::string dir =
      args.data_dir.empty()
          ? (fs::temp_directory_path() / ("strata_torture_" + std::to_string(::getpid()))).string()
          : args.data_dir;
  fs::remove_all(dir);
  fs::create_directories(dir);
  const std::string log = dir + "/pipeline.log";
  std::printf("torture: data and logs under %s\n", dir.c_str());

  Child kafka({"--log-level", "warn", "kafka", "--partitions", "12"}, {}, true, dir + "/kafka.log");
  std::string bootstrap = kafka.ReadLine();
  if (bootstrap.empty()) {
    std::fprintf(stderr, "strata: error: the embedded Kafka process did not start\n");
    return 1;
  }
  std::string config_path = dir + "/pipeline.toml";
  std::ofstream(config_path)
      << "[pipeline]\ndata_dir = \"" << dir << "/data\"\n"
      << "[kafka]\n\"bootstrap.servers\" = \"" << bootstrap << "\"\n"
      << "[source]\nstartingOffsets = \"earliest\"\nmaxOffsetsPerTrigger = 4000\n"
      << "[bronze]\ntrigger = \"200 ms\"\n"
      << "[silver]\ntrigger = \"200 ms\"\nwatermark = \"1 minute\"\n"
      << "maxFilesPerTrigger = 5\n"
      << "[gold]\ntrigger = \"300 ms\"\nwatermark = \"5 seconds\"\n"
      << "window = \"5 seconds\"\nmaxFilesPerTrigger = 5\n"
      << "[server]\nlisten = \"127.0.0.1:0\"\n";  // any free port: tests run side by side
  auto config = LoadPipelineConfig(config_path);
  if (!config.ok()) {
    std::fprintf(stderr, "strata: error: %s\n", config.status().ToString().c_str());
    return 1;
  }

  Child producer({"--log-level", "warn", "produce", "--bootstrap-servers", bootstrap, "--rate",
                  std::to_string(args.rate), "--seed", std::to_string(args.seed), "--users", "5000",
                  "--duplicates", "0.03", "--malformed", "0.01", "--unknown-types", "0.01",
                  "--missing-fields", "0.01"},
                 {}, false, dir + "/producer.log");

  const std::vector<std::string> points = {"sink.before_commit", "sink.after_commit",
                                           "file.before_rename", "file.before_link",
                                           "query.after_plan",   "query.before_commit_record"};
  std::map<std::string, int> crashes_at;
  std::vector<double> recovery_ms;
  int kills = 0, broker_faults = 0;
  int64_t started = MonotonicNanos();
  const std::vector<std::string> run_args = {"--log-level", "warn", "run", "--config", config_path};

  if (!args.broker_faults) {
    for (int i = 0; i < args.kills && !g_stop.load(); ++i) {
      std::map<std::string, std::string> env;
      std::string point;
      if (i % 2 == 1) {  // every other run dies at a crash point
        point = points[(i / 2) % points.size()];
        double p = point.rfind("file.", 0) == 0 ? 0.05 : 0.3;
        env = {{"STRATA_CRASH_POINTS", point + ":" + std::to_string(p)},
               {"STRATA_CRASH_SEED", std::to_string(args.seed * 1000 + i)}};
      }
      int64_t before = LatestCommitted(config->bronze.checkpoint);
      int64_t t0 = MonotonicNanos();
      Child run(run_args, env, false, log);
      int64_t live_ms =
          std::uniform_int_distribution<int64_t>(args.min_run_ms, args.max_run_ms)(rng);
      bool recovered = false;
      while ((MonotonicNanos() - t0) / 1'000'000 < live_ms && !run.Exited()) {
        if (!recovered && LatestCommitted(config->bronze.checkpoint) > before) {
          recovered = true;
          recovery_ms.push_back((MonotonicNanos() - t0) / 1e6);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (run.Exited()) {
        int st = run.Wait();
        if (st == -SIGKILL && !point.empty()) {
          ++crashes_at[point];
        } else {
          std::fprintf(stderr, "strata: error: pipeline run %d exited by itself with %d (see %s)\n",
                       i, st, log.c_str());
          return 1;
        }
      } else {
        run.Kill(SIGKILL);
        run.Wait();
      }
      ++kills;
    }
  } else {
    Child run(run_args, {}, false, log);
    // Faults start once bronze has committed: a partition that has never had data does not
    // hold the watermark back, so an outage before that would make its first rows late.
    for (int w = 0; w < 300 && LatestCommitted(config->bronze.checkpoint) < 1; ++w)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    for (int i = 0; i < args.kills && !g_stop.load(); ++i) {
      int broker = 1 + static_cast<int>(rng() % 3);
      kafka.Send("down " + std::to_string(broker));
      std::this_thread::sleep_for(std::chrono::milliseconds(
          std::uniform_int_distribution<int64_t>(args.min_run_ms, args.max_run_ms)(rng)));
      kafka.Send("up " + std::to_string(broker));
      std::this_thread::sleep_for(std::chrono::milliseconds(args.min_run_ms));
      ++broker_faults;
      if (run.Exited()) {
        std::fprintf(stderr, "strata: error: the pipeline stopped during broker faults (see %s)\n",
                     log.c_str());
        return 1;
      }
    }
    run.Kill(SIGTERM);
    if (run.Wait() != 0) {
      std::fprintf(stderr, "strata: error: the pipeline did not stop cleanly (see %s)\n",
                   log.c_str());
      return 1;
    }
  }
  double fault_seconds = (MonotonicNanos() - started) / 1e9;

  producer.Kill(SIGTERM);
  if (producer.Wait() != 0) {
    std::fprintf(stderr, "strata: error: the producer failed (see %s/producer.log)\n", dir.c_str());
    return 1;
  }
  // Drain what is left, then check.
  Child drain({"--log-level", "warn", "run", "--config", config_path, "--available-now"}, {}, false,
              log);
  if (drain.Wait() != 0) {
    std::fprintf(stderr, "strata: error: the final available-now run failed (see %s)\n",
                 log.c_str());
    return 1;
  }

  // The truth: every record in the topic.
  auto reader = KafkaReader::Create(bootstrap);
  if (!reader.ok()) return 1;
  auto info = (*reader)->Describe(config->source.topic, std::chrono::seconds(10));
  if (!info.ok()) return 1;
  auto wms =
      (*reader)->Watermarks(config->source.topic, info->partitions, std::chrono::seconds(10));
  if (!wms.ok()) return 1;
  struct TruthSink : RecordSink {
    int64_t records = 0, invalid = 0;
    std::map<std::string, std::tuple<std::string, std::string, int64_t, int32_t>> first;
    simdjson::dom::parser parser;
    Status OnRecords(std::string_view, const KafkaRecord* r, size_t n) override {
      static const std::set<std::string_view> kTypes = {"page_view", "click", "scroll", "purchase",
                                                        "add_to_cart"};
      for (size_t i = 0; i < n; ++i) {
        ++records;
        simdjson::dom::element doc;
        std::string_view id, user, type;
        int64_t ts;
        if (parser.parse(r[i].value.data(), r[i].value.size()).get(doc) ||
            doc["event_id"].get_string().get(id) || doc["user_id"].get_string().get(user) ||
            doc["event_type"].get_string().get(type) ||
            doc["event_timestamp"].get_int64().get(ts) || !kTypes.count(type) || id.empty() ||
            user.empty()) {
          ++invalid;
          continue;
        }
        first.emplace(std::string(id),
                      std::make_tuple(std::string(user), std::string(type), ts, r[i].partition));
      }
      return Status::OK();
    }
  } truth;
  std::vector<PartitionRange> ranges;
  Check check;
  for (const auto& w : *wms) {
    check.Expect(w.low == 0, "partition " + std::to_string(w.partition) +
                                 " lost records to retention (lower --rate)");
    ranges.push_back({w.partition, w.low, w.high});
  }
  Status read = (*reader)->ReadRange(config->source.topic, ranges, truth,
                                     std::chrono::steady_clock::now() + std::chrono::seconds(60));
  if (!read.ok()) {
    std::fprintf(stderr, "strata: error: %s\n", read.ToString().c_str());
    return 1;
  }

  auto engine = OpenCatalog(config->Tables());
  if (!engine.ok()) {
    std::fprintf(stderr, "strata: error: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  sql::QueryOptions qo;
  qo.row_limit = 0;
  auto rows = [&](const std::string& q) {
    auto r = (*engine)->Execute(q, qo);
    if (!r.ok()) {
      check.Expect(false, q + ": " + r.status().ToString());
      return std::vector<std::vector<std::optional<std::string>>>{};
    }
    return r->rows;
  };
  auto scalar = [&](const std::string& q) -> int64_t {
    auto r = rows(q);
    return r.empty() || !r[0][0] ? -1 : std::stoll(*r[0][0]);
  };
  const std::string bronze = config->bronze.table, silver = config->silver.table,
                    gold = config->gold.table, quarantine = config->silver.quarantine_table;

  // Bronze: every Kafka record exactly once.
  check.Expect(scalar("SELECT count(*) FROM " + bronze) == truth.records,
               "bronze has every record once");
  check.Expect(scalar("SELECT count(DISTINCT (kafka_partition, kafka_offset)) FROM " + bronze) ==
                   truth.records,
               "bronze (partition, offset) pairs are unique");
  // Silver: each unique valid event exactly once, nothing else.
  int64_t silver_rows = scalar("SELECT count(*) FROM " + silver);
  check.Expect(silver_rows == static_cast<int64_t>(truth.first.size()),
               "silver has " + std::to_string(silver_rows) + " rows, truth " +
                   std::to_string(truth.first.size()));
  int missing = 0;
  std::map<int32_t, int64_t> max_ts;
  for (const auto& row : rows("SELECT event_id, kafka_partition, event_timestamp FROM " + silver)) {
    if (!truth.first.count(*row[0])) ++missing;
    int32_t p = std::stoi(*row[1]);
    max_ts[p] = std::max<int64_t>(max_ts[p], std::stoll(*row[2]));
  }
  check.Expect(missing == 0, std::to_string(missing) + " silver rows are not in the truth");
  check.Expect(scalar("SELECT count(*) FROM " + quarantine) == truth.invalid,
               "quarantine holds every invalid record once");
  // Gold: one row per final (window, type), counts equal to the truth.
  int64_t watermark = INT64_MAX;
  for (const auto& [p, ts] : max_ts) watermark = std::min(watermark, ts);
  watermark -= config->gold.watermark_ms;
  const int64_t window = config->gold.window_ms;
  std::map<std::pair<int64_t, std::string>, int64_t> expected;
  for (const auto& [id, t] : truth.first) {
    int64_t ts = std::get<2>(t);
    int64_t start = ts - ((ts % window) + window) % window;
    if (start + window <= watermark) ++expected[{start, std::get<1>(t)}];
  }
  auto gold_rows = rows("SELECT epoch_ms(window_start), event_type, event_count FROM " + gold);
  std::map<std::pair<int64_t, std::string>, int64_t> actual;
  int gold_dups = 0;
  for (const auto& row : gold_rows) {
    auto key = std::make_pair(std::stoll(*row[0]), *row[1]);
    if (actual.count(key)) ++gold_dups;
    actual[key] = std::stoll(*row[2]);
  }
  check.Expect(gold_dups == 0, std::to_string(gold_dups) + " gold windows appear twice");
  check.Expect(actual == expected, "gold has " + std::to_string(actual.size()) +
                                       " final windows equal to the truth's " +
                                       std::to_string(expected.size()));
  // Each Kafka partition's progress is in the bronze table's txn actions.
  auto meta = Checkpoint(config->bronze.checkpoint).LoadMetadata();
  auto table = delta::DeltaTable::Open(config->bronze.path);
  if (meta.ok() && table.ok()) {
    auto snapshot = (*table)->LatestSnapshot();
    for (const auto& w : *wms) {
      std::string app = meta->query_id + "/kafka/" +
                        KafkaClusterIdentity(info->cluster_id, bootstrap) + "/" +
                        config->source.topic + "/" + std::to_string(w.partition);
      auto v = snapshot.ok() ? (*snapshot)->TxnVersion(app) : std::nullopt;
      const int64_t version = v.value_or(-1);
      check.Expect(v.has_value() && version == w.high,
                   "bronze txn of partition " + std::to_string(w.partition) + " says " +
                       (v.has_value() ? std::to_string(version) : "nothing") +
                       ", the log ends at " + std::to_string(w.high));
    }
    // No orphan commit: the table's batch txn is exactly the checkpoint's last committed batch
    // (every bronze batch commits, with its partition marks).
    int64_t committed = LatestCommitted(config->bronze.checkpoint);
    auto batch_txn = snapshot.ok() ? (*snapshot)->TxnVersion(meta->query_id) : std::nullopt;
    const int64_t txn = batch_txn.value_or(-1);
    check.Expect(batch_txn.has_value() && txn == committed,
                 "bronze table's batch txn " +
                     (batch_txn.has_value() ? std::to_string(txn) : "none") +
                     " equals the checkpoint's last committed batch " + std::to_string(committed));
  } else {
    check.Expect(false, "bronze checkpoint metadata and table are readable");
  }

  std::sort(recovery_ms.begin(), recovery_ms.end());
  std::printf("torture: %d pipeline kills (", kills);
  int at_points = 0;
  for (const auto& [p, n] : crashes_at) {
    std::printf("%s%s %d", at_points ? ", " : "", p.c_str(), n);
    at_points += n;
  }
  std::printf("%scrash points, %d random SIGKILLs), %d broker faults in %.0f s\n",
              at_points ? "; " : "", kills - at_points, broker_faults, fault_seconds);
  std::printf("torture: %lld Kafka records, %zu unique valid events, %zu final gold windows\n",
              static_cast<long long>(truth.records), truth.first.size(), expected.size());
  if (!recovery_ms.empty()) {
    std::printf(
        "torture: restart to first committed bronze batch: median %.0f ms, max %.0f ms "
        "(%zu restarts measured)\n",
        recovery_ms[recovery_ms.size() / 2], recovery_ms.back(), recovery_ms.size());
  }
  std::printf("%d passed, %d failed\n", check.passed, check.failed);
  if (check.failed == 0 && !args.keep) fs::remove_all(dir);
  return check.failed == 0 ? 0 : 1;
}

}  // namespace strata::cli
