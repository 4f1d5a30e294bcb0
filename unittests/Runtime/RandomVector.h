//===- RandomVector.h - seeded test inputs for runtime tests ----*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_UNITTESTS_RUNTIME_RANDOMVECTOR_H
#define MICROSCALE_UNITTESTS_RUNTIME_RANDOMVECTOR_H

#include <random>
#include <vector>

/// `n` standard-normal floats, the same for the same seed.
inline std::vector<float> randomVector(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> v(n);
  for (float &x : v)
    x = normal(rng);
  return v;
}

#endif // MICROSCALE_UNITTESTS_RUNTIME_RANDOMVECTOR_H
