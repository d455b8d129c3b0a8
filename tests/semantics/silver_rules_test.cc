// Silver's configurable validation rules, lateness routing and dedup metric, batch by batch.

#include <gtest/gtest.h>

#include <map>
#include <optional>

#include "event/event_schema.h"
#include "semantics_util.h"

namespace strata::semantics {
namespace {

constexpr int64_t kNowMs = 1'700'000'000'000;

// A bronze row: the given string fields, event_timestamp `t_ms`, partition 0.
void AddBronze(RecordBatch& b, const std::map<std::string, std::string>& fields,
               std::optional<int64_t> t_ms, int64_t offset) {
  const Schema& s = *b.schema();
  for (size_t c = 0; c < s.num_fields(); ++c) {
    const Field& f = s.field(c);
    Column& col = b.column(c);
    if (f.name == "event_timestamp") {
      t_ms ? col.AppendInt64(*t_ms) : col.AppendNull();
    } else if (f.name == "kafka_topic") {
      col.AppendString("t");
    } else if (f.name == "kafka_partition") {
      col.AppendInt32(0);
    } else if (f.name == "kafka_offset") {
      col.AppendInt64(offset);
    } else if (f.name == "ingestion_timestamp") {
      col.AppendInt64(kNowMs * 1000);
    } else if (auto it = fields.find(f.name); it != fields.end()) {
      col.AppendString(it->second);
    } else {
      col.AppendNull();
    }
  }
}

std::map<std::string, std::string> Valid(const std::string& id) {
  return {{"event_id", id},        {"user_id", "u"},  {"session_id", "s"},
          {"event_type", "click"}, {"page_url", "/"}, {"device_type", "mobile"},
          {"country", "US"}};
}

TEST(SemanticsSilver, ConfiguredRulesQuarantineWithTheRuleBroken) {
  SilverOptions o;
  o.watermark_delay_ms = 10 * kMinuteMs;
  o.event_types = {"click", "page_view"};
  o.field_rules = {{"session_id", true, {}}, {"device_type", false, {"desktop", "mobile"}}};
  o.max_future_ms = 5 * kMinuteMs;
  auto p = SilverProcessor::Create(o);
  ASSERT_TRUE(p.ok()) << p.status().ToString();

  RecordBatch in(BronzeSchema());
  int64_t off = 0;
  AddBronze(in, Valid("ok1"), kNowMs, off++);
  auto no_session = Valid("a");
  no_session.erase("session_id");
  AddBronze(in, no_session, kNowMs, off++);
  auto tv = Valid("b");
  tv["device_type"] = "tv";
  AddBronze(in, tv, kNowMs, off++);
  auto no_device = Valid("ok2");  // absent: only checked when present (not required)
  no_device.erase("device_type");
  AddBronze(in, no_device, kNowMs, off++);
  AddBronze(in, Valid("future"), kNowMs + 6 * kMinuteMs, off++);
  AddBronze(in, Valid("near-future"), kNowMs + 4 * kMinuteMs, off++);
  auto bad_type = Valid("c");
  bad_type["event_type"] = "hover";
  AddBronze(in, bad_type, kNowMs, off++);
  AddBronze(in, Valid("ok1"), kNowMs, off++);  // duplicate of the first

  BatchContext ctx;
  ctx.batch_timestamp_ms = kNowMs;
  ASSERT_TRUE((*p)->BeginBatch(ctx).ok());
  std::vector<std::vector<RecordBatch>> out(3);
  ASSERT_TRUE((*p)->Process(std::move(in), out).ok());
  ProcessorMetrics m;
  ASSERT_TRUE((*p)->EndBatch(out, m).ok());

  ASSERT_EQ(out[0].size(), 1u);
  std::vector<std::string> ids;
  for (size_t r = 0; r < out[0][0].num_rows(); ++r) ids.emplace_back(out[0][0].column(0).String(r));
  EXPECT_EQ(ids, (std::vector<std::string>{"ok1", "ok2", "near-future"}));
  ASSERT_EQ(out[2].size(), 1u);
  const RecordBatch& q = out[2][0];
  std::map<std::string, std::string> rule_of;
  for (size_t r = 0; r < q.num_rows(); ++r)
    rule_of[std::string(q.column(0).String(r))] = std::string(q.column(8).String(r));
  EXPECT_EQ(rule_of, (std::map<std::string, std::string>{{"a", "session_id_required"},
                                                         {"b", "device_type_allowed"},
                                                         {"future", "event_time_future"},
                                                         {"c", "event_type_allowed"}}));
  EXPECT_EQ(m.rows_quarantined, 4);
  EXPECT_EQ(m.rows_dropped_duplicates, 1);
}

TEST(SemanticsSilver, UnknownRuleFieldIsRejected) {
  SilverOptions o;
  o.field_rules = {{"event_timestamp", true, {}}};
  auto p = SilverProcessor::Create(o);
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("event_timestamp"), std::string::npos);
}

}  // namespace
}  // namespace strata::semantics
