#include "kafka/client_config.h"

#include <librdkafka/rdkafka.h>

namespace strata::kafka_internal {

Status ApplyConfig(rd_kafka_conf_t* conf, const std::map<std::string, std::string>& props) {
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
