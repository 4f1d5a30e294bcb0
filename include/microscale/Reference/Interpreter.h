//===- Interpreter.h - reference interpreter of the llm dialect -*- C++ -*-===//
//
// Part of the Microscale project.
//
// A plain float32 interpreter of raised (`llm`-level) modules. It favours
// clarity over speed and defines "the uncompressed model" that every
// compressed or compiled model is compared against.
//
//===----------------------------------------------------------------------===//

#ifndef MICROSCALE_REFERENCE_INTERPRETER_H
#define MICROSCALE_REFERENCE_INTERPRETER_H

#include "mlir/IR/BuiltinOps.h"
#include "llvm/ADT/ArrayRef.h"
#include "llvm/Support/Error.h"

#include <functional>
#include <memory>
#include <vector>

namespace mlir::microscale::reference {

/// Runs one raised model (a module whose entry function is
/// `(tensor<?x?xi64>) -> tensor<?x?xVxf32>` made of `llm` ops) on a single
/// sequence, keeping a KV cache between calls.
class Interpreter {
public:
  /// Checks that `module` is fully raised and caches its weights. The
  /// module must outlive the interpreter.
  static llvm::Expected<std::unique_ptr<Interpreter>> create(ModuleOp module);
  virtual ~Interpreter();

  /// Feeds `tokens` at the next positions (after those already cached) and
  /// returns their logits, row-major `[tokens.size(), vocabSize()]`.
  virtual llvm::Expected<std::vector<float>>
  forward(llvm::ArrayRef<int64_t> tokens) = 0;

  /// Empties the KV cache.
  virtual void reset() = 0;

  virtual int64_t vocabSize() const = 0;
  /// Number of positions already in the KV cache.
  virtual int64_t cacheLength() const = 0;
  /// Most positions the model supports (from `llm.model`).
  virtual int64_t maxContext() const = 0;

  /// Sees the input of every matrix product before it runs: `weight` is the
  /// weight operand (an `llm.weight` result), `input` its `rows` x `in`
  /// activations. Calibration collects its statistics this way.
  using LinearObserver = std::function<void(
      Value weight, llvm::ArrayRef<float> input, int64_t rows, int64_t in)>;
  virtual void setLinearObserver(LinearObserver observer) = 0;

  /// Replaces the values the weight `weight` computes with (same size; e.g.
  /// a trial quantization of it) and returns the values it had, so that a
  /// weight's effect on the model is measured without rebuilding it.
  virtual llvm::Expected<std::vector<float>>
  exchangeWeight(Value weight, std::vector<float> values) = 0;
};

} // namespace mlir::microscale::reference

#endif // MICROSCALE_REFERENCE_INTERPRETER_H
