#include "aip/engine.h"

#include <cmath>
#include <cstring>
#include <sstream>
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

class Engine::Busy {
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

Engine::Engine(int64_t num_worlds, const Rules& rules, const ParamDefaults& params, int threads)
    : pool_(threads) {
  if (num_worlds < 1) throw ConfigError("num_worlds must be >= 1, got " + std::to_string(num_worlds));
  batch_.num_worlds = num_worlds;
  batch_.r = rules;
  batch_.a = Actions{nullptr, nullptr, nullptr};
  const size_t n = static_cast<size_t>(num_worlds);
  size_t total = 0;
#define AIP_SIZE(name, type, d1, d2) total += padded(sizeof(type) * n * per_world(d1, d2));
  AIP_STATE_FIELDS(AIP_SIZE)
  AIP_PARAM_FIELDS(AIP_SIZE)
  AIP_OUTPUT_FIELDS(AIP_SIZE)
#undef AIP_SIZE
  memory_.reset(new unsigned char[total + kAlign]);
  unsigned char* cursor = memory_.get();
  std::memset(cursor, 0, total + kAlign);
  const uintptr_t misalign = reinterpret_cast<uintptr_t>(cursor) % kAlign;
  if (misalign) cursor += kAlign - misalign;
#define AIP_PLACE(group, name, type, d1, d2)                                  \
  batch_.group.name = reinterpret_cast<type*>(cursor);                       \
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
  for (size_t i = 0; i < n; ++i) {
    batch_.p.player_speed[i] = params.player_speed;
    batch_.p.enemy_speed[i] = params.enemy_speed;
    batch_.p.enemy_speed_scale[i] = params.enemy_speed_scale;
    batch_.p.missile_speed[i] = params.missile_speed;
    batch_.p.arena_width[i] = params.arena_width;
    batch_.p.arena_height[i] = params.arena_height;
    batch_.p.fire_probability[i] = params.fire_probability;
    batch_.p.max_missiles[i] = params.max_missiles;
    batch_.p.player_bot[i] = params.player_bot;
    batch_.p.enemy_bot[i] = params.enemy_bot;
    batch_.p.guidance[i] = params.guidance;
  }
  check_params();
}

Engine::~Engine() = default;

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
bool Engine::params_ok(int64_t begin, int64_t end) const {
  const Params& p = batch_.p;
  const int64_t n = end - begin;
  // The arena must also be at least 2 * respawn_margin wide and high.
  const double arena_min = dmax(100.0, 2 * batch_.r.respawn_margin);
  if (!(arena_min <= 1e6)) return false;
  return all_in(p.player_speed + begin, n, 0.0, 1000.0) && all_in(p.enemy_speed + begin, n, 0.0, 1000.0) &&
         all_in(p.enemy_speed_scale + begin, n, 0.0, 1000.0) && all_in(p.missile_speed + begin, n, 0.0, 1000.0) &&
         all_in(p.arena_width + begin, n, arena_min, 1e6) && all_in(p.arena_height + begin, n, arena_min, 1e6) &&
         all_in(p.fire_probability + begin, n, 0.0, 1.0) && all_in(p.max_missiles + begin, n, 0, kMaxMissiles) &&
         all_in(p.player_bot + begin, n, 0, kFlee) && all_in(p.enemy_bot + begin, n, -1, kEvasive) &&
         all_in(p.guidance + begin, n, 0, kHoming) && all_in(p.player_driver + begin, n, 0, kDriverFirstBot + kFlee) &&
         all_in(p.enemy_driver + begin, n, 0, kDriverFirstBot + kEvasive);
}

void Engine::check_params() const {
  if (params_ok(0, batch_.num_worlds)) return;
  const Params& p = batch_.p;
  const int64_t n = batch_.num_worlds;
  auto fail = [](const char* field, int64_t i, double value, const char* range) {
    std::ostringstream msg;
    msg.precision(17);
    msg << "params['" << field << "'][" << i << "] is " << value << "; "
        << (range[0] == '[' ? "allowed range is " : "it must be ") << range;
    throw ConfigError(msg.str());
  };
  for (int64_t i = 0; i < n; ++i) {
    const double speeds[4] = {p.player_speed[i], p.enemy_speed[i], p.enemy_speed_scale[i], p.missile_speed[i]};
    const char* names[4] = {"player_speed", "enemy_speed", "enemy_speed_scale", "missile_speed"};
    for (int k = 0; k < 4; ++k) {
      if (!(speeds[k] >= 0 && speeds[k] <= 1000)) fail(names[k], i, speeds[k], "[0, 1000]");
    }
    if (!(p.arena_width[i] >= 100 && p.arena_width[i] <= 1e6)) fail("arena_width", i, p.arena_width[i], "[100, 1000000]");
    if (!(p.arena_height[i] >= 100 && p.arena_height[i] <= 1e6))
      fail("arena_height", i, p.arena_height[i], "[100, 1000000]");
    const double margin2 = 2 * batch_.r.respawn_margin;
    if (p.arena_width[i] < margin2) fail("arena_width", i, p.arena_width[i], "at least 2 * respawn_margin (the config's)");
    if (p.arena_height[i] < margin2) fail("arena_height", i, p.arena_height[i], "at least 2 * respawn_margin (the config's)");
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

void Engine::reset(bool reseed, uint64_t seed, const uint8_t* mask) {
  Busy busy(busy_);
  Batch& b = batch_;
  check_params();
  pool_.run(b.num_worlds, [&](int64_t begin, int64_t end) {
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
  // The checks of the actions and the parameters, split over the threads like the step (they read
  // about a tenth of what the step does; on one thread they would cap the speed-up of two). Only
  // when a chunk fails do check_actions and check_params find and name the first fault.
  struct Checks {  // captured as one pointer: std::function then stores it without allocating
    const Engine& e;
    const float* const* acts;
    const int* sizes;
    std::atomic<bool> ok{true};
  } checks{*this, acts, sizes};
  pool_.run(batch_.num_worlds, [&checks](int64_t begin, int64_t end) {
    bool good = checks.e.params_ok(begin, end);
    for (int role = 0; role < 3 && good; ++role) {
      if (checks.e.batch_.r.agent[role]) {
        good = all_finite(checks.acts[role] + begin * checks.sizes[role], (end - begin) * checks.sizes[role]);
      }
    }
    if (!good) checks.ok.store(false, std::memory_order_relaxed);
  }, min_chunk_);
  if (!checks.ok.load(std::memory_order_relaxed)) {
    check_actions(player, enemy, missile);
    check_params();
  }
  batch_.a = Actions{player, enemy, missile};
  const Batch& b = batch_;
  pool_.run(b.num_worlds, [&b](int64_t begin, int64_t end) { step_range(b, begin, end); }, min_chunk_);
  batch_.a = Actions{nullptr, nullptr, nullptr};
}

void Engine::observe(int32_t role) {
  if (role < 0 || role > 2) throw ConfigError("role code must be 0, 1 or 2");
  Busy busy(busy_);
  const Batch& b = batch_;
  pool_.run(b.num_worlds, [&b, role](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      float* row = obs_row(b, role, i);
      observe_role(b, i, arena_of(b, i), role, ObsOut{row, row});
    }
  }, min_chunk_);
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

}  // namespace aip
