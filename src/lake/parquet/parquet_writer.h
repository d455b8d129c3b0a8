#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "batch/column_summary.h"
#include "batch/record_batch.h"
#include "core/status.h"

namespace strata::duck {
class Connection;
class Database;
struct BatchScanSource;
}  // namespace strata::duck

namespace strata {

class NativeParquetWriter;

enum class ParquetCodec { kZstd, kSnappy, kLz4, kUncompressed };

// "zstd", "snappy", "lz4" (LZ4_RAW in the file), "uncompressed".
const char* ParquetCodecName(ParquetCodec codec);
Result<ParquetCodec> ParquetCodecFromName(const std::string& name);

// Engine: native by measurement (parquet_bench --only=engines, 2026-11-24, 1M bronze-like rows,
// snappy + dictionary): 2.04M rows per CPU-second and 72 MB against DuckDB's 1.14M and 75 MB; in
// drain_bench 3.6 instead of 4.8 CPU-s per million events (docs/benchmarks.md).
// Codec and row-group defaults were chosen on the DuckDB engine (bench/parquet_bench.cc: 1M
// bronze-like rows, 19 columns, on the shared 2-core box; CPU-time rates are the stable figure
// there, wall rates swung 2-4x with other load):
//   codec         rows/cpu-s   file MB   (row group 122880, dictionary on)
//   snappy        0.95-1.13M   75
//   lz4_raw       0.88-1.05M   75
//   zstd (lvl 3)  0.72-0.84M   46        level 1: same size, ~0.81-0.87M; level 9: 0.27-0.33M
//   uncompressed  1.05-1.16M   120
// Wall clock on a quiet moment, 2 threads: zstd 1.02M, snappy 1.49M, lz4 1.72M,
// uncompressed 1.91M rows/s. Row groups of 16K-122K rows cost the same CPU; 262K and 1M cost
// 20-40% more and save <5% size. Dictionary off saves ~10% CPU but grows files 25-35%
// (uncompressed: 3.3x). Keeping row order halves throughput (one scan thread).
// Snappy is the default: ~30% cheaper than zstd per row and what Spark/Delta write by default;
// use zstd for compaction or cold tables where size matters more than CPU.
// Which encoder writes the file. kNative is strata's own column writer
// (lake/parquet/native_parquet_writer.h): single-threaded, always in batch order, no copy of the
// batch. kDuckDB goes through DuckDB's COPY ... TO (FORMAT parquet). Both write the same schema
// (OPTIONAL columns, the same physical/logical types), readable by any Parquet reader.
enum class ParquetEngine { kNative, kDuckDB };

struct ParquetWriteOptions {
  ParquetEngine engine = ParquetEngine::kNative;
  ParquetCodec codec = ParquetCodec::kSnappy;
  // Codec level; 0 keeps the default (zstd: 3). Only zstd honours it.
  int compression_level = 0;
  // Rows per row group (the DuckDB engine's minimum is 2048; the native one takes any >= 1).
  int64_t row_group_size = 122880;
  // Dictionary encoding for columns whose distinct values fit the dictionary limit (native: string
  // and binary chunks whose sample is at most half distinct, up to 1 MiB / 64K entries, then
  // PLAIN for the rest of the chunk). When false values are written plainly.
  bool dictionary = true;
  // DuckDB engine only (the native engine is single-threaded and always keeps the batch order).
  // Threads DuckDB may use to encode row groups. >1 lets rows land in a different order in the
  // file unless preserve_order is set. 1 by default: the pipeline's layers already run
  // concurrently, each with its own writer, and with 2 DuckDB's calling thread busy-waits for
  // the worker's tasks (measured in docs/benchmarks.md: ~10% of the drain's CPU was that
  // spinning, in pthread_mutex_lock/unlock under Executor::ExecuteTask). Raise it for a lone
  // writer (compaction, a backfill) where wall time matters more than CPU.
  int threads = 1;
  // DuckDB engine only. Keep the batch's row order in the file. With threads > 1 this costs
  // parallelism.
  bool preserve_order = false;
  // fsync the file before renaming it into place, and the directory after.
  bool sync = true;
};

struct ParquetFileInfo {
  std::string path;
  int64_t size_bytes = 0;
  int64_t num_rows = 0;
  // One entry per column of the batch, in schema order, when the native engine wrote the file;
  // empty for the DuckDB engine.
  std::vector<ColumnSummary> column_stats;
};

// Writes RecordBatches as Parquet files, with the engine chosen per call (options.engine):
// strata's native column writer, or DuckDB's COPY ... TO (FORMAT parquet) scanning the batch in
// place through a registered table function (no copy into a DuckDB table).
//
// Lifecycle: Create() is cheap; the native encoder's buffers and, on the first DuckDB-engine
// write, a private in-memory DuckDB database and connection are created lazily and reused for
// every later file. Thread-compatible: one writer per thread; concurrent calls on one writer
// are a bug.
// Types are written as: string -> BYTE_ARRAY UTF8, binary -> BYTE_ARRAY, timestamp ->
// INT64 TIMESTAMP(MICROS, isAdjustedToUTC=true), date -> INT32 DATE, and so on.
class ParquetWriter {
 public:
  // Never fails today; DuckDB is opened by the first DuckDB-engine write (Internal there if it
  // cannot be).
  static Result<std::unique_ptr<ParquetWriter>> Create();
  ~ParquetWriter();
  ParquetWriter(const ParquetWriter&) = delete;
  ParquetWriter& operator=(const ParquetWriter&) = delete;

  // Writes all rows of `batch` to `path`. The file is written under a temporary name in the same
  // directory and renamed into place once complete, so `path` never names a partial file; on
  // error the temporary is removed and `path` is untouched. An existing file at `path` is
  // replaced. A 0-row batch gives a valid file with 0 rows. IOError (naming the path) for file
  // system failures, InvalidArgument for options the engine refuses.
  Result<ParquetFileInfo> Write(const RecordBatch& batch, const std::string& path,
                                const ParquetWriteOptions& opts = {});
  // Same, for the rows whose indexes are listed, in that order (a selection vector; nothing is
  // copied out of the batch).
  Result<ParquetFileInfo> WriteRows(const RecordBatch& batch, const std::vector<uint32_t>& rows,
                                    const std::string& path, const ParquetWriteOptions& opts = {});

 private:
  ParquetWriter() = default;
  Result<ParquetFileInfo> WriteImpl(const RecordBatch& batch, const std::vector<uint32_t>* rows,
                                    const std::string& path, const ParquetWriteOptions& opts);
  Status ApplySettings(const ParquetWriteOptions& opts);
  // Opens DuckDB on first use.
  Status EnsureDuckDB();
  // Writes `tmp` through DuckDB; errors name `path`.
  Status WriteWithDuckDB(const RecordBatch& batch, const std::vector<uint32_t>* rows,
                         const std::string& path, const std::string& tmp,
                         const ParquetWriteOptions& opts);

  std::unique_ptr<NativeParquetWriter> native_;
  std::shared_ptr<duck::Database> db_;
  std::unique_ptr<duck::Connection> conn_;
  std::unique_ptr<duck::BatchScanSource> source_;
  int threads_ = -1;
  int preserve_order_ = -1;
  uint64_t temp_counter_ = 0;
};

}  // namespace strata
