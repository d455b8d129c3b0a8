#include "kafka/client_config.h"

#include <librdkafka/rdkafka.h>
#include <spdlog/spdlog.h>

namespace strata::kafka_internal {

namespace {
// librdkafka's log lines (syslog levels) into strata's log, instead of raw lines on stderr.
// Connection failures are routine while a broker restarts, so its errors are warnings here;
// the reader and producer report what actually failed as Status.
void LogToSpdlog(const rd_kafka_t* rk, int level, const char* fac, const char* buf) {
  spdlog::level::level_enum l = level <= 4   ? spdlog::level::warn
                                : level <= 6 ? spdlog::level::info
                                             : spdlog::level::debug;
  spdlog::log(l, "kafka {} {}: {}", rk ? rd_kafka_name(rk) : "", fac, buf);
}
}  // namespace

Status ApplyConfig(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
  rd_kafka_conf_set_log_cb(conf, LogToSpdlog);
  char errstr[512];
  for (const auto& [name, value] : props) {
    if (rd_kafka_conf_set(conf, name.c_str(), value.c_str(), errstr, sizeof(errstr)) !=
        RD_KAFKA_CONF_OK) {
      return InvalidArgument("Kafka property " + name + "=" + value + ": " + errstr);
    }
  }
  return Status::OK();
}

std::map<std::string, std::string> Overlay(std::map<std::string, std::string> defaults,
                                           const std::map<std::string, std::string>& overrides) {
  for (const auto& [name, value] : overrides) defaults[name] = value;
  return defaults;
}

}  // namespace strata::kafka_internal
