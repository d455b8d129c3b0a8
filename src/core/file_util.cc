#include "core/file_util.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/crash_point.h"

namespace strata {

namespace {

std::string ErrnoMessage(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + std::strerror(errno);
}

std::string TempNameFor(const std::string& path) {
  static std::atomic<uint64_t> counter{0};
  return path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
}

Status WriteAndSync(const std::string& path, std::string_view data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IOError(ErrnoMessage("cannot create", path));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = IOError(ErrnoMessage("cannot write", path));
      ::close(fd);
      return st;
    }
    off += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0) {
    Status st = IOError(ErrnoMessage("cannot fsync", path));
    ::close(fd);
    return st;
  }
  if (::close(fd) != 0) return IOError(ErrnoMessage("cannot close", path));
  return Status::OK();
}

std::string ParentOf(const std::string& path) {
  auto parent = std::filesystem::path(path).parent_path();
  return parent.empty() ? "." : parent.string();
}

}  // namespace

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (!std::filesystem::exists(path)) return NotFound("no such file: " + path);
    return IOError(ErrnoMessage("cannot open", path));
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) return IOError(ErrnoMessage("cannot read", path));
  return ss.str();
}

Status WriteFileAtomic(const std::string& path, std::string_view data) {
  std::string tmp = TempNameFor(path);
  STRATA_RETURN_IF_ERROR(WriteAndSync(tmp, data));
  CrashPoint("file.before_rename");
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    Status st = IOError(ErrnoMessage("cannot rename to", path));
    ::unlink(tmp.c_str());
    return st;
  }
  return SyncDirectory(ParentOf(path));
}

Result<std::unique_ptr<AtomicFileWriter>> AtomicFileWriter::Open(const std::string& path) {
  std::string tmp = TempNameFor(path);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return IOError(ErrnoMessage("cannot create", tmp));
  return std::unique_ptr<AtomicFileWriter>(new AtomicFileWriter(path, std::move(tmp), fd));
}

AtomicFileWriter::~AtomicFileWriter() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_) ::unlink(tmp_.c_str());
}

Status AtomicFileWriter::Append(std::string_view data) {
  if (fd_ < 0) return Internal("writing " + path_ + " after it was committed or failed");
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::write(fd_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      Status st = IOError(ErrnoMessage("cannot write", tmp_));
      ::close(fd_);
      fd_ = -1;
      return st;
    }
    off += static_cast<size_t>(n);
  }
  bytes_ += data.size();
  return Status::OK();
}

Status AtomicFileWriter::Commit() {
  if (fd_ < 0) return Internal("committing " + path_ + " after it was committed or failed");
  const int fd = fd_;
  fd_ = -1;
  if (::fsync(fd) != 0) {
    Status st = IOError(ErrnoMessage("cannot fsync", tmp_));
    ::close(fd);
    return st;
  }
  if (::close(fd) != 0) return IOError(ErrnoMessage("cannot close", tmp_));
  CrashPoint("file.before_rename");
  if (::rename(tmp_.c_str(), path_.c_str()) != 0)
    return IOError(ErrnoMessage("cannot rename to", path_));
  committed_ = true;
  return SyncDirectory(ParentOf(path_));
}

Status WriteFileIfAbsent(const std::string& path, std::string_view data) {
  std::string tmp = TempNameFor(path);
  STRATA_RETURN_IF_ERROR(WriteAndSync(tmp, data));
  CrashPoint("file.before_link");
  int rc = ::link(tmp.c_str(), path.c_str());
  int err = errno;
  ::unlink(tmp.c_str());
  if (rc != 0) {
    if (err == EEXIST) return AlreadyExists(path + " already exists");
    errno = err;
    return IOError(ErrnoMessage("cannot create", path));
  }
  return SyncDirectory(ParentOf(path));
}

Status CreateDirectories(const std::string& path) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return IOError("cannot create directory " + path + ": " + ec.message());
  return Status::OK();
}

Status SyncDirectory(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return IOError(ErrnoMessage("cannot open directory", path));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return IOError(ErrnoMessage("cannot fsync directory", path));
  return Status::OK();
}

}  // namespace strata
