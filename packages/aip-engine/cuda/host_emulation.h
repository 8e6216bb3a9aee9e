// Host emulation of the CUDA runtime calls engine.cu makes, for testing the CUDA backend without a GPU.
//
// Built with -DAIP_ENGINE_CUDA_EMULATE=ON: engine.cu is compiled by the host compiler, "device"
// memory is host memory, and a kernel launch is a loop over every (block, thread) on the calling
// thread. The rule functions, the kernels' bodies, the checks, the staging, the bindings and DLPack
// all run as in the real backend; only the arithmetic of the device (sin, cos, atan2) and the
// parallel execution are not exercised. Never used for production builds.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

#define __global__
#define __launch_bounds__(...)

struct dim3 {
  unsigned x = 1, y = 1, z = 1;
};

namespace aip_emulation {
inline thread_local dim3 block_index, thread_index, block_dim;

// Allocated blocks, so that cudaMemGetInfo reports what is in use (the leak test reads it).
struct Heap {
  std::mutex lock;
  std::unordered_map<void*, size_t> blocks;
  size_t used = 0;
};
inline Heap& heap() {
  static Heap h;
  return h;
}
constexpr size_t kTotalMemory = size_t(16) << 30;
}  // namespace aip_emulation

#define blockIdx (::aip_emulation::block_index)
#define threadIdx (::aip_emulation::thread_index)
#define blockDim (::aip_emulation::block_dim)

// kernel<<<grid, block>>>(args...) becomes AIP_LAUNCH(kernel, grid, block, args...).
#define AIP_LAUNCH(kernel, grid, block, ...)                                       \
  do {                                                                             \
    ::aip_emulation::block_dim.x = (block);                                        \
    for (unsigned aip_b = 0; aip_b < static_cast<unsigned>(grid); ++aip_b) {       \
      ::aip_emulation::block_index.x = aip_b;                                      \
      for (unsigned aip_t = 0; aip_t < static_cast<unsigned>(block); ++aip_t) {    \
        ::aip_emulation::thread_index.x = aip_t;                                   \
        kernel(__VA_ARGS__);                                                       \
      }                                                                            \
    }                                                                              \
  } while (0)

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInsufficientDriver = 35,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchFailure = 719,
  cudaErrorMisalignedAddress = 716,
  cudaErrorIllegalInstruction = 715,
  cudaErrorHardwareStackError = 714,
  cudaErrorAssert = 710,
};
enum cudaMemcpyKind { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2 };
enum cudaDeviceAttr { cudaDevAttrMemoryClockRate = 36, cudaDevAttrGlobalMemoryBusWidth = 37 };
enum cudaMemoryType { cudaMemoryTypeUnregistered = 0, cudaMemoryTypeHost = 1, cudaMemoryTypeDevice = 2, cudaMemoryTypeManaged = 3 };

using cudaStream_t = struct aip_emulated_stream*;
using cudaEvent_t = struct aip_emulated_event*;
#define cudaStreamLegacy (reinterpret_cast<cudaStream_t>(0x1))
constexpr unsigned cudaEventDisableTiming = 2;

struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor, multiProcessorCount;
};
struct cudaPointerAttributes {
  cudaMemoryType type;
  int device;
};

inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    default:
      return "cudaErrorUnknown";
  }
}
inline const char* cudaGetErrorString(cudaError_t e) {
  return e == cudaErrorMemoryAllocation ? "out of memory" : (e == cudaErrorInvalidDevice ? "invalid device ordinal" : "error");
}
inline cudaError_t cudaGetLastError() { return cudaSuccess; }
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int d) { return d == 0 ? cudaSuccess : cudaErrorInvalidDevice; }
inline cudaError_t cudaDriverGetVersion(int* v) {
  *v = 0;
  return cudaSuccess;
}
inline cudaError_t cudaRuntimeGetVersion(int* v) {
  *v = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof(*p));
  std::strcpy(p->name, "host emulation (testing only)");
  p->totalGlobalMem = aip_emulation::kTotalMemory;
  p->multiProcessorCount = 1;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr, int) {
  *v = 0;
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }
inline cudaError_t cudaMalloc(void** p, size_t bytes) {
  auto& h = aip_emulation::heap();
  std::lock_guard<std::mutex> guard(h.lock);
  if (bytes > aip_emulation::kTotalMemory - h.used || (*p = std::malloc(bytes)) == nullptr) {
    *p = nullptr;
    return cudaErrorMemoryAllocation;
  }
  h.blocks[*p] = bytes;
  h.used += bytes;
  return cudaSuccess;
}
inline cudaError_t cudaFree(void* p) {
  auto& h = aip_emulation::heap();
  std::lock_guard<std::mutex> guard(h.lock);
  auto it = h.blocks.find(p);
  if (it != h.blocks.end()) {
    h.used -= it->second;
    h.blocks.erase(it);
  }
  std::free(p);
  return cudaSuccess;
}
inline cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  auto& h = aip_emulation::heap();
  std::lock_guard<std::mutex> guard(h.lock);
  *free_bytes = aip_emulation::kTotalMemory - h.used;
  *total_bytes = aip_emulation::kTotalMemory;
  return cudaSuccess;
}
inline cudaError_t cudaPointerGetAttributes(cudaPointerAttributes* a, const void* p) {
  auto& h = aip_emulation::heap();
  std::lock_guard<std::mutex> guard(h.lock);
  a->device = 0;
  a->type = cudaMemoryTypeHost;
  for (const auto& block : h.blocks) {
    const char* start = static_cast<const char*>(block.first);
    if (static_cast<const char*>(p) >= start && static_cast<const char*>(p) < start + block.second) {
      a->type = cudaMemoryTypeDevice;
    }
  }
  return cudaSuccess;
}
inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind) {
  std::memmove(dst, src, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemset(void* p, int value, size_t bytes) {
  std::memset(p, value, bytes);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes) { return cudaMemset(p, value, bytes); }
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) {
  *e = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t) { return cudaSuccess; }
inline cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned) { return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }

inline unsigned long long atomicMin(unsigned long long* p, unsigned long long v) {
  const unsigned long long old = *p;
  *p = std::min(old, v);
  return old;
}
using std::isfinite;
