// pybind11 bindings of the CUDA backend: aip_engine._core_cuda.
//
// The batch stays in device memory. Outputs, state and parameters are `DeviceArray` views that
// export themselves through DLPack (`__dlpack__`, `__dlpack_device__`) and the CUDA array interface,
// so torch.from_dlpack and CuPy see them without a copy; `to_numpy()` copies one to the host.
// Actions and masks come in as numpy arrays (copied to the device) or as device arrays (DLPack
// producers such as torch CUDA tensors, or objects with `__cuda_array_interface__`), read in place.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cuda_engine.h"
#include "dlpack.h"
#include "../bindings/config_from_python.h"

namespace py = pybind11;
namespace ac = aip::cuda;

// The DLPack device type of the backend's memory: CUDA, or the host under the test emulation
// (cuda/host_emulation.h), where numpy and a CPU torch can import the arrays.
#if defined(AIP_CUDA_EMULATE)
constexpr int32_t kDeviceType = kAipDLCPU;
constexpr bool kEmulated = true;
#else
constexpr int32_t kDeviceType = kAipDLCUDA;
constexpr bool kEmulated = false;
#endif

namespace {

using aip::bindings::params_from;
using aip::bindings::raise_as;
using aip::bindings::rules_from;

const char* const kRoleNames[3] = {"player", "enemy", "missile"};
const int kActSizes[3] = {aip::kActPlayer, aip::kActEnemy, aip::kActMissile};

// ---- device arrays ------------------------------------------------------------------------------

// One array in device memory: a view of an Engine's buffer (kept alive through `owner`) or a block
// of its own (`memory`).
struct DeviceArray {
  void* data = nullptr;
  char dtype = 'f';  // the codes of aip::ArrayInfo: d f i u B b
  int itemsize = 4;
  std::vector<int64_t> shape;
  int device = 0;
  py::object owner;
  std::shared_ptr<ac::DeviceMemory> memory;

  int64_t size() const {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    return n;
  }
  size_t nbytes() const { return static_cast<size_t>(size()) * itemsize; }
};

py::dtype numpy_dtype(char code) {
  switch (code) {
    case 'd':
      return py::dtype::of<double>();
    case 'f':
      return py::dtype::of<float>();
    case 'i':
      return py::dtype::of<int32_t>();
    case 'u':
      return py::dtype::of<uint64_t>();
    case 'B':
      return py::dtype::of<uint8_t>();
    default:
      return py::dtype::of<bool>();
  }
}

char code_of(const py::dtype& dt) {
  const char kinds[6] = {'d', 'f', 'i', 'u', 'B', 'b'};
  for (char c : kinds) {
    if (dt.is(numpy_dtype(c))) return c;
  }
  throw aip::ShapeError("unsupported dtype " + std::string(py::str(dt)) +
                        " for a device array; use float64, float32, int32, uint64, uint8 or bool");
}

const char* typestr(char code) {
  switch (code) {
    case 'd':
      return "<f8";
    case 'f':
      return "<f4";
    case 'i':
      return "<i4";
    case 'u':
      return "<u8";
    case 'B':
      return "|u1";
    default:
      return "|b1";
  }
}

AipDLDataType dl_dtype(char code) {
  switch (code) {
    case 'd':
      return {kAipDLFloat, 64, 1};
    case 'f':
      return {kAipDLFloat, 32, 1};
    case 'i':
      return {kAipDLInt, 32, 1};
    case 'u':
      return {kAipDLUInt, 64, 1};
    case 'B':
      return {kAipDLUInt, 8, 1};
    default:
      return {kAipDLBool, 8, 1};
  }
}

std::vector<int64_t> c_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t k = shape.size(); k-- > 0;) {
    strides[k] = stride;
    stride *= shape[k];
  }
  return strides;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::ostringstream out;
  out << "(";
  for (size_t k = 0; k < shape.size(); ++k) {
    if (k) out << ", ";
    out << shape[k];
  }
  if (shape.size() == 1) out << ",";
  out << ")";
  return out.str();
}

// What a DLPack capsule of a DeviceArray carries: the shape it points to and a reference to the
// Python DeviceArray, which keeps the memory alive until the consumer calls the deleter.
struct ExportContext {
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  PyObject* array;
};

void export_deleter(AipDLManagedTensor* self) {
  auto* ctx = static_cast<ExportContext*>(self->manager_ctx);
  if (!Py_IsInitialized()) {  // a consumer freeing its tensor after the interpreter has finished
    delete ctx;
    delete self;
    return;
  }
  {
    // The consumer may free the tensor from any thread, with or without the GIL.
    py::gil_scoped_acquire gil;
    Py_XDECREF(ctx->array);
  }
  delete ctx;
  delete self;
}

void capsule_destructor(PyObject* capsule) {
  // Called when the capsule dies; a consumer that took the tensor renamed it "used_dltensor".
  if (!PyCapsule_IsValid(capsule, "dltensor")) return;
  auto* managed = static_cast<AipDLManagedTensor*>(PyCapsule_GetPointer(capsule, "dltensor"));
  if (managed && managed->deleter) managed->deleter(managed);
}

py::object to_dlpack(py::object self, const py::object& stream) {
  DeviceArray& a = self.cast<DeviceArray&>();
  if (!stream.is_none()) {
    const auto s = stream.cast<int64_t>();
    if (s == 0) throw aip::ShapeError("__dlpack__: stream 0 is ambiguous for CUDA; pass 1 (legacy default) or a stream");
    if (s > 2) ac::stream_wait_for_backend(a.device, static_cast<uintptr_t>(s));
  }
  auto* ctx = new ExportContext{a.shape, c_strides(a.shape), self.ptr()};
  Py_INCREF(ctx->array);
  auto* managed = new AipDLManagedTensor{};
  managed->dl_tensor.data = a.data;
  managed->dl_tensor.device = {kDeviceType, a.device};
  managed->dl_tensor.ndim = static_cast<int32_t>(a.shape.size());
  managed->dl_tensor.dtype = dl_dtype(a.dtype);
  managed->dl_tensor.shape = ctx->shape.data();
  managed->dl_tensor.strides = ctx->strides.data();
  managed->dl_tensor.byte_offset = 0;
  managed->manager_ctx = ctx;
  managed->deleter = export_deleter;
  PyObject* capsule = PyCapsule_New(managed, "dltensor", capsule_destructor);
  if (!capsule) {
    export_deleter(managed);
    throw py::error_already_set();
  }
  return py::reinterpret_steal<py::object>(capsule);
}

py::array to_numpy(const DeviceArray& a) {
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::array out(numpy_dtype(a.dtype), shape);
  const size_t bytes = a.nbytes();
  void* dst = out.mutable_data();
  {
    py::gil_scoped_release release;
    ac::copy_to_host(a.device, dst, a.data, bytes);
  }
  return out;
}

void copy_from(DeviceArray& a, const py::object& values) {
  py::array host = py::array::ensure(values);
  if (!host) throw aip::ShapeError("values must be convertible to a numpy array");
  // Broadcast and cast on the host, then one copy of the whole array.
  py::module_ np = py::module_::import("numpy");
  std::vector<py::ssize_t> shape(a.shape.begin(), a.shape.end());
  py::array full;
  try {
    full = np.attr("ascontiguousarray")(np.attr("broadcast_to")(host, py::tuple(py::cast(shape))),
                                        numpy_dtype(a.dtype));
  } catch (const py::error_already_set& e) {
    throw aip::ShapeError("values of shape " + std::string(py::str(host.attr("shape"))) +
                          " do not broadcast to the device array's shape " + shape_text(a.shape));
  }
  const void* src = full.data();
  const size_t bytes = a.nbytes();
  py::gil_scoped_release release;
  ac::copy_to_device(a.device, a.data, src, bytes);
}

py::object make_view(const aip::ArrayInfo& info, int64_t n, int device, py::handle owner) {
  DeviceArray a;
  a.data = info.data;
  a.dtype = info.dtype;
  a.itemsize = info.itemsize;
  a.shape = {n};
  if (info.d1 > 0) a.shape.push_back(info.d1);
  if (info.d2 > 0) a.shape.push_back(info.d2);
  a.device = device;
  a.owner = py::reinterpret_borrow<py::object>(owner);
  return py::cast(std::move(a));
}

py::dict views(const std::vector<aip::ArrayInfo>& infos, int64_t n, int device, py::handle owner) {
  py::dict out;
  for (const auto& info : infos) out[py::str(info.name)] = make_view(info, n, device, owner);
  return out;
}

// ---- arrays coming in -------------------------------------------------------------------------

// An input array resolved to a pointer; holds what keeps the memory alive until it is destroyed.
class InputArray {
 public:
  InputArray() = default;
  InputArray(const InputArray&) = delete;
  InputArray& operator=(const InputArray&) = delete;
  ~InputArray() {
    if (managed_ && managed_->deleter) managed_->deleter(managed_);
  }

  ac::Input input{nullptr, false};
  py::object keep;                            // a numpy array or the producer's object
  AipDLManagedTensor* managed_ = nullptr;     // a consumed DLPack tensor, released in the destructor
};

bool dtype_matches(char want, const AipDLDataType& t) {
  if (t.lanes != 1) return false;
  if (want == 'f') return t.code == kAipDLFloat && t.bits == 32;
  // bool masks: DLPack bool or uint8 bytes.
  return t.bits == 8 && (t.code == kAipDLBool || t.code == kAipDLUInt);
}

bool cai_dtype_matches(char want, const std::string& ts) {
  if (want == 'f') return ts == "<f4" || ts == "=f4";
  return ts == "|b1" || ts == "|u1" || ts == "<u1";
}

bool contiguous(const std::vector<int64_t>& shape, const int64_t* strides, int64_t unit) {
  if (strides == nullptr) return true;
  int64_t expect = unit;
  for (size_t k = shape.size(); k-- > 0;) {
    if (shape[k] != 1 && strides[k] != expect) return false;
    expect *= shape[k];
  }
  return true;
}

// Reads `obj` as an array of `what` with dtype `want` ('f' float32 or 'b' bool) and shape (n, k)
// or, when k == 1 or k == 0, (n,).
void resolve_input(const py::object& obj, char want, int64_t n, int k, int device, const std::string& what,
                   InputArray* out) {
  const std::string wanted_shape = k > 0 ? "(" + std::to_string(n) + ", " + std::to_string(k) + ")"
                                         : "(" + std::to_string(n) + ",)";
  const std::string wanted_dtype = want == 'f' ? "float32" : "bool";
  auto check_shape = [&](const std::vector<int64_t>& shape) {
    const bool ok = (k > 0 && shape.size() == 2 && shape[0] == n && shape[1] == k) ||
                    (k <= 1 && shape.size() == 1 && shape[0] == n);
    if (!ok) throw aip::ShapeError(what + " must have shape " + wanted_shape + ", got " + shape_text(shape));
  };

  if (py::isinstance<py::array>(obj)) {  // host memory: copied to the device by the engine
    py::array a = py::reinterpret_borrow<py::array>(obj);
    const py::dtype dt = want == 'f' ? py::dtype::of<float>() : py::dtype::of<bool>();
    if (!a.dtype().is(dt)) {
      throw aip::ShapeError(what + " must have dtype " + wanted_dtype + ", got " + std::string(py::str(a.dtype())) +
                            "; convert with np.asarray(x, dtype=np." + wanted_dtype + ")");
    }
    std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
    check_shape(shape);
    if (!(a.flags() & py::array::c_style)) {
      throw aip::ShapeError(what + " must be C-contiguous; pass np.ascontiguousarray(x, dtype=np." + wanted_dtype + ")");
    }
    out->keep = a;
    out->input = {a.data(), false};
    return;
  }

  if (py::isinstance<DeviceArray>(obj)) {  // the engine's own device arrays: read in place
    const DeviceArray& a = obj.cast<const DeviceArray&>();
    const bool dtype_ok = want == 'f' ? a.dtype == 'f' : (a.dtype == 'b' || a.dtype == 'B');
    if (!dtype_ok) {
      throw aip::ShapeError(what + " must have dtype " + wanted_dtype + ", got " +
                            std::string(py::str(numpy_dtype(a.dtype))));
    }
    check_shape(a.shape);
    if (a.device != device) {
      throw aip::ShapeError(what + " is on CUDA device " + std::to_string(a.device) +
                            " but these worlds live on CUDA device " + std::to_string(device));
    }
    out->keep = obj;
    out->input = {a.data, true};
    return;
  }

  if (py::hasattr(obj, "__dlpack__") && py::hasattr(obj, "__dlpack_device__")) {
    const auto dev = obj.attr("__dlpack_device__")().cast<std::pair<int, int>>();
    const bool on_gpu = dev.first == kAipDLCUDA || dev.first == kAipDLCUDAManaged;
    const bool on_host = dev.first == kAipDLCPU || dev.first == kAipDLCUDAHost;
    if (!on_gpu && !on_host) {
      throw aip::ShapeError(what + " is on DLPack device type " + std::to_string(dev.first) +
                            "; pass a CUDA or CPU array");
    }
    if (on_gpu && dev.second != device) {
      throw aip::ShapeError(what + " is on CUDA device " + std::to_string(dev.second) + " but these worlds live on "
                            "CUDA device " + std::to_string(device) + "; move it with .to('cuda:" +
                            std::to_string(device) + "')");
    }
    // stream=1: the producer orders its pending work before the legacy default stream we run on.
    py::object capsule = on_gpu ? obj.attr("__dlpack__")(py::arg("stream") = 1) : obj.attr("__dlpack__")();
    if (!PyCapsule_IsValid(capsule.ptr(), "dltensor")) {
      throw aip::ShapeError(what + ": the DLPack producer returned an unsupported capsule");
    }
    auto* managed = static_cast<AipDLManagedTensor*>(PyCapsule_GetPointer(capsule.ptr(), "dltensor"));
    PyCapsule_SetName(capsule.ptr(), "used_dltensor");  // we own it now; the deleter runs in ~InputArray
    out->managed_ = managed;
    out->keep = obj;
    const AipDLTensor& t = managed->dl_tensor;
    if (!dtype_matches(want, t.dtype)) {
      throw aip::ShapeError(what + " must have dtype " + wanted_dtype + ", got DLPack dtype code " +
                            std::to_string(t.dtype.code) + " with " + std::to_string(t.dtype.bits) + " bits");
    }
    std::vector<int64_t> shape(t.shape, t.shape + t.ndim);
    check_shape(shape);
    if (!contiguous(shape, t.strides, 1)) {
      throw aip::ShapeError(what + " must be C-contiguous; call .contiguous() on it first");
    }
    out->input = {static_cast<const char*>(t.data) + t.byte_offset, on_gpu};
    return;
  }

  if (py::hasattr(obj, "__cuda_array_interface__")) {
    py::dict cai = obj.attr("__cuda_array_interface__").cast<py::dict>();
    const std::string ts = cai["typestr"].cast<std::string>();
    if (!cai_dtype_matches(want, ts)) {
      throw aip::ShapeError(what + " must have dtype " + wanted_dtype + ", got typestr " + ts);
    }
    std::vector<int64_t> shape = cai["shape"].cast<std::vector<int64_t>>();
    check_shape(shape);
    if (cai.contains("strides") && !cai["strides"].is_none()) {
      const auto strides = cai["strides"].cast<std::vector<int64_t>>();
      if (!contiguous(shape, strides.data(), want == 'f' ? 4 : 1)) {
        throw aip::ShapeError(what + " must be C-contiguous");
      }
    }
    const auto data = cai["data"].cast<py::tuple>();
    const void* ptr = reinterpret_cast<const void*>(data[0].cast<uintptr_t>());
    const int owner = ac::pointer_device(ptr);
    if (owner != device) {
      throw aip::ShapeError(what + " (__cuda_array_interface__) is not memory of CUDA device " +
                            std::to_string(device));
    }
    if (cai.contains("stream") && !cai["stream"].is_none()) {
      ac::wait_for_stream(device, cai["stream"].cast<uintptr_t>());
    }
    out->keep = obj;
    out->input = {ptr, true};
    return;
  }

  throw aip::ShapeError(what + " must be a numpy array or a CUDA array (a torch CUDA tensor, any DLPack or "
                        "__cuda_array_interface__ producer) of shape " + wanted_shape + " and dtype " + wanted_dtype +
                        ", got " + std::string(py::str(py::type::handle_of(obj).attr("__name__"))));
}

py::dict device_dict(const ac::DeviceInfo& d) {
  py::dict out;
  out["index"] = d.index;
  out["name"] = d.name;
  out["total_memory"] = d.total_memory;
  out["compute_capability"] = py::make_tuple(d.major, d.minor);
  out["multiprocessors"] = d.multiprocessors;
  out["memory_clock_khz"] = d.memory_clock_khz;
  out["memory_bus_width"] = d.memory_bus_width;
  out["peak_bandwidth"] = d.peak_bandwidth;
  return out;
}

}  // namespace

PYBIND11_MODULE(_core_cuda, m) {
  m.doc() = "The CUDA backend of aip_engine (private; use aip_engine.Worlds(..., backend='cuda')).";

  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const aip::ActionError& e) {
      raise_as("ActionError", e.what());
    } catch (const aip::ShapeError& e) {
      raise_as("ShapeError", e.what());
    } catch (const aip::ConfigError& e) {
      raise_as("ConfigError", e.what());
    } catch (const ac::CudaError& e) {
      raise_as("BackendError", e.what());
    } catch (const ac::BusyError& e) {
      raise_as("EngineError", e.what());
    }
  });

  m.attr("CUDA_ARCHITECTURES") = AIP_CUDA_ARCHITECTURES;
  m.attr("EMULATED") = kEmulated;
  // The task names this module was built with (aip/task_table.h, from tasks.toml), in code order.
  m.def("task_names", []() {
    std::vector<std::string> names(aip::kTaskNames, aip::kTaskNames + aip::kNumTasks);
    return names;
  });

  m.def(
      "device_count",
      []() {
        std::string reason;
        const int n = ac::device_count(&reason);
        return py::make_tuple(n, reason);
      },
      "(number of visible CUDA devices, why none when 0).");
  m.def(
      "devices",
      []() {
        py::list out;
        for (const auto& d : ac::devices()) out.append(device_dict(d));
        return out;
      },
      "Every visible device as a dict (name, memory, compute capability, peak bandwidth).");
  m.def(
      "mem_info",
      [](int device) {
        size_t free_bytes = 0, total_bytes = 0;
        ac::mem_info(device, &free_bytes, &total_bytes);
        return py::make_tuple(free_bytes, total_bytes);
      },
      py::arg("device") = 0, "(free, total) device memory in bytes.");
  m.def(
      "synchronize",
      [](int device) {
        py::gil_scoped_release release;
        ac::synchronize(device);
      },
      py::arg("device") = 0, "Wait for all queued work on the device.");
  m.def("runtime_version", &ac::runtime_version);
  m.def("driver_version", &ac::driver_version);
  m.def(
      "to_device",
      [](const py::object& values, int device) {
        py::array host = py::array::ensure(values, py::array::c_style);
        if (!host) throw aip::ShapeError("to_device needs an array-like value");
        DeviceArray a;
        a.dtype = code_of(host.dtype());
        a.itemsize = static_cast<int>(host.itemsize());
        a.shape.assign(host.shape(), host.shape() + host.ndim());
        a.device = device;
        a.memory = std::make_shared<ac::DeviceMemory>(device, a.nbytes());
        a.data = a.memory->data();
        const void* src = host.data();
        const size_t bytes = a.nbytes();
        {
          py::gil_scoped_release release;
          ac::copy_to_device(device, a.data, src, bytes);
        }
        return a;
      },
      py::arg("values"), py::arg("device") = 0, "Copy a numpy array into a new DeviceArray of its own.");

  py::class_<DeviceArray>(m, "DeviceArray",
                          "An array in GPU memory: DLPack (torch.from_dlpack), __cuda_array_interface__, "
                          "to_numpy().")
      .def_property_readonly("shape", [](const DeviceArray& a) { return py::tuple(py::cast(a.shape)); })
      .def_property_readonly("dtype", [](const DeviceArray& a) { return numpy_dtype(a.dtype); })
      .def_property_readonly("ndim", [](const DeviceArray& a) { return a.shape.size(); })
      .def_property_readonly("size", &DeviceArray::size)
      .def_property_readonly("nbytes", &DeviceArray::nbytes)
      .def_property_readonly("device", [](const DeviceArray& a) { return "cuda:" + std::to_string(a.device); })
      .def_property_readonly("data_ptr", [](const DeviceArray& a) { return reinterpret_cast<uintptr_t>(a.data); })
      .def("__len__", [](const DeviceArray& a) { return a.shape.empty() ? 0 : a.shape[0]; })
      .def("to_numpy", &to_numpy, "A host copy as a new numpy array.")
      .def(
          "__array__",
          [](const DeviceArray& a, const py::object& dtype, const py::object&) {
            py::array host = to_numpy(a);
            if (!dtype.is_none()) return py::array(host.attr("astype")(dtype));
            return host;
          },
          py::arg("dtype") = py::none(), py::arg("copy") = py::none())
      .def("copy_from", &copy_from, py::arg("values"),
           "Overwrite the whole array from host values (broadcast and cast to its shape and dtype).")
      .def("__setitem__",
           [](DeviceArray& a, const py::object& key, const py::object& value) {
             py::array host = to_numpy(a);
             host.attr("__setitem__")(key, value);
             copy_from(a, host);
           })
      .def("__getitem__", [](const DeviceArray& a, const py::object& key) { return to_numpy(a).attr("__getitem__")(key); })
      .def(
          "__dlpack__",
          [](py::object self, const py::object& stream, const py::object&, const py::object& dl_device,
             const py::object& copy) {
            // max_version is accepted and answered with an unversioned "dltensor" capsule, which
            // every consumer (torch, CuPy, JAX, numpy) reads.
            const DeviceArray& a = self.cast<const DeviceArray&>();
            if (!dl_device.is_none()) {
              const auto want = dl_device.cast<std::pair<int, int>>();
              if (want.first != kDeviceType || want.second != a.device) {
                throw py::buffer_error("a DeviceArray exports only to its own device; use to_numpy() for a host copy");
              }
            }
            if (!copy.is_none() && copy.cast<bool>()) {
              throw py::buffer_error("a DeviceArray exports without copying; copy the tensor after import");
            }
            return to_dlpack(self, stream);
          },
          py::arg("stream") = py::none(), py::kw_only(), py::arg("max_version") = py::none(),
          py::arg("dl_device") = py::none(), py::arg("copy") = py::none())
      .def("__dlpack_device__", [](const DeviceArray& a) { return py::make_tuple(int(kDeviceType), a.device); })
      .def_property_readonly("__cuda_array_interface__",
                             [](const DeviceArray& a) {
                               py::dict cai;
                               cai["shape"] = py::tuple(py::cast(a.shape));
                               cai["typestr"] = typestr(a.dtype);
                               cai["data"] = py::make_tuple(reinterpret_cast<uintptr_t>(a.data), false);
                               cai["strides"] = py::none();
                               cai["version"] = 3;
                               cai["stream"] = 1;  // produced on the legacy default stream
                               return cai;
                             })
      .def("__repr__", [](const DeviceArray& a) {
        return "DeviceArray(shape=" + shape_text(a.shape) + ", dtype=" + std::string(py::str(numpy_dtype(a.dtype))) +
               ", device='cuda:" + std::to_string(a.device) + "')";
      });

  py::class_<ac::Engine>(m, "Engine")
      .def(py::init([](int64_t num_worlds, const py::dict& rules, const py::dict& params, int device) {
             return new ac::Engine(num_worlds, rules_from(rules), params_from(params), device);
           }),
           py::arg("num_worlds"), py::arg("rules"), py::arg("params"), py::arg("device") = 0)
      .def_property_readonly("num_worlds", &ac::Engine::num_worlds)
      .def_property_readonly("threads", [](const ac::Engine&) { return 0; })
      .def_property_readonly("device", &ac::Engine::device)
      .def_property_readonly("allocated_bytes", &ac::Engine::allocated_bytes)
      .def(
          "reset",
          [](ac::Engine& e, const py::object& seed, const py::object& mask) {
            InputArray m;
            if (!mask.is_none()) resolve_input(mask, 'b', e.num_worlds(), 0, e.device(), "mask", &m);
            const bool reseed = !seed.is_none();
            const uint64_t s = reseed ? seed.cast<uint64_t>() : 0;
            py::gil_scoped_release release;
            e.reset(reseed, s, m.input);
          },
          py::arg("seed"), py::arg("mask"))
      .def(
          "step",
          [](ac::Engine& e, const py::object& player, const py::object& enemy, const py::object& missile) {
            const py::object* objs[3] = {&player, &enemy, &missile};
            InputArray in[3];
            for (int role = 0; role < 3; ++role) {
              if (objs[role]->is_none()) continue;
              resolve_input(*objs[role], 'f', e.num_worlds(), kActSizes[role], e.device(),
                            std::string("actions of role '") + kRoleNames[role] + "'", &in[role]);
            }
            py::gil_scoped_release release;
            e.step(in[0].input, in[1].input, in[2].input);
          },
          py::arg("player"), py::arg("enemy"), py::arg("missile"))
      .def(
          "observe",
          [](ac::Engine& e, int role) {
            py::gil_scoped_release release;
            e.observe(role);
          },
          py::arg("role"))
      .def("check_params",
           [](ac::Engine& e) {
             py::gil_scoped_release release;
             e.check_params();
           })
      .def("arrays", [](py::object self, const std::string& group) {
        const ac::Engine& e = self.cast<const ac::Engine&>();
        if (group == "state") return views(e.state_arrays(), e.num_worlds(), e.device(), self);
        if (group == "params") return views(e.param_arrays(), e.num_worlds(), e.device(), self);
        if (group == "outputs") return views(e.output_arrays(), e.num_worlds(), e.device(), self);
        throw aip::ConfigError("array group must be 'state', 'params' or 'outputs'");
      });
}
