// Silver's dedup state at scale: 200,000 events/s with a 10-minute watermark keeps ~120 million
// event ids in state. Feeds one-second batches of 200,000 new UUID-like ids (12 Kafka
// partitions) through the Deduplicator with the watermark trailing by 10 minutes, and reports
// per-batch time, keys, memory, and the checkpoint bytes (full snapshot and per-batch delta).
//   state_scale_bench [--rate 200000] [--seconds 720] [--delay-s 600]
#include <sys/resource.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>

#include "batch/record_batch.h"
#include "core/file_util.h"
#include "core/time_util.h"
#include "operators/dedup.h"

namespace strata {
namespace {

long RssMb() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, resident = 0;
  f >> pages >> resident;
  return resident * 4096 / (1 << 20);
}

int Main(int argc, char** argv) {
  int64_t rate = 200'000, seconds = 720, delay_s = 600;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--rate"))
      rate = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--seconds"))
      seconds = std::atoll(argv[i + 1]);
    else if (!std::strcmp(argv[i], "--delay-s"))
      delay_s = std::atoll(argv[i + 1]);
  }
  DedupOptions o;
  o.delay_ms = delay_s * 1000;
  auto dedup = Deduplicator::Create(o);
  if (!dedup.ok()) return 1;
  auto schema =
      std::make_shared<Schema>(std::vector<Field>{{"event_id", TypeId::kString, false},
                                                  {"event_time", TypeId::kTimestamp, false},
                                                  {"kafka_partition", TypeId::kInt32, false}});
  std::mt19937_64 rng(7);
  const int64_t t0 = 1'790'000'000'000'000LL;  // micros
  std::vector<uint32_t> keep;
  double total_ms = 0, window_ms = 0;
  int64_t window_n = 0;
  char id[37];
  std::printf("%8s %12s %10s %10s %12s\n", "second", "keys", "state MiB", "RSS MiB", "ms/batch");
  for (int64_t s = 0; s < seconds; ++s) {
    RecordBatch b(schema);
    b.column(0).Reserve(static_cast<size_t>(rate), static_cast<size_t>(rate) * 36);
    for (int64_t i = 0; i < rate; ++i) {
      uint64_t a = rng(), c = rng();
      std::snprintf(id, sizeof id, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                    static_cast<unsigned>(a >> 16) & 0xffff, static_cast<unsigned>(a) & 0xfff,
                    static_cast<unsigned>(c >> 48),
                    static_cast<unsigned long long>(c & 0xffffffffffffULL));
      b.column(0).AppendString(std::string_view(id, 36));
      b.column(1).AppendInt64(t0 + s * 1'000'000 + i * 1'000'000 / rate);
      b.column(2).AppendInt32(static_cast<int32_t>(a % 12));
    }
    int64_t start = MonotonicNanos();
    (*dedup)->Evict(t0 + (s - delay_s) * 1'000'000);
    keep.clear();
    if (!(*dedup)->Process(b, "event_id", "event_time", "kafka_partition", &keep).ok()) return 1;
    double ms = (MonotonicNanos() - start) / 1e6;
    total_ms += ms;
    window_ms += ms;
    ++window_n;
    if ((s + 1) % 60 == 0 || s + 1 == seconds) {
      DedupStats st = (*dedup)->stats();
      std::printf("%8lld %12llu %10llu %10ld %12.1f\n", static_cast<long long>(s + 1),
                  static_cast<unsigned long long>(st.keys),
                  static_cast<unsigned long long>(st.bytes >> 20), RssMb(), window_ms / window_n);
      std::fflush(stdout);
      window_ms = 0;
      window_n = 0;
    }
    if (s + 2 < seconds) (*dedup)->MarkCheckpointed();
  }
  // The checkpoint cost: the last batch's delta, and a full snapshot of every partition.
  size_t delta_bytes = 0, snapshot_bytes = 0;
  int64_t t = MonotonicNanos();
  for (int32_t p : (*dedup)->Partitions()) delta_bytes += (*dedup)->SerializeDelta(p).size();
  double delta_ms = (MonotonicNanos() - t) / 1e6;
  t = MonotonicNanos();
  for (int32_t p : (*dedup)->Partitions()) snapshot_bytes += (*dedup)->SerializeSnapshot(p).size();
  double snapshot_ms = (MonotonicNanos() - t) / 1e6;
  // The same snapshot written to a file as a checkpoint writes it: blob by blob, then fsync.
  const std::string file =
      (std::filesystem::temp_directory_path() / ("strata_state_scale_" + std::to_string(getpid())))
          .string();
  t = MonotonicNanos();
  double file_ms = -1;
  {
    auto writer = AtomicFileWriter::Open(file);
    Status wst = writer.status();
    for (int32_t p : (*dedup)->Partitions()) {
      if (!wst.ok()) break;
      wst = (*writer)->Append((*dedup)->SerializeSnapshot(p));
    }
    if (wst.ok()) wst = (*writer)->Commit();
    if (wst.ok())
      file_ms = (MonotonicNanos() - t) / 1e6;
    else
      std::fprintf(stderr, "writing %s: %s\n", file.c_str(), wst.ToString().c_str());
  }
  std::filesystem::remove(file);
  DedupStats st = (*dedup)->stats();
  std::printf("\nkeys in state: %llu; state memory %.2f GiB (%.1f bytes/key); peak RSS %ld MiB\n",
              static_cast<unsigned long long>(st.keys), st.bytes / double(1 << 30),
              st.keys ? double(st.bytes) / st.keys : 0.0, RssMb());
  std::printf("dedup time per 1-second batch of %lld events: %.1f ms on average\n",
              static_cast<long long>(rate), total_ms / seconds);
  std::printf(
      "checkpoint per batch (delta): %.1f MiB in %.0f ms; full snapshot: %.2f GiB in %.0f ms\n",
      delta_bytes / double(1 << 20), delta_ms, snapshot_bytes / double(1 << 30), snapshot_ms);
  std::printf("full snapshot serialized and written to a file with fsync: %.0f ms\n", file_ms);
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Main(argc, argv);
}
