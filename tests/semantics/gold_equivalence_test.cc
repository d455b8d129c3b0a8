// Equivalence of the streaming gold tables with a DuckDB batch query over the same silver rows
// under the same lateness rule, in append and update mode, and HyperLogLog roll-ups against
// exact distinct counts.
//
// The lateness rule as SQL (watermark policy max, no idle timeout): the rows of silver commit b
// are aggregated under the watermark W_b = max(event time of commits < b) - delay (none for the
// first commit); a (row, window) pair is dropped when window_end <= W_b. A window is final
// once window_end <= max(all event times) - delay.

#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kT0 = 1'700'000'040'000;  // aligned to minutes
constexpr int64_t kDelayMs = 5 * kMinuteMs;
constexpr int kBatches = 12;

// Commit b's events: mostly within 90 s before its "now" (T0 + b minutes), out of order;
// about 6% between 6 and 10 minutes old (late for gold); event ids are unique (silver has
// deduplicated already).
std::vector<std::vector<SilverEvent>> Generate(uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> user(0, 499), page(0, 19), type(0, 4), partition(0, 2),
      pct(0, 99);
  std::uniform_int_distribution<int64_t> jitter(0, 90'000), old(6 * kMinuteMs, 10 * kMinuteMs);
  static const char* kTypes[] = {"page_view", "click", "scroll", "purchase", "add_to_cart"};
  std::vector<std::vector<SilverEvent>> out(kBatches);
  int id = 0;
  for (int b = 0; b < kBatches; ++b) {
    int64_t now = kT0 + b * kMinuteMs + 30'000;
    for (int i = 0; i < 300; ++i) {
      int64_t t = pct(rng) < 6 && b > 3 ? now - old(rng) : now - jitter(rng);
      out[b].push_back({"e" + std::to_string(id++), "u" + std::to_string(user(rng)),
                        kTypes[type(rng)], "/page/" + std::to_string(page(rng)), t,
                        partition(rng)});
    }
  }
  return out;
}

// The expected gold rows (window start ms, key, count, exact distinct users, is_final) over
// the silver commits so far, as one DuckDB query. `size`/`slide` in ms; `key` a column or
// empty; `filter` an event type or empty.
std::string ExpectedSql(int64_t size, int64_t slide, const std::string& key,
                        const std::string& filter) {
  std::string d = std::to_string(kDelayMs), sz = std::to_string(size), sl = std::to_string(slide);
  std::string key_expr = key.empty() ? "''" : key;
  return "WITH e AS (SELECT kafka_offset // 1000000 AS b, event_timestamp AS t, event_type, "
         "page_url, user_id FROM catalog.streaming.silver_clickstream), "
         "bm AS (SELECT b, max(t) AS mx FROM e GROUP BY b), "
         "wm AS (SELECT x.b, (SELECT max(y.mx) FROM bm y WHERE y.b < x.b) - " +
         d +
         " AS w FROM bm x), "
         "a AS (SELECT (e.t // " +
         sl + ") * " + sl + " - k * " + sl +
         " AS ws, e.*, wm.w FROM e JOIN wm USING (b), range(0, " + sz + " // " + sl + ") r(k)" +
         (filter.empty() ? "" : " WHERE e.event_type = '" + filter + "'") +
         ") "
         "SELECT ws, " +
         key_expr +
         " AS k, count(*) AS n, count(DISTINCT user_id) AS users, "
         "ws + " +
         sz + " <= (SELECT max(t) FROM e) - " + d + " AS fin FROM a WHERE w IS NULL OR ws + " + sz +
         " > w GROUP BY ALL ORDER BY ws, k";
}

std::string GoldSql(const std::string& table, const std::string& key) {
  return "SELECT epoch_ms(window_start), " + (key.empty() ? std::string("''") : key) +
         " AS k, event_count, unique_users, is_final FROM catalog.streaming." + table +
         " ORDER BY 1, 2";
}

struct GoldCase {
  std::string table;
  int64_t size, slide;
  std::string key, filter;
};

const GoldCase kCases[] = {
    {"gold_events_per_minute", kMinuteMs, kMinuteMs, "event_type", ""},
    {"gold_active_users_per_minute", kMinuteMs, kMinuteMs, "", ""},
    {"gold_active_users_5m", 5 * kMinuteMs, kMinuteMs, "", ""},
    {"gold_page_views_per_minute", kMinuteMs, kMinuteMs, "page_url", "page_view"},
};

GoldOptions OptionsOf(const GoldCase& c, GoldOutputMode mode) {
  GoldOptions o;
  o.watermark_delay_ms = kDelayMs;
  o.watermark_policy = WatermarkPolicy::kMax;
  o.window_ms = c.size;
  o.slide_ms = c.slide;
  o.key_column = c.key;
  o.event_type_filter = c.filter;
  o.output_mode = mode;
  return o;
}

class GoldEquivalence : public SemanticsFixture {
 protected:
  // Gold rows equal the expectation: same windows and keys, same counts and finality, distinct
  // users within the HyperLogLog error. `only_final`: compare the final rows only.
  void ExpectEquivalent(const GoldCase& c, bool only_final) {
    auto expected = Query(ExpectedSql(c.size, c.slide, c.key, c.filter), {});
    auto actual = Query(GoldSql(c.table, c.key), {c.table});
    if (only_final) {
      std::erase_if(expected, [](const auto& r) { return r[4] != "true"; });
    }
    ASSERT_EQ(actual.size(), expected.size()) << c.table;
    for (size_t i = 0; i < actual.size(); ++i) {
      const auto& a = actual[i];
      const auto& e = expected[i];
      ASSERT_EQ(a[0], e[0]) << c.table << " row " << i;
      ASSERT_EQ(a[1], e[1]) << c.table << " row " << i;
      EXPECT_EQ(a[2], e[2]) << c.table << " window " << a[0] << " " << a[1];
      EXPECT_EQ(a[4], e[4]) << c.table << " window " << a[0] << " " << a[1];
      double est = std::stod(a[3]), exact = std::stod(e[3]);
      EXPECT_LE(std::abs(est - exact), std::max(2.0, 0.05 * exact))
          << c.table << " window " << a[0] << " " << a[1];
    }
  }
};

TEST_F(GoldEquivalence, AppendModeFinalRowsEqualBatchQuery) {
  auto batches = Generate(7);
  for (const auto& events : batches) {
    AppendSilver(events);
    for (const auto& c : kCases) RunGold(c.table, OptionsOf(c, GoldOutputMode::kAppend));
  }
  for (const auto& c : kCases) ExpectEquivalent(c, /*only_final=*/true);
  // Some rows were late for gold, and some windows are not final yet: the test is not vacuous.
  auto counts = Query(
      "SELECT (SELECT count(*) FROM catalog.streaming.silver_clickstream), "
      "(SELECT sum(event_count) FROM catalog.streaming.gold_active_users_per_minute), "
      "(SELECT count(*) FROM catalog.streaming.gold_active_users_per_minute)",
      {"gold_active_users_per_minute"});
  ASSERT_EQ(counts.size(), 1u);
  EXPECT_GT(std::stoll(counts[0][0]), std::stoll(counts[0][1]));
  EXPECT_GT(std::stoll(counts[0][2]), 3);
}

TEST_F(GoldEquivalence, UpdateModeConvergesWithEachWindowOnce) {
  auto batches = Generate(11);
  bool saw_provisional = false;
  for (const auto& events : batches) {
    AppendSilver(events);
    for (const auto& c : kCases) {
      RunGold(c.table, OptionsOf(c, GoldOutputMode::kUpdate));
      // After every run the whole table (provisional and final rows) equals the batch query
      // over the silver commits so far, each window once.
      ExpectEquivalent(c, /*only_final=*/false);
      auto dup =
          Query("SELECT count(*) - count(DISTINCT (window_start, " +
                    (c.key.empty() ? std::string("0") : c.key) +
                    ")), count(*) FILTER (WHERE NOT is_final) FROM catalog.streaming." + c.table,
                {c.table});
      ASSERT_EQ(dup.size(), 1u);
      EXPECT_EQ(dup[0][0], "0") << c.table << " has a window twice";
      if (dup[0][1] != "0") saw_provisional = true;
    }
  }
  EXPECT_TRUE(saw_provisional);
}

TEST_F(GoldEquivalence, ValueColumnSumMinMaxEqualBatchQuery) {
  // A table of the user's own ([gold.<name>] with groupBy, eventType, valueColumn): clicks per
  // page per minute with the sum, min and max of event_timestamp.
  const GoldCase c{"gold_click_times", kMinuteMs, kMinuteMs, "page_url", "click"};
  GoldOptions o = OptionsOf(c, GoldOutputMode::kAppend);
  o.value_column = "event_timestamp";
  for (const auto& events : Generate(5)) {
    AppendSilver(events);
    RunGold(c.table, o);
  }
  std::string expected_sql = ExpectedSql(c.size, c.slide, c.key, c.filter);
  expected_sql.replace(expected_sql.find(" AS users, "), std::string(" AS users, ").size(),
                       " AS users, sum(t), min(t), max(t), ");
  auto expected = Query(expected_sql, {});
  std::erase_if(expected, [](const auto& r) { return r[7] != "true"; });
  auto actual = Query(
      "SELECT epoch_ms(window_start), page_url, event_count, sum_event_timestamp, "
      "min_event_timestamp, max_event_timestamp FROM catalog.streaming.gold_click_times "
      "ORDER BY 1, 2",
      {c.table});
  ASSERT_GT(actual.size(), 10u);
  ASSERT_EQ(actual.size(), expected.size());
  for (size_t i = 0; i < actual.size(); ++i) {
    const auto& a = actual[i];
    const auto& e = expected[i];
    ASSERT_EQ(a[0], e[0]) << "row " << i;
    ASSERT_EQ(a[1], e[1]) << "row " << i;
    EXPECT_EQ(a[2], e[2]) << "count, window " << a[0] << " " << a[1];
    EXPECT_EQ(a[3], e[4]) << "sum, window " << a[0] << " " << a[1];
    EXPECT_EQ(a[4], e[5]) << "min, window " << a[0] << " " << a[1];
    EXPECT_EQ(a[5], e[6]) << "max, window " << a[0] << " " << a[1];
  }
}

TEST_F(GoldEquivalence, HllRollupsStayWithinErrorOfExactCounts) {
  auto batches = Generate(3);
  for (const auto& events : batches) AppendSilver(events);
  const GoldCase& c = kCases[0];
  RunGold(c.table, OptionsOf(c, GoldOutputMode::kAppend));
  // Across event types and minutes: merged sketches vs exact distinct users of the accepted
  // rows of the final windows; and the sum of per-window distinct counts, which overcounts.
  auto rows = Query(
      "WITH g AS (SELECT * FROM catalog.streaming.gold_events_per_minute), "
      "x AS (" +
          ExpectedSql(kMinuteMs, kMinuteMs, "event_type", "")
              .replace(ExpectedSql(kMinuteMs, kMinuteMs, "event_type", "").find("SELECT ws, "),
                       std::string::npos,
                       "SELECT DISTINCT user_id FROM a WHERE (w IS NULL OR ws + 60000 > w) AND "
                       "ws + 60000 <= (SELECT max(t) FROM e) - 300000") +
          ") SELECT (SELECT hll_merge_estimate(users_sketch) FROM g), (SELECT count(*) FROM x), "
          "(SELECT sum(unique_users) FROM g)",
      {c.table});
  ASSERT_EQ(rows.size(), 1u);
  double merged = std::stod(rows[0][0]), exact = std::stod(rows[0][1]);
  double summed = std::stod(rows[0][2]);
  EXPECT_GT(exact, 400);
  // p = 12: standard error 1.6%; 5% is beyond three standard errors.
  EXPECT_LE(std::abs(merged - exact), 0.05 * exact) << merged << " vs " << exact;
  EXPECT_GT(summed, 1.5 * exact);  // summing distinct counts is wrong, merging is right
}

}  // namespace
}  // namespace strata::semantics
