// Parquet write/read throughput through DuckDB for a bronze-like batch.
//
//   parquet_bench [rows] [--quick]
//
// Writes one batch of `rows` (default 1,000,000) rows of 19 realistic clickstream columns with
// every codec, several row group sizes, dictionary on/off and 1 or 2 threads; prints rows/s and
// file size for each, then reads each codec's file back and prints rows/s.
// --only=engines compares the native writer with DuckDB's (1 thread, as the pipeline runs it)
// on the same batch for every codec, dictionary on and off: median of 3 runs each.
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "duck/chunk.h"
#include "duck/duck.h"
#include "lake/parquet/parquet_reader.h"
#include "lake/parquet/parquet_writer.h"

namespace strata {
namespace {

SchemaPtr BronzeSchema() {
  return std::make_shared<Schema>(std::vector<Field>{
      {"event_id", TypeId::kString},
      {"user_id", TypeId::kString},
      {"session_id", TypeId::kString},
      {"event_type", TypeId::kString},
      {"page_url", TypeId::kString},
      {"referrer", TypeId::kString},
      {"user_agent", TypeId::kString},
      {"ip_address", TypeId::kString},
      {"country", TypeId::kString},
      {"device_type", TypeId::kString},
      {"os", TypeId::kString},
      {"browser", TypeId::kString},
      {"event_time", TypeId::kTimestamp},
      {"ingest_time", TypeId::kTimestamp},
      {"kafka_partition", TypeId::kInt32},
      {"kafka_offset", TypeId::kInt64},
      {"amount", TypeId::kDouble},
      {"event_date", TypeId::kDate},
      {"properties", TypeId::kString},
  });
}

struct Rng {
  uint64_t s = 0x243F6A8885A308D3ull;
  uint64_t Next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
  uint64_t Below(uint64_t n) { return Next() % n; }
};

RecordBatch MakeBronze(size_t rows) {
  static const char* kTypes[] = {"page_view", "page_view",   "page_view", "click",
                                 "click",     "add_to_cart", "purchase",  "search"};
  static const char* kCountries[] = {"US", "DE", "FR", "GB", "IN", "BR", "JP", "CA", "ES", "IT",
                                     "NL", "SE", "PL", "MX", "AU", "KR", "CN", "AR", "ZA", "NG"};
  static const char* kDevices[] = {"desktop", "mobile", "tablet"};
  static const char* kOs[] = {"Windows", "macOS", "Linux", "iOS", "Android"};
  static const char* kBrowsers[] = {"Chrome", "Safari", "Firefox", "Edge", "Opera"};
  static const char* kReferrers[] = {"https://www.google.com/", "https://t.co/",
                                     "https://news.ycombinator.com/", "https://www.facebook.com/",
                                     "https://duckduckgo.com/"};
  static const char* kAgents[] = {
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0 Safari/537.36",
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) "
      "Version/17.5 Safari/605.1.15",
      "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
      "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
      "Gecko) Mobile/15E148",
      "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0 Mobile Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/131.0 Edg/131.0"};
  RecordBatch b(BronzeSchema());
  for (size_t c = 0; c < b.num_columns(); ++c) b.column(c).Reserve(rows, rows * 48);
  Rng rng;
  char buf[256];
  const int64_t t0 = 1795000000000000;
  for (size_t i = 0; i < rows; ++i) {
    uint64_t a = rng.Next(), z = rng.Next();
    std::snprintf(buf, sizeof buf, "%08x-%04x-4%03x-%04x-%012llx", uint32_t(a),
                  uint32_t(a >> 32) & 0xffff, uint32_t(a >> 48) & 0xfff, uint32_t(z) & 0xffff,
                  (unsigned long long)(z >> 16));
    b.column(0).AppendString(buf);
    uint64_t user = rng.Below(50000);
    std::snprintf(buf, sizeof buf, "user_%06llu", (unsigned long long)user);
    b.column(1).AppendString(buf);
    std::snprintf(buf, sizeof buf, "sess_%06llu_%02llu", (unsigned long long)user,
                  (unsigned long long)(i / 200000));
    b.column(2).AppendString(buf);
    b.column(3).AppendString(kTypes[rng.Below(8)]);
    std::snprintf(buf, sizeof buf, "https://shop.example.com/products/%llu?ref=home",
                  (unsigned long long)rng.Below(5000));
    b.column(4).AppendString(buf);
    if (rng.Below(3) == 0)
      b.column(5).AppendNull();
    else
      b.column(5).AppendString(kReferrers[rng.Below(5)]);
    b.column(6).AppendString(kAgents[rng.Below(6)]);
    std::snprintf(buf, sizeof buf, "10.%llu.%llu.%llu", (unsigned long long)rng.Below(256),
                  (unsigned long long)rng.Below(256), (unsigned long long)rng.Below(256));
    b.column(7).AppendString(buf);
    b.column(8).AppendString(kCountries[rng.Below(20)]);
    b.column(9).AppendString(kDevices[rng.Below(3)]);
    b.column(10).AppendString(kOs[rng.Below(5)]);
    b.column(11).AppendString(kBrowsers[rng.Below(5)]);
    int64_t et = t0 + static_cast<int64_t>(i) * 1000 + static_cast<int64_t>(rng.Below(5000000));
    b.column(12).AppendInt64(et);
    b.column(13).AppendInt64(et + 200000 + static_cast<int64_t>(rng.Below(100000)));
    b.column(14).AppendInt32(static_cast<int32_t>(i % 6));
    b.column(15).AppendInt64(static_cast<int64_t>(i / 6));
    if (rng.Below(10) == 0)
      b.column(16).AppendDouble(static_cast<double>(rng.Below(100000)) / 100.0);
    else
      b.column(16).AppendNull();
    b.column(17).AppendInt32(static_cast<int32_t>(et / 86400000000LL));
    std::snprintf(buf, sizeof buf,
                  "{\"campaign\":\"c%llu\",\"position\":%llu,\"experiment\":\"exp_%llu\"}",
                  (unsigned long long)rng.Below(40), (unsigned long long)rng.Below(20),
                  (unsigned long long)rng.Below(4));
    b.column(18).AppendString(buf);
  }
  return b;
}

// User + system CPU seconds of this process (all threads): robust on a shared machine where
// wall-clock rates swing with other load.
double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Medians over `reps` writes of `batch` with `opts`: rows per wall second, rows per CPU second,
// and the file's size. False (the error printed) when a write fails.
struct WriteFigures {
  double wall_rate = 0, cpu_rate = 0;
  int64_t size = 0;
};
bool MedianWrite(ParquetWriter& writer, const RecordBatch& batch, const std::string& path,
                 const ParquetWriteOptions& opts, int reps, WriteFigures* out) {
  const double rows = static_cast<double>(batch.num_rows());
  std::vector<double> wall, cpu;
  for (int rep = 0; rep < reps; ++rep) {
    auto start = std::chrono::steady_clock::now();
    double cpu0 = CpuSeconds();
    auto info = writer.Write(batch, path, opts);
    if (!info.ok()) {
      std::printf("%s\n", info.status().ToString().c_str());
      return false;
    }
    wall.push_back(rows / Seconds(start));
    cpu.push_back(rows / (CpuSeconds() - cpu0));
    out->size = info->size_bytes;
  }
  std::sort(wall.begin(), wall.end());
  std::sort(cpu.begin(), cpu.end());
  out->wall_rate = wall[wall.size() / 2];
  out->cpu_rate = cpu[cpu.size() / 2];
  return true;
}

int Run(int argc, char** argv) {
  size_t rows = 1000000;
  bool quick = false;
  std::string only;  // run one section: codecs, levels, rowgroups, order, appender, read
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--quick") == 0)
      quick = true;
    else if (std::strncmp(argv[i], "--only=", 7) == 0)
      only = argv[i] + 7;
    else
      rows = std::strtoull(argv[i], nullptr, 10);
  }
  const std::string dir = (std::filesystem::temp_directory_path() /
                           ("strata_parquet_bench_" + std::to_string(::getpid())))
                              .string();
  std::filesystem::create_directories(dir);
  auto t0 = std::chrono::steady_clock::now();
  RecordBatch batch = MakeBronze(rows);
  std::printf("generated %zu rows x %zu columns (%.1f MB in memory) in %.2fs\n", batch.num_rows(),
              batch.num_columns(), batch.MemoryBytes() / 1e6, Seconds(t0));

  auto writer = ParquetWriter::Create();
  if (!writer.ok()) {
    std::fprintf(stderr, "%s\n", writer.status().ToString().c_str());
    return 1;
  }
  std::vector<ParquetCodec> codecs = {ParquetCodec::kZstd, ParquetCodec::kSnappy,
                                      ParquetCodec::kLz4, ParquetCodec::kUncompressed};
  std::vector<int64_t> group_sizes =
      quick ? std::vector<int64_t>{122880} : std::vector<int64_t>{122880, 1000000};
  std::vector<int> thread_counts = quick ? std::vector<int>{2} : std::vector<int>{1, 2};
  std::printf("%-7s %-13s %9s %5s %7s %6s %12s %14s %10s %8s\n", "engine", "codec", "rowgroup",
              "dict", "threads", "order", "rows/s", "rows/cpu-s", "MB", "seconds");
  auto write = [&](ParquetWriteOptions opts, const std::string& path) {
    auto start = std::chrono::steady_clock::now();
    double cpu0 = CpuSeconds();
    auto info = (*writer)->Write(batch, path, opts);
    double s = Seconds(start);
    double cpu = CpuSeconds() - cpu0;
    if (!info.ok()) {
      std::printf("%s\n", info.status().ToString().c_str());
      return;
    }
    std::printf("%-7s %-13s %9lld %5s %7d %6s %12.0f %14.0f %10.1f %8.3f\n",
                opts.engine == ParquetEngine::kNative ? "native" : "duckdb",
                ParquetCodecName(opts.codec), static_cast<long long>(opts.row_group_size),
                opts.dictionary ? "on" : "off", opts.threads, opts.preserve_order ? "kept" : "free",
                rows / s, rows / cpu, info->size_bytes / 1e6, s);
    std::fflush(stdout);
  };
  auto section = [&](const char* name) { return only.empty() || only == name; };
  for (ParquetCodec codec : codecs) {
    if (!section("codecs")) break;
    for (int64_t rg : group_sizes) {
      for (bool dict : {true, false}) {
        if (quick && !dict) continue;
        for (int threads : thread_counts) {
          ParquetWriteOptions opts;
          opts.codec = codec;
          opts.row_group_size = rg;
          opts.dictionary = dict;
          opts.threads = threads;
          opts.sync = false;
          write(opts, dir + "/w.parquet");
        }
      }
    }
  }
  if (only == "engines") {
    std::printf("\nnative vs DuckDB engine (median of 3 runs; DuckDB with 1 thread):\n");
    std::printf("%-7s %-13s %5s %12s %14s %10s\n", "engine", "codec", "dict", "rows/s",
                "rows/cpu-s", "MB");
    for (ParquetCodec codec : codecs) {
      for (bool dict : {true, false}) {
        for (ParquetEngine engine : {ParquetEngine::kNative, ParquetEngine::kDuckDB}) {
          ParquetWriteOptions opts;
          opts.engine = engine;
          opts.codec = codec;
          opts.dictionary = dict;
          opts.sync = false;
          WriteFigures f;
          if (!MedianWrite(**writer, batch, dir + "/e.parquet", opts, 3, &f)) return 1;
          std::printf("%-7s %-13s %5s %12.0f %14.0f %10.1f\n",
                      engine == ParquetEngine::kNative ? "native" : "duckdb",
                      ParquetCodecName(codec), dict ? "on" : "off", f.wall_rate, f.cpu_rate,
                      f.size / 1e6);
          std::fflush(stdout);
        }
      }
    }
  }
  if (only == "native") {
    // The native writer alone, default settings (snappy, dictionary) and uncompressed (the
    // encoding without the codec): median of 5 runs, for A/B runs of writer changes.
    std::printf("\nnative engine (median of 5 runs):\n%-13s %12s %14s %10s\n", "codec", "rows/s",
                "rows/cpu-s", "MB");
    for (ParquetCodec codec : {ParquetCodec::kSnappy, ParquetCodec::kUncompressed}) {
      ParquetWriteOptions opts;
      opts.codec = codec;
      opts.sync = false;
      WriteFigures f;
      if (!MedianWrite(**writer, batch, dir + "/n.parquet", opts, 5, &f)) return 1;
      std::printf("%-13s %12.0f %14.0f %10.1f\n", ParquetCodecName(codec), f.wall_rate, f.cpu_rate,
                  f.size / 1e6);
      std::fflush(stdout);
    }
  }
  if (section("levels") && !quick) {
    for (int level : {1, 3, 9}) {
      ParquetWriteOptions opts;
      opts.codec = ParquetCodec::kZstd;
      opts.compression_level = level;
      opts.sync = false;
      std::printf("zstd level %d: ", level);
      write(opts, dir + "/w.parquet");
    }
  }
  if (section("rowgroups") && !quick) {
    std::printf("row group sweep (snappy, dictionary on, 2 threads):\n");
    for (int64_t rg : {16384, 32768, 65536, 122880, 262144}) {
      ParquetWriteOptions opts;
      opts.row_group_size = rg;
      opts.sync = false;
      write(opts, dir + "/w.parquet");
    }
  }
  if (section("order")) {
    ParquetWriteOptions opts;
    opts.preserve_order = true;
    opts.sync = false;
    write(opts, dir + "/w.parquet");
    opts.preserve_order = false;
    opts.sync = true;
    std::printf("with fsync: ");
    write(opts, dir + "/w.parquet");
  }

  if (section("appender")) {
    // For comparison: the appender path (copy the batch into a DuckDB table, then COPY it out).
    auto db = duck::Database::Open("", {{"threads", "2"}});
    if (!db.ok()) return 1;
    auto conn = duck::Connection::Open(*db);
    if (!conn.ok()) return 1;
    std::string ddl = "CREATE TABLE bronze (";
    for (size_t i = 0; i < batch.num_columns(); ++i) {
      const Field& f = batch.schema()->field(i);
      ddl += (i ? ", " : "") + duck::QuoteIdentifier(f.name) + " " + duck::DuckTypeName(f.type);
    }
    if (!(*conn)->Execute(ddl + ")").ok()) return 1;
    (void)(*conn)->Execute("SET preserve_insertion_order=false");
    auto start = std::chrono::steady_clock::now();
    double cpu0 = CpuSeconds();
    duckdb_appender appender;
    if (duckdb_appender_create((*conn)->raw(), nullptr, "bronze", &appender) == DuckDBError)
      return 1;
    Status st = duck::AppendBatch(appender, batch);
    duckdb_appender_destroy(&appender);
    double append_s = Seconds(start);
    Status copy = (*conn)->Execute("COPY bronze TO '" + dir +
                                   "/appender.parquet' (FORMAT parquet, COMPRESSION snappy)");
    double total_s = Seconds(start);
    double cpu = CpuSeconds() - cpu0;
    if (!st.ok() || !copy.ok()) return 1;
    std::printf(
        "appender path (snappy): append %.0f rows/s, append+COPY %.0f rows/s, %.0f rows/cpu-s\n",
        rows / append_s, rows / total_s, rows / cpu);
  }

  if (!section("read")) {
    std::filesystem::remove_all(dir);
    return 0;
  }
  auto reader = ParquetReader::Create(2);
  if (!reader.ok()) return 1;
  std::printf("\nread back (all 19 columns into a RecordBatch, 2 threads):\n");
  for (ParquetCodec codec : codecs) {
    ParquetWriteOptions opts;
    opts.codec = codec;
    opts.sync = false;
    std::string path = dir + "/r_" + ParquetCodecName(codec) + ".parquet";
    if (!(*writer)->Write(batch, path, opts).ok()) return 1;
    auto start = std::chrono::steady_clock::now();
    double cpu0 = CpuSeconds();
    auto back = (*reader)->Read({path}, batch.schema());
    double s = Seconds(start);
    double cpu = CpuSeconds() - cpu0;
    if (!back.ok()) {
      std::printf("%s\n", back.status().ToString().c_str());
      return 1;
    }
    std::printf("%-13s %12.0f rows/s %12.0f rows/cpu-s %8.3f s\n", ParquetCodecName(codec),
                back->num_rows() / s, back->num_rows() / cpu, s);
  }
  std::filesystem::remove_all(dir);
  return 0;
}

}  // namespace
}  // namespace strata

int main(int argc, char** argv) {
  return strata::Run(argc, argv);
}
