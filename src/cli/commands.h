#pragma once

#include <atomic>
#include <cstdint>
#include <string>

namespace strata::cli {

// Set by SIGINT/SIGTERM; every long-running command polls it and shuts down cleanly.
extern std::atomic<bool> g_stop;
void InstallSignalHandlers();

struct DemoArgs {
  std::string config_file;
  std::string data_dir = "./strata-data";
  double rate = 2000;
  double duration_s = 0;  // 0 = until Ctrl-C
  int summary_interval_s = 5;
  std::string listen;      // HTTP server address; empty: the config's server.listen
  std::string auth_token;  // empty: the config's server.authToken
};

struct KafkaArgs {
  int brokers = 3;
  std::string topic = "clickstream-events";
  int partitions = 12;
};

struct ProduceArgs {
  std::string bootstrap;
  std::string topic = "clickstream-events";
  double rate = 1000;
  double duration_s = 0;
  uint64_t max_records = 0;
  uint64_t seed = 42;
  int users = 100000;
  double duplicates = 0, late = 0, malformed = 0, unknown_types = 0, missing_fields = 0;
  double max_lateness_s = 20 * 60;
  std::string scenario;  // generator scenarios (ParseScenarios), e.g. "volume-drop@30s-60s"
};

struct RunArgs {
  std::string config_file;
  bool available_now = false;
  std::string listen;      // HTTP server address; empty: the config's server.listen
  std::string auth_token;  // empty: the config's server.authToken
};

struct StatusArgs {
  std::string url = "http://127.0.0.1:8080";
  std::string auth_token;  // empty: $STRATA_AUTH_TOKEN
  // --group: the whole consumer group, read from shared storage (the members' status files and
  // the layers' partition checkpoints of --config) instead of one process's server.
  bool group = false;
  std::string config_file;
  bool json = false;  // --group only: the report as JSON
};

struct QueryArgs {
  std::string config_file;
  std::string data_dir;
  std::string format = "table";
  size_t limit = 10000;
  std::string sql;
};

struct TableArgs {
  std::string config_file;
  std::string data_dir;
  std::string table;
  int limit = 20;
};

struct TortureArgs {
  int kills = 30;
  double rate = 800;
  uint64_t seed = 1;
  std::string data_dir;
  int64_t min_run_ms = 300;
  int64_t max_run_ms = 2500;
  bool broker_faults = false;
  bool keep = false;
};

// Each returns the process exit code; errors are printed as one line on stderr.
int RunDemo(const DemoArgs& args);
int RunKafka(const KafkaArgs& args);
int RunProduce(const ProduceArgs& args);
int RunPipeline(const RunArgs& args);
int RunQuery(const QueryArgs& args);
int RunDescribe(const TableArgs& args);
int RunHistory(const TableArgs& args);
int RunTorture(const TortureArgs& args);
int RunStatus(const StatusArgs& args);

}  // namespace strata::cli
