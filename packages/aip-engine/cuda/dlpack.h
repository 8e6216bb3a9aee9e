// The DLPack ABI (v0.8, unversioned tensors): the structs exchanged through "dltensor" capsules.
//
// Only the part of the DLPack specification the CUDA backend exchanges is declared here; the layout
// is fixed by the specification (https://dmlc.github.io/dlpack/latest/c_api.html), so any producer
// or consumer (torch, CuPy, JAX, numpy) reads it.
#pragma once

#include <cstdint>

extern "C" {

enum AipDLDeviceType : int32_t {
  kAipDLCPU = 1,
  kAipDLCUDA = 2,
  kAipDLCUDAHost = 3,
  kAipDLCUDAManaged = 13,
};

enum AipDLDataTypeCode : uint8_t {
  kAipDLInt = 0,
  kAipDLUInt = 1,
  kAipDLFloat = 2,
  kAipDLBool = 6,
};

struct AipDLDevice {
  int32_t device_type;
  int32_t device_id;
};

struct AipDLDataType {
  uint8_t code;
  uint8_t bits;
  uint16_t lanes;
};

struct AipDLTensor {
  void* data;
  AipDLDevice device;
  int32_t ndim;
  AipDLDataType dtype;
  int64_t* shape;
  int64_t* strides;  // in elements; null means C-contiguous
  uint64_t byte_offset;
};

struct AipDLManagedTensor {
  AipDLTensor dl_tensor;
  void* manager_ctx;
  void (*deleter)(AipDLManagedTensor* self);
};

}  // extern "C"
