// The dedup state store choice, measured: strata's Deduplicator (in-memory open addressing with
// a durable changelog, checkpointed per batch) against RocksDB (Debian's librocksdb) doing the
// same work per batch: look up each new key (MultiGet), then write the new ones (WriteBatch,
// WAL off as the checkpoint makes it durable), for 200K-key batches up to --keys keys.
//   state_store_compare_bench [--keys 10000000]
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>

#include "batch/record_batch.h"
#include "core/time_util.h"
#include "operators/dedup.h"

namespace strata {
namespace {

int Main(int argc, char** argv) {
  int64_t keys = 10'000'000;
  const int64_t batch = 200'000;
  for (int i = 1; i + 1 < argc; i += 2)
    if (!std::strcmp(argv[i], "--keys")) keys = std::atoll(argv[i + 1]);
  std::mt19937_64 rng(3);
  std::vector<std::string> ids(batch);
  auto fill = [&] {
    char id[37];
    for (auto& s : ids) {
      uint64_t a = rng(), c = rng();
      std::snprintf(id, sizeof id, "%016llx-%019llu", static_cast<unsigned long long>(a),
                    static_cast<unsigned long long>(c % 10000000000000000000ULL));
      s.assign(id, 36);
    }
  };

  // strata's store.
  auto dedup = Deduplicator::Create(DedupOptions{}).value();
  auto schema =
      std::make_shared<Schema>(std::vector<Field>{{"event_id", TypeId::kString, false},
                                                  {"event_time", TypeId::kTimestamp, false},
                                                  {"kafka_partition", TypeId::kInt32, false}});
  double strata_s = 0;
  std::vector<uint32_t> keep;
  for (int64_t done = 0; done < keys; done += batch) {
    fill();
    RecordBatch b(schema);
    for (const auto& s : ids) {
      b.column(0).AppendString(s);
      b.column(1).AppendInt64(1'790'000'000'000'000LL);
      b.column(2).AppendInt32(0);
    }
    int64_t t = MonotonicNanos();
    keep.clear();
    if (!dedup->Process(b, "event_id", "event_time", "kafka_partition", &keep).ok()) return 1;
    std::string delta = dedup->SerializeDelta(0);  // what the checkpoint writes
    dedup->MarkCheckpointed();
    strata_s += (MonotonicNanos() - t) / 1e9;
  }
  std::printf("strata Deduplicator: %lld keys, %.2f s, %.2fM keys/s, %.1f bytes/key in memory\n",
              static_cast<long long>(keys), strata_s, keys / strata_s / 1e6,
              double(dedup->stats().bytes) / dedup->stats().keys);

  // RocksDB.
  std::string dir =
      (std::filesystem::temp_directory_path() / ("strata_rocks_" + std::to_string(::getpid())))
          .string();
  std::filesystem::remove_all(dir);
  rocksdb::Options o;
  o.create_if_missing = true;
  o.IncreaseParallelism(2);
  rocksdb::DB* db = nullptr;
  if (!rocksdb::DB::Open(o, dir, &db).ok()) return 1;
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  rng.seed(3);
  double rocks_s = 0;
  std::vector<rocksdb::Slice> slices(batch);
  std::vector<std::string> values;
  for (int64_t done = 0; done < keys; done += batch) {
    fill();
    int64_t t = MonotonicNanos();
    for (int64_t i = 0; i < batch; ++i) slices[i] = ids[i];
    auto status = db->MultiGet(rocksdb::ReadOptions(), slices, &values);
    rocksdb::WriteBatch wb;
    for (int64_t i = 0; i < batch; ++i)
      if (status[i].IsNotFound()) wb.Put(slices[i], rocksdb::Slice("\x01\x02\x03\x04", 4));
    if (!db->Write(wo, &wb).ok()) return 1;
    rocks_s += (MonotonicNanos() - t) / 1e9;
  }
  uint64_t sst = 0;
  db->GetIntProperty("rocksdb.total-sst-files-size", &sst);
  std::printf(
      "RocksDB (MultiGet + WriteBatch, no WAL): %lld keys, %.2f s, %.2fM keys/s, %.1f bytes/key on "
      "disk\n",
      static_cast<long long>(keys), rocks_s, keys / rocks_s / 1e6, double(sst) / keys);
  delete db;
  std::filesystem::remove_all(dir);
  std::printf("ratio: strata %.1fx faster\n", rocks_s / strata_s);
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Main(argc, argv);
}
