//===- KernelOps.cpp - kernel dialect ---------------------------*- C++ -*-===//
//
// Part of the Microscale project.
//
// The verifiers check that the buffers are large enough for the shapes the
// attributes promise: after `convert-kernel-to-calls` they are raw pointers
// and a mistake would be an out-of-bounds access in the program.
//
//===----------------------------------------------------------------------===//

#include "microscale/Dialect/Kernel/IR/KernelOps.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace mlir::microscale::kernel;

#include "microscale/Dialect/Kernel/IR/KernelOpsDialect.cpp.inc"

void KernelDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "microscale/Dialect/Kernel/IR/KernelOps.cpp.inc"
      >();
}

#define GET_OP_CLASSES
#include "microscale/Dialect/Kernel/IR/KernelOps.cpp.inc"

static int64_t elementsOf(Value buffer) {
  return cast<MemRefType>(buffer.getType()).getNumElements();
}

/// Checks that `buffer` holds whole rows of `rowSize` values and returns
/// how many; fails (with an error naming `what`) otherwise.
static FailureOr<int64_t> rowsOf(Operation *op, Value buffer, int64_t rowSize,
                                 StringRef what) {
  int64_t elements = elementsOf(buffer);
  if (elements % rowSize != 0)
    return op->emitOpError()
           << what << " holds " << elements
           << " values, not a whole number of rows of " << rowSize;
  return elements / rowSize;
}

LogicalResult LinearOp::verify() {
  int64_t in = getInFeatures(), out = getOutFeatures();
  if (in <= 0 || out <= 0)
    return emitOpError("in_features and out_features must be positive");
  FailureOr<int64_t> inputRows = rowsOf(*this, getInput(), in, "input");
  FailureOr<int64_t> outputRows = rowsOf(*this, getOutput(), out, "output");
  if (failed(inputRows) || failed(outputRows))
    return failure();
  if (*inputRows != *outputRows)
    return emitOpError() << "input has room for " << *inputRows
                         << " rows but output for " << *outputRows;
  // Encoded storage is checked by the encoding; dense is the matrix itself.
  if (!getWeightEncoding() && elementsOf(getWeight()) != in * out)
    return emitOpError() << "dense weight holds " << elementsOf(getWeight())
                         << " values, expected " << out << " x " << in;
  if (getBias() && elementsOf(getBias()) != out)
    return emitOpError() << "bias holds " << elementsOf(getBias())
                         << " values, expected " << out;
  return success();
}

LogicalResult AttentionOp::verify() {
  int64_t heads = getNumHeads(), kvHeads = getNumKvHeads();
  int64_t headDim = getHeadDim();
  if (heads <= 0 || kvHeads <= 0 || headDim <= 0)
    return emitOpError("num_heads, num_kv_heads and head_dim must be positive");
  if (heads % kvHeads != 0)
    return emitOpError() << "num_heads (" << heads
                         << ") must be a multiple of num_kv_heads (" << kvHeads
                         << ")";
  if (getOutput().getType() != getQuery().getType())
    return emitOpError("output must have the query's type");
  if (getKeyCache().getType() != getValueCache().getType())
    return emitOpError("key and value caches must have the same type");
  FailureOr<int64_t> context =
      rowsOf(*this, getKeyCache(), kvHeads * headDim, "key cache");
  if (failed(context) ||
      failed(rowsOf(*this, getQuery(), heads * headDim, "query")))
    return failure();
  if (elementsOf(getScratch()) < heads * *context)
    return emitOpError() << "scratch holds " << elementsOf(getScratch())
                         << " values, fewer than num_heads x context = "
                         << heads * *context;
  return success();
}
