#include "core/memory.h"

#include <malloc.h>
#include <unistd.h>

#include <cstdio>

#if defined(__SANITIZE_ADDRESS__)
// AddressSanitizer's allocator interface (sanitizer/allocator_interface.h, which Debian's gcc
// does not ship): malloc is ASan's own under it, so glibc's figures and trimming mean nothing.
extern "C" {
size_t __sanitizer_get_current_allocated_bytes();
size_t __sanitizer_get_free_bytes();
void __sanitizer_purge_allocator();
}
#define STRATA_ASAN_ALLOCATOR 1
#endif

namespace strata {

HeapStats ReadHeapStats() {
  HeapStats s;
#if defined(STRATA_ASAN_ALLOCATOR)
  s.in_use = __sanitizer_get_current_allocated_bytes();
  s.free = __sanitizer_get_free_bytes();
#else
  struct mallinfo2 mi = mallinfo2();
  s.in_use = mi.uordblks + mi.hblkhd;
  s.free = mi.fordblks;
#endif
  return s;
}

size_t ResidentBytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (f == nullptr) return 0;
  unsigned long size = 0, resident = 0;
  int n = std::fscanf(f, "%lu %lu", &size, &resident);
  std::fclose(f);
  if (n != 2) return 0;
  return static_cast<size_t>(resident) * static_cast<size_t>(sysconf(_SC_PAGESIZE));
}

void ReleaseFreeHeap() {
#if defined(STRATA_ASAN_ALLOCATOR)
  __sanitizer_purge_allocator();
#else
  malloc_trim(0);
#endif
}

void HeapReclaimer::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Run(); });
}

void HeapReclaimer::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

uint64_t HeapReclaimer::releases() const {
  std::lock_guard<std::mutex> lock(mu_);
  return releases_;
}

void HeapReclaimer::Run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    const bool release = ReadHeapStats().free >= min_free_bytes_;
    if (release) ReleaseFreeHeap();
    lock.lock();
    if (release) ++releases_;
  }
}

}  // namespace strata
