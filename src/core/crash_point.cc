#include "core/crash_point.h"

#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace strata {

namespace {

struct CrashConfig {
  std::map<std::string, double> points;
  std::mt19937_64 rng;
  std::mutex mu;
};

CrashConfig* LoadConfig() {
  const char* spec = std::getenv("STRATA_CRASH_POINTS");
  if (spec == nullptr || *spec == '\0') return nullptr;
  auto* c = new CrashConfig();
  std::string s(spec);
  size_t pos = 0;
  while (pos < s.size()) {
    size_t comma = s.find(',', pos);
    std::string item = s.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t colon = item.find(':');
    double p = colon == std::string::npos ? 1.0 : std::atof(item.c_str() + colon + 1);
    c->points[item.substr(0, colon)] = p;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  const char* seed = std::getenv("STRATA_CRASH_SEED");
  c->rng.seed(seed ? std::strtoull(seed, nullptr, 10) : static_cast<uint64_t>(::getpid()));
  return c;
}

}  // namespace

void CrashPoint(const char* name) {
  static CrashConfig* config = LoadConfig();
  if (config == nullptr) return;
  auto it = config->points.find(name);
  if (it == config->points.end()) return;
  std::lock_guard<std::mutex> lock(config->mu);
  if (std::uniform_real_distribution<double>(0, 1)(config->rng) < it->second) {
    std::fprintf(stderr, "strata: crash point %s reached: killing the process\n", name);
    std::fflush(stderr);
    ::kill(::getpid(), SIGKILL);
  }
}

}  // namespace strata
