#include "aip/engine.h"

#include <pthread.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>
#include <type_traits>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "aip/rules.h"

namespace aip {

namespace {

constexpr size_t kAlign = 64;

size_t padded(size_t bytes) { return (bytes + kAlign - 1) / kAlign * kAlign; }

template <typename T>
char dtype_code() {
  if (std::is_same<T, double>::value) return 'd';
  if (std::is_same<T, float>::value) return 'f';
  if (std::is_same<T, int32_t>::value) return 'i';
  if (std::is_same<T, uint64_t>::value) return 'u';
  if (std::is_same<T, uint8_t>::value) return 'B';
  return 'b';
}

int per_world(int d1, int d2) { return (d1 > 0 ? d1 : 1) * (d2 > 0 ? d2 : 1); }

double largest_radius(const Rules& r) { return dmax(dmax(r.player_radius, r.enemy_radius), r.missile_radius); }

const char* const kActionFields[3][3] = {{"move_x", "move_y", "fire"}, {"move_x", "move_y", ""}, {"turn", "", ""}};
const char* const kRoleNames[3] = {"player", "enemy", "missile"};

// The step of worlds [begin, end) for one wiring of the task, known at compile time: one agent
// role (kAgent), rewarded alone, under boundary kBoundary. Everything the step calls is inlined
// (flatten) into a loop over a private copy of the batch whose wiring fields hold the constants, so
// the compiler drops the branches and loops of the other roles and keeps the batch's pointers in
// registers (with the batch shared, every store to a bool or uint8 array could change them).
// The arithmetic is the generic step's, operation for operation.
template <int32_t kAgent, int32_t kBoundary>
__attribute__((flatten)) void step_range_wired(const Batch& shared, int64_t begin, int64_t end) {
  Batch b = shared;
  b.r.boundary = kBoundary;
  for (int32_t role = 0; role < 3; ++role) b.r.agent[role] = b.r.rewarded[role] = role == kAgent;
  for (int64_t i = begin; i < end; ++i) step_world(b, i);
}

__attribute__((flatten)) void step_range_generic(const Batch& shared, int64_t begin, int64_t end) {
  const Batch b = shared;
  for (int64_t i = begin; i < end; ++i) step_world(b, i);
}

void step_range(const Batch& b, int64_t begin, int64_t end) {
  const Rules& r = b.r;
  int32_t agent = -1;
  for (int32_t role = 0; role < 3; ++role) {
    if (r.agent[role] != r.rewarded[role]) agent = -2;
    if (r.agent[role] && agent == -1) agent = role;
    else if (r.agent[role]) agent = -2;
  }
  if (agent >= 0) {
    const bool wrap = r.boundary == kWrap;
    switch (agent) {
      case kPlayer:
        return wrap ? step_range_wired<kPlayer, kWrap>(b, begin, end) : step_range_wired<kPlayer, kClamp>(b, begin, end);
      case kEnemy:
        return wrap ? step_range_wired<kEnemy, kWrap>(b, begin, end) : step_range_wired<kEnemy, kClamp>(b, begin, end);
      default:
        return wrap ? step_range_wired<kMissile, kWrap>(b, begin, end)
                    : step_range_wired<kMissile, kClamp>(b, begin, end);
    }
  }
  step_range_generic(b, begin, end);
}

}  // namespace

// ---- one call at a time, and fork() -----------------------------------------------------------

namespace {

constexpr int kFree = 0;
constexpr int kInCall = 1;
constexpr int kForking = 2;

// Every live Engine, so that the at-fork handlers can wait for the calls in flight.
std::mutex& registry_mutex() {
  static std::mutex* m = new std::mutex;  // never destroyed: fork() may run during exit
  return *m;
}
std::set<Engine*>& registry() {
  static std::set<Engine*>* r = new std::set<Engine*>;
  return *r;
}

void before_fork() {
  registry_mutex().lock();
  for (Engine* e : registry()) e->hold_for_fork();
}
void after_fork() {
  for (Engine* e : registry()) e->release_after_fork();
  registry_mutex().unlock();
}

void register_engine(Engine* e) {
  static std::once_flag once;
  std::call_once(once, [] { pthread_atfork(before_fork, after_fork, after_fork); });
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().insert(e);
}
void unregister_engine(Engine* e) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry().erase(e);
}

std::string gib(double bytes) {
  std::ostringstream out;
  out << std::fixed;
  out.precision(bytes < 1024.0 * 1024.0 * 1024.0 ? 3 : 1);
  out << bytes / (1024.0 * 1024.0 * 1024.0) << " GiB";
  return out.str();
}

}  // namespace

class Engine::Busy {
 public:
  explicit Busy(std::atomic<int>& flag) : flag_(flag) {
    for (;;) {
      int expected = kFree;
      if (flag_.compare_exchange_strong(expected, kInCall, std::memory_order_acquire)) return;
      if (expected != kForking) {
        throw BusyError("this Worlds batch is in use by another thread (a step, reset, observation or set_state "
                        "is running); nothing was changed. Use one batch per thread or serialise the calls");
      }
      std::this_thread::yield();  // another thread is forking: the batch is free again in a moment
    }
  }
  ~Busy() { flag_.store(kFree, std::memory_order_release); }
  Busy(const Busy&) = delete;
  Busy& operator=(const Busy&) = delete;

 private:
  std::atomic<int>& flag_;
};

void Engine::hold_for_fork() {
  for (;;) {
    int expected = kFree;
    if (busy_.compare_exchange_weak(expected, kForking, std::memory_order_acquire)) return;
    std::this_thread::yield();  // a call is in flight (it never waits for the forking thread)
  }
}

void Engine::release_after_fork() { busy_.store(kFree, std::memory_order_release); }

void Engine::Free::operator()(void* p) const { std::free(p); }

// ---- construction ------------------------------------------------------------------------------

namespace {

// Adds the padded size of one array of n worlds to *total; false on overflow.
bool add_array(size_t* total, size_t n, size_t item, int d1, int d2) {
  size_t bytes = 0;
  if (__builtin_mul_overflow(n, item * static_cast<size_t>(per_world(d1, d2)), &bytes)) return false;
  if (__builtin_add_overflow(bytes, kAlign - 1, &bytes)) return false;
  bytes = bytes / kAlign * kAlign;
  return !__builtin_add_overflow(*total, bytes, total);
}

// Bytes per world, without the alignment padding of the arrays.
size_t world_bytes() {
  size_t total = 0;
#define AIP_SIZE(name, type, d1, d2) total += sizeof(type) * static_cast<size_t>(per_world(d1, d2));
  AIP_STATE_FIELDS(AIP_SIZE)
  AIP_OUTPUT_FIELDS(AIP_SIZE)
#define AIP_SIZE3(name, type, d1, d2) total += 3 * sizeof(type) * static_cast<size_t>(per_world(d1, d2));
  AIP_PARAM_FIELDS(AIP_SIZE3)
#undef AIP_SIZE
#undef AIP_SIZE3
  return total + sizeof(float) * (kActPlayer + kActEnemy + kActMissile) + 1;
}

}  // namespace

size_t batch_bytes(int64_t num_worlds) {
  if (num_worlds < 1) return 0;
  const size_t n = static_cast<size_t>(num_worlds);
  size_t total = kAlign;  // room to align the start
  bool ok = true;
#define AIP_SIZE(name, type, d1, d2) ok = ok && add_array(&total, n, sizeof(type), d1, d2);
  AIP_STATE_FIELDS(AIP_SIZE)
  AIP_PARAM_FIELDS(AIP_SIZE)  // the writable parameters
  AIP_PARAM_FIELDS(AIP_SIZE)  // the ones the rules read
  AIP_PARAM_FIELDS(AIP_SIZE)  // the staging copy
  AIP_OUTPUT_FIELDS(AIP_SIZE)
#undef AIP_SIZE
  ok = ok && add_array(&total, n, sizeof(float), kActPlayer, 0) && add_array(&total, n, sizeof(float), kActEnemy, 0) &&
       add_array(&total, n, sizeof(float), kActMissile, 0) && add_array(&total, n, 1, 0, 0);
  return ok ? total : 0;
}

void check_rules(const Rules& r) {
  auto range = [](const char* field, double value, double lo, double hi) {
    if (value >= lo && value <= hi) return;  // NaN fails both
    std::ostringstream msg;
    msg.precision(17);
    msg << "rule '" << field << "' is " << value << "; allowed range is [" << lo << ", " << hi << "]";
    throw ConfigError(msg.str());
  };
  constexpr double kBig = 1e6;
  range("player_radius", r.player_radius, 0.5, 1000);
  range("enemy_radius", r.enemy_radius, 0.5, 1000);
  range("missile_radius", r.missile_radius, 0.5, 1000);
  range("aim_error", r.aim_error, 0, kPi);
  range("max_turn", r.max_turn, 0, kPi);
  range("respawn_min_distance", r.respawn_min_distance, 0, kBig);
  range("respawn_margin", r.respawn_margin, 0, kBig / 2);
  range("fire_range", r.fire_range, 0, kBig);
  range("reward_success", r.reward_success, -kBig, kBig);
  range("reward_failure", r.reward_failure, -kBig, kBig);
  range("shaping_scale", r.shaping_scale, 0, kBig);
  range("boundary", r.boundary, kWrap, kClamp);
  range("fire_cooldown", r.fire_cooldown, 0, kBig);
  range("missile_life_min", r.missile_life_min, 1, kBig);
  range("missile_life_max", r.missile_life_max, r.missile_life_min, kBig);
  range("respawn_delay", r.respawn_delay, 1, kBig);
  range("respawn_tries", r.respawn_tries, 1, 1024);
  range("catch_invulnerability", r.catch_invulnerability, 0, kBig);
  range("wander_min", r.wander_min, 1, kBig);
  range("wander_max", r.wander_max, r.wander_min, kBig);
  range("time_limit", r.time_limit, 0, 1e9);
  range("task", r.task, 0, kNumTasks - 1);
  range("auto_reset", r.auto_reset, kAutoresetDisabled, kAutoresetNextStep);
}

Engine::Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int threads) {
  // Every check runs before anything is allocated or started.
  if (num_worlds < 1 || num_worlds > kMaxWorlds) {
    throw ConfigError("num_worlds must be in [1, " + std::to_string(kMaxWorlds) + "], got " + std::to_string(num_worlds));
  }
  if (threads < 1 || threads > kMaxThreads) {
    throw ConfigError("threads must be in [1, " + std::to_string(kMaxThreads) + "], got " + std::to_string(threads));
  }
  check_rules(rules);
  const size_t total = batch_bytes(num_worlds);
  const double pages = static_cast<double>(sysconf(_SC_PHYS_PAGES));
  const double memory = pages * static_cast<double>(sysconf(_SC_PAGESIZE));
  if (total == 0 || (pages > 0 && static_cast<double>(total) > memory)) {
    throw ConfigError("num_worlds=" + std::to_string(num_worlds) + " needs " +
                      gib(static_cast<double>(world_bytes()) * static_cast<double>(num_worlds)) +
                      " of memory, more than this machine's " + gib(memory) + "; use fewer worlds (" +
                      std::to_string(world_bytes()) + " bytes each)");
  }
  // calloc: large blocks come from the kernel already zeroed, so nothing touches them here.
  memory_.reset(static_cast<unsigned char*>(std::calloc(total, 1)));
  if (!memory_) {
    throw ResourceError("could not allocate " + gib(static_cast<double>(total)) + " for " + std::to_string(num_worlds) +
                        " worlds: the operating system refused the memory; use fewer worlds");
  }
  batch_.num_worlds = num_worlds;
  batch_.r = rules;
  batch_.r.wiring = wire_task(rules);  // the task's declaration (aip/task_table.h)
  batch_.a = Actions{nullptr, nullptr, nullptr};
  const size_t n = static_cast<size_t>(num_worlds);
  unsigned char* cursor = memory_.get();
  const uintptr_t misalign = reinterpret_cast<uintptr_t>(cursor) % kAlign;
  if (misalign) cursor += kAlign - misalign;
  auto take = [&cursor, n](size_t item, int d1, int d2) {
    unsigned char* at = cursor;
    cursor += padded(item * n * per_world(d1, d2));
    return at;
  };
#define AIP_PLACE(group, name, type, d1, d2) group.name = reinterpret_cast<type*>(take(sizeof(type), d1, d2));
#define AIP_PLACE_S(name, type, d1, d2) AIP_PLACE(batch_.s, name, type, d1, d2)
#define AIP_PLACE_P(name, type, d1, d2) AIP_PLACE(batch_.p, name, type, d1, d2)
#define AIP_PLACE_I(name, type, d1, d2) AIP_PLACE(input_, name, type, d1, d2)
#define AIP_PLACE_T(name, type, d1, d2) AIP_PLACE(staged_, name, type, d1, d2)
#define AIP_PLACE_O(name, type, d1, d2) AIP_PLACE(batch_.o, name, type, d1, d2)
  AIP_STATE_FIELDS(AIP_PLACE_S)
  AIP_PARAM_FIELDS(AIP_PLACE_I)
  AIP_PARAM_FIELDS(AIP_PLACE_P)
  AIP_PARAM_FIELDS(AIP_PLACE_T)
  AIP_OUTPUT_FIELDS(AIP_PLACE_O)
#undef AIP_PLACE_S
#undef AIP_PLACE_P
#undef AIP_PLACE_I
#undef AIP_PLACE_T
#undef AIP_PLACE_O
#undef AIP_PLACE
  action_copy_[0] = reinterpret_cast<float*>(take(sizeof(float), kActPlayer, 0));
  action_copy_[1] = reinterpret_cast<float*>(take(sizeof(float), kActEnemy, 0));
  action_copy_[2] = reinterpret_cast<float*>(take(sizeof(float), kActMissile, 0));
  mask_copy_ = take(1, 0, 0);
  for (size_t i = 0; i < n; ++i) {
    input_.player_speed[i] = params.player_speed;
    input_.enemy_speed[i] = params.enemy_speed;
    input_.enemy_speed_scale[i] = params.enemy_speed_scale;
    input_.missile_speed[i] = params.missile_speed;
    input_.arena_width[i] = params.arena_width;
    input_.arena_height[i] = params.arena_height;
    input_.fire_probability[i] = params.fire_probability;
    input_.max_missiles[i] = params.max_missiles;
    input_.player_bot[i] = params.player_bot;
    input_.enemy_bot[i] = params.enemy_bot;
    input_.guidance[i] = params.guidance;
  }
  check_params(input_);
#define AIP_COPY(name, type, d1, d2) std::memcpy(batch_.p.name, input_.name, sizeof(type) * n * per_world(d1, d2));
  AIP_PARAM_FIELDS(AIP_COPY)
#undef AIP_COPY
  pool_.reset(new ThreadPool(threads));
  register_engine(this);
}

Engine::~Engine() { unregister_engine(this); }

namespace {

// Whether every element of a[0..n) lies in [lo, hi] (NaN does not): branch-free loops over one
// array. GCC does not vectorise the double comparisons by itself (they may trap on NaN), hence SSE2.
bool all_in(const double* a, int64_t n, double lo, double hi) {
  int64_t i = 0;
#if defined(__SSE2__)
  const __m128d vlo = _mm_set1_pd(lo);
  const __m128d vhi = _mm_set1_pd(hi);
  __m128d ok0 = _mm_cmpeq_pd(vlo, vlo);  // all ones (lo is not NaN: callers pass constants)
  __m128d ok1 = ok0;
  for (; i + 4 <= n; i += 4) {
    const __m128d x0 = _mm_loadu_pd(a + i);
    const __m128d x1 = _mm_loadu_pd(a + i + 2);
    ok0 = _mm_and_pd(ok0, _mm_and_pd(_mm_cmpge_pd(x0, vlo), _mm_cmple_pd(x0, vhi)));
    ok1 = _mm_and_pd(ok1, _mm_and_pd(_mm_cmpge_pd(x1, vlo), _mm_cmple_pd(x1, vhi)));
  }
  if (_mm_movemask_pd(_mm_and_pd(ok0, ok1)) != 3) return false;
#endif
  bool ok = true;
  for (; i < n; ++i) ok &= (a[i] >= lo) & (a[i] <= hi);
  return ok;
}

bool all_in(const int32_t* a, int64_t n, int32_t lo, int32_t hi) {
  uint32_t bad = 0;  // vectorised by the compiler
  for (int64_t i = 0; i < n; ++i) bad |= static_cast<uint32_t>(a[i] < lo) | static_cast<uint32_t>(a[i] > hi);
  return bad == 0;
}

// Whether no element of a[0..n) is NaN or infinite: an exponent field of all ones marks both.
bool all_finite(const float* a, int64_t n) {
  int64_t j = 0;
#if defined(__SSE2__)
  const __m128i exponent = _mm_set1_epi32(0x7f800000);
  __m128i bad = _mm_setzero_si128();
  for (; j + 4 <= n; j += 4) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + j));
    bad = _mm_or_si128(bad, _mm_cmpeq_epi32(_mm_and_si128(x, exponent), exponent));
  }
  if (_mm_movemask_epi8(bad) != 0) return false;
#endif
  bool finite = true;
  for (; j < n; ++j) finite &= std::isfinite(a[j]);
  return finite;
}

}  // namespace

// Whether every per-world parameter is in range: one vectorised pass per field, run before every
// step. Only when it finds a fault does check_params look for the first one (and name it).
bool Engine::params_ok(const Params& p, int64_t begin, int64_t end) const {
  const int64_t n = end - begin;
  // The arena must also hold every body (2 * the largest radius) and the respawn margins.
  const double arena_min = dmax(dmax(100.0, 2 * batch_.r.respawn_margin), 2 * largest_radius(batch_.r));
  if (!(arena_min <= 1e6)) return false;
  return all_in(p.player_speed + begin, n, 0.0, 1000.0) && all_in(p.enemy_speed + begin, n, 0.0, 1000.0) &&
         all_in(p.enemy_speed_scale + begin, n, 0.0, 1000.0) && all_in(p.missile_speed + begin, n, 0.0, 1000.0) &&
         all_in(p.arena_width + begin, n, arena_min, 1e6) && all_in(p.arena_height + begin, n, arena_min, 1e6) &&
         all_in(p.fire_probability + begin, n, 0.0, 1.0) && all_in(p.max_missiles + begin, n, 0, kMaxMissiles) &&
         all_in(p.player_bot + begin, n, 0, kFlee) && all_in(p.enemy_bot + begin, n, -1, kEvasive) &&
         all_in(p.guidance + begin, n, 0, kHoming) && all_in(p.player_driver + begin, n, 0, kDriverFirstBot + kFlee) &&
         all_in(p.enemy_driver + begin, n, 0, kDriverFirstBot + kEvasive);
}

void Engine::check_params(const Params& p) const {
  if (params_ok(p, 0, batch_.num_worlds)) return;
  const int64_t n = batch_.num_worlds;
  auto fail = [](const char* field, int64_t i, double value, const char* range) {
    std::ostringstream msg;
    msg.precision(17);
    msg << "params['" << field << "'][" << i << "] is " << value << "; "
        << (range[0] == '[' ? "allowed range is " : "it must be ") << range;
    throw ConfigError(msg.str());
  };
  const double margin2 = 2 * batch_.r.respawn_margin;
  const double body2 = 2 * largest_radius(batch_.r);
  for (int64_t i = 0; i < n; ++i) {
    const double speeds[4] = {p.player_speed[i], p.enemy_speed[i], p.enemy_speed_scale[i], p.missile_speed[i]};
    const char* names[4] = {"player_speed", "enemy_speed", "enemy_speed_scale", "missile_speed"};
    for (int k = 0; k < 4; ++k) {
      if (!(speeds[k] >= 0 && speeds[k] <= 1000)) fail(names[k], i, speeds[k], "[0, 1000]");
    }
    if (!(p.arena_width[i] >= 100 && p.arena_width[i] <= 1e6)) fail("arena_width", i, p.arena_width[i], "[100, 1000000]");
    if (!(p.arena_height[i] >= 100 && p.arena_height[i] <= 1e6))
      fail("arena_height", i, p.arena_height[i], "[100, 1000000]");
    if (p.arena_width[i] < margin2) fail("arena_width", i, p.arena_width[i], "at least 2 * respawn_margin (the config's)");
    if (p.arena_height[i] < margin2) fail("arena_height", i, p.arena_height[i], "at least 2 * respawn_margin (the config's)");
    if (p.arena_width[i] < body2)
      fail("arena_width", i, p.arena_width[i], "at least 2 * the largest body radius (the config's)");
    if (p.arena_height[i] < body2)
      fail("arena_height", i, p.arena_height[i], "at least 2 * the largest body radius (the config's)");
    if (!(p.fire_probability[i] >= 0 && p.fire_probability[i] <= 1))
      fail("fire_probability", i, p.fire_probability[i], "[0, 1]");
    if (p.max_missiles[i] < 0 || p.max_missiles[i] > kMaxMissiles) fail("max_missiles", i, p.max_missiles[i], "[0, 3]");
    if (p.player_bot[i] < 0 || p.player_bot[i] > kFlee) fail("player_bot", i, p.player_bot[i], "[0, 4] (bots('player'))");
    if (p.enemy_bot[i] < -1 || p.enemy_bot[i] > kEvasive)
      fail("enemy_bot", i, p.enemy_bot[i], "[-1, 7] (bots('enemy'); -1 draws a target motion)");
    if (p.guidance[i] < 0 || p.guidance[i] > kHoming) fail("guidance", i, p.guidance[i], "[0, 1] (bots('missile'))");
    if (p.player_driver[i] < 0 || p.player_driver[i] > kDriverFirstBot + kFlee)
      fail("player_driver", i, p.player_driver[i], "[0, 5] (0: the caller's actions; 1 + k: bots('player')[k])");
    if (p.enemy_driver[i] < 0 || p.enemy_driver[i] > kDriverFirstBot + kEvasive)
      fail("enemy_driver", i, p.enemy_driver[i], "[0, 8] (0: the caller's actions; 1 + k: bots('enemy')[k])");
  }
  // Only a rule no arena can meet is left (2 * respawn_margin or 2 * a radius above 1e6).
  throw ConfigError("no arena can hold this config's bodies and respawn margins: arena sides are at most 1000000");
}

void Engine::check_actions(const float* player, const float* enemy, const float* missile) const {
  const float* acts[3] = {player, enemy, missile};
  const int sizes[3] = {kActPlayer, kActEnemy, kActMissile};
  const int64_t n = batch_.num_worlds;
  for (int role = 0; role < 3; ++role) {
    if (!batch_.r.agent[role]) continue;
    const float* a = acts[role];
    if (a == nullptr) {
      throw ShapeError(std::string("missing actions for the agent role '") + kRoleNames[role] + "'");
    }
    const int64_t count = n * sizes[role];
    if (all_finite(a, count)) continue;
    for (int64_t j = 0; j < count; ++j) {
      if (!std::isfinite(a[j])) {
        std::ostringstream msg;
        msg << "action of role '" << kRoleNames[role] << "' is not finite: world " << j / sizes[role] << ", field '"
            << kActionFields[role][j % sizes[role]] << "' is " << a[j]
            << "; every action value must be a finite number";
        throw ActionError(msg.str());
      }
    }
  }
}

namespace {

// Copies worlds [begin, end) of every parameter array from `from` to `to`.
void copy_params(const Params& from, const Params& to, int64_t begin, int64_t end) {
#define AIP_COPY_RANGE(name, type, d1, d2) \
  std::memcpy(to.name + begin, from.name + begin, sizeof(type) * static_cast<size_t>(end - begin));
  AIP_PARAM_FIELDS(AIP_COPY_RANGE)
#undef AIP_COPY_RANGE
}

// Whether worlds [begin, end) of every parameter array are bytewise the same in a and b.
bool params_equal(const Params& a, const Params& b, int64_t begin, int64_t end) {
  bool same = true;
#define AIP_SAME(name, type, d1, d2) \
  same = same && std::memcmp(a.name + begin, b.name + begin, sizeof(type) * static_cast<size_t>(end - begin)) == 0;
  AIP_PARAM_FIELDS(AIP_SAME)
#undef AIP_SAME
  return same;
}

}  // namespace

void Engine::take_params(const uint8_t* mask) {
  std::atomic<bool> ok{true};
  const Params& from = input_;
  const Params& to = staged_;
  pool_->run(batch_.num_worlds, [&](int64_t begin, int64_t end) {
    copy_params(from, to, begin, end);
    if (!params_ok(to, begin, end)) ok.store(false, std::memory_order_relaxed);
  }, min_chunk_);
  if (!ok.load(std::memory_order_relaxed)) check_params(staged_);  // throws, naming the first fault
  if (!mask) {
    std::swap(batch_.p, staged_);
    return;
  }
  // A masked reset changes only the worlds it resets; the others keep the parameters of their
  // last step or reset until their next one.
  const Params& active = batch_.p;
  pool_->run(batch_.num_worlds, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (mask[i]) copy_params(to, active, i, i + 1);
    }
  }, min_chunk_);
}

void Engine::reset(bool reseed, uint64_t seed, const uint8_t* mask, const uint64_t* rng_states) {
  Busy busy(busy_);
  if (mask) {
    std::memcpy(mask_copy_, mask, static_cast<size_t>(batch_.num_worlds));
    mask = mask_copy_;
  }
  take_params(mask);
  if (rng_states) std::memcpy(batch_.s.rng, rng_states, sizeof(uint64_t) * static_cast<size_t>(batch_.num_worlds));
  Batch& b = batch_;
  pool_->run(b.num_worlds, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      if (mask && !mask[i]) continue;
      if (reseed) b.s.rng[i] = seed_state(seed, static_cast<uint64_t>(i));
      reset_world(b, i);
      observe_agents(b, i);
      b.o.reward_player[i] = b.o.reward_enemy[i] = b.o.reward_missile[i] = 0;
      b.o.return_player[i] = b.o.return_enemy[i] = b.o.return_missile[i] = 0;
      b.o.success_player[i] = b.o.success_enemy[i] = b.o.success_missile[i] = b.o.success[i] = 0;
      b.o.terminated[i] = b.o.truncated[i] = 0;
      for (int e = 0; e < kNumEvents; ++e) b.o.events[kNumEvents * i + e] = 0;
      b.o.episode_frames[i] = 0;
    }
  }, min_chunk_);
}

void Engine::step(const float* player, const float* enemy, const float* missile) {
  Busy busy(busy_);
  const float* acts[3] = {player, enemy, missile};
  const int sizes[3] = {kActPlayer, kActEnemy, kActMissile};
  for (int role = 0; role < 3; ++role) {
    if (batch_.r.agent[role] && acts[role] == nullptr) check_actions(player, enemy, missile);  // throws
  }
  // The actions are copied into the engine's buffers and checked there, and the writable parameters
  // compared with the ones the rules read, split over the threads like the step (this reads about a
  // tenth of what the step does; on one thread it would cap the speed-up of two). The step reads
  // only the copies, so another thread writing the caller's arrays meanwhile cannot change what was
  // checked. Only when a check fails do check_actions and check_params find and name the first
  // fault; nothing has changed then.
  struct Checks {  // captured as one pointer: std::function then stores it without allocating
    const Engine& e;
    const float* const* acts;
    const int* sizes;
    std::atomic<bool> actions_ok{true};
    std::atomic<bool> params_same{true};
  } checks{*this, acts, sizes};
  pool_->run(batch_.num_worlds, [&checks](int64_t begin, int64_t end) {
    const Engine& e = checks.e;
    if (!params_equal(e.input_, e.batch_.p, begin, end)) checks.params_same.store(false, std::memory_order_relaxed);
    bool good = true;
    for (int role = 0; role < 3; ++role) {
      if (!e.batch_.r.agent[role]) continue;
      const int64_t k = checks.sizes[role];
      float* copy = e.action_copy_[role] + begin * k;
      std::memcpy(copy, checks.acts[role] + begin * k, sizeof(float) * static_cast<size_t>((end - begin) * k));
      good = good && all_finite(copy, (end - begin) * k);
    }
    if (!good) checks.actions_ok.store(false, std::memory_order_relaxed);
  }, min_chunk_);
  const float* copies[3];
  for (int role = 0; role < 3; ++role) copies[role] = batch_.r.agent[role] ? action_copy_[role] : nullptr;
  if (!checks.actions_ok.load(std::memory_order_relaxed)) check_actions(copies[0], copies[1], copies[2]);  // throws
  // Unchanged parameters were checked when they were taken; changed ones are copied and checked.
  if (!checks.params_same.load(std::memory_order_relaxed)) take_params();
  batch_.a = Actions{copies[0], copies[1], copies[2]};
  const Batch& b = batch_;
  pool_->run(b.num_worlds, [&b](int64_t begin, int64_t end) { step_range(b, begin, end); }, min_chunk_);
  batch_.a = Actions{nullptr, nullptr, nullptr};
}

void Engine::observe(int32_t role) {
  if (role < 0 || role > 2) throw ConfigError("role code must be 0, 1 or 2");
  Busy busy(busy_);
  const Batch& b = batch_;
  pool_->run(b.num_worlds, [&b, role](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = obs_row(b, role, i);
      observe_role(b, i, arena_of(b, i), role, ObsOut{row, row});
    }
  }, min_chunk_);
}

void Engine::write_state(const std::string& name, const void* data, size_t bytes) {
  Busy busy(busy_);
  for (const ArrayInfo& info : state_arrays()) {
    if (name != info.name) continue;
    const size_t size = static_cast<size_t>(batch_.num_worlds) * per_world(info.d1, info.d2) * info.itemsize;
    if (bytes != size) {
      throw ShapeError("state '" + name + "' holds " + std::to_string(size) + " bytes, got " + std::to_string(bytes));
    }
    std::memcpy(info.data, data, size);
    const Batch& b = batch_;
    pool_->run(b.num_worlds, [&b](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) observe_agents(b, i);
    }, min_chunk_);
    return;
  }
  throw ConfigError("unknown state array '" + name + "'");
}

void Engine::write_arrays(const std::vector<ArrayWrite>& items) {
  Busy busy(busy_);
  const std::vector<ArrayInfo> groups[3] = {state_arrays(), param_arrays(), output_arrays()};
  const char* const group_names[3] = {"state", "params", "outputs"};
  std::vector<std::pair<const ArrayInfo*, const ArrayWrite*>> targets;
  for (const ArrayWrite& item : items) {
    const ArrayInfo* found = nullptr;
    for (int g = 0; g < 3 && !found; ++g) {
      if (item.group != group_names[g]) continue;
      for (const ArrayInfo& info : groups[g]) {
        if (item.name == info.name) found = &info;
      }
    }
    if (!found) throw ConfigError("unknown array '" + item.group + "/" + item.name + "'");
    const size_t size = static_cast<size_t>(batch_.num_worlds) * per_world(found->d1, found->d2) * found->itemsize;
    if (item.bytes != size) {
      throw ShapeError("array '" + item.group + "/" + item.name + "' holds " + std::to_string(size) + " bytes, got " +
                       std::to_string(item.bytes));
    }
    targets.emplace_back(found, &item);
  }
  // The parameters to be: the current ones with the imported arrays, checked in the staging block.
  const size_t n = static_cast<size_t>(batch_.num_worlds);
  copy_params(input_, staged_, 0, batch_.num_worlds);
  const std::vector<ArrayInfo> staged_infos = [this] {
    std::vector<ArrayInfo> out;
#define AIP_INFO_T(name, type, d1, d2) \
  out.push_back(ArrayInfo{#name, static_cast<void*>(staged_.name), dtype_code<type>(), d1, d2, int(sizeof(type))});
    AIP_PARAM_FIELDS(AIP_INFO_T)
#undef AIP_INFO_T
    return out;
  }();
  bool params = false;
  for (const auto& [info, item] : targets) {
    if (item->group != "params") continue;
    for (const ArrayInfo& s : staged_infos) {
      if (std::strcmp(s.name, info->name) == 0) std::memcpy(s.data, item->data, item->bytes);
    }
    params = true;
  }
  if (params) check_params(staged_);  // throws; nothing has been written yet
  for (const auto& [info, item] : targets) {
    if (item->group != "params") std::memcpy(info->data, item->data, item->bytes);
  }
  if (params) {
    std::swap(batch_.p, staged_);
    copy_params(batch_.p, input_, 0, static_cast<int64_t>(n));
  }
}

#define AIP_INFO(group, name, type, d1, d2) \
  out.push_back(ArrayInfo{#name, static_cast<void*>(batch_.group.name), dtype_code<type>(), d1, d2, int(sizeof(type))});
#define AIP_INFO_S(name, type, d1, d2) AIP_INFO(s, name, type, d1, d2)
#define AIP_INFO_I(name, type, d1, d2) \
  out.push_back(ArrayInfo{#name, static_cast<void*>(input_.name), dtype_code<type>(), d1, d2, int(sizeof(type))});
#define AIP_INFO_O(name, type, d1, d2) AIP_INFO(o, name, type, d1, d2)

std::vector<ArrayInfo> Engine::state_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_STATE_FIELDS(AIP_INFO_S)
  return out;
}
std::vector<ArrayInfo> Engine::param_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_PARAM_FIELDS(AIP_INFO_I)
  return out;
}
std::vector<ArrayInfo> Engine::output_arrays() const {
  std::vector<ArrayInfo> out;
  AIP_OUTPUT_FIELDS(AIP_INFO_O)
  return out;
}

}  // namespace aip
