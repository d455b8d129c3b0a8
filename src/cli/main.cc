#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/reprocess_command.h"
#include "cli/table_commands.h"

int main(int argc, char** argv) {
  using namespace strata::cli;
  CLI::App app{"strata: a real-time clickstream pipeline (Kafka -> Delta Lake bronze/silver/gold)"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "strata 0.1.0");
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}));

  DemoArgs demo;
  auto* demo_cmd = app.add_subcommand(
      "demo", "Embedded Kafka + generated traffic + the pipeline, writing under --data-dir");
  demo_cmd->add_option("--config", demo.config_file, "Pipeline TOML (Kafka settings are replaced)");
  demo_cmd->add_option("--data-dir", demo.data_dir, "Where tables and checkpoints go");
  demo_cmd->add_option("--rate", demo.rate, "Generated events per second")
      ->check(CLI::PositiveNumber);
  demo_cmd->add_option("--duration", demo.duration_s, "Seconds to run (0: until Ctrl-C)");
  demo_cmd->add_option("--summary-interval", demo.summary_interval_s, "Seconds between summaries")
      ->check(CLI::PositiveNumber);
  demo_cmd->add_option("--listen", demo.listen,
                       "HTTP server host:port (default 127.0.0.1:8080; port 0 picks one)");
  demo_cmd->add_option("--auth-token", demo.auth_token, "Bearer token for /api/* and /metrics");

  KafkaArgs kafka;
  auto* kafka_cmd =
      app.add_subcommand("kafka", "Run the embedded Kafka cluster alone and print its address");
  kafka_cmd->add_option("--brokers", kafka.brokers, "Number of brokers")->check(CLI::Range(1, 16));
  kafka_cmd->add_option("--topic", kafka.topic, "Topic to create");
  kafka_cmd->add_option("--partitions", kafka.partitions, "Partitions of the topic")
      ->check(CLI::Range(1, 1024));

  ProduceArgs produce;
  auto* produce_cmd = app.add_subcommand("produce", "Generate clickstream traffic into any Kafka");
  produce_cmd->add_option("--bootstrap-servers", produce.bootstrap, "Kafka bootstrap servers")
      ->required();
  produce_cmd->add_option("--topic", produce.topic, "Topic");
  produce_cmd->add_option("--rate", produce.rate, "Events per second")->check(CLI::PositiveNumber);
  produce_cmd->add_option("--duration", produce.duration_s, "Seconds (0: until Ctrl-C)");
  produce_cmd->add_option("--count", produce.max_records,
                          "Stop after this many events (0: no limit)");
  produce_cmd->add_option("--seed", produce.seed, "Random seed");
  produce_cmd->add_option("--users", produce.users, "Distinct users")->check(CLI::PositiveNumber);
  produce_cmd->add_option("--scenario", produce.scenario,
                          "Scenarios, e.g. volume-drop@30s-60s,null-spike:country@10s-20s,"
                          "new-field:coupon@40s,type-change:event_timestamp@50s");
  produce_cmd->add_option("--duplicates", produce.duplicates, "Fraction of duplicate deliveries")
      ->check(CLI::Range(0.0, 1.0));
  produce_cmd->add_option("--late", produce.late, "Fraction of late events")
      ->check(CLI::Range(0.0, 1.0));
  produce_cmd->add_option("--malformed", produce.malformed, "Fraction of malformed JSON")
      ->check(CLI::Range(0.0, 1.0));
  produce_cmd->add_option("--unknown-types", produce.unknown_types, "Fraction of unknown types")
      ->check(CLI::Range(0.0, 1.0));
  produce_cmd
      ->add_option("--missing-fields", produce.missing_fields,
                   "Fraction of events missing a required field")
      ->check(CLI::Range(0.0, 1.0));
  produce_cmd->add_option("--max-lateness", produce.max_lateness_s, "Largest lateness, seconds");

  RunArgs run;
  auto* run_cmd = app.add_subcommand("run", "Run the pipeline of a config against its Kafka");
  run_cmd->add_option("--config", run.config_file, "Pipeline TOML")->required();
  run_cmd->add_flag("--available-now", run.available_now,
                    "Process what the source holds now, commit, and exit");
  run_cmd->add_option("--listen", run.listen,
                      "HTTP server host:port (default: server.listen of the config)");
  run_cmd->add_option("--auth-token", run.auth_token, "Bearer token for /api/* and /metrics");

  StatusArgs status;
  auto* status_cmd =
      app.add_subcommand("status", "State and last progress of each query of a running strata");
  status_cmd->add_option("--url", status.url, "Server URL (default http://127.0.0.1:8080)");
  status_cmd->add_option("--auth-token", status.auth_token,
                         "Bearer token (default: $STRATA_AUTH_TOKEN)");
  status_cmd->add_flag("--group", status.group,
                       "The whole consumer group, from shared storage (needs --config)");
  status_cmd->add_option("--config", status.config_file, "Pipeline TOML (with --group)");
  status_cmd->add_flag("--json", status.json, "With --group: print JSON");

  QueryArgs query;
  auto* query_cmd = app.add_subcommand("query", "Run SQL over the pipeline's Delta tables");
  query_cmd->add_option("--config", query.config_file, "Pipeline TOML (for table names and paths)");
  query_cmd->add_option("--data-dir", query.data_dir, "Data directory of the default pipeline");
  query_cmd->add_option("--format", query.format, "table, csv or json")
      ->check(CLI::IsMember({"table", "csv", "json"}));
  query_cmd->add_option("--limit", query.limit, "Most rows to print");
  query_cmd->add_option("sql", query.sql, "The SQL statement")->required();

  TableArgs describe;
  auto* describe_cmd = app.add_subcommand("describe", "Schema, properties and files of a table");
  describe_cmd->add_option("--config", describe.config_file, "Pipeline TOML");
  describe_cmd->add_option("--data-dir", describe.data_dir, "Data directory");
  describe_cmd->add_option("table", describe.table, "Table name or path")->required();

  TortureArgs torture;
  auto* torture_cmd = app.add_subcommand(
      "torture", "Crash test: kill the pipeline again and again, then check every layer");
  torture_cmd->add_option("--kills", torture.kills, "Pipeline kills (or broker faults)");
  torture_cmd->add_option("--rate", torture.rate, "Generated events per second");
  torture_cmd->add_option("--seed", torture.seed, "Random seed");
  torture_cmd->add_option("--data-dir", torture.data_dir,
                          "Working directory (default: a temp dir)");
  torture_cmd->add_option("--min-run-ms", torture.min_run_ms, "Shortest life of a pipeline run");
  torture_cmd->add_option("--max-run-ms", torture.max_run_ms, "Longest life of a pipeline run");
  torture_cmd->add_flag("--broker-faults", torture.broker_faults,
                        "Take Kafka brokers down and up instead of killing the pipeline");
  torture_cmd->add_flag("--keep", torture.keep, "Keep the working directory");

  TableArgs history;
  auto* history_cmd = app.add_subcommand("history", "Commit history of a table");
  history_cmd->add_option("--config", history.config_file, "Pipeline TOML");
  history_cmd->add_option("--data-dir", history.data_dir, "Data directory");
  history_cmd->add_option("--limit", history.limit, "Most commits to show");
  history_cmd->add_option("table", history.table, "Table name or path")->required();

  OptimizeArgs optimize;
  auto* optimize_cmd =
      app.add_subcommand("optimize", "Compact a table's small files (dataChange=false rewrite)");
  optimize_cmd->add_option("--config", optimize.config_file, "Pipeline TOML");
  optimize_cmd->add_option("--data-dir", optimize.data_dir, "Data directory");
  optimize_cmd->add_option("--sort-by", optimize.sort_by, "Sort the rewritten files by a column");
  optimize_cmd->add_option("--zorder-by", optimize.zorder_by, "Z-order by one column (= sort)");
  optimize_cmd->add_option("--target-file-size", optimize.target_file_size, "Bytes per file")
      ->check(CLI::PositiveNumber);
  optimize_cmd->add_option("--where-column", optimize.where_column,
                           "Only files that may hold rows of [--from, --to) on this time column");
  optimize_cmd->add_option("--from", optimize.from, "Range start (date or timestamp, UTC)");
  optimize_cmd->add_option("--to", optimize.to, "Range end, exclusive");
  optimize_cmd->add_option("--lease-timeout", optimize.lease_timeout_s,
                           "Seconds to wait for the table's maintenance lease (default 30)");
  optimize_cmd->add_option("table", optimize.table, "Table name or path")->required();

  VacuumArgs vacuum;
  auto* vacuum_cmd = app.add_subcommand("vacuum", "Delete files a table no longer references");
  vacuum_cmd->add_option("--config", vacuum.config_file, "Pipeline TOML");
  vacuum_cmd->add_option("--data-dir", vacuum.data_dir, "Data directory");
  vacuum_cmd->add_option("--retain", vacuum.retain_hours, "Retention in hours (default 168)")
      ->check(CLI::NonNegativeNumber);
  vacuum_cmd->add_flag("--dry-run", vacuum.dry_run, "List the files, delete nothing");
  vacuum_cmd->add_flag("--force", vacuum.force,
                       "Allow a retention below delta.deletedFileRetentionDuration");
  vacuum_cmd->add_option("--lease-timeout", vacuum.lease_timeout_s,
                         "Seconds to wait for the table's maintenance lease (default 30)");
  vacuum_cmd->add_option("table", vacuum.table, "Table name or path")->required();

  ReprocessArgs reprocess;
  auto* reprocess_cmd = app.add_subcommand("reprocess",
                                           "Recompute a time range of a gold table from silver, or "
                                           "of silver from bronze, in one commit");
  reprocess_cmd->add_option("--config", reprocess.config_file, "Pipeline TOML");
  reprocess_cmd->add_option("--data-dir", reprocess.data_dir, "Data directory");
  reprocess_cmd->add_option("--table", reprocess.table, "Gold table, or the silver table")
      ->required();
  reprocess_cmd
      ->add_option("--from", reprocess.from,
                   "First window start (silver: event time), epoch ms or UTC time")
      ->required();
  reprocess_cmd->add_option("--to", reprocess.to, "End of the range (exclusive)")->required();
  reprocess_cmd->add_flag("--include-late", reprocess.include_late,
                          "Also use the rows of the silver late-data table");

  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::from_str(log_level));
  spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
  InstallSignalHandlers();

  if (*demo_cmd) return RunDemo(demo);
  if (*kafka_cmd) return RunKafka(kafka);
  if (*produce_cmd) return RunProduce(produce);
  if (*run_cmd) return RunPipeline(run);
  if (*query_cmd) return RunQuery(query);
  if (*describe_cmd) return RunDescribe(describe);
  if (*history_cmd) return RunHistory(history);
  if (*optimize_cmd) return RunOptimize(optimize);
  if (*vacuum_cmd) return RunVacuum(vacuum);
  if (*torture_cmd) return RunTorture(torture);
  if (*status_cmd) return RunStatus(status);
  if (*reprocess_cmd) return RunReprocess(reprocess);
  return 2;
}
