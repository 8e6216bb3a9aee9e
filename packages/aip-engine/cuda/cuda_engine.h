// The host side of the CUDA backend: a batch of worlds in device memory, stepped one world per thread.
//
// This header has no CUDA types, so the pybind11 bindings (module.cpp) compile with the host
// compiler alone; everything that touches the CUDA runtime lives in engine.cu. Every CUDA failure
// becomes a CudaError (the bindings raise aip_engine.BackendError); nothing exits the process.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "aip/batch.h"
#include "aip/engine.h"  // ArrayInfo, ParamDefaults and the error types shared with the CPU backend

namespace aip {
namespace cuda {

// A CUDA runtime error, a missing driver or device, or device memory exhausted.
struct CudaError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A second call while a step, reset or observe of the same batch runs in another thread.
struct BusyError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct DeviceInfo {
  int index;
  std::string name;
  size_t total_memory;
  int major, minor;  // compute capability
  int multiprocessors;
  int memory_clock_khz;   // 0 when the driver does not report it
  int memory_bus_width;   // bits; 0 when unknown
  double peak_bandwidth;  // bytes/s from clock and bus width (double data rate); 0 when unknown
};

// Number of visible CUDA devices; 0 (and the reason in `reason`) when there is no driver or device.
int device_count(std::string* reason);
// Every visible device. Throws CudaError when the runtime cannot be queried.
std::vector<DeviceInfo> devices();
// Free and total device memory of `device`, in bytes.
void mem_info(int device, size_t* free_bytes, size_t* total_bytes);
// Waits for all work queued on `device`.
void synchronize(int device);
// The CUDA runtime and driver versions (e.g. 13000); driver 0 when no driver is installed.
int runtime_version();
int driver_version();
// The device that owns `pointer`, or -1 for host or unknown memory.
int pointer_device(const void* pointer);
// Copies between host and device memory of `device`; ordered after the queued work.
void copy_to_host(int device, void* dst, const void* src, size_t bytes);
void copy_to_device(int device, void* dst, const void* src, size_t bytes);
// Makes the backend's stream (the legacy default stream) wait for the work queued on `stream`, a
// cudaStream_t as an integer (0, 1 and 2 are the default streams: nothing to wait for).
void wait_for_stream(int device, uintptr_t stream);
// Makes `stream` wait for the work the backend queued (for consumers on another stream).
void stream_wait_for_backend(int device, uintptr_t stream);

// A block of device memory owned by a Python array (aip_engine._core_cuda.to_device).
class DeviceMemory {
 public:
  DeviceMemory(int device, size_t bytes);
  ~DeviceMemory();
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  void* data() const { return data_; }
  size_t bytes() const { return bytes_; }
  int device() const { return device_; }

 private:
  int device_;
  size_t bytes_;
  void* data_;
};

// Where an action or mask array lives.
struct Input {
  const void* data;  // null: not given
  bool on_device;    // device pointer of the engine's device; otherwise host memory (copied in)
};

class Engine {
 public:
  // Allocates the whole batch in one device allocation (freed by the destructor).
  Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int device);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  int64_t num_worlds() const { return batch_.num_worlds; }
  int device() const { return device_; }
  const Rules& rules() const { return batch_.r; }
  // Bytes of the batch's device allocation, and per world of the state, parameters and outputs.
  size_t allocated_bytes() const { return allocated_; }

  // Reseeds (when `reseed`) and resets the worlds selected by `mask` (bool (N,); all when null).
  void reset(bool reseed, uint64_t seed, Input mask);

  // One frame of every world. Agent roles need actions: (N, act_size) float32, C-contiguous.
  // Actions and parameters are checked on the device first (ActionError, ConfigError).
  void step(Input player, Input enemy, Input missile);

  // Writes the observation of `role` for every world into its buffer.
  void observe(int32_t role);

  // Checks the per-world parameters on the device; throws ConfigError naming field, world, range.
  void check_params();

  // Device pointers of the batch's arrays (same names, dtypes and shapes as the CPU backend).
  std::vector<ArrayInfo> state_arrays() const;
  std::vector<ArrayInfo> param_arrays() const;
  std::vector<ArrayInfo> output_arrays() const;

 private:
  // Runs the check kernel; throws on the first bad parameter or (with actions) non-finite action.
  void validate(bool with_actions);
  const float* stage(int role, Input input);

  int device_;
  std::atomic<bool> busy_{false};  // one call at a time per batch (the GIL is released while it runs)
  Batch batch_;
  size_t allocated_;
  std::unique_ptr<DeviceMemory> memory_;  // one allocation: the batch, staging buffers, check flags
  float* staging_;                        // host actions copied in: player (N,3), enemy (N,2), missile (N,1)
  uint8_t* mask_staging_;                 // a host mask copied in (N,)
  unsigned long long* flags_;             // check results: first bad world / action index per check
};

}  // namespace cuda
}  // namespace aip
