// The CUDA backend: the per-world rules of cpp/include/aip (the same source the CPU loop runs), one
// world per GPU thread, over a batch allocated once in device memory.
//
// Compiled with -fmad=false (no fused multiply-add), the device counterpart of the CPU build's
// -ffp-contract=off: every formula is evaluated as written. Everything runs on the legacy default
// stream, which orders it after and before the work of torch's default stream.
#if defined(AIP_CUDA_EMULATE)
#include "host_emulation.h"  // tests without a GPU: kernels run as loops on the host
#else
#include <cuda_runtime.h>
#define AIP_LAUNCH(kernel, grid, block, ...) kernel<<<(grid), (block)>>>(__VA_ARGS__)
#endif

#include <cstring>
#include <sstream>
#include <type_traits>

#include "aip/rules.h"
#include "cuda_engine.h"

namespace aip {
namespace cuda {

namespace {

constexpr int kBlock = 128;   // threads per block of the step and reset kernels

// Occupancy knob for tuning on a GPU (-DAIP_CUDA_MIN_BLOCKS=N in CMake): asks ptxas to fit N blocks
// of kBlock threads per multiprocessor, trading registers for more warps in flight.
#if defined(AIP_CUDA_MIN_BLOCKS) && AIP_CUDA_MIN_BLOCKS > 0
#define AIP_STEP_BOUNDS __launch_bounds__(kBlock, AIP_CUDA_MIN_BLOCKS)
#else
#define AIP_STEP_BOUNDS __launch_bounds__(kBlock)
#endif
constexpr size_t kAlign = 256;  // every array starts on a 256-byte boundary (coalesced access)

size_t padded(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }
int per_world(int d1, int d2) { return (d1 > 0 ? d1 : 1) * (d2 > 0 ? d2 : 1); }
unsigned blocks_for(int64_t n, int block) { return static_cast<unsigned>((n + block - 1) / block); }

bool is_sticky(cudaError_t e) {
  return e == cudaErrorIllegalAddress || e == cudaErrorLaunchFailure || e == cudaErrorMisalignedAddress ||
         e == cudaErrorIllegalInstruction || e == cudaErrorHardwareStackError || e == cudaErrorAssert;
}

[[noreturn]] void fail(cudaError_t e, const char* what) {
  std::ostringstream msg;
  msg << "CUDA error in " << what << ": " << cudaGetErrorName(e) << " (" << cudaGetErrorString(e) << ")";
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice) {
    std::string reason;
    device_count(&reason);
    msg << "; backend 'cuda' has no usable GPU here: " << reason;
  }
  if (is_sticky(e)) {
    msg << "; the GPU context of this process is now unusable: restart the process";
  } else {
    cudaGetLastError();  // clear a non-sticky error so that later calls are not blamed for it
  }
  throw CudaError(msg.str());
}

void check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail(e, what);
}

// Selects `device` for the calls in its scope and restores the caller's device afterwards.
class DeviceScope {
 public:
  explicit DeviceScope(int device) : device_(device), previous_(-1) {
    check(cudaGetDevice(&previous_), "cudaGetDevice");
    if (previous_ != device_) check(cudaSetDevice(device_), "cudaSetDevice");
  }
  ~DeviceScope() {
    if (previous_ >= 0 && previous_ != device_) cudaSetDevice(previous_);
  }
  DeviceScope(const DeviceScope&) = delete;
  DeviceScope& operator=(const DeviceScope&) = delete;

 private:
  int device_;
  int previous_;
};

// Holds a batch for one call; a concurrent second call is refused, as on the CPU backend.
class Busy {
 public:
  explicit Busy(std::atomic<bool>& flag) : flag_(flag) {
    if (flag_.exchange(true, std::memory_order_acquire)) {
      throw BusyError("this Worlds batch is already being stepped, reset or observed by another thread; "
                      "use one batch per thread or serialise the calls");
    }
  }
  ~Busy() { flag_.store(false, std::memory_order_release); }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  std::atomic<bool>& flag_;
};

template <typename T>
char dtype_code() {
  if (std::is_same<T, double>::value) return 'd';
  if (std::is_same<T, float>::value) return 'f';
  if (std::is_same<T, int32_t>::value) return 'i';
  if (std::is_same<T, uint64_t>::value) return 'u';
  if (std::is_same<T, uint8_t>::value) return 'B';
  return 'b';
}

std::string gib(size_t bytes) {
  std::ostringstream out;
  out.precision(3);
  out << static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0) << " GiB";
  return out.str();
}

const char* const kRoleNames[3] = {"player", "enemy", "missile"};
const char* const kActionFields[3][3] = {{"move_x", "move_y", "fire"}, {"move_x", "move_y", ""}, {"turn", "", ""}};
const int kActSizes[3] = {kActPlayer, kActEnemy, kActMissile};

// ---- per-world parameter check (the ranges of the CPU backend's Engine::check_params) ----------

enum ParamFault : int {
  kParamsOk = 0,
  kPlayerSpeed,
  kEnemySpeed,
  kEnemySpeedScale,
  kMissileSpeed,
  kArenaWidth,
  kArenaHeight,
  kArenaMargin,
  kFireProbability,
  kMaxMissilesFault,
  kPlayerBotFault,
  kEnemyBotFault,
  kGuidanceFault,
  kPlayerDriverFault,
  kEnemyDriverFault,
};

AIP_HD int param_fault(const Params& p, const Rules& r, int64_t i) {
  const double speeds[4] = {p.player_speed[i], p.enemy_speed[i], p.enemy_speed_scale[i], p.missile_speed[i]};
  for (int k = 0; k < 4; ++k) {
    if (!(speeds[k] >= 0 && speeds[k] <= 1000)) return kPlayerSpeed + k;
  }
  if (!(p.arena_width[i] >= 100 && p.arena_width[i] <= 1e6)) return kArenaWidth;
  if (!(p.arena_height[i] >= 100 && p.arena_height[i] <= 1e6)) return kArenaHeight;
  const double side = p.arena_width[i] < p.arena_height[i] ? p.arena_width[i] : p.arena_height[i];
  if (r.respawn_margin > side / 2) return kArenaMargin;
  if (!(p.fire_probability[i] >= 0 && p.fire_probability[i] <= 1)) return kFireProbability;
  if (p.max_missiles[i] < 0 || p.max_missiles[i] > kMaxMissiles) return kMaxMissilesFault;
  if (p.player_bot[i] < 0 || p.player_bot[i] > kFlee) return kPlayerBotFault;
  if (p.enemy_bot[i] < -1 || p.enemy_bot[i] > kEvasive) return kEnemyBotFault;
  if (p.guidance[i] < 0 || p.guidance[i] > kHoming) return kGuidanceFault;
  if (p.player_driver[i] < 0 || p.player_driver[i] > kDriverFirstBot + kFlee) return kPlayerDriverFault;
  if (p.enemy_driver[i] < 0 || p.enemy_driver[i] > kDriverFirstBot + kEvasive) return kEnemyDriverFault;
  return kParamsOk;
}

// The CPU backend's message for a parameter fault of world i (values already on the host).
std::string param_message(int fault, const Params& p, int64_t i) {
  const char* field = "";
  double value = 0;
  const char* range = "";
  switch (fault) {
    case kPlayerSpeed:
      field = "player_speed", value = p.player_speed[0], range = "[0, 1000]";
      break;
    case kEnemySpeed:
      field = "enemy_speed", value = p.enemy_speed[0], range = "[0, 1000]";
      break;
    case kEnemySpeedScale:
      field = "enemy_speed_scale", value = p.enemy_speed_scale[0], range = "[0, 1000]";
      break;
    case kMissileSpeed:
      field = "missile_speed", value = p.missile_speed[0], range = "[0, 1000]";
      break;
    case kArenaWidth:
      field = "arena_width", value = p.arena_width[0], range = "[100, 1000000]";
      break;
    case kArenaHeight:
      field = "arena_height", value = p.arena_height[0], range = "[100, 1000000]";
      break;
    case kArenaMargin:
      field = "arena_width", value = p.arena_width[0] < p.arena_height[0] ? p.arena_width[0] : p.arena_height[0];
      range = "at least 2 * respawn_margin on both sides";
      break;
    case kFireProbability:
      field = "fire_probability", value = p.fire_probability[0], range = "[0, 1]";
      break;
    case kMaxMissilesFault:
      field = "max_missiles", value = p.max_missiles[0], range = "[0, 3]";
      break;
    case kPlayerBotFault:
      field = "player_bot", value = p.player_bot[0], range = "[0, 4] (bots('player'))";
      break;
    case kEnemyBotFault:
      field = "enemy_bot", value = p.enemy_bot[0], range = "[-1, 7] (bots('enemy'); -1 draws a target motion)";
      break;
    case kPlayerDriverFault:
      field = "player_driver", value = p.player_driver[0];
      range = "[0, 5] (0: the caller's actions; 1 + k: bots('player')[k])";
      break;
    case kEnemyDriverFault:
      field = "enemy_driver", value = p.enemy_driver[0];
      range = "[0, 8] (0: the caller's actions; 1 + k: bots('enemy')[k])";
      break;
    default:
      field = "guidance", value = p.guidance[0], range = "[0, 1] (bots('missile'))";
      break;
  }
  std::ostringstream msg;
  msg.precision(17);
  msg << "params['" << field << "'][" << i << "] is " << value << "; allowed range is " << range;
  return msg.str();
}

// ---- kernels --------------------------------------------------------------------------------

__global__ void fill_params_kernel(Params p, ParamDefaults d, int64_t n) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  p.player_speed[i] = d.player_speed;
  p.enemy_speed[i] = d.enemy_speed;
  p.enemy_speed_scale[i] = d.enemy_speed_scale;
  p.missile_speed[i] = d.missile_speed;
  p.arena_width[i] = d.arena_width;
  p.arena_height[i] = d.arena_height;
  p.fire_probability[i] = d.fire_probability;
  p.max_missiles[i] = d.max_missiles;
  p.player_bot[i] = d.player_bot;
  p.enemy_bot[i] = d.enemy_bot;
  p.guidance[i] = d.guidance;
}

// flags[0]: first world with a bad parameter; flags[1 + role]: first non-finite action index.
__global__ void check_kernel(Batch b, bool with_actions, unsigned long long* flags) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= b.num_worlds) return;
  if (param_fault(b.p, b.r, i) != kParamsOk) atomicMin(flags, static_cast<unsigned long long>(i));
  if (!with_actions) return;
  const float* acts[3] = {b.a.player, b.a.enemy, b.a.missile};
  const int sizes[3] = {kActPlayer, kActEnemy, kActMissile};
  for (int role = 0; role < 3; ++role) {
    if (!b.r.agent[role] || acts[role] == nullptr) continue;
    for (int j = 0; j < sizes[role]; ++j) {
      const int64_t k = sizes[role] * i + j;
      if (!isfinite(acts[role][k])) {
        atomicMin(flags + 1 + role, static_cast<unsigned long long>(k));
        break;
      }
    }
  }
}

// The per-world body of the CPU backend's Engine::reset.
__global__ void __launch_bounds__(kBlock) reset_kernel(Batch b, bool reseed, uint64_t seed, const uint8_t* mask) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= b.num_worlds) return;
  if (mask && !mask[i]) return;
  if (reseed) b.s.rng[i] = seed_state(seed, static_cast<uint64_t>(i));
  reset_world(b, i);
  observe_agents(b, i);  // writes the current and the final observation rows
  const Outputs& o = b.o;
  o.reward_player[i] = o.reward_enemy[i] = o.reward_missile[i] = 0;
  o.return_player[i] = o.return_enemy[i] = o.return_missile[i] = 0;
  o.success_player[i] = o.success_enemy[i] = o.success_missile[i] = o.success[i] = 0;
  o.terminated[i] = o.truncated[i] = 0;
  for (int e = 0; e < kNumEvents; ++e) o.events[kNumEvents * i + e] = 0;
  o.episode_frames[i] = 0;
}

// One frame of every world: the same step_world the CPU backend calls in its loop.
__global__ void AIP_STEP_BOUNDS step_kernel(Batch b) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= b.num_worlds) return;
  step_world(b, i);
}

__global__ void __launch_bounds__(kBlock) observe_kernel(Batch b, int32_t role) {
  const int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= b.num_worlds) return;
  float* row = obs_row(b, role, i);
  observe_role(b, i, arena_of(b, i), role, ObsOut{row, row});
}

}  // namespace

// ---- runtime queries --------------------------------------------------------------------------

int device_count(std::string* reason) {
  int count = 0;
  const cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess) {
    cudaGetLastError();
    if (reason) {
      int driver = 0;
      if (cudaDriverGetVersion(&driver) != cudaSuccess) cudaGetLastError();
      if (driver == 0) {
        *reason = "no NVIDIA driver is installed (libcuda.so.1 cannot be loaded)";
      } else {
        *reason = std::string("the CUDA runtime reports ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) +
                  "; driver version " + std::to_string(driver) + ")";
      }
    }
    return 0;
  }
  if (count == 0 && reason) *reason = "the CUDA runtime sees no device";
  return count;
}

std::vector<DeviceInfo> devices() {
  std::vector<DeviceInfo> out;
  const int count = device_count(nullptr);
  for (int d = 0; d < count; ++d) {
    cudaDeviceProp prop;
    check(cudaGetDeviceProperties(&prop, d), "cudaGetDeviceProperties");
    DeviceInfo info{};
    info.index = d;
    info.name = prop.name;
    info.total_memory = prop.totalGlobalMem;
    info.major = prop.major;
    info.minor = prop.minor;
    info.multiprocessors = prop.multiProcessorCount;
    if (cudaDeviceGetAttribute(&info.memory_clock_khz, cudaDevAttrMemoryClockRate, d) != cudaSuccess) {
      cudaGetLastError();
      info.memory_clock_khz = 0;
    }
    if (cudaDeviceGetAttribute(&info.memory_bus_width, cudaDevAttrGlobalMemoryBusWidth, d) != cudaSuccess) {
      cudaGetLastError();
      info.memory_bus_width = 0;
    }
    // Double data rate: two transfers per clock over the whole bus.
    info.peak_bandwidth = 2.0 * info.memory_clock_khz * 1e3 * (info.memory_bus_width / 8.0);
    out.push_back(info);
  }
  return out;
}

void mem_info(int device, size_t* free_bytes, size_t* total_bytes) {
  DeviceScope scope(device);
  check(cudaMemGetInfo(free_bytes, total_bytes), "cudaMemGetInfo");
}

void synchronize(int device) {
  DeviceScope scope(device);
  check(cudaDeviceSynchronize(), "cudaDeviceSynchronize");
}

int runtime_version() {
  int v = 0;
  if (cudaRuntimeGetVersion(&v) != cudaSuccess) cudaGetLastError();
  return v;
}

int driver_version() {
  int v = 0;
  if (cudaDriverGetVersion(&v) != cudaSuccess) cudaGetLastError();
  return v;
}

int pointer_device(const void* pointer) {
  cudaPointerAttributes attr;
  if (cudaPointerGetAttributes(&attr, pointer) != cudaSuccess) {
    cudaGetLastError();
    return -1;
  }
  if (attr.type == cudaMemoryTypeDevice || attr.type == cudaMemoryTypeManaged) return attr.device;
  return -1;
}

void copy_to_host(int device, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device);
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy (device to host)");
}

void copy_to_device(int device, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  DeviceScope scope(device);
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy (host to device)");
}

namespace {
// Makes `waiter` wait for the work queued on `producer` so far.
void order_streams(int device, cudaStream_t producer, cudaStream_t waiter) {
  DeviceScope scope(device);
  cudaEvent_t event;
  check(cudaEventCreateWithFlags(&event, cudaEventDisableTiming), "cudaEventCreateWithFlags");
  cudaError_t e = cudaEventRecord(event, producer);
  if (e == cudaSuccess) e = cudaStreamWaitEvent(waiter, event, 0);
  cudaEventDestroy(event);
  check(e, "ordering CUDA streams");
}
}  // namespace

void wait_for_stream(int device, uintptr_t stream) {
  if (stream <= 2) return;  // the legacy and per-thread default streams are already ordered with ours
  order_streams(device, reinterpret_cast<cudaStream_t>(stream), cudaStreamLegacy);
}

void stream_wait_for_backend(int device, uintptr_t stream) {
  if (stream <= 2) return;
  order_streams(device, cudaStreamLegacy, reinterpret_cast<cudaStream_t>(stream));
}

// ---- device memory ----------------------------------------------------------------------------

DeviceMemory::DeviceMemory(int device, size_t bytes) : device_(device), bytes_(bytes), data_(nullptr) {
  DeviceScope scope(device);
  const cudaError_t e = cudaMalloc(&data_, bytes ? bytes : 1);
  if (e == cudaErrorMemoryAllocation) {
    cudaGetLastError();
    size_t free_bytes = 0, total_bytes = 0;
    cudaMemGetInfo(&free_bytes, &total_bytes);
    data_ = nullptr;
    throw CudaError("cannot allocate " + gib(bytes) + " of device memory on CUDA device " + std::to_string(device) +
                    " (" + gib(free_bytes) + " free of " + gib(total_bytes) + "); use fewer worlds");
  }
  check(e, "cudaMalloc");
}

DeviceMemory::~DeviceMemory() {
  if (!data_) return;
  // A destructor never throws: a failing call leaves nothing to do.
  int previous = -1;
  if (cudaGetDevice(&previous) != cudaSuccess) previous = -1;
  if (previous != device_) cudaSetDevice(device_);
  cudaFree(data_);
  if (previous >= 0 && previous != device_) cudaSetDevice(previous);
  cudaGetLastError();
}

// ---- the engine -------------------------------------------------------------------------------

Engine::Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int device)
    : device_(device), batch_{}, allocated_(0) {
  if (num_worlds < 1) throw ConfigError("num_worlds must be >= 1, got " + std::to_string(num_worlds));
  std::string reason;
  const int count = device_count(&reason);
  if (count == 0) throw CudaError("backend 'cuda' has no usable GPU: " + reason);
  if (device < 0 || device >= count) {
    throw CudaError("CUDA device " + std::to_string(device) + " does not exist; this process sees " +
                    std::to_string(count) + " device(s) (0 to " + std::to_string(count - 1) + ")");
  }
  DeviceScope scope(device);
  batch_.num_worlds = num_worlds;
  if (rules.task < 0 || rules.task >= kNumTasks) throw ConfigError("unknown task code " + std::to_string(rules.task));
  batch_.r = rules;
  batch_.r.wiring = wire_task(rules);  // the task's declaration (aip/task_table.h)
  batch_.a = Actions{nullptr, nullptr, nullptr};
  const size_t n = static_cast<size_t>(num_worlds);
  size_t total = 0;
#define AIP_SIZE(name, type, d1, d2) total += padded(sizeof(type) * n * per_world(d1, d2));
  AIP_STATE_FIELDS(AIP_SIZE)
  AIP_PARAM_FIELDS(AIP_SIZE)
  AIP_OUTPUT_FIELDS(AIP_SIZE)
#undef AIP_SIZE
  const size_t staging_bytes = padded(sizeof(float) * n * (kActPlayer + kActEnemy + kActMissile));
  const size_t mask_bytes = padded(n);
  const size_t flag_bytes = padded(4 * sizeof(unsigned long long));
  memory_.reset(new DeviceMemory(device, total + staging_bytes + mask_bytes + flag_bytes));
  allocated_ = memory_->bytes();
  unsigned char* cursor = static_cast<unsigned char*>(memory_->data());
  check(cudaMemset(cursor, 0, allocated_), "cudaMemset");
#define AIP_PLACE(group, name, type, d1, d2)            \
  batch_.group.name = reinterpret_cast<type*>(cursor); \
  cursor += padded(sizeof(type) * n * per_world(d1, d2));
#define AIP_PLACE_S(name, type, d1, d2) AIP_PLACE(s, name, type, d1, d2)
#define AIP_PLACE_P(name, type, d1, d2) AIP_PLACE(p, name, type, d1, d2)
#define AIP_PLACE_O(name, type, d1, d2) AIP_PLACE(o, name, type, d1, d2)
  AIP_STATE_FIELDS(AIP_PLACE_S)
  AIP_PARAM_FIELDS(AIP_PLACE_P)
  AIP_OUTPUT_FIELDS(AIP_PLACE_O)
#undef AIP_PLACE_S
#undef AIP_PLACE_P
#undef AIP_PLACE_O
#undef AIP_PLACE
  staging_ = reinterpret_cast<float*>(cursor);
  cursor += staging_bytes;
  mask_staging_ = cursor;
  cursor += mask_bytes;
  flags_ = reinterpret_cast<unsigned long long*>(cursor);
  AIP_LAUNCH(fill_params_kernel, blocks_for(num_worlds, 256), 256, batch_.p, params, num_worlds);
  check(cudaGetLastError(), "launching fill_params_kernel");
  check_params();
}

Engine::~Engine() = default;

void Engine::validate(bool with_actions) {
  DeviceScope scope(device_);
  const int64_t n = batch_.num_worlds;
  check(cudaMemsetAsync(flags_, 0xFF, 4 * sizeof(unsigned long long)), "cudaMemsetAsync");
  AIP_LAUNCH(check_kernel, blocks_for(n, 256), 256, batch_, with_actions, flags_);
  check(cudaGetLastError(), "launching check_kernel");
  unsigned long long flags[4];
  check(cudaMemcpy(flags, flags_, sizeof(flags), cudaMemcpyDeviceToHost),
        "reading the check results (an earlier kernel may have failed)");
  const unsigned long long none = ~0ULL;
  // Actions first, then parameters: the order of the CPU backend's Engine::step.
  if (with_actions) {
    const float* acts[3] = {batch_.a.player, batch_.a.enemy, batch_.a.missile};
    for (int role = 0; role < 3; ++role) {
      if (flags[1 + role] == none) continue;
      const int64_t j = static_cast<int64_t>(flags[1 + role]);
      float value = 0;
      copy_to_host(device_, &value, acts[role] + j, sizeof(float));
      std::ostringstream msg;
      msg << "action of role '" << kRoleNames[role] << "' is not finite: world " << j / kActSizes[role] << ", field '"
          << kActionFields[role][j % kActSizes[role]] << "' is " << value
          << "; every action value must be a finite number";
      throw ActionError(msg.str());
    }
  }
  if (flags[0] != none) {
    // Fetch world i's parameters and describe the first fault as the CPU backend does.
    const int64_t i = static_cast<int64_t>(flags[0]);
    double d[7];
    int32_t k[6];
    const double* dsrc[7] = {batch_.p.player_speed, batch_.p.enemy_speed, batch_.p.enemy_speed_scale,
                             batch_.p.missile_speed, batch_.p.arena_width, batch_.p.arena_height,
                             batch_.p.fire_probability};
    const int32_t* ksrc[6] = {batch_.p.max_missiles, batch_.p.player_bot,    batch_.p.enemy_bot,
                              batch_.p.guidance,     batch_.p.player_driver, batch_.p.enemy_driver};
    for (int j = 0; j < 7; ++j) copy_to_host(device_, d + j, dsrc[j] + i, sizeof(double));
    for (int j = 0; j < 6; ++j) copy_to_host(device_, k + j, ksrc[j] + i, sizeof(int32_t));
    Params one{d, d + 1, d + 2, d + 3, d + 4, d + 5, d + 6, k, k + 1, k + 2, k + 3, k + 4, k + 5};
    throw ConfigError(param_message(param_fault(one, batch_.r, 0), one, i));
  }
}

void Engine::check_params() {
  Busy busy(busy_);
  validate(false);
}

const float* Engine::stage(int role, Input input) {
  if (input.data == nullptr) return nullptr;
  if (input.on_device) return static_cast<const float*>(input.data);
  const int64_t n = batch_.num_worlds;
  const int64_t offsets[3] = {0, kActPlayer * n, (kActPlayer + kActEnemy) * n};
  float* dst = staging_ + offsets[role];
  copy_to_device(device_, dst, input.data, sizeof(float) * n * kActSizes[role]);
  return dst;
}

void Engine::reset(bool reseed, uint64_t seed, Input mask) {
  Busy busy(busy_);
  DeviceScope scope(device_);
  validate(false);
  const int64_t n = batch_.num_worlds;
  const uint8_t* mask_ptr = static_cast<const uint8_t*>(mask.data);
  if (mask_ptr && !mask.on_device) {
    copy_to_device(device_, mask_staging_, mask_ptr, static_cast<size_t>(n));
    mask_ptr = mask_staging_;
  }
  AIP_LAUNCH(reset_kernel, blocks_for(n, kBlock), kBlock, batch_, reseed, seed, mask_ptr);
  check(cudaGetLastError(), "launching reset_kernel");
}

void Engine::step(Input player, Input enemy, Input missile) {
  Busy busy(busy_);
  DeviceScope scope(device_);
  const Input inputs[3] = {player, enemy, missile};
  for (int role = 0; role < 3; ++role) {
    if (batch_.r.agent[role] && inputs[role].data == nullptr) {
      throw ShapeError(std::string("missing actions for the agent role '") + kRoleNames[role] + "'");
    }
  }
  batch_.a = Actions{stage(kPlayer, player), stage(kEnemy, enemy), stage(kMissile, missile)};
  try {
    validate(true);
  } catch (...) {
    batch_.a = Actions{nullptr, nullptr, nullptr};
    throw;
  }
  const int64_t n = batch_.num_worlds;
  AIP_LAUNCH(step_kernel, blocks_for(n, kBlock), kBlock, batch_);
  batch_.a = Actions{nullptr, nullptr, nullptr};
  check(cudaGetLastError(), "launching step_kernel");
}

void Engine::observe(int32_t role) {
  if (role < 0 || role > 2) throw ConfigError("role code must be 0, 1 or 2");
  Busy busy(busy_);
  DeviceScope scope(device_);
  const int64_t n = batch_.num_worlds;
  AIP_LAUNCH(observe_kernel, blocks_for(n, kBlock), kBlock, batch_, role);
  check(cudaGetLastError(), "launching observe_kernel");
}

#define AIP_INFO(group, name, type, d1, d2) \
  out.push_back(ArrayInfo{#name, static_cast<void*>(batch_.group.name), dtype_code<type>(), d1, d2, int(sizeof(type))});
#define AIP_INFO_S(name, type, d1, d2) AIP_INFO(s, name, type, d1, d2)
#define AIP_INFO_P(name, type, d1, d2) AIP_INFO(p, name, type, d1, d2)
#define AIP_INFO_O(name, type, d1, d2) AIP_INFO(o, name, type, d1, d2)

std::vector<ArrayInfo> Engine::state_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_STATE_FIELDS(AIP_INFO_S)
  return out;
}
std::vector<ArrayInfo> Engine::param_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_PARAM_FIELDS(AIP_INFO_P)
  return out;
}
std::vector<ArrayInfo> Engine::output_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_OUTPUT_FIELDS(AIP_INFO_O)
  return out;
}

}  // namespace cuda
}  // namespace aip
