// A coverage-guided fuzzer (libFuzzer) over the C++ core's public surface: an Engine built from an
// arbitrary config and parameter defaults, then an arbitrary program of reset, step, parameter
// writes, state writes, array imports and observations, as the Python bindings can issue them.
//
// Built by the repository's root CMakeLists with -DAIP_ENGINE_FUZZ=ON and clang
// (-fsanitize=fuzzer,address,undefined); docs/security.md says how to run it. Each input is run
// twice, on one thread and on three, and the program stops (a crash libFuzzer saves) when
//   - a sanitizer reports memory misuse or undefined behaviour;
//   - a call throws anything but the documented ConfigError, ShapeError or ActionError;
//   - the two runs disagree on any byte (results must not depend on the thread count);
//   - a batch whose state was only ever changed by the rules holds a non-finite position,
//     observation or reward (a bad input must be refused, never turned into NaN).
#include <fuzzer/FuzzedDataProvider.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include "aip/engine.h"

namespace {

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "step_fuzz: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Mostly a value inside [lo, hi], sometimes an edge, just outside, or not a number at all: the
// constructor's and the step's checks must refuse the bad ones, the rules must survive the rest.
double draw_double(FuzzedDataProvider& in, double lo, double hi) {
  switch (in.ConsumeIntegralInRange<int>(0, 15)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return std::nextafter(lo, -std::numeric_limits<double>::infinity());
    case 3: return std::nextafter(hi, std::numeric_limits<double>::infinity());
    case 4: return std::numeric_limits<double>::quiet_NaN();
    case 5: return in.ConsumeBool() ? std::numeric_limits<double>::infinity() : -std::numeric_limits<double>::infinity();
    case 6: return in.ConsumeFloatingPoint<double>();  // anything finite
    case 7: return 0.0;
    default: return in.ConsumeFloatingPointInRange<double>(lo, hi);
  }
}

// The same for integers; a range whose low end was itself drawn (hi < lo) is the one value lo.
int32_t draw_int(FuzzedDataProvider& in, int32_t lo, int32_t hi) {
  if (hi < lo) hi = lo;
  constexpr int32_t kMin = std::numeric_limits<int32_t>::min();
  constexpr int32_t kMax = std::numeric_limits<int32_t>::max();
  switch (in.ConsumeIntegralInRange<int>(0, 11)) {
    case 0: return lo;
    case 1: return hi;
    case 2: return lo == kMin ? kMax : lo - 1;
    case 3: return hi == kMax ? kMin : hi + 1;
    case 4: return in.ConsumeIntegral<int32_t>();
    default: return in.ConsumeIntegralInRange<int32_t>(lo, hi);
  }
}

aip::Rules draw_rules(FuzzedDataProvider& in) {
  aip::Rules r{};
  r.player_radius = draw_double(in, 0.5, 60);
  r.enemy_radius = draw_double(in, 0.5, 60);
  r.missile_radius = draw_double(in, 0.5, 20);
  r.aim_error = draw_double(in, 0, aip::kPi);
  r.max_turn = draw_double(in, 0, aip::kPi);
  r.respawn_min_distance = draw_double(in, 0, 2000);
  r.respawn_margin = draw_double(in, 0, 200);
  r.fire_range = draw_double(in, 0, 2000);
  r.reward_success = draw_double(in, -1e6, 1e6);
  r.reward_failure = draw_double(in, -1e6, 1e6);
  r.shaping_scale = draw_double(in, 0, 1e6);
  r.boundary = draw_int(in, aip::kWrap, aip::kClamp);
  r.fire_cooldown = draw_int(in, 0, 100);
  r.missile_life_min = draw_int(in, 1, 800);
  r.missile_life_max = draw_int(in, r.missile_life_min, 1000);
  r.respawn_delay = draw_int(in, 1, 100);
  r.respawn_tries = draw_int(in, 1, 1024);
  r.catch_invulnerability = draw_int(in, 0, 100);
  r.wander_min = draw_int(in, 1, 100);
  r.wander_max = draw_int(in, r.wander_min, 200);
  r.time_limit = draw_int(in, 0, 2000);
  r.task = draw_int(in, 0, aip::kNumTasks - 1);
  for (int k = 0; k < 3; ++k) {
    r.agent[k] = in.ConsumeBool();
    r.rewarded[k] = in.ConsumeBool();
  }
  r.auto_reset = static_cast<uint8_t>(draw_int(in, aip::kAutoresetDisabled, aip::kAutoresetNextStep));
  return r;
}

aip::ParamDefaults draw_defaults(FuzzedDataProvider& in) {
  aip::ParamDefaults p{};
  p.player_speed = draw_double(in, 0, 1000);
  p.enemy_speed = draw_double(in, 0, 1000);
  p.enemy_speed_scale = draw_double(in, 0, 1000);
  p.missile_speed = draw_double(in, 0, 1000);
  p.arena_width = draw_double(in, 100, 1e6);
  p.arena_height = draw_double(in, 100, 1e6);
  p.fire_probability = draw_double(in, 0, 1);
  p.max_missiles = draw_int(in, 0, aip::kMaxMissiles);
  p.player_bot = draw_int(in, 0, aip::kFlee);
  p.enemy_bot = draw_int(in, -1, aip::kEvasive);
  p.guidance = draw_int(in, 0, aip::kHoming);
  return p;
}

int64_t draw_worlds(FuzzedDataProvider& in) {
  // Sizes the constructor must refuse before allocating anything (as a batch that does not fit in
  // memory or in size_t), else a small batch.
  switch (in.ConsumeIntegralInRange<int>(0, 31)) {
    case 0: return 0;
    case 1: return -1;
    case 2: return aip::kMaxWorlds + 1;
    case 3: return std::numeric_limits<int64_t>::max();
    case 4: return std::numeric_limits<int64_t>::min();
    default: return in.ConsumeIntegralInRange<int64_t>(1, 7);
  }
}

size_t elements(const aip::ArrayInfo& a, int64_t n) {
  return static_cast<size_t>(n) * static_cast<size_t>(a.d1 > 0 ? a.d1 : 1) * static_cast<size_t>(a.d2 > 0 ? a.d2 : 1);
}

// The bytes of an array of `info`'s type holding what the Python side can pass: state values are
// finite numbers of the array's dtype (Worlds.set_state refuses NaN), parameters anything.
std::vector<unsigned char> draw_values(FuzzedDataProvider& in, const aip::ArrayInfo& info, size_t count, bool finite) {
  std::vector<unsigned char> out(count * static_cast<size_t>(info.itemsize));
  for (size_t k = 0; k < count; ++k) {
    unsigned char* at = out.data() + k * static_cast<size_t>(info.itemsize);
    switch (info.dtype) {
      case 'd': {
        double v = draw_double(in, -2000, 2000);
        if (finite && !std::isfinite(v)) v = 0;
        std::memcpy(at, &v, sizeof v);
        break;
      }
      case 'f': {
        float v = static_cast<float>(draw_double(in, -3, 3));
        if (finite && !std::isfinite(v)) v = 0;
        std::memcpy(at, &v, sizeof v);
        break;
      }
      case 'i': {
        const int32_t v = draw_int(in, -2, 1000);
        std::memcpy(at, &v, sizeof v);
        break;
      }
      case 'u': {
        const uint64_t v = in.ConsumeIntegral<uint64_t>();
        std::memcpy(at, &v, sizeof v);
        break;
      }
      default: {  // bool and uint8: numpy's bool holds 0 or 1; events are counts
        const uint8_t v = info.dtype == 'b' ? static_cast<uint8_t>(in.ConsumeBool()) : in.ConsumeIntegral<uint8_t>();
        *at = v;
        break;
      }
    }
  }
  return out;
}

// Everything a batch holds, for comparing two runs byte for byte.
std::vector<unsigned char> snapshot(const aip::Engine& e) {
  std::vector<unsigned char> out;
  for (const std::vector<aip::ArrayInfo>& infos : {e.state_arrays(), e.param_arrays(), e.output_arrays()}) {
    for (const aip::ArrayInfo& a : infos) {
      const auto* p = static_cast<const unsigned char*>(a.data);
      out.insert(out.end(), p, p + elements(a, e.num_worlds()) * static_cast<size_t>(a.itemsize));
    }
  }
  return out;
}

const aip::ArrayInfo* find(const std::vector<aip::ArrayInfo>& infos, const char* name) {
  for (const aip::ArrayInfo& a : infos) {
    if (std::strcmp(a.name, name) == 0) return &a;
  }
  return nullptr;
}

// A batch only the rules have changed never holds NaN or infinity where the caller reads.
void check_finite(const aip::Engine& e) {
  const int64_t n = e.num_worlds();
  const auto state = e.state_arrays();
  for (const char* name : {"player_pos", "player_vel", "enemy_pos", "enemy_vel", "episode_return"}) {
    const aip::ArrayInfo* a = find(state, name);
    const auto* v = static_cast<const double*>(a->data);
    for (size_t k = 0; k < elements(*a, n); ++k) {
      if (!std::isfinite(v[k])) fail("non-finite state", std::string(name) + "[" + std::to_string(k) + "]");
    }
  }
  const auto outputs = e.output_arrays();
  for (const char* name : {"obs_player", "obs_enemy", "obs_missile", "final_obs_player", "final_obs_enemy",
                           "final_obs_missile", "reward_player", "reward_enemy", "reward_missile"}) {
    const aip::ArrayInfo* a = find(outputs, name);
    const auto* v = static_cast<const float*>(a->data);
    for (size_t k = 0; k < elements(*a, n); ++k) {
      if (!std::isfinite(v[k])) fail("non-finite output", std::string(name) + "[" + std::to_string(k) + "]");
    }
  }
}

// Runs the program the input describes on a batch of `threads` threads; returns the batch's bytes
// after every call, joined (empty when the constructor refused the config).
std::vector<unsigned char> run(const uint8_t* data, size_t size, int threads) {
  FuzzedDataProvider in(data, size);
  const int64_t n = draw_worlds(in);
  const aip::Rules rules = draw_rules(in);
  const aip::ParamDefaults defaults = draw_defaults(in);
  std::unique_ptr<aip::Engine> engine;
  try {
    engine.reset(new aip::Engine(n, rules, defaults, threads));
  } catch (const aip::ConfigError&) {
    return {};
  }
  aip::Engine& e = *engine;
  e.set_min_chunk(1);  // three threads split even a batch of two worlds
  std::vector<unsigned char> trace;
  bool hostile_state = false;  // a state write can put the worlds anywhere: the rules then owe no finiteness
  bool reset_done = false;
  const auto params = e.param_arrays();
  const auto state = e.state_arrays();
  const auto outputs = e.output_arrays();
  const size_t sizes[3] = {aip::kActPlayer, aip::kActEnemy, aip::kActMissile};
  for (int call = 0; call < 64 && in.remaining_bytes() > 0; ++call) {
    try {
      switch (in.ConsumeIntegralInRange<int>(0, 9)) {
        case 0: {  // reset: all worlds or a mask, reseeded or not, maybe with generator states
          const bool reseed = in.ConsumeBool();
          const uint64_t seed = in.ConsumeIntegral<uint64_t>();
          std::vector<uint8_t> mask(static_cast<size_t>(n));
          for (auto& m : mask) m = in.ConsumeBool();
          std::vector<uint64_t> rng(static_cast<size_t>(n));
          for (auto& g : rng) g = in.ConsumeIntegral<uint64_t>();
          const bool masked = in.ConsumeBool();
          e.reset(reseed, seed, masked ? mask.data() : nullptr, in.ConsumeBool() ? rng.data() : nullptr);
          reset_done = reset_done || !masked;
          break;
        }
        case 1:
        case 2:
        case 3: {  // a few steps with actions, mostly in [-1.5, 1.5], sometimes not finite
          std::vector<float> acts[3];
          for (int role = 0; role < 3; ++role) {
            acts[role].resize(static_cast<size_t>(n) * sizes[role]);
            for (auto& a : acts[role]) a = static_cast<float>(draw_double(in, -1.5, 1.5));
          }
          const bool missing = in.ConsumeIntegralInRange<int>(0, 31) == 0;
          const int frames = in.ConsumeIntegralInRange<int>(1, 20);
          for (int f = 0; f < frames; ++f) {
            e.step(missing ? nullptr : acts[0].data(), acts[1].data(), acts[2].data());
            if (reset_done && !hostile_state) check_finite(e);
          }
          break;
        }
        case 4: {  // one per-world parameter set to anything of its type (Worlds.params[name][i] = v)
          const aip::ArrayInfo& a = params[in.ConsumeIntegralInRange<size_t>(0, params.size() - 1)];
          const size_t i = in.ConsumeIntegralInRange<size_t>(0, static_cast<size_t>(n) - 1);
          const std::vector<unsigned char> v = draw_values(in, a, 1, false);
          std::memcpy(static_cast<unsigned char*>(a.data) + i * static_cast<size_t>(a.itemsize), v.data(), v.size());
          break;
        }
        case 5: {  // Worlds.set_state: finite values, or a wrong size
          const aip::ArrayInfo& a = state[in.ConsumeIntegralInRange<size_t>(0, state.size() - 1)];
          const size_t count = elements(a, n) + (in.ConsumeIntegralInRange<int>(0, 15) == 0 ? 1 : 0);
          const std::vector<unsigned char> v = draw_values(in, a, count, true);
          e.write_state(in.ConsumeIntegralInRange<int>(0, 31) == 0 ? std::string("no_such_array") : a.name, v.data(),
                        v.size());
          hostile_state = true;
          break;
        }
        case 6: {  // Worlds.import_state: a few arrays of the three groups at once
          std::vector<std::vector<unsigned char>> keep;
          std::vector<aip::Engine::ArrayWrite> items;
          const int count = in.ConsumeIntegralInRange<int>(1, 4);
          for (int k = 0; k < count; ++k) {
            const int group = in.ConsumeIntegralInRange<int>(0, 2);
            const auto& infos = group == 0 ? state : group == 1 ? params : outputs;
            const aip::ArrayInfo& a = infos[in.ConsumeIntegralInRange<size_t>(0, infos.size() - 1)];
            keep.push_back(draw_values(in, a, elements(a, n), group == 0));
            items.push_back({group == 0 ? "state" : group == 1 ? "params" : "outputs", a.name, keep.back().data(),
                             keep.back().size()});
          }
          hostile_state = true;  // set before the call: a refused import writes nothing, a taken one anything
          e.write_arrays(items);
          break;
        }
        case 7:
          e.observe(draw_int(in, 0, 2));
          break;
        case 8:
          e.check_params();
          break;
        default: {  // a parameter array set to one value for every world (Worlds.params[name][:] = v)
          const aip::ArrayInfo& a = params[in.ConsumeIntegralInRange<size_t>(0, params.size() - 1)];
          const std::vector<unsigned char> v = draw_values(in, a, 1, false);
          for (size_t i = 0; i < static_cast<size_t>(n); ++i) {
            std::memcpy(static_cast<unsigned char*>(a.data) + i * static_cast<size_t>(a.itemsize), v.data(), v.size());
          }
          break;
        }
      }
    } catch (const aip::ConfigError&) {
    } catch (const aip::ShapeError&) {
    } catch (const aip::ActionError&) {
    }  // anything else escapes: std::terminate, a crash libFuzzer keeps
    const std::vector<unsigned char> now = snapshot(e);
    trace.insert(trace.end(), now.begin(), now.end());
  }
  return trace;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::vector<unsigned char> one = run(data, size, 1);
  const std::vector<unsigned char> three = run(data, size, 3);
  if (one != three) fail("thread count changed the results", "1 thread and 3 threads disagree");
  return 0;
}
