#include "pipeline/expectations.h"

#include <gtest/gtest.h>

#include <optional>

#include "event/event_schema.h"
#include "pipeline/config.h"

namespace strata {
namespace {

struct Row {
  std::optional<std::string> event_id, event_type, country;
  std::optional<int64_t> ts;
  int32_t partition = 0;
};

// A bronze-shaped batch with the given event_id, event_type, country, event_timestamp and
// kafka_partition; every other column null (or zero where not nullable).
RecordBatch Bronze(const std::vector<Row>& rows) {
  RecordBatch b(BronzeSchema());
  for (const Row& r : rows) {
    for (size_t c = 0; c < b.num_columns(); ++c) {
      Column& col = b.column(c);
      auto str = [&](const std::optional<std::string>& v) {
        v ? col.AppendString(*v) : col.AppendNull();
      };
      if (static_cast<int>(c) == bronze::kEventId) {
        str(r.event_id);
      } else if (static_cast<int>(c) == bronze::kEventType) {
        str(r.event_type);
      } else if (static_cast<int>(c) == bronze::kCountry) {
        str(r.country);
      } else if (static_cast<int>(c) == bronze::kEventTimestamp) {
        r.ts ? col.AppendInt64(*r.ts) : col.AppendNull();
      } else if (static_cast<int>(c) == bronze::kKafkaPartition) {
        col.AppendInt32(r.partition);
      } else {
        col.AppendNull();
      }
    }
  }
  return b;
}

std::vector<uint8_t> Eval(const std::string& expr, const RecordBatch& b) {
  auto p = Predicate::Compile(expr, BronzeSchema());
  EXPECT_TRUE(p.ok()) << expr << ": " << p.status().ToString();
  std::vector<uint8_t> pass;
  if (p.ok()) p->Evaluate(b, &pass);
  return pass;
}

std::string CompileError(const std::string& expr) {
  auto p = Predicate::Compile(expr, BronzeSchema());
  return p.ok() ? "" : p.status().message();
}

using V = std::vector<uint8_t>;

const RecordBatch& Sample() {
  static const RecordBatch b = Bronze({
      {"e1", "click", "DE", 1000, 0},
      {"e2", "page_view", "", 2000, 1},
      {std::nullopt, "purchase", std::nullopt, std::nullopt, 2},
      {"e4", "scroll", "Österreich", -5, 3},
  });
  return b;
}

TEST(PredicateTest, IsNullAndIsNotNull) {
  EXPECT_EQ(Eval("event_id IS NOT NULL", Sample()), (V{1, 1, 0, 1}));
  EXPECT_EQ(Eval("country is null", Sample()), (V{0, 0, 1, 0}));
}

TEST(PredicateTest, StringComparisonsTreatNullAsUnknown) {
  EXPECT_EQ(Eval("country <> ''", Sample()), (V{1, 0, 0, 1}));
  EXPECT_EQ(Eval("country = 'DE'", Sample()), (V{1, 0, 0, 0}));
  EXPECT_EQ(Eval("country != 'DE'", Sample()), (V{0, 1, 0, 1}));
  EXPECT_EQ(Eval("event_type >= 'p'", Sample()), (V{0, 1, 1, 1}));
}

TEST(PredicateTest, InListsOnStringsAndIntegers) {
  EXPECT_EQ(Eval("event_type IN ('click', 'scroll')", Sample()), (V{1, 0, 0, 1}));
  EXPECT_EQ(Eval("event_type NOT IN ('click', 'scroll')", Sample()), (V{0, 1, 1, 0}));
  EXPECT_EQ(Eval("kafka_partition IN (1, 3)", Sample()), (V{0, 1, 0, 1}));
  // NOT IN over a NULL value is unknown, not true.
  EXPECT_EQ(Eval("country NOT IN ('DE')", Sample()), (V{0, 1, 0, 1}));
}

TEST(PredicateTest, NumericComparisonsAndBetween) {
  EXPECT_EQ(Eval("event_timestamp >= 1000", Sample()), (V{1, 1, 0, 0}));
  EXPECT_EQ(Eval("event_timestamp < 0", Sample()), (V{0, 0, 0, 1}));
  EXPECT_EQ(Eval("event_timestamp BETWEEN 0 AND 1500", Sample()), (V{1, 0, 0, 0}));
  EXPECT_EQ(Eval("event_timestamp NOT BETWEEN 0 AND 1500", Sample()), (V{0, 1, 0, 1}));
  EXPECT_EQ(Eval("kafka_partition > 1", Sample()), (V{0, 0, 1, 1}));
}

TEST(PredicateTest, LengthCountsUtf8Characters) {
  // "Österreich" is 11 bytes but 10 characters.
  EXPECT_EQ(Eval("length(country) <= 10", Sample()), (V{1, 1, 0, 1}));
  EXPECT_EQ(Eval("length(country) < 10", Sample()), (V{1, 1, 0, 0}));
  EXPECT_EQ(Eval("LENGTH(event_type) IN (5, 6)", Sample()), (V{1, 0, 0, 1}));
}

TEST(PredicateTest, ThreeValuedAndOrNot) {
  // Row 3: country NULL (unknown) AND event_timestamp NULL (unknown).
  EXPECT_EQ(Eval("country = 'DE' OR event_type = 'purchase'", Sample()), (V{1, 0, 1, 0}));
  EXPECT_EQ(Eval("NOT (country = 'DE')", Sample()), (V{0, 1, 0, 1}));
  // FALSE AND unknown = FALSE, so NOT gives TRUE.
  EXPECT_EQ(Eval("NOT (event_type = 'click' AND country = 'XX')", Sample()), (V{1, 1, 1, 1}));
  // TRUE OR unknown = TRUE.
  EXPECT_EQ(Eval("event_type = 'purchase' OR country = 'DE'", Sample()), (V{1, 0, 1, 0}));
  EXPECT_EQ(Eval("event_id IS NOT NULL AND (event_timestamp > 0 OR country = 'x')", Sample()),
            (V{1, 1, 0, 0}));
  EXPECT_EQ(Eval("NOT NOT event_id IS NULL", Sample()), (V{0, 0, 1, 0}));
}

TEST(PredicateTest, QuotesInStringLiterals) {
  RecordBatch b = Bronze({{"it's", "click", "x", 1, 0}, {"its", "click", "x", 1, 0}});
  EXPECT_EQ(Eval("event_id = 'it''s'", b), (V{1, 0}));
}

TEST(PredicateTest, EmptyBatch) {
  RecordBatch b = Bronze({});
  EXPECT_TRUE(Eval("event_id IS NOT NULL AND length(country) < 3", b).empty());
}

TEST(PredicateTest, UnsupportedExpressionsSayWhat) {
  EXPECT_NE(CompileError("country LIKE 'D%'").find("LIKE"), std::string::npos);
  EXPECT_NE(CompileError("upper(country) = 'DE'").find("function 'upper'"), std::string::npos);
  EXPECT_NE(CompileError("nope = 1").find("unknown column 'nope'"), std::string::npos);
  EXPECT_NE(CompileError("country = event_type").find("only literals"), std::string::npos);
  EXPECT_NE(CompileError("event_timestamp > 1.5").find("integer"), std::string::npos);
  EXPECT_NE(CompileError("event_timestamp > 'x'").find("integer literal"), std::string::npos);
  EXPECT_NE(CompileError("country = 3").find("string literal"), std::string::npos);
  EXPECT_NE(CompileError("country = NULL").find("IS NULL"), std::string::npos);
  EXPECT_NE(CompileError("kafka_timestamp > 3").find("type timestamp"), std::string::npos);
  EXPECT_NE(CompileError("length(event_timestamp) > 3").find("not a string"), std::string::npos);
  EXPECT_NE(CompileError("country = 'DE").find("unterminated"), std::string::npos);
  EXPECT_NE(CompileError("(country = 'DE'").find("')'"), std::string::npos);
  EXPECT_NE(CompileError("country = 'DE' country").find("offset 15"), std::string::npos);
  EXPECT_NE(CompileError("").find("empty"), std::string::npos);
  EXPECT_NE(CompileError("country + 1 > 2").find("'+'"), std::string::npos);
}

TEST(ExpectationsTest, ErrorsNameTheKey) {
  auto compile = [](std::vector<ExpectationConfig> c) {
    auto r = CompileExpectations(c, BronzeSchema(), "silver.expectations");
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(compile({{"a", "country IS NOT NULL", "warn"}, {"b", "event_id <> ''", "drop"}}), "");
  EXPECT_EQ(compile({{"a", "country IS NOT NULL", "warn"},
                     {"b", "event_id <> ''", "drop"},
                     {"c", "country LIKE 'x'", "fail"}})
                .rfind("silver.expectations[2].expr: LIKE", 0),
            0u);
  EXPECT_EQ(compile({{"a", "country IS NULL", "stop"}}).rfind("silver.expectations[0].action", 0),
            0u);
  EXPECT_EQ(compile({{"", "country IS NULL", "warn"}}).rfind("silver.expectations[0].name", 0), 0u);
  EXPECT_EQ(compile({{"a", "country IS NULL", "warn"}, {"a", "country IS NULL", "warn"}})
                .rfind("silver.expectations[1].name", 0),
            0u);
}

TEST(ExpectationsTest, ConfigSectionParsesAndNamesBadKeys) {
  auto c = ParsePipelineConfig(R"toml(
[[silver.expectations]]
name = "country_present"
expr = "country IS NOT NULL AND country <> ''"

[[silver.expectations]]
name = "known_device"
expr = "device_type IN ('desktop', 'mobile', 'tablet')"
action = "drop"
)toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ASSERT_EQ(c->silver.expectations.size(), 2u);
  EXPECT_EQ(c->silver.expectations[0].action, "warn");
  EXPECT_EQ(c->silver.expectations[1].name, "known_device");
  EXPECT_EQ(c->silver.quality_table, "catalog.streaming.silver_clickstream_quality");

  auto bad = ParsePipelineConfig(R"toml(
[[silver.expectations]]
name = "a"
expr = "country IS NOT NULL"
[[silver.expectations]]
name = "b"
expr = "country IS NOT NULL"
[[silver.expectations]]
name = "c"
expr = "regexp_matches(country, 'x')"
)toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(
      bad.status().message().rfind("silver.expectations[2].expr: function 'regexp_matches'", 0), 0u)
      << bad.status().message();
  auto unknown = ParsePipelineConfig(
      "[[silver.expectations]]\nname = \"a\"\nexpr = \"country IS NULL\"\nlevel = 1\n");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("silver.expectations[0].level"), std::string::npos);
}

}  // namespace
}  // namespace strata
