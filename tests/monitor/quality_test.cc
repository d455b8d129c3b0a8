#include "monitor/quality.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "event/generator.h"

namespace strata::monitor {
namespace {

MonitoringConfig QualityConfig() {
  MonitoringConfig c;
  c.quality_interval_ms = 1000;
  c.baseline_min_intervals = 8;
  c.rules.clear();
  for (const char* type :
       {"volume", "null_rate", "event_type_mix", "parse_failures", "schema_drift"}) {
    RuleConfig r;
    r.name = r.type = type;
    if (r.type == "null_rate") r.fraction = 0.1;
    c.rules.push_back(r);
  }
  return c;
}

GeneratorOptions Traffic(const std::string& scenarios) {
  GeneratorOptions o;
  o.seed = 5;
  o.simulated_start_ms = 1'764'000'000'000;
  o.simulated_rate = 400;  // records per simulated second
  o.duplicate_fraction = 0.02;
  o.late_fraction = 0.02;
  o.malformed_fraction = 0.01;
  o.unknown_type_fraction = 0.01;
  o.missing_field_fraction = 0.01;
  if (!scenarios.empty()) o.scenarios = *ParseScenarios(scenarios);
  return o;
}

// Runs `seconds` of simulated traffic through a QualityMonitor and returns, per alert subject,
// the simulated seconds (since the start) at which it was active after each interval closed.
std::map<std::string, std::set<int>> RunTraffic(const std::string& scenarios, int seconds,
                                                AlertManager& alerts) {
  GeneratorOptions o = Traffic(scenarios);
  QualityMonitor m(QualityConfig(), &alerts, /*close_delay_ms=*/0);
  TrafficGenerator g(o);
  GeneratedRecord r;
  std::map<std::string, std::set<int>> active;
  int64_t next_tick = o.simulated_start_ms + 1000;
  const int64_t end = o.simulated_start_ms + seconds * 1000LL;
  for (;;) {
    g.Next(r);
    if (r.clock_ms >= end) break;
    const int64_t elapsed = r.clock_ms - o.simulated_start_ms;
    bool dropped = false;  // RunProducer's rate change, as a thinning of the records
    for (const Scenario& s : o.scenarios)
      if (s.kind == Scenario::Kind::kVolumeDrop && s.Active(elapsed) &&
          (r.clock_ms % 1000) >= static_cast<int64_t>(s.fraction * 1000))
        dropped = true;
    if (!dropped) m.Observe(r.value, r.clock_ms);
    if (r.clock_ms >= next_tick) {
      m.CloseIntervals(next_tick);
      for (const Alert& a : alerts.Active())
        active[a.subject].insert(static_cast<int>((next_tick - o.simulated_start_ms) / 1000));
      next_tick += 1000;
    }
  }
  return active;
}

std::string Describe(const std::map<std::string, std::set<int>>& active) {
  std::string out;
  for (const auto& [s, secs] : active) {
    out += s + ":";
    for (int t : secs) out += " " + std::to_string(t);
    out += "\n";
  }
  return out;
}

// Active exactly within [from, to] seconds (fired within the bound, resolved after the end).
void ExpectActiveWithin(const std::map<std::string, std::set<int>>& active,
                        const std::string& subject, int from, int to) {
  auto it = active.find(subject);
  ASSERT_NE(it, active.end()) << subject << " never fired\n" << Describe(active);
  EXPECT_GE(*it->second.begin(), from) << Describe(active);
  EXPECT_LE(*it->second.begin(), from + 2) << "fired late\n" << Describe(active);
  EXPECT_LE(*it->second.rbegin(), to) << "not resolved\n" << Describe(active);
}

TEST(QualityMonitorTest, NormalTrafficRaisesNothing) {
  AlertManager alerts;
  auto active = RunTraffic("", 600, alerts);
  EXPECT_TRUE(active.empty()) << Describe(active);
  EXPECT_EQ(alerts.fired_total(), 0u);
}

TEST(QualityMonitorTest, NullSpikeFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("null-spike:country:0.5@30s-45s", 70, alerts);
  ExpectActiveWithin(active, "null_rate:country", 31, 47);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
}

TEST(QualityMonitorTest, NewFieldFiresWithTheFirstRecordsAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("new-field:coupon@30s-40s", 60, alerts);
  ExpectActiveWithin(active, "new_field:coupon", 31, 42);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
  auto all = alerts.Snapshot();
  ASSERT_FALSE(all.empty());
  EXPECT_NE(all[0].details_json.find("coupon"), std::string::npos) << all[0].details_json;
  EXPECT_NE(all[0].details_json.find("first_records"), std::string::npos);
}

TEST(QualityMonitorTest, TypeChangeFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("type-change:event_timestamp@30s-40s", 60, alerts);
  ExpectActiveWithin(active, "type_change:event_timestamp", 31, 42);
  EXPECT_EQ(active.size(), 1u) << Describe(active);
}

TEST(QualityMonitorTest, VolumeDropFiresAndResolves) {
  AlertManager alerts;
  auto active = RunTraffic("volume-drop:0.1@30s-45s", 70, alerts);
  ExpectActiveWithin(active, "volume", 31, 47);
}

TEST(QualityMonitorTest, ParseFailuresAndMixShift) {
  AlertManager alerts;
  GeneratorOptions o = Traffic("");
  QualityMonitor m(QualityConfig(), &alerts, 0);
  TrafficGenerator g(o);
  GeneratedRecord r;
  int64_t t = o.simulated_start_ms;
  for (int s = 0; s < 20; ++s) {
    for (int i = 0; i < 400; ++i) {
      g.Next(r);
      m.Observe(r.value, t + s * 1000 + i);
    }
    m.CloseIntervals(t + (s + 1) * 1000);
  }
  EXPECT_TRUE(alerts.Active().empty());
  // Two seconds of garbage and only purchases (the mix rule wants 2 anomalous intervals).
  for (int i = 0; i < 800; ++i) {
    if (i == 400) {
      m.CloseIntervals(t + 21'000);
      EXPECT_TRUE(alerts.IsActive("parse_failures", "parse"));
      EXPECT_FALSE(alerts.IsActive("event_type_mix", "event_type"));
    }
    m.Observe(
        i % 4 == 0
            ? std::string_view("{oops")
            : std::string_view(
                  R"({"event_id":"e","user_id":"u","session_id":"s","event_type":"purchase","page_url":"/","referrer":null,"device_type":"web","country":"US","event_timestamp":1,"properties":{}})"),
        t + 20'000 + (i / 400) * 1000 + i % 400);
  }
  m.CloseIntervals(t + 22'000);
  EXPECT_TRUE(alerts.IsActive("parse_failures", "parse"));
  EXPECT_TRUE(alerts.IsActive("event_type_mix", "event_type"));
}

}  // namespace
}  // namespace strata::monitor
