// Rule numbers and per-world parameter defaults from the dictionaries the Python wrapper builds
// (aip_engine._worlds), shared by the CPU module and the CUDA module so that both read them the same way.
#pragma once

#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <vector>

#include "aip/engine.h"

namespace aip {
namespace bindings {

namespace py = pybind11;

inline double get_double(const py::dict& d, const char* key) { return d[key].cast<double>(); }
inline int32_t get_int(const py::dict& d, const char* key) { return d[key].cast<int32_t>(); }

inline aip::Rules rules_from(const py::dict& d) {
  aip::Rules r{};
  r.player_radius = get_double(d, "player_radius");
  r.enemy_radius = get_double(d, "enemy_radius");
  r.missile_radius = get_double(d, "missile_radius");
  r.aim_error = get_double(d, "aim_error");
  r.max_turn = get_double(d, "max_turn");
  r.respawn_min_distance = get_double(d, "respawn_min_distance");
  r.respawn_margin = get_double(d, "respawn_margin");
  r.fire_range = get_double(d, "fire_range");
  r.reward_success = get_double(d, "reward_success");
  r.reward_failure = get_double(d, "reward_failure");
  r.shaping_scale = get_double(d, "shaping_scale");
  r.boundary = get_int(d, "boundary");
  r.fire_cooldown = get_int(d, "fire_cooldown");
  r.missile_life_min = get_int(d, "missile_life_min");
  r.missile_life_max = get_int(d, "missile_life_max");
  r.respawn_delay = get_int(d, "respawn_delay");
  r.respawn_tries = get_int(d, "respawn_tries");
  r.catch_invulnerability = get_int(d, "catch_invulnerability");
  r.wander_min = get_int(d, "wander_min");
  r.wander_max = get_int(d, "wander_max");
  r.time_limit = get_int(d, "time_limit");
  r.task = get_int(d, "task");
  const auto agent = d["agent"].cast<std::vector<int>>();
  const auto rewarded = d["rewarded"].cast<std::vector<int>>();
  if (agent.size() != 3 || rewarded.size() != 3) throw aip::ConfigError("agent and rewarded need 3 flags");
  for (int k = 0; k < 3; ++k) {
    r.agent[k] = agent[k] != 0;
    r.rewarded[k] = rewarded[k] != 0;
  }
  // An Autoreset mode; a Python bool is 0 (disabled) or 1 (same step).
  const int32_t autoreset = get_int(d, "auto_reset");
  if (autoreset < aip::kAutoresetDisabled || autoreset > aip::kAutoresetNextStep) {
    throw aip::ConfigError("unknown autoreset mode code " + std::to_string(autoreset));
  }
  r.auto_reset = static_cast<uint8_t>(autoreset);
  if (r.task < 0 || r.task >= aip::kNumTasks) throw aip::ConfigError("unknown task code");
  if (r.boundary != aip::kWrap && r.boundary != aip::kClamp) throw aip::ConfigError("unknown boundary code");
  return r;
}

inline aip::ParamDefaults params_from(const py::dict& d) {
  aip::ParamDefaults p{};
  p.player_speed = get_double(d, "player_speed");
  p.enemy_speed = get_double(d, "enemy_speed");
  p.enemy_speed_scale = get_double(d, "enemy_speed_scale");
  p.missile_speed = get_double(d, "missile_speed");
  p.arena_width = get_double(d, "arena_width");
  p.arena_height = get_double(d, "arena_height");
  p.fire_probability = get_double(d, "fire_probability");
  p.max_missiles = get_int(d, "max_missiles");
  p.player_bot = get_int(d, "player_bot");
  p.enemy_bot = get_int(d, "enemy_bot");
  p.guidance = get_int(d, "guidance");
  return p;
}

inline void raise_as(const char* cls, const char* what) {
  py::object type = py::module_::import("aip_engine._errors").attr(cls);
  PyErr_SetString(type.ptr(), what);
}

}  // namespace bindings
}  // namespace aip
