// pybind11 bindings of the CPU engine: aip_engine._core.
//
// Arrays cross the boundary without copies: actions are read in place (float32, C-contiguous,
// shape checked), outputs and state are numpy views of buffers the Engine owns, whose base object
// keeps the Engine alive. The GIL is released while worlds are stepped.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <sstream>
#include <string>

#include "aip/engine.h"
#include "config_from_python.h"

namespace py = pybind11;

namespace {

using aip::bindings::params_from;
using aip::bindings::raise_as;
using aip::bindings::rules_from;

const char* const kRoleNames[3] = {"player", "enemy", "missile"};
const int kActSizes[3] = {aip::kActPlayer, aip::kActEnemy, aip::kActMissile};

std::string shape_text(const py::array& a) {
  std::ostringstream out;
  out << "(";
  for (py::ssize_t k = 0; k < a.ndim(); ++k) {
    if (k) out << ", ";
    out << a.shape(k);
  }
  if (a.ndim() == 1) out << ",";
  out << ")";
  return out.str();
}

// The float32 dtype object (numpy's singleton), looked up once: the per-step check compares pointers.
PyObject* float32_descr() {
  static PyObject* const descr = py::dtype::of<float>().release().ptr();
  return descr;
}

// Whether a dtype is float32 (or bool) in native byte order, whatever metadata it carries: numpy's
// equivalence, so that every array np.asarray(x, dtype=np.float32) returns unchanged is accepted.
bool same_type(const py::dtype& dt, const py::dtype& want) {
  return py::detail::npy_api::get().PyArray_EquivTypes_(dt.ptr(), want.ptr());
}

// Returns a pointer to the float32 data of an (n, k) C-contiguous array, or throws ShapeError.
// The common case (a float32 C-contiguous numpy array of the right shape) is decided by reading
// the array's fields directly, without building any Python or C++ object.
const float* action_pointer_checked(const py::object& obj, int role, int64_t n);

inline const float* action_pointer(const py::object& obj, int role, int64_t n) {
  if (obj.is_none()) return nullptr;
  PyObject* o = obj.ptr();
  if (py::detail::npy_api::get().PyArray_Check_(o)) {
    const py::detail::PyArray_Proxy* a = py::detail::array_proxy(o);
    const int k = kActSizes[role];
    const bool shape_ok = (a->nd == 2 && a->dimensions[0] == n && a->dimensions[1] == k) ||
                          (k == 1 && a->nd == 1 && a->dimensions[0] == n);
    if (a->descr == float32_descr() && shape_ok && (a->flags & py::detail::npy_api::NPY_ARRAY_C_CONTIGUOUS_)) {
      return reinterpret_cast<const float*>(a->data);
    }
  }
  return action_pointer_checked(obj, role, n);
}

const float* action_pointer_checked(const py::object& obj, int role, int64_t n) {
  const std::string what = std::string("actions of role '") + kRoleNames[role] + "'";
  const int k = kActSizes[role];
  if (!py::isinstance<py::array>(obj)) {
    throw aip::ShapeError(what + " must be a numpy array of shape (" + std::to_string(n) + ", " + std::to_string(k) +
                          ") and dtype float32, got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
  }
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!same_type(a.dtype(), py::dtype::of<float>())) {
    throw aip::ShapeError(what + " must have dtype float32, got " + std::string(py::str(a.dtype())) +
                          "; convert with np.asarray(actions, dtype=np.float32)");
  }
  const bool shape_ok = (a.ndim() == 2 && a.shape(0) == n && a.shape(1) == k) || (k == 1 && a.ndim() == 1 && a.shape(0) == n);
  if (!shape_ok) {
    throw aip::ShapeError(what + " must have shape (" + std::to_string(n) + ", " + std::to_string(k) + "), got " +
                          shape_text(a));
  }
  if (!(a.flags() & py::array::c_style)) {
    throw aip::ShapeError(what + " must be C-contiguous; pass np.ascontiguousarray(actions, dtype=np.float32)");
  }
  return static_cast<const float*>(a.data());
}

py::dict views(const std::vector<aip::ArrayInfo>& infos, int64_t n, py::handle owner) {
  py::dict out;
  for (const auto& info : infos) {
    std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(n)};
    if (info.d1 > 0) shape.push_back(info.d1);
    if (info.d2 > 0) shape.push_back(info.d2);
    std::vector<py::ssize_t> strides(shape.size());
    py::ssize_t stride = info.itemsize;
    for (size_t k = shape.size(); k-- > 0;) {
      strides[k] = stride;
      stride *= shape[k];
    }
    py::dtype dt;
    switch (info.dtype) {
      case 'd':
        dt = py::dtype::of<double>();
        break;
      case 'f':
        dt = py::dtype::of<float>();
        break;
      case 'i':
        dt = py::dtype::of<int32_t>();
        break;
      case 'u':
        dt = py::dtype::of<uint64_t>();
        break;
      case 'B':
        dt = py::dtype::of<uint8_t>();
        break;
      default:
        dt = py::dtype::of<bool>();
        break;
    }
    out[py::str(info.name)] = py::array(dt, shape, strides, info.data, owner);
  }
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "The compiled CPU engine of aip_engine (private; use aip_engine.Worlds).";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const aip::ActionError& e) {
      raise_as("ActionError", e.what());
    } catch (const aip::ShapeError& e) {
      raise_as("ShapeError", e.what());
    } catch (const aip::ConfigError& e) {
      raise_as("ConfigError", e.what());
    } catch (const aip::BusyError& e) {
      raise_as("EngineError", e.what());
    } catch (const aip::ResourceError& e) {
      raise_as("ResourceError", e.what());
    } catch (const std::bad_alloc&) {
      raise_as("ResourceError", "out of memory in the engine; use fewer worlds or free memory");
    }
  });

  m.attr("MAX_WORLDS") = aip::kMaxWorlds;
  m.attr("MAX_THREADS") = aip::kMaxThreads;
  m.def("batch_bytes", &aip::batch_bytes, py::arg("num_worlds"));
  // The task names this module was built with (aip/task_table.h, from tasks.toml), in code order.
  m.def("task_names", []() {
    std::vector<std::string> names(aip::kTaskNames, aip::kTaskNames + aip::kNumTasks);
    return names;
  });

  py::class_<aip::Engine>(m, "Engine")
      .def(py::init([](int64_t num_worlds, const py::dict& rules, const py::dict& params, int threads) {
             return new aip::Engine(num_worlds, rules_from(rules), params_from(params), threads);
           }),
           py::arg("num_worlds"), py::arg("rules"), py::arg("params"), py::arg("threads"))
      .def_property_readonly("num_worlds", &aip::Engine::num_worlds)
      .def_property_readonly("threads", &aip::Engine::threads)
      .def(
          "reset",
          [](aip::Engine& e, const py::object& seed, const py::object& mask, const py::object& rng_states) {
            const uint64_t* states = nullptr;
            py::array states_array;
            if (!rng_states.is_none()) {
              states_array = py::reinterpret_borrow<py::array>(rng_states);
              if (!same_type(states_array.dtype(), py::dtype::of<uint64_t>()) || states_array.ndim() != 1 ||
                  states_array.shape(0) != e.num_worlds() || !(states_array.flags() & py::array::c_style)) {
                throw aip::ShapeError("generator states must be a C-contiguous uint64 array of shape (N,)");
              }
              states = static_cast<const uint64_t*>(states_array.data());
            }
            const uint8_t* mask_ptr = nullptr;
            py::array mask_array;
            if (!mask.is_none()) {
              if (!py::isinstance<py::array>(mask)) throw aip::ShapeError("mask must be a numpy array of dtype bool");
              mask_array = py::reinterpret_borrow<py::array>(mask);
              if (!same_type(mask_array.dtype(), py::dtype::of<bool>()) || mask_array.ndim() != 1 ||
                  mask_array.shape(0) != e.num_worlds() || !(mask_array.flags() & py::array::c_style)) {
                throw aip::ShapeError("mask must be a C-contiguous bool array of shape (" +
                                      std::to_string(e.num_worlds()) + ",), got dtype " +
                                      std::string(py::str(mask_array.dtype())) + " and shape " +
                                      shape_text(mask_array));
              }
              mask_ptr = static_cast<const uint8_t*>(mask_array.data());
            }
            const bool reseed = !seed.is_none();
            const uint64_t s = reseed ? seed.cast<uint64_t>() : 0;
            py::gil_scoped_release release;
            e.reset(reseed, s, mask_ptr, states);
          },
          py::arg("seed"), py::arg("mask"), py::arg("rng_states") = py::none())
      .def(
          "step",
          [](aip::Engine& e, const py::object& player, const py::object& enemy, const py::object& missile) {
            const int64_t n = e.num_worlds();
            const float* p = action_pointer(player, 0, n);
            const float* en = action_pointer(enemy, 1, n);
            const float* mi = action_pointer(missile, 2, n);
            py::gil_scoped_release release;
            e.step(p, en, mi);
          },
          py::arg("player"), py::arg("enemy"), py::arg("missile"))
      .def(
          "step_one",
          // The step of a task with one agent role: its actions only (the others are None).
          [](aip::Engine& e, int role, const py::object& actions) {
            if (role < 0 || role > 2) throw aip::ConfigError("role code must be 0, 1 or 2");
            const float* a = action_pointer(actions, role, e.num_worlds());
            const float* acts[3] = {nullptr, nullptr, nullptr};
            acts[role] = a;
            py::gil_scoped_release release;
            e.step(acts[0], acts[1], acts[2]);
          },
          py::arg("role"), py::arg("actions"))
      .def(
          "observe",
          [](aip::Engine& e, int role) {
            py::gil_scoped_release release;
            e.observe(role);
          },
          py::arg("role"))
      .def("check_params", [](const aip::Engine& e) { e.check_params(); })
      .def(
          "write_state",
          // `values` is a C-contiguous array of the state array's dtype and shape (Worlds.set_state
          // casts and broadcasts first): the copy happens under the batch's one-call guard.
          [](aip::Engine& e, const std::string& name, const py::array& values) {
            if (!(values.flags() & py::array::c_style)) throw aip::ShapeError("state values must be C-contiguous");
            const void* data = values.data();
            const size_t bytes = static_cast<size_t>(values.nbytes());
            py::gil_scoped_release release;
            e.write_state(name, data, bytes);
          },
          py::arg("name"), py::arg("values"))
      .def(
          "write_arrays",
          // [(group, name, C-contiguous array of the target's dtype and shape)], all under one guard.
          [](aip::Engine& e, const std::vector<std::tuple<std::string, std::string, py::array>>& items) {
            std::vector<aip::Engine::ArrayWrite> writes;
            for (const auto& [group, name, values] : items) {
              if (!(values.flags() & py::array::c_style)) throw aip::ShapeError("array values must be C-contiguous");
              writes.push_back({group, name, values.data(), static_cast<size_t>(values.nbytes())});
            }
            py::gil_scoped_release release;
            e.write_arrays(writes);
          },
          py::arg("items"))
      .def("set_min_chunk", &aip::Engine::set_min_chunk, py::arg("worlds"))
      .def("arrays", [](py::object self, const std::string& group) {
        const aip::Engine& e = self.cast<const aip::Engine&>();
        if (group == "state") return views(e.state_arrays(), e.num_worlds(), self);
        if (group == "params") return views(e.param_arrays(), e.num_worlds(), self);
        if (group == "outputs") return views(e.output_arrays(), e.num_worlds(), self);
        throw aip::ConfigError("array group must be 'state', 'params' or 'outputs'");
      });
}
