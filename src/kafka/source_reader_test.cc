#include "kafka/source_reader.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <map>
#include <set>
#include <tuple>

#include "kafka/embedded_cluster.h"
#include "kafka/producer.h"

namespace strata {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

struct Row {
  int32_t partition;
  int64_t offset;
  std::string key;
  std::string value;
  bool operator==(const Row& o) const {
    return std::tie(partition, offset, key, value) ==
           std::tie(o.partition, o.offset, o.key, o.value);
  }
  friend void PrintTo(const Row& r, std::ostream* os) {
    *os << r.partition << "@" << r.offset << ":" << r.key;
  }
};

// Rows ordered by (partition, offset): partitions interleave differently from read to read.
std::vector<Row> Sorted(std::vector<Row> v) {
  std::sort(v.begin(), v.end(), [](const Row& a, const Row& b) {
    return std::tie(a.partition, a.offset) < std::tie(b.partition, b.offset);
  });
  return v;
}

class CollectingSink : public RecordSink {
 public:
  Status OnRecords(std::string_view topic, const KafkaRecord* records, size_t n) override {
    for (size_t i = 0; i < n; ++i) {
      EXPECT_TRUE(records[i].has_key);
      EXPECT_GT(records[i].timestamp_ms, 0);
      rows.push_back({records[i].partition, records[i].offset, std::string(records[i].key),
                      std::string(records[i].value)});
    }
    return Status::OK();
  }
  std::vector<Row> rows;
};

// The Java client's murmur2 partitioner, written out here to check librdkafka's
// murmur2_random against it.
int32_t JavaPartition(std::string_view key, int32_t partitions) {
  const uint32_t m = 0x5bd1e995;
  const int r = 24;
  uint32_t h = 0x9747b28c ^ static_cast<uint32_t>(key.size());
  size_t len = key.size();
  const auto* data = reinterpret_cast<const unsigned char*>(key.data());
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    uint32_t k = data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) |
                 (static_cast<uint32_t>(data[i + 3]) << 24);
    k *= m;
    k ^= k >> r;
    k *= m;
    h *= m;
    h ^= k;
  }
  switch (len - i) {
    case 3:
      h ^= data[i + 2] << 16;
      [[fallthrough]];
    case 2:
      h ^= data[i + 1] << 8;
      [[fallthrough]];
    case 1:
      h ^= data[i];
      h *= m;
  }
  h ^= h >> 13;
  h *= m;
  h ^= h >> 15;
  return static_cast<int32_t>((h & 0x7fffffff) % static_cast<uint32_t>(partitions));
}

std::map<std::string, std::string> ReaderConfig() {
  const char* debug = getenv("STRATA_KAFKA_DEBUG");
  if (debug == nullptr) return {};
  return {{"debug", debug}};
}

class SourceReaderTest : public ::testing::Test {
 protected:
  static constexpr int kRecords = 3000;
  static constexpr const char* kTopic = "clickstream-events";

  void SetUp() override {
    auto c = EmbeddedCluster::Start({3, {{kTopic, 12}}, 1});
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    cluster_ = std::move(*c);
    auto p = Producer::Create(cluster_->bootstrap_servers());
    ASSERT_TRUE(p.ok()) << p.status().ToString();
    for (int i = 0; i < kRecords; ++i) {
      std::string key = "user-" + std::to_string(i % 500);
      ASSERT_TRUE((*p)->Produce(kTopic, key, "value-" + std::to_string(i)).ok());
    }
    ASSERT_TRUE((*p)->Flush(std::chrono::seconds(30)).ok());
    EXPECT_EQ((*p)->delivery_errors(), 0u);
    EXPECT_EQ((*p)->delivered(), static_cast<uint64_t>(kRecords));
    auto r = KafkaReader::Create(cluster_->bootstrap_servers(), ReaderConfig());
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    reader_ = std::move(*r);
  }

  std::unique_ptr<EmbeddedCluster> cluster_;
  std::unique_ptr<KafkaReader> reader_;
};

TEST_F(SourceReaderTest, DescribeAndWatermarks) {
  auto info = reader_->Describe(kTopic, seconds(10));
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  ASSERT_EQ(info->partitions.size(), 12u);
  for (int i = 0; i < 12; ++i) EXPECT_EQ(info->partitions[i], i);
  EXPECT_EQ(info->cluster_id, cluster_->cluster_id());

  auto marks = reader_->Watermarks(kTopic, info->partitions, seconds(10));
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  int64_t total = 0;
  for (const PartitionOffsets& w : *marks) {
    EXPECT_EQ(w.low, 0);
    total += w.high;
  }
  EXPECT_EQ(total, kRecords);
}

TEST_F(SourceReaderTest, ReadsExactlyThePlannedRangeAgainAndAgain) {
  auto info = reader_->Describe(kTopic, seconds(10));
  ASSERT_TRUE(info.ok());
  auto marks = reader_->Watermarks(kTopic, info->partitions, seconds(10));
  ASSERT_TRUE(marks.ok());
  std::vector<PartitionRange> plan;
  std::set<std::pair<int32_t, int64_t>> expected;
  for (const PartitionOffsets& w : *marks) {
    PartitionRange r{w.partition, w.high / 4, w.high * 3 / 4};
    if (w.partition == 5) r.end = r.start;  // an empty range is allowed
    plan.push_back(r);
    for (int64_t o = r.start; o < r.end; ++o) expected.insert({r.partition, o});
  }
  ASSERT_GT(expected.size(), 1000u);

  CollectingSink first;
  Status st = reader_->ReadRange(kTopic, plan, first, steady_clock::now() + seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  std::set<std::pair<int32_t, int64_t>> got;
  std::map<int32_t, int64_t> last_offset;
  for (const Row& row : first.rows) {
    EXPECT_TRUE(got.insert({row.partition, row.offset}).second) << "duplicate " << row.offset;
    auto it = last_offset.find(row.partition);
    if (it != last_offset.end()) {
      EXPECT_GT(row.offset, it->second);
    }
    last_offset[row.partition] = row.offset;
    EXPECT_EQ(row.partition, JavaPartition(row.key, 12)) << row.key;
  }
  EXPECT_EQ(got, expected);

  // The same plan again on the same reader, as after a crash: the same rows.
  CollectingSink second;
  st = reader_->ReadRange(kTopic, plan, second, steady_clock::now() + seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Sorted(first.rows), Sorted(second.rows));

  // The following range continues where the plan ended.
  std::vector<PartitionRange> rest;
  size_t rest_expected = 0;
  for (const PartitionOffsets& w : *marks) {
    rest.push_back({w.partition, w.high * 3 / 4, w.high});
    rest_expected += w.high - w.high * 3 / 4;
  }
  CollectingSink third;
  st = reader_->ReadRange(kTopic, rest, third, steady_clock::now() + seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(third.rows.size(), rest_expected);
}

// Micro-batches as the Kafka source plans them: each call starts where the previous one ended
// (the reader keeps its assignment and what it prefetched beyond a range), partitions without
// new records are left out, and records keep arriving between calls. Every call gets exactly
// its ranges; a replay of an earlier plan afterwards gets the same rows again.
TEST_F(SourceReaderTest, ConsecutiveCallsGetExactlyTheirRangesWhileRecordsArrive) {
  auto info = reader_->Describe(kTopic, seconds(10));
  ASSERT_TRUE(info.ok());
  auto producer = Producer::Create(cluster_->bootstrap_servers());
  ASSERT_TRUE(producer.ok());
  std::map<int32_t, int64_t> next;  // partition -> next offset to plan
  for (int32_t p : info->partitions) next[p] = 0;
  std::vector<PartitionRange> first_plan;
  std::vector<Row> first_rows;
  for (int step = 0; step < 6; ++step) {
    auto marks = reader_->Watermarks(kTopic, info->partitions, seconds(10));
    ASSERT_TRUE(marks.ok()) << marks.status().ToString();
    std::vector<PartitionRange> plan;
    std::set<std::pair<int32_t, int64_t>> expected;
    for (const PartitionOffsets& w : *marks) {
      // Odd steps leave out the even partitions (as if they had nothing new) and plan only
      // part of what the others have, so the reader holds records beyond the ranges; the last
      // step takes everything.
      if (step % 2 == 1 && step < 5 && w.partition % 2 == 0) continue;
      int64_t end = step < 5 ? next[w.partition] + (w.high - next[w.partition]) / 2 : w.high;
      if (end <= next[w.partition]) continue;
      plan.push_back({w.partition, next[w.partition], end});
      for (int64_t o = next[w.partition]; o < end; ++o) expected.insert({w.partition, o});
      next[w.partition] = end;
    }
    CollectingSink sink;
    Status st = reader_->ReadRange(kTopic, plan, sink, steady_clock::now() + seconds(30));
    ASSERT_TRUE(st.ok()) << "step " << step << ": " << st.ToString();
    std::set<std::pair<int32_t, int64_t>> got;
    for (const Row& row : sink.rows) {
      EXPECT_TRUE(got.insert({row.partition, row.offset}).second)
          << "step " << step << " duplicate " << row.partition << "@" << row.offset;
    }
    EXPECT_EQ(got, expected) << "step " << step;
    if (step == 0) {
      first_plan = plan;
      first_rows = sink.rows;
    }
    for (int i = 0; i < 300; ++i) {  // more records while the reader is between calls
      std::string key = "user-" + std::to_string(i % 77);
      ASSERT_TRUE((*producer)->Produce(kTopic, key, "later-" + std::to_string(i)).ok());
    }
    ASSERT_TRUE((*producer)->Flush(std::chrono::seconds(30)).ok());
  }
  int64_t planned = 0;
  for (const auto& [p, o] : next) planned += o;
  EXPECT_EQ(planned, kRecords + 6 * 300 - 300);  // the last 300 came after the last plan

  CollectingSink again;
  Status st = reader_->ReadRange(kTopic, first_plan, again, steady_clock::now() + seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Sorted(again.rows), Sorted(first_rows));
}

TEST_F(SourceReaderTest, RejectsBadPlans) {
  CollectingSink sink;
  Status st = reader_->ReadRange(kTopic, {{0, 5, 2}}, sink, steady_clock::now() + seconds(5));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
  st = reader_->ReadRange(kTopic, {{0, 0, 1}, {0, 1, 2}}, sink, steady_clock::now() + seconds(5));
  EXPECT_EQ(st.code(), StatusCode::kInvalidArgument);
}

TEST_F(SourceReaderTest, OffsetsBeyondTheLogAreDataLoss) {
  auto marks = reader_->Watermarks(kTopic, {3}, seconds(10));
  ASSERT_TRUE(marks.ok());
  int64_t high = (*marks)[0].high;
  CollectingSink sink;
  Status st = reader_->ReadRange(kTopic, {{3, high + 10, high + 20}}, sink,
                                 steady_clock::now() + seconds(20));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("partition 3"), std::string::npos) << st.message();
  EXPECT_TRUE(sink.rows.empty());
  // The reader is still usable afterwards.
  st = reader_->ReadRange(kTopic, {{3, 0, high}}, sink, steady_clock::now() + seconds(20));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(static_cast<int64_t>(sink.rows.size()), high);
}

TEST(SourceReaderRetentionTest, OffsetsDeletedByRetentionAreDataLoss) {
  auto c = EmbeddedCluster::Start({1, {{"small", 1}}, 1});
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto p = Producer::Create((*c)->bootstrap_servers(), {{"compression.type", "none"}});
  ASSERT_TRUE(p.ok());
  std::string big(10000, 'x');
  for (int i = 0; i < 900; ++i) ASSERT_TRUE((*p)->Produce("small", "k", big).ok());
  ASSERT_TRUE((*p)->Flush(std::chrono::seconds(30)).ok());
  auto reader = KafkaReader::Create((*c)->bootstrap_servers());
  ASSERT_TRUE(reader.ok());
  auto marks = (*reader)->Watermarks("small", {0}, seconds(10));
  ASSERT_TRUE(marks.ok()) << marks.status().ToString();
  const PartitionOffsets w = (*marks)[0];
  ASSERT_GT(w.low, 0) << "9 MB should exceed the mock's retention";
  ASSERT_EQ(w.high, 900);

  CollectingSink sink;
  Status st =
      (*reader)->ReadRange("small", {{0, 0, w.high}}, sink, steady_clock::now() + seconds(20));
  EXPECT_EQ(st.code(), StatusCode::kDataLoss) << st.ToString();
  EXPECT_NE(st.message().find("small partition 0"), std::string::npos) << st.message();
  EXPECT_TRUE(sink.rows.empty());

  st = (*reader)->ReadRange("small", {{0, w.low, w.high}}, sink, steady_clock::now() + seconds(20));
  EXPECT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(static_cast<int64_t>(sink.rows.size()), w.high - w.low);
}

// A loopback port with nothing listening on it.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  EXPECT_EQ(bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

TEST(SourceReaderUnreachableTest, UnreachableBrokerIsUnavailableByTheDeadline) {
  std::string bootstrap = "127.0.0.1:" + std::to_string(ClosedPort());
  auto reader = KafkaReader::Create(bootstrap);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto info = (*reader)->Describe("clickstream-events", seconds(1));
  EXPECT_EQ(info.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(info.status().message().find(bootstrap), std::string::npos);

  auto marks = (*reader)->Watermarks("clickstream-events", {0}, seconds(1));
  EXPECT_EQ(marks.status().code(), StatusCode::kUnavailable);

  CollectingSink sink;
  Status st = (*reader)->ReadRange("clickstream-events", {{0, 0, 10}}, sink,
                                   steady_clock::now() + seconds(2));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  EXPECT_NE(st.message().find(bootstrap), std::string::npos) << st.message();
  EXPECT_EQ(st.message().find('\n'), std::string::npos);
}

TEST(ProducerTest, RejectsUnknownProperty) {
  auto p = Producer::Create("127.0.0.1:1", {{"no.such.property", "1"}});
  EXPECT_EQ(p.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find("no.such.property"), std::string::npos);
  auto r = KafkaReader::Create("127.0.0.1:1", {{"fetch.wait.max.ms", "abc"}});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
}

TEST_F(SourceReaderTest, BrokersDownIsUnavailableThenTheSameReaderRecovers) {
  auto marks = reader_->Watermarks(kTopic, {0, 1, 2}, seconds(10));
  ASSERT_TRUE(marks.ok());
  std::vector<PartitionRange> plan;
  size_t expected = 0;
  for (const auto& w : *marks) {
    plan.push_back({w.partition, 0, w.high});
    expected += w.high;
  }
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(cluster_->SetBrokerDown(b).ok());
  CollectingSink down;
  Status st = reader_->ReadRange(kTopic, plan, down, steady_clock::now() + seconds(3));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable) << st.ToString();
  EXPECT_NE(st.message().find(cluster_->bootstrap_servers()), std::string::npos);
  for (int b = 1; b <= 3; ++b) ASSERT_TRUE(cluster_->SetBrokerUp(b).ok());
  CollectingSink up;
  st = reader_->ReadRange(kTopic, plan, up, steady_clock::now() + seconds(60));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(up.rows.size(), expected);
}

TEST_F(SourceReaderTest, RetriableFetchErrorsDoNotChangeTheRows) {
  auto marks = reader_->Watermarks(kTopic, {4, 5}, seconds(10));
  ASSERT_TRUE(marks.ok());
  std::vector<PartitionRange> plan;
  for (const auto& w : *marks) plan.push_back({w.partition, 1, w.high - 1});
  CollectingSink clean;
  ASSERT_TRUE(reader_->ReadRange(kTopic, plan, clean, steady_clock::now() + seconds(30)).ok());
  // Fetch (API key 1) answers NOT_LEADER_FOR_PARTITION (6) and REQUEST_TIMED_OUT (7) a few times.
  cluster_->InjectErrors(1, {6, 7, 6, 7});
  CollectingSink noisy;
  Status st = reader_->ReadRange(kTopic, plan, noisy, steady_clock::now() + seconds(60));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(Sorted(noisy.rows), Sorted(clean.rows));
}

class FailingSink : public RecordSink {
 public:
  Status OnRecords(std::string_view topic, const KafkaRecord*, size_t n) override {
    calls++;
    return IOError("sink for " + std::string(topic) + " is full");
  }
  int calls = 0;
};

TEST_F(SourceReaderTest, SinkErrorsStopTheReadAndTheReaderStaysUsable) {
  auto marks = reader_->Watermarks(kTopic, {0, 1}, seconds(10));
  ASSERT_TRUE(marks.ok());
  std::vector<PartitionRange> plan;
  size_t expected = 0;
  for (const auto& w : *marks) {
    plan.push_back({w.partition, 0, w.high});
    expected += w.high;
  }
  FailingSink failing;
  Status st = reader_->ReadRange(kTopic, plan, failing, steady_clock::now() + seconds(30));
  EXPECT_EQ(st.code(), StatusCode::kIOError);
  EXPECT_EQ(failing.calls, 1);
  CollectingSink ok;
  st = reader_->ReadRange(kTopic, plan, ok, steady_clock::now() + seconds(30));
  ASSERT_TRUE(st.ok()) << st.ToString();
  EXPECT_EQ(ok.rows.size(), expected);
}

}  // namespace
}  // namespace strata
