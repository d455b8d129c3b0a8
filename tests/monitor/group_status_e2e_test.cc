// `strata status --group` against a real group on loopback: `strata kafka`, steady traffic from
// `strata produce`, and two `strata run` members with a group.id sharing tables and
// checkpoints. The group view, read from shared storage only, must list both members alive and
// every partition owned by exactly one of them; a member stopped cleanly must then show as
// stopped.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <simdjson.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

extern char** environ;

namespace strata {
namespace {

namespace fs = std::filesystem;

const std::string kBinary = std::string(STRATA_BINARY_DIR) + "/strata";
constexpr int kPartitions = 4;

// A `strata` child process with stdout and stderr in a log file; SIGKILLed if still running
// when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& args, const std::string& log) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(kBinary.c_str())};
    for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    if (::posix_spawn(&pid_, kBinary.c_str(), &actions, nullptr, argv.data(), environ) != 0)
      pid_ = -1;
    posix_spawn_file_actions_destroy(&actions);
  }
  ~Child() { Stop(SIGKILL); }
  pid_t pid() const { return pid_; }
  // Sends `sig` and reaps the process; its exit code, or -signal.
  int Stop(int sig) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  }

 private:
  pid_t pid_ = -1;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// stdout of `strata <args>` (stderr dropped).
std::string Output(const std::string& args) {
  std::string out;
  FILE* p = ::popen((kBinary + " " + args + " 2>/dev/null").c_str(), "r");
  if (!p) return out;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  ::pclose(p);
  return out;
}

// What one `status --group --json` said.
struct GroupView {
  bool parsed = false;
  std::map<std::string, std::string> state;        // member -> state
  std::map<std::string, std::vector<int>> owns;    // alive member -> its partitions
  std::map<int, std::string> owner;                // partition -> owner ("" nobody)
  std::map<int, std::vector<std::string>> layers;  // partition -> watermark layers listed
};

GroupView ParseView(const std::string& json) {
  GroupView v;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json).get(doc) != simdjson::SUCCESS) return v;
  v.parsed = true;
  for (simdjson::dom::element m : doc["members"].get_array()) {
    std::string name(m["member"].get_string().value());
    v.state[name] = std::string(m["state"].get_string().value());
    if (!m["alive"].get_bool().value()) continue;
    for (simdjson::dom::element p : m["partitions"].get_array())
      v.owns[name].push_back(static_cast<int>(p["partition"].get_int64().value()));
  }
  for (simdjson::dom::element p : doc["partitions"].get_array()) {
    int partition = static_cast<int>(p["partition"].get_int64().value());
    std::string_view owner;
    v.owner[partition] = p["owner"].get_string().get(owner) == simdjson::SUCCESS
                             ? std::string(owner)
                             : std::string();
    for (auto field : p["watermarks"].get_object())
      v.layers[partition].push_back(std::string(field.key));
  }
  return v;
}

// Both members alive, and their partitions together are 0..kPartitions-1, each exactly once.
bool Settled(const GroupView& v) {
  if (v.owns.size() != 2) return false;
  std::multiset<int> all;
  for (const auto& [member, parts] : v.owns) {
    if (parts.empty()) return false;
    all.insert(parts.begin(), parts.end());
  }
  for (int p = 0; p < kPartitions; ++p)
    if (all.count(p) != 1) return false;
  return static_cast<int>(all.size()) == kPartitions && v.owner.size() == kPartitions;
}

TEST(GroupStatusE2eTest, StatusGroupListsBothMembersAndEveryPartitionOnce) {
  const std::string dir =
      (fs::temp_directory_path() / ("strata_group_status_" + std::to_string(::getpid()))).string();
  fs::remove_all(dir);
  fs::create_directories(dir);

  Child kafka({"kafka", "--brokers", "1", "--partitions", std::to_string(kPartitions)},
              dir + "/kafka.log");
  std::string bootstrap;
  for (int i = 0; i < 300 && bootstrap.empty(); ++i) {
    std::string out = Slurp(dir + "/kafka.log");
    size_t nl = out.find('\n');
    if (nl != std::string::npos && out.rfind("127.0.0.1", 0) == 0) bootstrap = out.substr(0, nl);
    if (bootstrap.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ASSERT_FALSE(bootstrap.empty()) << Slurp(dir + "/kafka.log");

  const std::string config = dir + "/pipeline.toml";
  std::ofstream(config) << "[pipeline]\ndata_dir = \"" << dir << "/data\"\n"
                        << "[kafka]\n\"bootstrap.servers\" = \"" << bootstrap << "\"\n"
                        << "\"group.id\" = \"strata-group-status\"\n"
                        << "\"session.timeout.ms\" = \"6000\"\n"
                        << "[source]\nstartingOffsets = \"earliest\"\n"
                        << "[bronze]\ntrigger = \"1 second\"\n"
                        << "[silver]\ntrigger = \"2 seconds\"\n"
                        << "[gold]\ntrigger = \"2 seconds\"\n"
                        << "[server]\nlisten = \"127.0.0.1:0\"\n";
  // Traffic on every partition, so that every member's batches name all of its partitions.
  Child producer({"produce", "--bootstrap-servers", bootstrap, "--rate", "200", "--duration", "90",
                  "--seed", "5"},
                 dir + "/produce.log");
  Child first({"run", "--config", config}, dir + "/run1.log");
  Child second({"run", "--config", config}, dir + "/run2.log");

  GroupView view;
  std::string json;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(50);
  while (std::chrono::steady_clock::now() < deadline) {
    json = Output("status --group --json --config " + config);
    view = ParseView(json);
    if (Settled(view)) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  ASSERT_TRUE(Settled(view)) << json << "\n--- run1\n"
                             << Slurp(dir + "/run1.log") << "\n--- run2\n"
                             << Slurp(dir + "/run2.log");
  for (const auto& [member, state] : view.state) EXPECT_EQ(state, "alive") << member;
  for (int p = 0; p < kPartitions; ++p) {
    EXPECT_FALSE(view.owner[p].empty()) << "partition " << p;
    // Every layer has a watermark column per partition (null until its directory exists).
    ASSERT_FALSE(view.layers[p].empty()) << json;
    EXPECT_EQ(view.layers[p].front(), "silver_clickstream");
    EXPECT_NE(std::find(view.layers[p].begin(), view.layers[p].end(), "gold_events_per_minute"),
              view.layers[p].end())
        << json;
  }
  // Bronze's Delta checkpoints are written under the table's maintenance lease, which names
  // the member that took it last.
  const std::string lock =
      dir + "/data/catalog/streaming/bronze_clickstream/_strata/maintenance.lock";
  std::string holder;
  for (int i = 0; i < 60 && !view.owns.count(holder); ++i) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view member;
    if (parser.parse(Slurp(lock)).get(doc) == simdjson::SUCCESS &&
        doc["member"].get_string().get(member) == simdjson::SUCCESS)
      holder = std::string(member);
    if (!view.owns.count(holder)) std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  EXPECT_TRUE(view.owns.count(holder)) << "lease holder '" << holder << "': " << Slurp(lock);
  const std::string text = Output("status --group --config " + config);
  EXPECT_NE(text.find("group strata-group-status: 2 members alive"), std::string::npos) << text;

  // A clean stop writes the member's last status: it shows as stopped at once.
  EXPECT_EQ(second.Stop(SIGTERM), 0) << Slurp(dir + "/run2.log");
  view = ParseView(Output("status --group --json --config " + config));
  ASSERT_TRUE(view.parsed);
  int stopped = 0;
  for (const auto& [member, state] : view.state) stopped += state == "stopped" ? 1 : 0;
  EXPECT_EQ(stopped, 1) << json;
  EXPECT_EQ(view.owns.size(), 1u);

  EXPECT_EQ(first.Stop(SIGTERM), 0) << Slurp(dir + "/run1.log");
  producer.Stop(SIGTERM);
  kafka.Stop(SIGTERM);
  if (!HasFailure()) fs::remove_all(dir);
}

}  // namespace
}  // namespace strata
