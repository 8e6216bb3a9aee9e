#include "aip/thread_pool.h"

#include <unistd.h>

#include <string>
#include <system_error>

#include "aip/errors.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define AIP_PAUSE() _mm_pause()
#else
#define AIP_PAUSE() std::this_thread::yield()
#endif

namespace aip {

namespace {
constexpr int kSpins = 500;  // about 10 microseconds of pause instructions
}  // namespace

ThreadPool::ThreadPool(int threads) : threads_(threads < 1 ? 1 : threads), owner_pid_(static_cast<long>(getpid())) {
  std::string why;
  try {
    workers_.reserve(threads_ - 1);
    for (int t = 1; t < threads_; ++t) workers_.emplace_back([this, t] { work(t); });
    return;
  } catch (const std::system_error& e) {
    why = e.code().message();
  } catch (const std::bad_alloc&) {
    why = "out of memory";
  }
  // A std::thread destroyed while joinable would call std::terminate: stop and join what started.
  const size_t started = workers_.size();
  stop_workers();
  throw ResourceError("could not start " + std::to_string(threads_) + " threads: the operating system refused thread " +
                      std::to_string(started + 2) + " (" + why + "); use fewer threads (the threads argument)");
}

void ThreadPool::stop_workers() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  start_.notify_all();
  for (auto& w : workers_) w.join();
  workers_.clear();
}

ThreadPool::~ThreadPool() {
  if (static_cast<long>(getpid()) != owner_pid_) {
    // After fork() the worker threads do not exist in this process: nothing to join.
    for (auto& w : workers_) w.detach();
    return;
  }
  stop_workers();
}

static inline void chunk_bounds(int64_t n, int chunks, int index, int64_t* begin, int64_t* end) {
  *begin = n * index / chunks;
  *end = n * (index + 1) / chunks;
}

void ThreadPool::run(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t min_chunk) {
  if (n <= 0) return;
  int64_t want = min_chunk > 0 ? (n + min_chunk - 1) / min_chunk : n;
  const int chunks = static_cast<int>(want < threads_ ? want : threads_);
  if (chunks <= 1 || static_cast<long>(getpid()) != owner_pid_) {
    fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = &fn;
    n_ = n;
    chunks_ = chunks;
    pending_.store(chunks - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  start_.notify_all();
  int64_t begin, end;
  chunk_bounds(n, chunks, 0, &begin, &end);
  std::exception_ptr mine;
  try {
    fn(begin, end);
  } catch (...) {
    mine = std::current_exception();  // the workers still read fn: wait for them before unwinding
  }
  for (int spin = 0; spin < kSpins && pending_.load(std::memory_order_acquire) != 0; ++spin) AIP_PAUSE();
  if (pending_.load(std::memory_order_acquire) != 0) {
    std::unique_lock<std::mutex> lock(mutex_);
    done_.wait(lock, [this] { return pending_.load(std::memory_order_acquire) == 0; });
  }
  std::exception_ptr theirs;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    job_ = nullptr;
    theirs = failure_;
    failure_ = nullptr;
  }
  if (mine) std::rethrow_exception(mine);
  if (theirs) std::rethrow_exception(theirs);
}

void ThreadPool::work(int index) {
  uint64_t seen = 0;
  for (;;) {
    const std::function<void(int64_t, int64_t)>* job;
    int64_t n;
    int chunks;
    for (int spin = 0; spin < kSpins && generation_.load(std::memory_order_acquire) == seen; ++spin) AIP_PAUSE();
    {
      std::unique_lock<std::mutex> lock(mutex_);
      start_.wait(lock, [&] { return stop_ || generation_.load(std::memory_order_relaxed) != seen; });
      if (stop_) return;
      seen = generation_.load(std::memory_order_relaxed);
      job = job_;
      n = n_;
      chunks = chunks_;
    }
    if (index < chunks && job != nullptr) {
      int64_t begin, end;
      chunk_bounds(n, chunks, index, &begin, &end);
      try {
        (*job)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mutex_);
        if (!failure_) failure_ = std::current_exception();
      }
      if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
        std::lock_guard<std::mutex> lock(mutex_);
        done_.notify_one();
      }
    }
  }
}

}  // namespace aip
