#include "connectors/kafka_source.h"

#include <gtest/gtest.h>

#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"

namespace strata {
namespace {

// Decodes records into (partition, offset) rows, so tests see exactly what was read.
class OffsetDecoder : public RecordDecoder {
 public:
  SchemaPtr schema() const override { return schema_; }
  Status Decode(std::string_view, const KafkaRecord* r, size_t n, int64_t) override {
    for (size_t i = 0; i < n; ++i) {
      batch_.column(0).AppendInt32(r[i].partition);
      batch_.column(1).AppendInt64(r[i].offset);
    }
    return Status::OK();
  }
  size_t buffered_rows() const override { return batch_.num_rows(); }
  RecordBatch Finish() override {
    RecordBatch out = std::move(batch_);
    batch_ = RecordBatch(schema_);
    return out;
  }

 private:
  SchemaPtr schema_ = std::make_shared<Schema>(
      std::vector<Field>{{"p", TypeId::kInt32, false}, {"o", TypeId::kInt64, false}});
  RecordBatch batch_{schema_};
};

class KafkaSourceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = EmbeddedCluster::Start({1, {{"t", 3}}, 1});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    auto p = Producer::Create(cluster_->bootstrap_servers());
    ASSERT_TRUE(p.ok());
    for (int i = 0; i < 30; ++i)
      ASSERT_TRUE((*p)->Produce("t", "k", "v" + std::to_string(i), i % 3).ok());
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(10)).ok());
  }
  std::unique_ptr<KafkaSource> Source(const std::string& starting, bool fail_on_data_loss = true,
                                      const std::string& on_change = "fail") {
    KafkaSourceOptions o;
    o.topic = "t";
    o.kafka = {{"bootstrap.servers", cluster_->bootstrap_servers()}};
    o.starting_offsets = starting;
    o.fail_on_data_loss = fail_on_data_loss;
    o.on_cluster_change = on_change;
    auto s = std::make_unique<KafkaSource>(o, std::make_unique<OffsetDecoder>());
    EXPECT_TRUE(s->Open().ok());
    return s;
  }
  // Reads [start, end) and returns "p:o" strings.
  std::vector<std::string> Read(KafkaSource& s, const std::string& start, const std::string& end) {
    std::vector<std::string> out;
    Status st = s.Read(start, end, 0, [&](RecordBatch&& b) {
      for (size_t i = 0; i < b.num_rows(); ++i)
        out.push_back(std::to_string(b.column(0).Int32(i)) + ":" +
                      std::to_string(b.column(1).Int64(i)));
      return Status::OK();
    });
    EXPECT_TRUE(st.ok()) << st.ToString();
    std::sort(out.begin(), out.end());
    return out;
  }
  std::unique_ptr<EmbeddedCluster> cluster_;
};

TEST_F(KafkaSourceTest, EarliestLatestAndPerPartitionStart) {
  auto s = Source("earliest");
  std::string start = s->InitialOffset().value();
  std::string end = s->PlanEnd(start, {}, "").value();
  EXPECT_EQ(s->RowsBetween(start, end), 30);
  EXPECT_EQ(Read(*s, start, end).size(), 30u);

  auto latest = Source("latest");
  std::string l = latest->InitialOffset().value();
  EXPECT_EQ(latest->PlanEnd(l, {}, "").value(), l);  // nothing new

  auto given = Source(R"({"t":{"0":7,"1":-2,"2":-1}})");
  std::string g = given->InitialOffset().value();
  std::string ge = given->PlanEnd(g, {}, "").value();
  EXPECT_EQ(given->RowsBetween(g, ge), 3 + 10 + 0);
  auto rows = Read(*given, g, ge);
  EXPECT_EQ(rows.front(), "0:7");
}

TEST_F(KafkaSourceTest, ReadLimitSpreadsOverPartitionsAndRangesAreExact) {
  auto s = Source("earliest");
  std::string start = s->InitialOffset().value();
  ReadLimit limit;
  limit.max_rows = 12;
  std::string mid = s->PlanEnd(start, limit, "").value();
  EXPECT_EQ(s->RowsBetween(start, mid), 12);
  std::string end = s->PlanEnd(mid, {}, "").value();
  auto first = Read(*s, start, mid);
  auto second = Read(*s, mid, end);
  EXPECT_EQ(first.size() + second.size(), 30u);
  for (const auto& r : first) EXPECT_EQ(std::count(second.begin(), second.end(), r), 0) << r;
  EXPECT_EQ(Read(*s, start, mid), first);  // a re-run reads the same records
  auto marks = s->Marks(end);
  ASSERT_EQ(marks.size(), 3u);
  EXPECT_EQ(marks[0].version, 10);  // next offset to read in partition 0
}

TEST_F(KafkaSourceTest, OffsetsBeyondTheLogAreDataLossUnlessSkipping) {
  auto strict = Source("earliest");
  std::string cluster = KafkaClusterIdentity(cluster_->cluster_id(), cluster_->bootstrap_servers());
  std::string bogus =
      R"({"cluster":")" + cluster + R"(","topic":"t","offsets":{"0":500,"1":0,"2":0}})";
  auto st = strict->Reconcile(bogus);
  EXPECT_EQ(st.status().code(), StatusCode::kDataLoss) << st.status().ToString();
  EXPECT_NE(st.status().message().find("partition 0"), std::string::npos);

  auto lenient = Source("earliest", /*fail_on_data_loss=*/false);
  auto fixed = lenient->Reconcile(bogus);
  ASSERT_TRUE(fixed.ok()) << fixed.status().ToString();
  EXPECT_NE(fixed->find(R"("0":10)"), std::string::npos) << *fixed;
}

TEST_F(KafkaSourceTest, OffsetsBeyondEveryLogEndMeanARecreatedClusterWhenResetting) {
  std::string same_id =
      R"({"cluster":")" +
      KafkaClusterIdentity(cluster_->cluster_id(), cluster_->bootstrap_servers()) +
      R"(","topic":"t","offsets":{"0":900,"1":900,"2":900}})";
  auto reset = Source("earliest", true, "reset");
  auto r = reset->Reconcile(same_id);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, reset->InitialOffset().value());
  auto strict = Source("earliest");
  EXPECT_EQ(strict->Reconcile(same_id).status().code(), StatusCode::kDataLoss);
}

TEST_F(KafkaSourceTest, OffsetsOfAnotherClusterAreRefusedOrReset) {
  std::string foreign = R"({"cluster":"another","topic":"t","offsets":{"0":3,"1":3,"2":3}})";
  auto strict = Source("earliest");
  auto st = strict->Reconcile(foreign);
  EXPECT_EQ(st.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(st.status().message().find("another"), std::string::npos);

  auto reset = Source("earliest", true, "reset");
  auto r = reset->Reconcile(foreign);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, reset->InitialOffset().value());
}

}  // namespace
}  // namespace strata
