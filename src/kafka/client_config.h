#pragma once

#include <map>
#include <string>

#include "core/status.h"

struct rd_kafka_conf_s;

namespace strata::kafka_internal {

// Sets every (name, value) of `props` on `conf`; InvalidArgument naming the property and
// librdkafka's reason on the first one it rejects. `conf` stays owned by the caller.
Status ApplyConfig(rd_kafka_conf_s* conf, const std::map<std::string, std::string>& props);

// Defaults overlaid by the caller's passthrough map (the caller wins).
std::map<std::string, std::string> Overlay(std::map<std::string, std::string> defaults,
                                           const std::map<std::string, std::string>& overrides);

}  // namespace strata::kafka_internal
