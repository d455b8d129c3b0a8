#include "lake/parquet/parquet_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/file_util.h"
#include "duck/chunk.h"
#include "duck/duck.h"
#include "lake/parquet/native_parquet_writer.h"

namespace strata {

namespace {

constexpr const char* kScanFunction = "strata_batch_scan";

std::string DirName(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string BaseName(const std::string& path) {
  size_t slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return IOError("cannot open " + path + " to sync: " + std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return IOError("cannot fsync " + path + ": " + std::strerror(err));
  return Status::OK();
}

}  // namespace

const char* ParquetCodecName(ParquetCodec codec) {
  switch (codec) {
    case ParquetCodec::kZstd:
      return "zstd";
    case ParquetCodec::kSnappy:
      return "snappy";
    case ParquetCodec::kLz4:
      return "lz4";
    case ParquetCodec::kUncompressed:
      return "uncompressed";
  }
  return "unknown";
}

Result<ParquetCodec> ParquetCodecFromName(const std::string& name) {
  if (name == "zstd") return ParquetCodec::kZstd;
  if (name == "snappy") return ParquetCodec::kSnappy;
  if (name == "lz4" || name == "lz4_raw") return ParquetCodec::kLz4;
  if (name == "uncompressed" || name == "none") return ParquetCodec::kUncompressed;
  return InvalidArgument("unknown Parquet codec '" + name +
                         "' (expected zstd, snappy, lz4 or uncompressed)");
}

Result<std::unique_ptr<ParquetWriter>> ParquetWriter::Create() {
  return std::unique_ptr<ParquetWriter>(new ParquetWriter());
}

Status ParquetWriter::EnsureDuckDB() {
  if (conn_ != nullptr) return Status::OK();
  std::shared_ptr<duck::Database> db;
  STRATA_ASSIGN_OR_RETURN(db, duck::Database::Open("", {{"threads", "2"}}));
  std::unique_ptr<duck::Connection> conn;
  STRATA_ASSIGN_OR_RETURN(conn, duck::Connection::Open(db));
  auto source = std::make_unique<duck::BatchScanSource>();
  STRATA_RETURN_IF_ERROR(duck::RegisterBatchScan(conn->raw(), kScanFunction, source.get()));
  db_ = std::move(db);
  conn_ = std::move(conn);
  source_ = std::move(source);
  return Status::OK();
}

ParquetWriter::~ParquetWriter() = default;

Status ParquetWriter::ApplySettings(const ParquetWriteOptions& opts) {
  int threads = opts.threads < 1 ? 1 : opts.threads;
  if (threads != threads_) {
    STRATA_RETURN_IF_ERROR(conn_->Execute("SET threads=" + std::to_string(threads))
                               .WithContext("Parquet writer threads"));
    threads_ = threads;
  }
  int preserve = opts.preserve_order ? 1 : 0;
  if (preserve != preserve_order_) {
    STRATA_RETURN_IF_ERROR(conn_
                               ->Execute(std::string("SET preserve_insertion_order=") +
                                         (opts.preserve_order ? "true" : "false"))
                               .WithContext("Parquet writer preserve_order"));
    preserve_order_ = preserve;
  }
  return Status::OK();
}

Result<ParquetFileInfo> ParquetWriter::Write(const RecordBatch& batch, const std::string& path,
                                             const ParquetWriteOptions& opts) {
  return WriteImpl(batch, nullptr, path, opts);
}

Result<ParquetFileInfo> ParquetWriter::WriteRows(const RecordBatch& batch,
                                                 const std::vector<uint32_t>& rows,
                                                 const std::string& path,
                                                 const ParquetWriteOptions& opts) {
  for (uint32_t r : rows) {
    if (r >= batch.num_rows()) {
      return InvalidArgument("row " + std::to_string(r) + " is out of range for a batch of " +
                             std::to_string(batch.num_rows()) + " rows (writing " + path + ")");
    }
  }
  return WriteImpl(batch, &rows, path, opts);
}

Result<ParquetFileInfo> ParquetWriter::WriteImpl(const RecordBatch& batch,
                                                 const std::vector<uint32_t>* rows,
                                                 const std::string& path,
                                                 const ParquetWriteOptions& opts) {
  STRATA_RETURN_IF_ERROR(batch.Validate());
  if (batch.num_columns() == 0) return InvalidArgument("cannot write " + path + ": no columns");
  if (opts.row_group_size < 1) {
    return InvalidArgument("row_group_size must be positive (writing " + path + ")");
  }

  const std::string dir = DirName(path);
  // A hidden name in the same directory: Spark and Delta readers skip files starting with '.',
  // and rename(2) within one file system is atomic.
  const std::string tmp = dir + "/." + BaseName(path) + ".tmp-" + std::to_string(::getpid()) + "-" +
                          std::to_string(++temp_counter_);

  std::vector<ColumnSummary> column_stats;
  if (opts.engine == ParquetEngine::kNative) {
    if (native_ == nullptr) native_ = std::make_unique<NativeParquetWriter>();
    NativeParquetOptions nopts;
    nopts.codec = opts.codec;
    nopts.compression_level = opts.compression_level;
    nopts.row_group_size = opts.row_group_size;
    nopts.dictionary = opts.dictionary;
    auto written = native_->WriteFile(batch, rows, tmp, nopts, &column_stats);
    if (!written.ok()) {
      std::remove(tmp.c_str());
      const Status& st = written.status();
      return Status(st.code(), "cannot write Parquet file " + path + ": " + st.message());
    }
  } else {
    STRATA_RETURN_IF_ERROR(WriteWithDuckDB(batch, rows, path, tmp, opts));
  }
  if (opts.sync) {
    Status s = SyncFile(tmp);
    if (!s.ok()) {
      std::remove(tmp.c_str());
      return s;
    }
  }
  struct stat sb;
  if (::stat(tmp.c_str(), &sb) != 0) {
    return IOError("Parquet file " + tmp + " vanished after writing: " + std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return IOError("cannot rename " + tmp + " to " + path + ": " + std::strerror(err));
  }
  if (opts.sync) STRATA_RETURN_IF_ERROR(SyncDirectory(dir));
  ParquetFileInfo info;
  info.path = path;
  info.size_bytes = static_cast<int64_t>(sb.st_size);
  info.num_rows = static_cast<int64_t>(rows ? rows->size() : batch.num_rows());
  info.column_stats = std::move(column_stats);
  return info;
}

}  // namespace strata

namespace strata {

Status ParquetWriter::WriteWithDuckDB(const RecordBatch& batch, const std::vector<uint32_t>* rows,
                                      const std::string& path, const std::string& tmp,
                                      const ParquetWriteOptions& opts) {
  STRATA_RETURN_IF_ERROR(EnsureDuckDB().WithContext("Parquet writer"));
  STRATA_RETURN_IF_ERROR(ApplySettings(opts));
  std::string sql = "COPY (SELECT * FROM " + std::string(kScanFunction) + "()) TO " +
                    duck::QuoteLiteral(tmp) + " (FORMAT parquet, COMPRESSION " +
                    (opts.codec == ParquetCodec::kLz4 ? "lz4_raw" : ParquetCodecName(opts.codec)) +
                    ", ROW_GROUP_SIZE " + std::to_string(opts.row_group_size);
  if (opts.compression_level != 0 && opts.codec == ParquetCodec::kZstd) {
    sql += ", COMPRESSION_LEVEL " + std::to_string(opts.compression_level);
  }
  if (!opts.dictionary) sql += ", DICTIONARY_SIZE_LIMIT 0";
  sql += ")";

  source_->batch = &batch;
  source_->rows = rows;
  // Each scan thread feeds its own encoder; one is enough when order must be kept.
  source_->max_threads = opts.preserve_order ? 1 : static_cast<size_t>(threads_);
  Status st = conn_->Execute(sql);
  source_->batch = nullptr;
  source_->rows = nullptr;
  if (!st.ok()) {
    std::remove(tmp.c_str());
    return IOError("cannot write Parquet file " + path + ": " + st.message());
  }
  return Status::OK();
}

}  // namespace strata
