#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include "core/status.h"
#include "stream/streaming_query.h"

namespace strata::monitor {

// A view of a whole consumer group (docs/scale-out.md, "Group status") built from shared
// storage only, without a coordinator: every member writes its own status file, and anyone who
// can read the checkpoint storage reads them all.
//
// File format, <bronze checkpoint>/members/<member>/status.json (JSON, written atomically):
//   {"member":M, "groupId":G, "pid":N, "host":H, "listen":"127.0.0.1:8080",
//    "writtenMs":T, "intervalMs":2000, "stopped":false, "rebalances":N, "lastRebalanceMs":T,
//    "partitions":[{"partition":P, "committed":O, "highWatermark":O, "lag":N, "asOfMs":T}]}
// partitions are those the member owns; committed is the next offset to read after its last
// bronze batch of that partition (-1: none yet), highWatermark the partition's end when that
// batch was planned (-1 unknown), lag their difference (-1 unknown), asOfMs when the claim was
// made (the write time when ownership comes from sub-queries, else the batch's start).

// One partition as a member reports it.
struct MemberPartition {
  int32_t partition = 0;
  int64_t committed = -1;
  int64_t high_watermark = -1;
  int64_t lag = -1;
  int64_t as_of_ms = 0;
};

// One member's status file.
struct GroupMemberStatus {
  std::string member;
  std::string group_id;
  int64_t pid = 0;
  std::string host;
  std::string listen;  // the member's HTTP server, "" when it has none
  int64_t written_ms = 0;
  int64_t interval_ms = 2000;  // how often the member rewrites the file
  bool stopped = false;        // written by a clean stop: the member left the group
  int64_t rebalances = 0;
  int64_t last_rebalance_ms = 0;            // 0: none seen
  std::vector<MemberPartition> partitions;  // ascending partition

  std::string ToJson() const;
};

// Corruption naming `path` when `json` is not a member status.
Result<GroupMemberStatus> ParseGroupMemberStatus(std::string_view json, const std::string& path);

// <bronze checkpoint>/members/<member>/status.json
std::string MemberStatusPath(const std::string& bronze_checkpoint, const std::string& member);

// Writes `status` to its MemberStatusPath atomically (temporary + rename), creating the
// directory. IOError naming the file.
Status WriteMemberStatus(const std::string& bronze_checkpoint, const GroupMemberStatus& status);

// What the bronze query of a group member says about the member: its name and rebalances from
// the source description ("kafka[T] group G member M (N rebalances)") of its newest progress,
// and its partitions (committed offset, high watermark, lag) from the newest progress that
// names partitions. nullopt when the query has no progress yet or is not in group mode.
// pid, host, listen and the times are left for the caller.
std::optional<GroupMemberStatus> MemberStatusFromView(const QueryStatusView& bronze);

// Makes `status` own exactly `owned` (ascending): partitions not in it are dropped, and those
// missing are added without offsets (committed, high watermark and lag -1), as of `now_ms`.
// Partitions kept are also dated `now_ms`: ownership is current even when bronze has read
// nothing new from them.
void OwnPartitions(GroupMemberStatus& status, const std::vector<int32_t>& owned, int64_t now_ms);

// The partition N of a sub-query view named "<layer>[p<N>]", -1 for any other name.
int32_t PartitionOfSubQuery(const std::string& view_name, const std::string& layer);

// The partition number of a Kafka source position ("clickstream-events-3" -> 3), -1 if none.
int32_t PartitionOfPosition(const std::string& name);

// Where the silver and gold queries of a group keep each partition's checkpoint.
struct LayerCheckpoint {
  std::string name;        // the query (table short name), e.g. "silver_clickstream"
  std::string checkpoint;  // its checkpoint directory; partition p is <checkpoint>/partitions/<p>
};

struct GroupStatusOptions {
  std::string bronze_checkpoint;
  std::vector<LayerCheckpoint> layers;
  int64_t now_ms = 0;  // 0: now
  // A member whose file is older than this many of its write intervals is gone.
  int64_t stale_intervals = 4;
  // A gone member whose file is older than this is left out (its directory stays until someone
  // deletes it: each start of a member without group.instance.id has its own).
  int64_t forget_after_ms = 3'600'000;
};

// The group as the status files and the layers' partition checkpoints show it.
struct GroupStatus {
  struct Member {
    GroupMemberStatus status;
    bool alive = false;
    std::string state;  // "alive", "stopped", "stale" (file too old), "dead" (pid not running)
  };
  struct Partition {
    int32_t partition = 0;
    std::string owner;  // the alive member with the newest claim, "" when nobody owns it
    int64_t lag = -1;
    // Per layer (GroupStatusOptions::layers order): the watermark of the partition's newest
    // committed batch (0: none committed yet), -1 when the partition has no checkpoint there,
    // -2 when its checkpoint cannot be read.
    std::vector<int64_t> watermarks;
  };
  std::string group_id;
  int64_t now_ms = 0;
  std::vector<std::string> layers;
  std::vector<Member> members;        // alive first, then by name
  std::vector<Partition> partitions;  // every partition seen anywhere, ascending
  std::vector<int32_t> unowned;       // partitions no alive member claims
  int64_t forgotten = 0;              // gone members left out (forget_after_ms)
  int64_t last_rebalance_ms = 0;      // the newest last_rebalance_ms of the members listed

  std::string ToJson() const;
  // A human-readable report (what `strata status --group` prints).
  std::string ToText() const;
};

// Reads every member's status file and every layer's partitions/ directories. A member is
// gone when its file says it stopped, when the file is older than stale_intervals of its
// interval, or when its pid does not run on this host. A partition claimed by several alive
// members (one of them has not run a batch since the partition moved) goes to the newest
// claim. Unreadable status files are skipped with a warning; IOError when the members
// directory cannot be listed. An empty status when it does not exist.
Result<GroupStatus> ReadGroupStatus(const GroupStatusOptions& options);

// Rewrites this process's member status file every interval, and a last time (stopped) on
// Stop(), from the bronze query's status view. The file appears once the bronze query has
// run its first batch (the member name comes from its progress). Also names this process in
// the Delta maintenance leases it takes (delta::SetMaintenanceMember).
// Lifecycle: construct, Start(), Stop() (also by the destructor). `queries` is called from the
// writer's thread and must be thread-safe (Pipeline::Queries is).
class GroupStatusWriter {
 public:
  struct Options {
    std::string bronze_checkpoint;
    std::string bronze_query;  // name of the bronze query in `queries`
    std::string listen;        // this process's HTTP address
    int64_t interval_ms = 2000;
    // A layer run as one sub-query per owned partition (views "<name>[p<N>]", e.g. silver in
    // group mode): when set, the partitions owned now are those of its sub-queries
    // (OwnPartitions), not only those of bronze's newest batch.
    std::string partitioned_layer;
  };
  GroupStatusWriter(Options options, std::function<std::vector<QueryStatusView>()> queries);
  ~GroupStatusWriter();
  GroupStatusWriter(const GroupStatusWriter&) = delete;
  GroupStatusWriter& operator=(const GroupStatusWriter&) = delete;

  void Start();
  // Stops the thread and writes the file a last time with stopped = true and no partitions.
  // Idempotent.
  void Stop();
  // Writes the file once now; false when the member is not known yet. IOError from the write.
  Result<bool> WriteOnce(bool stopped);

 private:
  void Loop();

  Options options_;
  std::function<std::vector<QueryStatusView>()> queries_;
  std::thread thread_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;                      // guarded by mu_
  bool stopped_written_ = false;           // guarded by write_mu_
  std::mutex write_mu_;                    // serializes WriteOnce
  int64_t seen_rebalances_ = -1;           // guarded by write_mu_
  int64_t last_rebalance_ms_ = 0;          // guarded by write_mu_
  std::optional<GroupMemberStatus> last_;  // guarded by write_mu_
};

}  // namespace strata::monitor
