// Runs every task over many seeds with random actions and checks invariants and determinism.
// Built with AddressSanitizer and UndefinedBehaviorSanitizer by the repository's root CMakeLists
// (any report aborts the program), registered with ctest.
#include <atomic>
#include <cmath>
#include <stdexcept>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "aip/engine.h"
#include "aip/rng.h"

namespace {

int failures = 0;

#define CHECK(cond, ...)                                   \
  do {                                                     \
    if (!(cond)) {                                         \
      ++failures;                                          \
      std::fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
      std::fprintf(stderr, __VA_ARGS__);                   \
      std::fprintf(stderr, "\n");                          \
      if (failures > 20) return;                           \
    }                                                      \
  } while (0)

struct TaskSetup {
  const char* name;
  int32_t task;
  int agent[3];
  int32_t player_bot, enemy_bot, guidance, max_missiles, time_limit;
  double fire_probability, player_speed, enemy_speed;
};

const TaskSetup kTasks[] = {
    {"chase-v1", aip::kChaseV1, {0, 1, 0}, aip::kPatterns, 0, aip::kStraight, 0, 600, 0.0, 5, 5},
    {"chase-flee-v1", aip::kChaseFleeV1, {0, 1, 0}, aip::kFlee, 0, aip::kStraight, 0, 900, 0.0, 4.5, 5},
    {"dodge-v1", aip::kDodgeV1, {0, 1, 0}, aip::kKite, 0, aip::kHoming, 3, 900, 0.05, 5, 5},
    {"intercept-v1", aip::kInterceptV1, {0, 0, 1}, aip::kIdle, aip::kRandomMotion, aip::kStraight, 1, 720, 0.0, 5, 3.5},
    {"duel-v1", aip::kDuelV1, {1, 1, 0}, aip::kIdle, 0, aip::kStraight, 3, 1800, 0.05, 5, 5},
    {"play-v1", aip::kPlayV1, {1, 0, 0}, aip::kIdle, aip::kChase, aip::kStraight, 3, 0, 0.05, 5, 5},
    {"survive-v1", aip::kSurviveV1, {1, 0, 0}, aip::kIdle, aip::kStaged, aip::kStraight, 3, 1800, 0.05, 5, 6.5},
    // Bots in every slot, clamp boundary, homing missiles: exercises every bot.
    {"bots-kite-staged", aip::kDodgeV1, {0, 0, 0}, aip::kKite, aip::kStaged, aip::kHoming, 3, 900, 0.2, 5, 5},
    {"bots-patterns-dodge", aip::kDodgeV1, {0, 0, 0}, aip::kPatterns, aip::kDodge, aip::kHoming, 3, 900, 0.3, 5, 5},
    {"bots-wander-intercept", aip::kDuelV1, {0, 0, 0}, aip::kWander, aip::kIntercept, aip::kStraight, 3, 500, 0.3, 5, 5},
    {"bots-flee-evasive", aip::kInterceptV1, {0, 0, 0}, aip::kFlee, aip::kEvasive, aip::kHoming, 3, 720, 0.5, 5, 3.5},
};

aip::Rules rules_for(const TaskSetup& t, int32_t boundary) {
  aip::Rules r{};
  r.player_radius = 25;
  r.enemy_radius = 25;
  r.missile_radius = 5;
  r.aim_error = 0.1;
  r.max_turn = 12 * 3.141592653589793 / 180;
  r.respawn_min_distance = 200;
  r.respawn_margin = 50;
  r.fire_range = 400;
  r.reward_success = 10;
  r.reward_failure = -5;
  r.shaping_scale = 1;
  r.boundary = boundary;
  r.fire_cooldown = 30;
  r.missile_life_min = 480;
  r.missile_life_max = 720;
  r.respawn_delay = 60;
  r.respawn_tries = 16;
  r.catch_invulnerability = 0;
  r.wander_min = 30;
  r.wander_max = 90;
  r.time_limit = t.time_limit;
  r.task = t.task;
  for (int k = 0; k < 3; ++k) {
    r.agent[k] = static_cast<uint8_t>(t.agent[k]);
    r.rewarded[k] = 1;
  }
  r.auto_reset = 1;
  return r;
}

aip::ParamDefaults params_for(const TaskSetup& t) {
  aip::ParamDefaults p{};
  p.player_speed = t.player_speed;
  p.enemy_speed = t.enemy_speed;
  p.enemy_speed_scale = 1;
  p.missile_speed = 5;
  p.arena_width = 1280;
  p.arena_height = 720;
  p.fire_probability = t.fire_probability;
  p.max_missiles = t.max_missiles;
  p.player_bot = t.player_bot;
  p.enemy_bot = t.enemy_bot;
  p.guidance = t.guidance;
  return p;
}

std::vector<unsigned char> snapshot(const aip::Engine& e) {
  std::vector<unsigned char> out;
  auto add = [&](const std::vector<aip::ArrayInfo>& infos) {
    for (const auto& a : infos) {
      const size_t bytes = static_cast<size_t>(e.num_worlds()) * (a.d1 > 0 ? a.d1 : 1) * (a.d2 > 0 ? a.d2 : 1) * a.itemsize;
      const unsigned char* p = static_cast<const unsigned char*>(a.data);
      out.insert(out.end(), p, p + bytes);
    }
  };
  add(e.state_arrays());
  add(e.output_arrays());
  return out;
}

template <typename T>
const T* array_of(const std::vector<aip::ArrayInfo>& infos, const char* name) {
  for (const auto& a : infos) {
    if (std::strcmp(a.name, name) == 0) return static_cast<const T*>(a.data);
  }
  return nullptr;
}

void check_invariants(const aip::Engine& e, const TaskSetup& t, int32_t boundary, int frame) {
  const auto st = e.state_arrays();
  const auto out = e.output_arrays();
  const double* pp = array_of<double>(st, "player_pos");
  const double* ep = array_of<double>(st, "enemy_pos");
  const bool* alive = array_of<bool>(st, "missile_alive");
  const int32_t* life = array_of<int32_t>(st, "missile_life");
  const int32_t* timer = array_of<int32_t>(st, "enemy_respawn_timer");
  const bool* active = array_of<bool>(st, "enemy_active");
  const uint8_t* events = array_of<uint8_t>(out, "events");
  const float* obs[3] = {array_of<float>(out, "obs_player"), array_of<float>(out, "obs_enemy"),
                         array_of<float>(out, "obs_missile")};
  const int sizes[3] = {aip::kObsPlayer, aip::kObsEnemy, aip::kObsMissile};
  for (int64_t i = 0; i < e.num_worlds(); ++i) {
    for (int k = 0; k < 2; ++k) {
      const double lim = k == 0 ? 1280 : 720;
      CHECK(std::isfinite(pp[2 * i + k]) && std::isfinite(ep[2 * i + k]), "%s frame %d world %lld: position not finite",
            t.name, frame, static_cast<long long>(i));
      if (boundary == aip::kWrap) {
        CHECK(pp[2 * i + k] >= 0 && pp[2 * i + k] < lim, "%s frame %d world %lld: player outside the arena", t.name,
              frame, static_cast<long long>(i));
      } else {
        CHECK(pp[2 * i + k] >= 25 && pp[2 * i + k] <= lim - 25, "%s frame %d world %lld: player not clamped", t.name,
              frame, static_cast<long long>(i));
      }
    }
    int n_alive = 0;
    for (int k = 0; k < 3; ++k) {
      if (alive[3 * i + k]) {
        ++n_alive;
        CHECK(life[3 * i + k] > 0 && life[3 * i + k] <= 720, "%s: alive missile with life %d", t.name, life[3 * i + k]);
      }
    }
    CHECK(n_alive <= t.max_missiles || t.task == aip::kInterceptV1, "%s: %d missiles alive, max %d", t.name, n_alive,
          t.max_missiles);
    CHECK(active[i] || (timer[i] > 0 && timer[i] <= 60), "%s: inactive enemy with respawn timer %d", t.name, timer[i]);
    CHECK(events[5 * i + 0] <= 1 && events[5 * i + 1] <= 1 && events[5 * i + 2] <= 1 && events[5 * i + 3] <= 1 &&
              events[5 * i + 4] <= 3,
          "%s: impossible event counts", t.name);
    for (int role = 0; role < 3; ++role) {
      if (!t.agent[role]) continue;
      for (int j = 0; j < sizes[role]; ++j) {
        const float v = obs[role][sizes[role] * i + j];
        CHECK(std::isfinite(v) && std::fabs(v) <= 3.0f, "%s frame %d world %lld: observation %d of role %d is %g",
              t.name, frame, static_cast<long long>(i), j, role, static_cast<double>(v));
      }
    }
  }
}

void fill_actions(aip::Rng& rng, std::vector<float>& a) {
  for (auto& x : a) {
    const double u = rng.uniform();
    x = u < 0.05 ? 0.0f : static_cast<float>(rng.uniform(-1.5, 1.5));
  }
}

void run_task(const TaskSetup& t, int32_t boundary, uint64_t seed) {
  const int64_t n = 37;  // not a multiple of any chunk size
  const int frames = 1500;
  aip::Engine one(n, rules_for(t, boundary), params_for(t), 1);
  aip::Engine three(n, rules_for(t, boundary), params_for(t), 3);
  three.set_min_chunk(1);  // split 37 worlds over 3 threads
  one.reset(true, seed, nullptr);
  three.reset(true, seed, nullptr);
  uint64_t action_state = seed * 7919 + 17;
  aip::Rng rng{&action_state};
  std::vector<float> player(n * aip::kActPlayer), enemy(n * aip::kActEnemy), missile(n * aip::kActMissile);
  long events_total[5] = {0, 0, 0, 0, 0};
  for (int f = 1; f <= frames; ++f) {
    fill_actions(rng, player);
    fill_actions(rng, enemy);
    fill_actions(rng, missile);
    one.step(player.data(), enemy.data(), missile.data());
    three.step(player.data(), enemy.data(), missile.data());
    check_invariants(one, t, boundary, f);
    const uint8_t* ev = array_of<uint8_t>(one.output_arrays(), "events");
    for (int64_t i = 0; i < n; ++i) {
      for (int k = 0; k < 5; ++k) events_total[k] += ev[5 * i + k];
    }
    if (f % 250 == 0) {
      CHECK(snapshot(one) == snapshot(three), "%s seed %llu frame %d: 1 and 3 threads differ", t.name,
            static_cast<unsigned long long>(seed), f);
    }
    if (failures > 20) return;
  }
  std::printf("%-22s %s seed %llu: fire %ld hit %ld catch %ld respawn %ld expire %ld\n", t.name,
              boundary == aip::kWrap ? "wrap " : "clamp", static_cast<unsigned long long>(seed), events_total[0],
              events_total[1], events_total[2], events_total[3], events_total[4]);
}

void check_errors() {
  const TaskSetup& t = kTasks[0];
  aip::Engine e(8, rules_for(t, aip::kWrap), params_for(t), 2);
  e.reset(true, 1, nullptr);
  std::vector<float> enemy(8 * 2, 0.0f);
  enemy[5] = std::nanf("");
  bool thrown = false;
  try {
    e.step(nullptr, enemy.data(), nullptr);
  } catch (const aip::ActionError& err) {
    thrown = std::string(err.what()).find("world 2") != std::string::npos;
  }
  CHECK(thrown, "a NaN action must raise ActionError naming world 2");
  thrown = false;
  try {
    e.step(nullptr, nullptr, nullptr);
  } catch (const aip::ShapeError&) {
    thrown = true;
  }
  CHECK(thrown, "missing agent actions must raise ShapeError");
  auto params = e.param_arrays();
  for (const auto& a : params) {
    if (std::strcmp(a.name, "max_missiles") == 0) static_cast<int32_t*>(a.data)[3] = 9;
  }
  thrown = false;
  enemy[5] = 0;
  try {
    e.step(nullptr, enemy.data(), nullptr);
  } catch (const aip::ConfigError& err) {
    thrown = std::string(err.what()).find("max_missiles") != std::string::npos;
  }
  CHECK(thrown, "an out-of-range parameter must raise ConfigError");
}

template <typename Error, typename Fn>
bool throws(Fn fn, const char* text) {
  try {
    fn();
  } catch (const Error& err) {
    return std::string(err.what()).find(text) != std::string::npos;
  }
  return false;
}

// Sizes, rules and threads are refused before anything is allocated; a refused call changes nothing.
void check_limits() {
  const TaskSetup& t = kTasks[0];
  const aip::Rules r = rules_for(t, aip::kWrap);
  const aip::ParamDefaults p = params_for(t);
  CHECK(aip::batch_bytes(int64_t(1) << 62) == 0, "a byte size past 2^64 must be reported, not wrapped");
  CHECK(throws<aip::ConfigError>([&] { aip::Engine e(int64_t(1) << 62, r, p, 1); }, "num_worlds must be in"),
        "2^62 worlds must be refused");
  CHECK(throws<aip::ConfigError>([&] { aip::Engine e(aip::kMaxWorlds, r, p, 1); }, "of memory, more than"),
        "a batch larger than the machine must be refused");
  CHECK(throws<aip::ConfigError>([&] { aip::Engine e(4, r, p, 100000); }, "threads must be in"),
        "100000 threads must be refused");
  aip::Rules bad = r;
  bad.respawn_tries = 0;
  CHECK(throws<aip::ConfigError>([&] { aip::Engine e(4, bad, p, 1); }, "respawn_tries"), "bad rules must be refused");
  bad = r;
  bad.enemy_radius = 400;  // larger than half the 720 px arena
  CHECK(throws<aip::ConfigError>([&] { aip::Engine e(4, bad, p, 1); }, "largest body radius"),
        "a body larger than the arena must be refused");

  // A parameter refused at a step leaves the parameters the rules read, and the state, unchanged.
  aip::Engine e(8, r, p, 2);
  e.reset(true, 7, nullptr);
  const std::vector<unsigned char> before = snapshot(e);
  for (const auto& a : e.param_arrays()) {
    if (std::strcmp(a.name, "arena_width") == 0) static_cast<double*>(a.data)[6] = std::nan("");
  }
  std::vector<float> enemy(8 * 2, 0.25f);
  CHECK(throws<aip::ConfigError>([&] { e.step(nullptr, enemy.data(), nullptr); }, "arena_width"),
        "a NaN arena must be refused");
  CHECK(snapshot(e) == before, "a refused step must change nothing");
  e.observe(aip::kPlayer);  // with the parameters of the last reset: finite
}

// A job that throws on some chunks: the pool waits for every chunk, then rethrows on the caller.
void check_pool_exceptions() {
  aip::ThreadPool pool(3);
  std::atomic<int> ran{0};
  bool thrown = false;
  try {
    pool.run(3000, [&](int64_t begin, int64_t) {
      ran.fetch_add(1);
      if (begin > 0) throw std::runtime_error("chunk failed");
    }, 1000);
  } catch (const std::runtime_error&) {
    thrown = true;
  }
  CHECK(thrown && ran.load() == 3, "the pool must run every chunk and rethrow (ran %d)", ran.load());
  ran = 0;
  pool.run(3000, [&](int64_t, int64_t) { ran.fetch_add(1); }, 1000);
  CHECK(ran.load() == 3, "the pool must still work after a job threw");
}

}  // namespace

int main() {
  check_errors();
  check_limits();
  check_pool_exceptions();
  const int32_t boundaries[2] = {aip::kWrap, aip::kClamp};
  for (const auto& t : kTasks) {
    for (int32_t boundary : boundaries) {
      for (uint64_t seed : {0ULL, 1ULL, 12345ULL, 0xFFFFFFFFFFFFFFFFULL}) {
        run_task(t, boundary, seed);
        if (failures > 20) break;
      }
    }
  }
  if (failures) {
    std::fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  std::printf("all engine checks passed\n");
  return 0;
}
