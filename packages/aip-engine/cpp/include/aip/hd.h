// Portability macros shared by the CPU build and the CUDA backend.
//
// Every per-world rule function is marked AIP_HD so that the same header compiles for the CPU loop
// and for a CUDA kernel (nvcc defines __CUDACC__). Rule code uses no allocation, exceptions,
// virtual calls or standard containers.
#pragma once

#include <cmath>
#include <cstdint>

#if defined(__CUDACC__)
#define AIP_HD __host__ __device__
#define AIP_INLINE __forceinline__
#else
#define AIP_HD
#define AIP_INLINE inline __attribute__((always_inline))
#endif

namespace aip {

constexpr double kPi = 3.141592653589793;
constexpr double kTwoPi = 6.283185307179586;

AIP_HD AIP_INLINE double dmin(double a, double b) { return b < a ? b : a; }
AIP_HD AIP_INLINE double dmax(double a, double b) { return b > a ? b : a; }

}  // namespace aip
