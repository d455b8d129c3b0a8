#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "kafka/record.h"
#include "stream/source.h"

namespace strata {
class AssignmentBoard;
class KafkaGroupMember;
class KafkaReader;

// Turns Kafka records into rows. Called with a consumer batch of records at a time (one virtual
// call per batch, not per record). Not thread-safe.
class RecordDecoder {
 public:
  virtual ~RecordDecoder() = default;
  virtual SchemaPtr schema() const = 0;
  // Appends one row per record. `ingestion_ms` is the batch's fixed processing time.
  virtual Status Decode(std::string_view topic, const KafkaRecord* records, size_t count,
                        int64_t ingestion_ms) = 0;
  virtual size_t buffered_rows() const = 0;
  // The rows decoded since the last call.
  virtual RecordBatch Finish() = 0;
};

// The identity of a Kafka cluster as the source records it in offsets and txn app ids: the
// cluster id, plus the bootstrap servers for librdkafka's mock cluster, whose id is derived from
// a heap address and can repeat in another process (its ephemeral ports cannot).
std::string KafkaClusterIdentity(const std::string& cluster_id, const std::string& bootstrap);

struct KafkaSourceOptions {
  std::string topic;
  std::map<std::string, std::string> kafka;  // librdkafka properties incl. bootstrap.servers
  std::string starting_offsets = "latest";   // earliest | latest | {"topic":{"0":5,"1":-2}}
  bool fail_on_data_loss = true;
  std::string on_cluster_change = "fail";  // fail | reset
  int64_t read_timeout_ms = 60'000;        // a batch's read must finish within this
  size_t max_batch_rows = 1 << 16;         // rows per RecordBatch handed to the processor
  // Group mode: receives the member's assignment (for the partitioned silver and gold queries
  // of the same process, pipeline/partitioned_query.h). Optional.
  std::shared_ptr<AssignmentBoard> assignment_board;
  // Sees every record read, before it is decoded (data-quality monitoring). Optional.
  std::shared_ptr<RecordObserver> record_observer;
};

// A Kafka topic as a micro-batch source (Spark's Kafka source, with strata's cluster check).
// The offset is {"cluster":ID,"topic":T,"offsets":{"0":N,...}} where N is the next offset to
// read in each partition. The cluster id is checked on every restart: offsets of another
// cluster are refused (or, with on_cluster_change = reset, replaced by startingOffsets on the
// new cluster). An offset below a partition's log start means data was deleted by retention:
// DataLoss when fail_on_data_loss, else a warning and a skip to the log start.
//
// Group mode (a `group.id` among the kafka properties, docs/scale-out.md): the process joins
// that consumer group (KafkaGroupMember) and reads only the partitions the group assigns it.
// Each plan starts every owned partition where the sink table's txn mark for it stands (read
// through the engine's MarkReader before anything is read; startingOffsets for a partition
// without a mark), and the end offset then also carries those starts ("from") and the mark
// versions they came from ("expected"), so that the batch's marks are fenced: a batch of a
// partition that another member committed meanwhile is refused by the sink and planned again.
// Not thread-safe: one query thread.
class KafkaSource : public MicroBatchSource {
 public:
  KafkaSource(KafkaSourceOptions options, std::unique_ptr<RecordDecoder> decoder);
  ~KafkaSource() override;

  // "kafka[topic]"; in group mode "kafka[topic] group G member M (N rebalances)".
  std::string Description() const override;
  std::string Identity() const override;
  SchemaPtr schema() const override;
  Status Open() override;
  Result<std::string> InitialOffset() override;
  Result<std::string> Reconcile(const std::string& offset) override;
  Result<std::string> PlanEnd(const std::string& start, const ReadLimit& limit,
                              const std::string& cap) override;
  Status Read(const std::string& start, const std::string& end, int64_t batch_timestamp_ms,
              const Emit& emit) override;
  std::vector<PartitionPosition> Positions(const std::string& start,
                                           const std::string& end) override;
  std::vector<PartitionMark> Marks(const std::string& end) override;
  int64_t RowsBetween(const std::string& start, const std::string& end) override;
  std::string MemberName() const override { return member_name_; }
  void SetMarkReader(MarkReader reader) override { mark_reader_ = std::move(reader); }
  // Leaves the group (group mode); a no-op otherwise.
  void Close() override;

  const std::string& cluster_id() const { return cluster_id_; }
  // Group mode: the group membership (nullptr otherwise), for status and tests.
  const KafkaGroupMember* group_member() const { return group_.get(); }

 private:
  struct Offsets {
    std::string cluster;
    std::map<int32_t, int64_t> next;  // partition -> next offset to read
    // Group mode only (group == true): where the batch starts in each partition, and the
    // partition's txn mark when planned (-1: none), which the commit is fenced on.
    bool group = false;
    std::map<int32_t, int64_t> from;
    std::map<int32_t, int64_t> expected;
  };
  // The start of each partition's range in a batch ending at `to`: `to.from` in group mode,
  // else the partition's offset in `from` (or its end when absent).
  static int64_t RangeStart(const Offsets& from, const Offsets& to, int32_t partition);
  // Group mode's PlanEnd: the owned partitions from their marks to their high watermarks.
  Result<std::string> PlanGroupEnd(const std::string& start, const ReadLimit& limit);
  // The mark app id of a partition (as Marks() names it).
  std::string MarkAppId(const std::string& cluster, int32_t partition) const;
  Result<Offsets> Parse(const std::string& json) const;
  std::string Format(const Offsets& o) const;
  // Refreshes low/high watermarks of every partition.
  Status RefreshWatermarks();
  Status RefreshWatermarks(const std::vector<int32_t>& partitions);
  // startingOffsets resolved against the current watermarks, for every partition.
  Result<Offsets> StartingOffsets();
  // Applies the data-loss rule to offsets below the log start.
  Status CheckDataLoss(Offsets& o);

  KafkaSourceOptions options_;
  std::unique_ptr<RecordDecoder> decoder_;
  std::unique_ptr<KafkaReader> reader_;
  std::string bootstrap_;
  std::string cluster_id_;
  std::vector<int32_t> partitions_;
  std::map<int32_t, std::pair<int64_t, int64_t>> watermarks_;  // partition -> (low, high)
  // Group mode.
  std::unique_ptr<KafkaGroupMember> group_;
  std::string member_name_;
  MarkReader mark_reader_;
  // Owned partitions without a mark yet: the startingOffsets position resolved when first
  // planned, kept until the first commit marks them (so a later plan does not move it).
  std::map<int32_t, int64_t> unmarked_start_;
};

}  // namespace strata
