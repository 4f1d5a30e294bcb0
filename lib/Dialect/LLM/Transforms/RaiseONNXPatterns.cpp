//===- RaiseONNXPatterns.cpp - onnx subgraphs to llm ops --------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Each pattern recognizes one computation by its ONNX semantics (which ops,
// which constants, which axes), never by node or initializer names, so that
// other models of the same families and other exporters raise too. Patterns
// only fire once their inputs are already raised (for example the attention
// pattern waits for its q/k/v projections to be `llm.linear`), and the
// greedy driver iterates them to a fixed point. Shape plumbing that fed the
// replaced subgraphs dies and is erased by the driver.
//
//===----------------------------------------------------------------------===//

#include "RaiseONNX.h"

#include "mlir/IR/Matchers.h"
#include "llvm/Support/CheckedArithmetic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;

namespace {

/// A raising pattern that can say which constant made it refuse a subgraph
/// it recognized.
template <typename OpT> struct RaisePattern : OpRewritePattern<OpT> {
  RaisePattern(MLIRContext *context, RaiseRejections *rejections)
      : OpRewritePattern<OpT>(context), rejections(rejections) {}

  /// Fails the match at `root`, recording `mismatch` if there is one.
  LogicalResult refuse(PatternRewriter &rewriter, Operation *root,
                       StringRef pattern, const ConstantMismatch &mismatch,
                       StringRef otherwise) const {
    if (rejections)
      rejections->record(root, pattern, mismatch);
    return rewriter.notifyMatchFailure(
        root, mismatch ? StringRef(mismatch.message) : otherwise);
  }

  RaiseRejections *rejections;
};

bool isLLMValue(Value value) {
  Operation *op = value.getDefiningOp();
  return op && isa<LLMDialect>(op->getDialect()) && !isa<WeightOp>(op);
}

bool isF32(Value value) {
  return getElementTypeOrSelf(value.getType()).isF32();
}

int64_t rankOf(Value value) {
  if (auto type = dyn_cast<RankedTensorType>(value.getType()))
    return type.getRank();
  return -1;
}

int64_t lastDimOf(Value value) {
  auto type = dyn_cast<RankedTensorType>(value.getType());
  if (!type || type.getRank() == 0)
    return ShapedType::kDynamic;
  return type.getDimSize(type.getRank() - 1);
}

bool near(double a, double b, double tolerance = 1e-4) {
  return std::abs(a - b) <= tolerance * std::max(1.0, std::abs(b));
}

/// Calls `fn(a, b)` with a binary node's operands in both orders; true if
/// either call matched.
bool matchCommutative(onnx::NodeOp node,
                      llvm::function_ref<bool(Value, Value)> fn) {
  if (!node || node.getInputs().size() != 2)
    return false;
  Value a = node.getInputs()[0], b = node.getInputs()[1];
  return fn(a, b) || fn(b, a);
}

/// The axes of a reduction, Unsqueeze or Squeeze: the attribute (older
/// opsets) or the constant second input. std::nullopt when absent or not
/// constant.
std::optional<SmallVector<int64_t>> getAxes(onnx::NodeOp node) {
  if (std::optional<SmallVector<int64_t>> attr = node.getIntsAttr("axes"))
    return attr;
  if (node.getInputs().size() > 1)
    return readInts(getConstant(node.getInputs()[1]));
  return std::nullopt;
}

std::string formatList(ArrayRef<int64_t> values) {
  std::string text = "[";
  for (auto [i, v] : llvm::enumerate(values))
    text += (i ? ", " : "") + std::to_string(v);
  return text + "]";
}

/// True if a reduction keeps dims and reduces exactly the last axis of a
/// rank-`rank` tensor.
bool reducesLastAxis(onnx::NodeOp node, int64_t rank, ConstantMismatch &check) {
  std::optional<SmallVector<int64_t>> axes = getAxes(node);
  if (!axes)
    return check.fail(node, "the reduction's axes are not a constant");
  if (axes->size() != 1 || ((*axes)[0] != -1 && (*axes)[0] != rank - 1))
    return check.fail(node, "reduces axes " + formatList(*axes) +
                                ", expected the last axis only");
  if (node.getIntAttr("keepdims", 1) != 1)
    return check.fail(node, "keepdims is 0, expected 1");
  return true;
}

/// Matches `mean(x^2)` over the last axis; returns x.
Value matchMeanSquare(Value value, ConstantMismatch &check) {
  onnx::NodeOp mean = getNode(skipNoOps(value), "ReduceMean");
  if (!mean)
    return {};
  Value squared = skipNoOps(mean.getInputs()[0]);
  Value x;
  if (onnx::NodeOp pow = getNode(squared, "Pow")) {
    std::optional<double> exponent = getScalar(pow.getInputs()[1]);
    if (exponent != 2.0) {
      check.fail(pow, exponent ? "the exponent is " +
                                     std::to_string(*exponent) + ", expected 2"
                               : "the exponent is not a constant");
      return {};
    }
    x = skipNoOps(pow.getInputs()[0]);
  } else if (onnx::NodeOp mul = getNode(squared, "Mul")) {
    if (skipNoOps(mul.getInputs()[0]) == skipNoOps(mul.getInputs()[1]))
      x = skipNoOps(mul.getInputs()[0]);
  }
  if (!x || !reducesLastAxis(mean, rankOf(x), check))
    return {};
  return x;
}

/// True if `epsilon` can be added under a square root as the patterns do.
bool checkEpsilon(double epsilon, Operation *holder, ConstantMismatch &check) {
  if (std::isfinite(epsilon) && epsilon >= 0)
    return true;
  return check.fail(holder, "epsilon is " + std::to_string(epsilon) +
                                ", expected a finite value >= 0");
}

/// Matches `sqrt(variance + eps)`; returns the variance operand and sets
/// `epsilon`.
Value matchSqrtPlusEps(Value value, double &epsilon, ConstantMismatch &check) {
  onnx::NodeOp sqrt = getNode(skipNoOps(value), "Sqrt");
  if (!sqrt)
    return {};
  Value variance;
  onnx::NodeOp add = getNode(skipNoOps(sqrt.getInputs()[0]), "Add");
  matchCommutative(add, [&](Value a, Value b) {
    std::optional<double> eps = getScalar(b);
    if (!eps || !checkEpsilon(*eps, add, check))
      return false;
    epsilon = *eps;
    variance = a;
    return true;
  });
  return variance;
}

/// Matches `1 / sqrt(v + eps)` in its exported spellings; returns v.
Value matchInverseRoot(Value value, double &epsilon, ConstantMismatch &check) {
  value = skipNoOps(value);
  if (onnx::NodeOp div = getNode(value, "Div")) {
    std::optional<double> one = getScalar(div.getInputs()[0]);
    if (one == 1.0)
      return matchSqrtPlusEps(div.getInputs()[1], epsilon, check);
    if (one && getNode(skipNoOps(div.getInputs()[1]), "Sqrt"))
      check.fail(div, "divides " + std::to_string(*one) + ", expected 1");
  }
  if (onnx::NodeOp reciprocal = getNode(value, "Reciprocal"))
    return matchSqrtPlusEps(reciprocal.getInputs()[0], epsilon, check);
  return {};
}

//===----------------------------------------------------------------------===//
// Embedding
//===----------------------------------------------------------------------===//

bool isPositionInput(BlockArgument arg) {
  auto func = dyn_cast<FunctionOpInterface>(arg.getOwner()->getParentOp());
  auto name =
      func ? func.getArgAttrOfType<StringAttr>(arg.getArgNumber(), "onnx.name")
           : StringAttr();
  return name && name.getValue().contains("position");
}

bool isSequenceLength(Value value);

/// True if `range` counts 0, 1, 2, ... up to the sequence length: the
/// positions of the sequence, one per token.
bool checkPositionRange(onnx::NodeOp range, ConstantMismatch &check) {
  std::optional<int64_t> start = foldIndex(range.getInputs()[0]);
  std::optional<int64_t> delta = foldIndex(range.getInputs()[2]);
  auto show = [](std::optional<int64_t> v) {
    return v ? std::to_string(*v) : std::string("?");
  };
  if (start != 0 || delta != 1)
    return check.fail(range, "positions are Range(" + show(start) + ", n, " +
                                 show(delta) +
                                 "), expected start 0 and delta 1");
  if (!isSequenceLength(range.getInputs()[1]))
    return check.fail(range, "the positions Range does not end at the "
                             "sequence length");
  return true;
}

/// True if `ids` are positions (a position_ids input or Range(0, n, 1),
/// through nodes that keep their values) rather than token ids. Positions
/// changed on the way (an Add, a Range from 1, ...) fail `check`.
bool isPositionIds(Value ids, ConstantMismatch &check) {
  Operation *changed = nullptr;
  for (int depth = 0; depth < 8; ++depth) {
    if (auto arg = dyn_cast<BlockArgument>(ids)) {
      if (!isPositionInput(arg))
        return false;
      if (changed)
        return check.fail(changed, "changes the positions before the lookup");
      return true;
    }
    auto node = ids.getDefiningOp<onnx::NodeOp>();
    if (!node || node.getInputs().empty())
      return false;
    StringRef type = node.getOpType();
    if (type == "Range") {
      if (changed)
        return check.fail(changed, "changes the positions before the lookup");
      return checkPositionRange(node, check);
    }
    if (type != "Unsqueeze" && type != "Squeeze" && type != "Cast" &&
        type != "Identity" && type != "Expand" && type != "Reshape" && !changed)
      changed = node;
    ids = node.getInputs()[0];
  }
  return false;
}

struct EmbeddingPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Gather" || op.getIntAttr("axis", 0) != 0)
      return failure();
    Value table = op.getInputs()[0], ids = op.getInputs()[1];
    ElementsAttr tableValue = getConstant(table);
    if (!tableValue || !isF32(table) || rankOf(table) != 2 || rankOf(ids) < 1 ||
        !getElementTypeOrSelf(ids.getType()).isInteger(64))
      return rewriter.notifyMatchFailure(op, "not a lookup in a 2-D table");
    ConstantMismatch check;
    bool positions = isPositionIds(ids, check);
    if (check)
      return refuse(rewriter, op, "position embedding", check, "");
    Value weight = createWeight(rewriter, table.getLoc(),
                                getConstantName(table), tableValue);
    auto type = activationType(
        RankedTensorType::get(SmallVector<int64_t>(rankOf(ids) + 1, 0),
                              rewriter.getF32Type()),
        lastDimOf(table));
    Value result;
    if (positions)
      result =
          rewriter.create<PositionEmbeddingOp>(op.getLoc(), type, weight, ids);
    else
      result = rewriter.create<EmbeddingOp>(op.getLoc(), type, weight, ids);
    rewriter.replaceOp(op, result);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Normalization
//===----------------------------------------------------------------------===//

/// `gain * x / sqrt(mean(x^2) + eps)`, in the forms torch and Optimum emit.
struct RMSNormPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Mul")
      return failure();
    Value x, gain;
    double epsilon = 0;
    ConstantMismatch check;
    bool matched = matchCommutative(op, [&](Value g, Value normalized) {
      ElementsAttr gainValue = getConstant(g);
      if (!gainValue || rankOf(g) != 1)
        return false;
      normalized = skipNoOps(normalized);
      if (onnx::NodeOp div = getNode(normalized, "Div")) {
        Value input = skipNoOps(div.getInputs()[0]);
        Value meanInput = matchMeanSquare(
            matchSqrtPlusEps(div.getInputs()[1], epsilon, check), check);
        if (meanInput && meanInput == input) {
          x = input;
          gain = g;
          return true;
        }
      }
      return matchCommutative(getNode(normalized, "Mul"), [&](Value input,
                                                              Value inverse) {
        input = skipNoOps(input);
        Value meanInput =
            matchMeanSquare(matchInverseRoot(inverse, epsilon, check), check);
        if (!meanInput || meanInput != input)
          return false;
        x = input;
        gain = g;
        return true;
      });
    });
    if (!matched && check)
      return refuse(rewriter, op, "RMSNorm", check, "");
    if (!matched || !isLLMValue(x) || lastDimOf(gain) != lastDimOf(x))
      return rewriter.notifyMatchFailure(op,
                                         "not an RMSNorm of a raised value");
    Value gainWeight = weightFromConstant(rewriter, gain);
    rewriter.replaceOpWithNewOp<RMSNormOp>(op, x.getType(), x, gainWeight,
                                           rewriter.getF64FloatAttr(epsilon));
    return success();
  }
};

/// ONNX's fused LayerNormalization over the last axis.
struct LayerNormPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "LayerNormalization")
      return failure();
    Value x = op.getInputs()[0];
    int64_t axis = op.getIntAttr("axis", -1);
    if (!isLLMValue(x) || (axis != -1 && axis != rankOf(x) - 1))
      return rewriter.notifyMatchFailure(op, "not a last-axis LayerNorm");
    for (unsigned i = 1; i < op->getNumResults(); ++i)
      if (!op->getResult(i).use_empty())
        return rewriter.notifyMatchFailure(op, "mean/inv-std outputs used");
    Value scale = op.getInputs()[1];
    Value bias = op.getInputs().size() > 2 ? op.getInputs()[2] : Value();
    if (bias && isa<NoneType>(bias.getType()))
      bias = {};
    if (!getConstant(scale) || (bias && !getConstant(bias)))
      return rewriter.notifyMatchFailure(op, "scale/bias are not constants");
    double epsilon = op.getFloatAttr("epsilon", 1e-5);
    ConstantMismatch check;
    if (!checkEpsilon(epsilon, op, check))
      return refuse(rewriter, op, "LayerNorm", check, "");
    Value gainWeight = weightFromConstant(rewriter, scale);
    Value biasWeight;
    if (bias)
      biasWeight = weightFromConstant(rewriter, bias);
    auto newOp = rewriter.create<LayerNormOp>(
        op.getLoc(), x.getType(), x, gainWeight, biasWeight,
        rewriter.getF64FloatAttr(epsilon));
    SmallVector<Value> replacements(op->getNumResults(), newOp.getResult());
    rewriter.replaceOp(op, replacements);
    return success();
  }
};

/// `(x - mean(x)) / sqrt(mean((x - mean(x))^2) + eps) * gain + bias`, the
/// form LayerNorm takes in exports below opset 17.
struct DecomposedLayerNormPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Add" && op.getOpType() != "Mul")
      return failure();
    Value bias, scaled = op.getResult(0);
    if (op.getOpType() == "Add") {
      bool found = matchCommutative(op, [&](Value a, Value b) {
        if (!getConstant(b) || rankOf(b) != 1 || !getNode(skipNoOps(a), "Mul"))
          return false;
        scaled = a;
        bias = b;
        return true;
      });
      if (!found)
        return failure();
    }
    Value gain, normalized;
    if (!matchCommutative(getNode(skipNoOps(scaled), "Mul"),
                          [&](Value a, Value b) {
                            if (!getConstant(b) || rankOf(b) != 1)
                              return false;
                            normalized = skipNoOps(a);
                            gain = b;
                            return true;
                          }))
      return failure();
    onnx::NodeOp div = getNode(normalized, "Div");
    if (!div)
      return failure();
    onnx::NodeOp centered = getNode(skipNoOps(div.getInputs()[0]), "Sub");
    double epsilon = 0;
    ConstantMismatch check;
    Value varianceInput = matchMeanSquare(
        matchSqrtPlusEps(div.getInputs()[1], epsilon, check), check);
    if (centered && !varianceInput && check)
      return refuse(rewriter, op, "LayerNorm", check, "");
    if (!centered || !varianceInput ||
        skipNoOps(varianceInput) != centered.getResult(0))
      return failure();
    Value x = skipNoOps(centered.getInputs()[0]);
    onnx::NodeOp mean =
        getNode(skipNoOps(centered.getInputs()[1]), "ReduceMean");
    if (mean && skipNoOps(mean.getInputs()[0]) == x &&
        !reducesLastAxis(mean, rankOf(x), check))
      return refuse(rewriter, op, "LayerNorm", check, "");
    if (!mean || skipNoOps(mean.getInputs()[0]) != x || !isLLMValue(x))
      return rewriter.notifyMatchFailure(op, "not a decomposed LayerNorm");
    if (op.getOpType() == "Mul" &&
        llvm::any_of(op->getUsers(), [](Operation *user) {
          auto node = dyn_cast<onnx::NodeOp>(user);
          return node && node.getOpType() == "Add";
        }))
      return failure(); // Let the Add (with the bias) be the root.
    Value gainWeight = weightFromConstant(rewriter, gain);
    Value biasWeight;
    if (bias)
      biasWeight = weightFromConstant(rewriter, bias);
    rewriter.replaceOpWithNewOp<LayerNormOp>(op, x.getType(), x, gainWeight,
                                             biasWeight,
                                             rewriter.getF64FloatAttr(epsilon));
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Projections
//===----------------------------------------------------------------------===//

/// Returns a `[out, in]` weight for a MatMul/Gemm right-hand side that is a
/// constant `[in, out]` (transposed copy) or a Transpose of a constant
/// `[out, in]` (used as is, no copy).
Value projectionWeight(PatternRewriter &rewriter, Value rhs, bool transposed) {
  if (!transposed)
    if (onnx::NodeOp transpose = getNode(rhs, "Transpose")) {
      std::optional<SmallVector<int64_t>> perm = transpose.getIntsAttr("perm");
      bool swap =
          !perm || llvm::ArrayRef<int64_t>(*perm) == ArrayRef<int64_t>{1, 0};
      if (swap)
        return projectionWeight(rewriter, transpose.getInputs()[0], true);
      return {};
    }
  ElementsAttr value = getConstant(rhs);
  if (!value || !isF32(rhs) || rankOf(rhs) != 2)
    return {};
  if (transposed)
    return createWeight(rewriter, rhs.getLoc(), getConstantName(rhs), value);
  auto shape = cast<ShapedType>(value.getType()).getShape();
  int64_t in = shape[0], out = shape[1];
  std::vector<float> data = readFloats(value), transposedData(data.size());
  for (int64_t i = 0; i < in; ++i)
    for (int64_t o = 0; o < out; ++o)
      transposedData[o * in + i] = data[i * out + o];
  return createWeight(rewriter, rhs.getLoc(), getConstantName(rhs), {out, in},
                      transposedData);
}

struct MatMulLinearPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "MatMul")
      return failure();
    Value x = op.getInputs()[0];
    if (!isF32(x) || rankOf(x) < 2)
      return rewriter.notifyMatchFailure(op, "input is not a float activation");
    Value weight = projectionWeight(rewriter, op.getInputs()[1], false);
    if (!weight)
      return rewriter.notifyMatchFailure(op, "right side is not a constant");
    x = skipNoOps(x);
    int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
    rewriter.replaceOpWithNewOp<LinearOp>(op, activationType(x.getType(), out),
                                          x, weight, Value());
    return success();
  }
};

struct GemmLinearPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Gemm")
      return failure();
    if (op.getIntAttr("transA", 0) != 0 ||
        op.getFloatAttr("alpha", 1.0) != 1.0 ||
        op.getFloatAttr("beta", 1.0) != 1.0)
      return rewriter.notifyMatchFailure(op, "scaled or transposed input");
    Value x = op.getInputs()[0];
    if (!isF32(x))
      return failure();
    Value weight = projectionWeight(rewriter, op.getInputs()[1],
                                    op.getIntAttr("transB", 0) != 0);
    if (!weight)
      return rewriter.notifyMatchFailure(op, "B is not a constant");
    int64_t out = cast<RankedTensorType>(weight.getType()).getDimSize(0);
    Value bias;
    if (op.getInputs().size() > 2 &&
        !isa<NoneType>(op.getInputs()[2].getType())) {
      Value c = op.getInputs()[2];
      if (!getConstant(c) || rankOf(c) != 1 || lastDimOf(c) != out)
        return rewriter.notifyMatchFailure(op, "C is not a bias vector");
      bias = weightFromConstant(rewriter, c);
    }
    rewriter.replaceOpWithNewOp<LinearOp>(op, activationType(x.getType(), out),
                                          x, weight, bias);
    return success();
  }
};

/// `linear(x) + b` with a constant vector `b` folds into the linear's bias.
struct LinearBiasPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Add")
      return failure();
    LinearOp linear;
    Value bias;
    matchCommutative(op, [&](Value a, Value b) {
      auto candidate = a.getDefiningOp<LinearOp>();
      if (!candidate || candidate.getBias() || !getConstant(b) ||
          rankOf(b) != 1 || lastDimOf(b) != candidate.getOutFeatures())
        return false;
      linear = candidate;
      bias = b;
      return true;
    });
    if (!linear || !linear->hasOneUse())
      return failure();
    Value biasWeight = weightFromConstant(rewriter, bias);
    rewriter.replaceOpWithNewOp<LinearOp>(op, linear.getType(),
                                          linear.getInput(), linear.getWeight(),
                                          biasWeight);
    rewriter.eraseOp(linear);
    return success();
  }
};

/// `reshape(linear(reshape(x, [-1, in])), [dims of x..., out])`: exporters
/// flatten around Gemm; the linear applies to the last axis anyway.
struct UnflattenLinearPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Reshape")
      return failure();
    auto linear = op.getInputs()[0].getDefiningOp<LinearOp>();
    if (!linear || rankOf(linear.getInput()) != 2)
      return failure();
    onnx::NodeOp flatten = getNode(linear.getInput(), "Reshape");
    if (!flatten)
      return failure();
    Value x = skipNoOps(flatten.getInputs()[0]);
    Value flatTarget = flatten.getInputs()[1], outTarget = op.getInputs()[1];
    auto flatShape = getShapeEntries(flatTarget);
    auto outShape = getShapeEntries(outTarget);
    if (!isF32(x) || !flatShape || flatShape->size() != 2 || !outShape ||
        (int64_t)outShape->size() != rankOf(x))
      return rewriter.notifyMatchFailure(op, "not a flatten/unflatten pair");
    // Flattened to [-1, in] and back to [dims of x..., out]: entries are
    // constants or x's own dimensions read with Shape+Gather.
    ConstantMismatch check;
    int64_t rank = rankOf(x);
    auto isDim = [&](Value target, std::optional<int64_t> entry, unsigned i,
                     int64_t axis) {
      auto type = cast<RankedTensorType>(x.getType());
      if (entry)
        return !type.isDynamicDim(axis) && *entry == type.getDimSize(axis);
      return isShapeDimEntry(target, i, axis);
    };
    if ((*flatShape)[0] != -1 ||
        !isDim(flatTarget, (*flatShape)[1], 1, rank - 1))
      check.fail(flatten, "flattens to a target that is not [-1, in_features]");
    else if (outShape->back() != linear.getOutFeatures())
      check.fail(op, "unflattens to a last dimension that is not " +
                         std::to_string(linear.getOutFeatures()));
    for (int64_t i = 0; !check && i + 1 < rank; ++i)
      if (!isDim(outTarget, (*outShape)[i], i, i))
        check.fail(op, "unflattened entry " + std::to_string(i) +
                           " is not dimension " + std::to_string(i) +
                           " of the input");
    if (check)
      return refuse(rewriter, op, "flattened projection", check, "");
    rewriter.replaceOpWithNewOp<LinearOp>(
        op, activationType(x.getType(), linear.getOutFeatures()), x,
        linear.getWeight(), linear.getBias());
    return success();
  }
};

/// Slices rows `[begin, begin + count)` of a raised weight or bias.
Value sliceRows(PatternRewriter &rewriter, Value weight, int64_t begin,
                int64_t count, StringRef suffix) {
  auto type = cast<RankedTensorType>(weight.getType());
  int64_t rowSize = type.getRank() == 2 ? type.getDimSize(1) : 1;
  std::vector<float> data = readFloats(getConstant(weight));
  ArrayRef<float> rows(data.data() + begin * rowSize, count * rowSize);
  SmallVector<int64_t> shape{count};
  if (type.getRank() == 2)
    shape.push_back(rowSize);
  return createWeight(rewriter, weight.getLoc(),
                      (getConstantName(weight) + suffix).str(), shape, rows);
}

/// True if Split `op` of `total` features computes parts of `sizes`.
bool checkSplitSizes(onnx::NodeOp op, ArrayRef<int64_t> sizes, int64_t total,
                     ConstantMismatch &check) {
  std::optional<SmallVector<int64_t>> split = op.getIntsAttr("split");
  if (!split && op.getInputs().size() > 1 &&
      !isa<NoneType>(op.getInputs()[1].getType())) {
    split = readInts(getConstant(op.getInputs()[1]));
    if (!split)
      return check.fail(op, "the split sizes are not a constant");
  }
  if (!split) {
    // Equal parts.
    int64_t parts = sizes.size();
    split = SmallVector<int64_t>(parts, total % parts ? -1 : total / parts);
  }
  if (llvm::ArrayRef<int64_t>(*split) != sizes)
    return check.fail(op, "splits " + std::to_string(total) +
                              " features into " + formatList(*split) +
                              ", but its results have " + formatList(sizes));
  return true;
}

/// A fused projection split along its output features (GPT-2's c_attn)
/// becomes one linear per part.
struct SplitLinearPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Split")
      return failure();
    auto linear = op.getInputs()[0].getDefiningOp<LinearOp>();
    if (!linear)
      return failure();
    int64_t rank = rankOf(linear.getResult());
    int64_t axis = op.getIntAttr("axis", 0);
    if (axis != -1 && axis != rank - 1)
      return rewriter.notifyMatchFailure(op, "split is not on the features");
    SmallVector<int64_t> sizes;
    for (Value result : op.getResults()) {
      int64_t size = lastDimOf(result);
      if (ShapedType::isDynamic(size))
        return rewriter.notifyMatchFailure(op, "split sizes are not static");
      sizes.push_back(size);
    }
    // The result types are what the file declares; the sizes the node
    // computes must agree with them.
    ConstantMismatch check;
    if (!checkSplitSizes(op, sizes, linear.getOutFeatures(), check))
      return refuse(rewriter, op, "split projection", check, "");
    SmallVector<Value> parts;
    int64_t begin = 0;
    for (auto [i, size] : llvm::enumerate(sizes)) {
      std::string suffix = "." + std::to_string(i);
      Value weight =
          sliceRows(rewriter, linear.getWeight(), begin, size, suffix);
      Value bias;
      if (linear.getBias())
        bias = sliceRows(rewriter, linear.getBias(), begin, size, suffix);
      parts.push_back(rewriter.create<LinearOp>(
          op.getLoc(), activationType(linear.getType(), size),
          linear.getInput(), weight, bias));
      begin += size;
    }
    rewriter.replaceOp(op, parts);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// MLP
//===----------------------------------------------------------------------===//

struct MatchedActivation {
  Activation kind;
  LinearOp up;
  LinearOp gate; // Null for plain MLPs.
};

/// Matches `0.5 * h * (1 + tanh(sqrt(2/pi) * (h + 0.044715 h^3)))`.
bool matchGELUTanh(Value value, Value &h) {
  return matchCommutative(getNode(value, "Mul"), [&](Value half, Value rest) {
    Value x;
    if (!matchCommutative(getNode(half, "Mul"), [&](Value a, Value c) {
          x = a;
          return getScalar(c) && near(*getScalar(c), 0.5);
        }))
      return false;
    onnx::NodeOp tanh;
    if (!matchCommutative(getNode(rest, "Add"), [&](Value a, Value one) {
          tanh = getNode(a, "Tanh");
          return tanh && getScalar(one) == 1.0;
        }))
      return false;
    Value inner;
    if (!matchCommutative(
            getNode(tanh.getInputs()[0], "Mul"), [&](Value a, Value c) {
              inner = a;
              return getScalar(c) && near(*getScalar(c), std::sqrt(2 / M_PI));
            }))
      return false;
    return matchCommutative(getNode(inner, "Add"), [&](Value a, Value cubic) {
      if (a != x)
        return false;
      return matchCommutative(getNode(cubic, "Mul"), [&](Value p, Value c) {
        onnx::NodeOp pow = getNode(p, "Pow");
        if (!pow || pow.getInputs()[0] != x ||
            getScalar(pow.getInputs()[1]) != 3.0 || !getScalar(c) ||
            !near(*getScalar(c), 0.044715))
          return false;
        h = x;
        return true;
      });
    });
  });
}

/// Matches `0.5 * h * (1 + erf(h / sqrt(2)))`.
bool matchGELUExact(Value value, Value &h) {
  return matchCommutative(getNode(value, "Mul"), [&](Value half, Value rest) {
    Value x;
    if (!matchCommutative(getNode(half, "Mul"), [&](Value a, Value c) {
          x = a;
          return getScalar(c) && near(*getScalar(c), 0.5);
        }))
      return false;
    return matchCommutative(getNode(rest, "Add"), [&](Value e, Value one) {
      onnx::NodeOp erf = getNode(e, "Erf");
      if (!erf || getScalar(one) != 1.0)
        return false;
      onnx::NodeOp div = getNode(erf.getInputs()[0], "Div");
      if (!div || div.getInputs()[0] != x || !getScalar(div.getInputs()[1]) ||
          !near(*getScalar(div.getInputs()[1]), std::sqrt(2.0)))
        return false;
      h = x;
      return true;
    });
  });
}

/// Matches `x * sigmoid(x)`; returns x.
Value matchSiLU(Value value) {
  Value x;
  matchCommutative(getNode(value, "Mul"), [&](Value a, Value s) {
    onnx::NodeOp sigmoid = getNode(s, "Sigmoid");
    if (!sigmoid || sigmoid.getInputs()[0] != a)
      return false;
    x = a;
    return true;
  });
  return x;
}

std::optional<MatchedActivation> matchActivation(Value value) {
  value = skipNoOps(value);
  // Gated: act(gate(x)) * up(x).
  std::optional<MatchedActivation> gated;
  matchCommutative(getNode(value, "Mul"), [&](Value activated, Value upValue) {
    auto up = upValue.getDefiningOp<LinearOp>();
    Value gateValue = matchSiLU(activated);
    auto gate = gateValue ? gateValue.getDefiningOp<LinearOp>() : LinearOp();
    if (!up || !gate || up.getInput() != gate.getInput() ||
        up.getWeight().getType() != gate.getWeight().getType())
      return false;
    gated = MatchedActivation{Activation::SiLU, up, gate};
    return true;
  });
  if (gated)
    return gated;
  Value h;
  Activation kind;
  if (matchGELUTanh(value, h))
    kind = Activation::GELUTanh;
  else if (matchGELUExact(value, h))
    kind = Activation::GELU;
  else if (onnx::NodeOp gelu = getNode(value, "Gelu")) {
    h = gelu.getInputs()[0];
    auto approximate =
        dyn_cast_or_null<StringAttr>(gelu.getOnnxAttr("approximate"));
    kind = approximate && approximate.getValue() == "tanh"
               ? Activation::GELUTanh
               : Activation::GELU;
  } else if (onnx::NodeOp relu = getNode(value, "Relu")) {
    h = relu.getInputs()[0];
    kind = Activation::ReLU;
  } else if (Value x = matchSiLU(value)) {
    h = x;
    kind = Activation::SiLU;
  } else {
    return std::nullopt;
  }
  auto up = h ? h.getDefiningOp<LinearOp>() : LinearOp();
  if (!up)
    return std::nullopt;
  return MatchedActivation{kind, up, nullptr};
}

/// `down(act(...))` where the activation reads raised projections.
struct MLPPattern : RaisePattern<LinearOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(LinearOp down,
                                PatternRewriter &rewriter) const override {
    if (isLLMValue(down.getInput()))
      return failure();
    std::optional<MatchedActivation> act = matchActivation(down.getInput());
    if (!act || act->up.getOutFeatures() != down.getInFeatures())
      return rewriter.notifyMatchFailure(down, "input is not an activation");
    LinearOp up = act->up, gate = act->gate;
    rewriter.replaceOpWithNewOp<MLPOp>(
        down, down.getType(), up.getInput(), up.getWeight(), up.getBias(),
        gate ? gate.getWeight() : Value(), gate ? gate.getBias() : Value(),
        down.getWeight(), down.getBias(),
        ActivationAttr::get(rewriter.getContext(), act->kind),
        /*layer=*/IntegerAttr());
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Attention
//===----------------------------------------------------------------------===//

struct RopeInfo {
  double theta;
  int64_t rotaryDim;
};

/// Finds rotary frequencies behind a cos/sin table: a constant of `half`
/// f32 values `theta^(-2i / (2 half))` feeding a Cos node.
std::optional<double> findRopeTheta(Value table, int64_t half) {
  SmallVector<Value> worklist{table};
  llvm::SmallPtrSet<Operation *, 32> seen;
  bool sawCos = false;
  while (!worklist.empty()) {
    Value value = worklist.pop_back_val();
    if (ElementsAttr constant = getConstant(value)) {
      if (!sawCos || !isF32(value) ||
          cast<ShapedType>(constant.getType()).getNumElements() != half ||
          half < 2)
        continue;
      std::vector<float> freqs = readFloats(constant);
      if (!near(freqs[0], 1.0, 1e-6))
        continue;
      double theta = std::pow(freqs[1], -static_cast<double>(half));
      // Frequencies are stored as float32; recover the integral base.
      if (near(theta, std::round(theta), 1e-5))
        theta = std::round(theta);
      bool consistent = true;
      for (int64_t i = 0; i < half; ++i)
        consistent &= near(freqs[i], std::pow(theta, -double(i) / half), 1e-4);
      if (consistent)
        return theta;
      continue;
    }
    Operation *op = value.getDefiningOp();
    if (!op || !seen.insert(op).second || seen.size() > 64)
      continue;
    if (auto node = dyn_cast<onnx::NodeOp>(op))
      sawCos |= node.getOpType() == "Cos" || node.getOpType() == "Sin";
    for (Value operand : op->getOperands())
      worklist.push_back(operand);
  }
  return std::nullopt;
}

/// True if `value` is `Slice(x)` along the last axis of `x`, whose last
/// dimension is `dim`, taking exactly `[begin, end)`. Starts and ends may be
/// computed from x's shape (exporters write `x.shape[-1] // 2`) and are
/// clamped as ONNX does, so INT64_MAX means "to the end".
bool isLastAxisSliceOf(Value value, Value x, int64_t dim, int64_t begin,
                       int64_t end, ConstantMismatch &check) {
  onnx::NodeOp slice = getNode(value, "Slice");
  if (!slice || slice.getInputs()[0] != x)
    return false;
  auto inputs = slice.getInputs();
  auto present = [&](unsigned i) {
    return inputs.size() > i && !isa<NoneType>(inputs[i].getType());
  };
  if (!present(1) || !present(2) || !present(3))
    return check.fail(slice, "the rotary Slice does not give starts, ends and "
                             "axes as inputs");
  auto dimOf = [&](Value v, int64_t axis) -> std::optional<int64_t> {
    if (skipNoOps(v) == x && axis == rankOf(x) - 1)
      return dim;
    return std::nullopt;
  };
  std::optional<int64_t> start = foldIndex(inputs[1], dimOf);
  std::optional<int64_t> stop = foldIndex(inputs[2], dimOf);
  std::optional<int64_t> axis = foldIndex(inputs[3]);
  std::optional<int64_t> step = present(4) ? foldIndex(inputs[4]) : 1;
  if (!start || !stop || !axis || !step)
    return check.fail(slice, "the rotary Slice's starts, ends, axes or steps "
                             "are not constants");
  if ((*axis != -1 && *axis != rankOf(x) - 1) || *step != 1)
    return check.fail(slice, "the rotary Slice is on axis " +
                                 std::to_string(*axis) + " with step " +
                                 std::to_string(*step) +
                                 ", expected the last axis with step 1");
  auto clamp = [&](int64_t v) {
    if (v < 0)
      v = v < -dim ? 0 : v + dim;
    return std::min(v, dim);
  };
  if (clamp(*start) != begin || clamp(*stop) != end)
    return check.fail(
        slice, "the rotary Slice takes [" + std::to_string(*start) + ", " +
                   std::to_string(*stop) + ") of head_dim " +
                   std::to_string(dim) + ", expected [" +
                   std::to_string(begin) + ", " + std::to_string(end) + ")");
  return true;
}

/// True if `angles` is `positions * inverse frequencies`, as
/// `Mul(Unsqueeze(positions, -1), freqs)` (llama2.c, torch) or
/// `Transpose(MatMul(freqs[:, :, None], positions[:, None, :]))` (Optimum).
bool checkRopeAngles(Value angles, Operation *consumer,
                     ConstantMismatch &check) {
  auto skipCasts = [](Value v) {
    while (onnx::NodeOp cast = getNode(skipNoOps(v), "Cast"))
      v = cast.getInputs()[0];
    return skipNoOps(v);
  };
  auto positionsOf = [&](onnx::NodeOp unsqueeze, int64_t axis) {
    std::optional<SmallVector<int64_t>> axes = getAxes(unsqueeze);
    int64_t rank = rankOf(unsqueeze.getResult(0));
    if (!axes || axes->size() != 1 ||
        ((*axes)[0] != axis && (*axes)[0] != axis + rank))
      return check.fail(unsqueeze, "inserts the rotary positions' axis at " +
                                       (axes ? formatList(*axes) : "?") +
                                       ", expected [" + std::to_string(axis) +
                                       "]");
    if (!isPositionIds(unsqueeze.getInputs()[0], check))
      return check.fail(unsqueeze, "the rotary angles are not computed from "
                                   "the positions");
    return true;
  };
  if (onnx::NodeOp mul = getNode(angles, "Mul")) {
    bool found = false;
    matchCommutative(mul, [&](Value a, Value freqs) {
      onnx::NodeOp unsqueeze = getNode(skipCasts(a), "Unsqueeze");
      if (!unsqueeze || !getConstant(freqs))
        return false;
      found = true;
      return positionsOf(unsqueeze, -1);
    });
    return found ? !check
                 : check.fail(mul, "the rotary angles are not positions "
                                   "times frequencies");
  }
  onnx::NodeOp transpose = getNode(angles, "Transpose");
  onnx::NodeOp matmul =
      transpose ? getNode(skipNoOps(transpose.getInputs()[0]), "MatMul")
                : onnx::NodeOp();
  if (!matmul)
    return check.fail(consumer, "the rotary angles are not positions times "
                                "frequencies");
  std::optional<SmallVector<int64_t>> perm = transpose.getIntsAttr("perm");
  if (!perm || llvm::ArrayRef<int64_t>(*perm) != ArrayRef<int64_t>{0, 2, 1})
    return check.fail(transpose, "transposes the rotary angles with " +
                                     (perm ? formatList(*perm) : "no perm") +
                                     ", expected [0, 2, 1]");
  onnx::NodeOp unsqueeze =
      getNode(skipCasts(matmul.getInputs()[1]), "Unsqueeze");
  if (!unsqueeze)
    return check.fail(matmul, "the rotary angles are not frequencies times "
                              "positions");
  return positionsOf(unsqueeze, 1);
}

/// True if `table` is `Unsqueeze(opType(Concat(a, a, axis=-1)), [1])`: the
/// cos or sin of the angles, duplicated for both halves and broadcast over
/// the heads.
bool checkRopeTable(Value table, StringRef opType, ConstantMismatch &check) {
  onnx::NodeOp unsqueeze = getNode(skipNoOps(table), "Unsqueeze");
  if (!unsqueeze)
    return false;
  std::optional<SmallVector<int64_t>> axes = getAxes(unsqueeze);
  if (!axes || llvm::ArrayRef<int64_t>(*axes) != ArrayRef<int64_t>{1})
    return check.fail(unsqueeze, "inserts the rotary table's head axis at " +
                                     (axes ? formatList(*axes) : "?") +
                                     ", expected [1]");
  onnx::NodeOp trig = getNode(skipNoOps(unsqueeze.getInputs()[0]), opType);
  if (!trig)
    return check.fail(unsqueeze, "the rotary table is not a " + opType);
  onnx::NodeOp concat = getNode(skipNoOps(trig.getInputs()[0]), "Concat");
  int64_t axis = concat ? concat.getIntAttr("axis", 0) : 0;
  if (!concat || concat.getInputs().size() != 2 ||
      skipNoOps(concat.getInputs()[0]) != skipNoOps(concat.getInputs()[1]) ||
      (axis != -1 && axis != rankOf(concat.getResult(0)) - 1))
    return check.fail(concat ? concat : trig,
                      "the rotary angles are not Concat(a, a) along the last "
                      "axis");
  return checkRopeAngles(skipNoOps(concat.getInputs()[0]), concat, check);
}

/// Matches `x * cos + rotate_half(x) * sin` on `[b, heads, s, d]` values;
/// returns x and fills `info`.
Value matchRotateHalfRope(Value value, int64_t headDim, RopeInfo &info,
                          ConstantMismatch &check) {
  Value x;
  matchCommutative(getNode(value, "Add"), [&](Value cosTerm, Value sinTerm) {
    return matchCommutative(
        getNode(cosTerm, "Mul"), [&](Value input, Value cos) {
          return matchCommutative(
              getNode(sinTerm, "Mul"), [&](Value rotated, Value sin) {
                onnx::NodeOp concat = getNode(rotated, "Concat");
                if (!concat || concat.getInputs().size() != 2)
                  return false;
                int64_t axis = concat.getIntAttr("axis", 0);
                if (axis != -1 && axis != rankOf(input) - 1)
                  return false;
                onnx::NodeOp neg = getNode(concat.getInputs()[0], "Neg");
                int64_t half = headDim / 2;
                if (!neg || headDim % 2 ||
                    !isLastAxisSliceOf(neg.getInputs()[0], input, headDim, half,
                                       headDim, check) ||
                    !isLastAxisSliceOf(concat.getInputs()[1], input, headDim, 0,
                                       half, check))
                  return false;
                if (!checkRopeTable(cos, "Cos", check) ||
                    !checkRopeTable(sin, "Sin", check))
                  return false;
                std::optional<double> theta = findRopeTheta(cos, headDim / 2);
                if (!theta || findRopeTheta(sin, headDim / 2) != theta)
                  return false;
                info = RopeInfo{*theta, headDim};
                x = input;
                return true;
              });
        });
  });
  return x;
}

/// What sits behind a `[batch, heads, seq, head_dim]` attention operand.
struct HeadsOperand {
  Value projection; // Raised `[batch, seq, heads * head_dim]` value.
  int64_t heads = 0;
  int64_t headDim = 0;
  std::optional<RopeInfo> rope;
  /// repeat_kv's constants: `[b, kvHeads, repeats, s, head_dim]` expanded
  /// and reshaped to `[b, heads, s, head_dim]`, checked against q and k.
  struct Repeat {
    Operation *node;
    int64_t kvHeads, repeats, headDim, heads;
  };
  std::optional<Repeat> repeat;
};

/// Strips exporters' `Where(Equal(s, -1 * ones), ones, s)` around an Expand
/// target (it turns -1 entries into 1), checking its constants; null if
/// they are not those.
Value stripExpandNormalization(Value shape, ConstantMismatch &check) {
  onnx::NodeOp where = getNode(shape, "Where");
  if (!where)
    return shape;
  Value target = skipNoOps(where.getInputs()[2]);
  onnx::NodeOp equal = getNode(skipNoOps(where.getInputs()[0]), "Equal");
  onnx::NodeOp ones =
      getNode(skipNoOps(where.getInputs()[1]), "ConstantOfShape");
  onnx::NodeOp mul =
      equal ? getNode(skipNoOps(equal.getInputs()[1]), "Mul") : onnx::NodeOp();
  std::optional<int64_t> minusOne =
      mul ? getIntScalar(mul.getInputs()[1]) : std::nullopt;
  std::optional<SmallVector<int64_t>> one =
      ones ? readInts(dyn_cast_or_null<ElementsAttr>(ones.getOnnxAttr("value")))
           : std::nullopt;
  if (equal && skipNoOps(equal.getInputs()[0]) == target && minusOne == -1 &&
      one && one->size() == 1 && one->front() == 1)
    return target;
  check.fail(where, "the expanded shape is not normalized as "
                    "Where(Equal(s, -1), 1, s)");
  return {};
}

/// Reads repeat_kv's Expand and Reshape targets (the Expand target behind
/// exporters' `Where(Equal(s, -1), 1, s)` normalization).
std::optional<HeadsOperand::Repeat>
readRepeat(onnx::NodeOp expand, onnx::NodeOp reshape, ConstantMismatch &check) {
  Value shape =
      stripExpandNormalization(skipNoOps(expand.getInputs()[1]), check);
  if (!shape)
    return std::nullopt;
  if (onnx::NodeOp flat = getNode(shape, "Reshape"))
    shape = skipNoOps(flat.getInputs()[0]);
  auto entries = getShapeEntries(shape);
  auto target = getShapeEntries(reshape.getInputs()[1]);
  if (!entries || entries->size() != 5 || !(*entries)[1] || !(*entries)[2] ||
      !(*entries)[4] || !isShapeDimEntry(shape, 0, 0) ||
      !isShapeDimEntry(shape, 3, 2)) {
    check.fail(expand, "repeat_kv's expanded shape is not [batch, kv_heads, "
                       "repeats, seq, head_dim]");
    return std::nullopt;
  }
  if (!target || target->size() != 4 || !(*target)[1] || !(*target)[3] ||
      !isShapeDimEntry(reshape.getInputs()[1], 0, 0) ||
      !isShapeDimEntry(reshape.getInputs()[1], 2, 2)) {
    check.fail(reshape, "repeat_kv's target is not [batch, heads, seq, "
                        "head_dim]");
    return std::nullopt;
  }
  if ((*target)[3] != (*entries)[4]) {
    check.fail(reshape, "repeat_kv's head_dim changes");
    return std::nullopt;
  }
  return HeadsOperand::Repeat{expand, *(*entries)[1], *(*entries)[2],
                              *(*entries)[4], *(*target)[1]};
}

/// True if the first `count` entries of a Reshape target keep the input's
/// leading dimensions: each is 0 (copy), -1 (inferred; at most one in the
/// target) or that same dimension read with Shape+Gather.
bool checkLeadingDims(onnx::NodeOp reshape, unsigned count,
                      ConstantMismatch &check) {
  Value shape = reshape.getInputs()[1];
  std::optional<SmallVector<std::optional<int64_t>>> entries =
      getShapeEntries(shape);
  if (!entries || entries->size() < count)
    return check.fail(reshape, "the target shape is not known");
  if (llvm::count(*entries, std::optional<int64_t>(-1)) > 1)
    return check.fail(reshape, "the target has more than one -1");
  // The one-element pieces of a Concat target, by entry.
  SmallVector<Value> pieces;
  if (onnx::NodeOp concat = getNode(shape, "Concat"))
    for (Value piece : concat.getInputs()) {
      auto type = cast<RankedTensorType>(piece.getType());
      pieces.append(type.getDimSize(0),
                    type.getDimSize(0) == 1 ? piece : Value());
    }
  auto inType = dyn_cast<RankedTensorType>(reshape.getInputs()[0].getType());
  for (unsigned i = 0; i < count; ++i) {
    std::optional<int64_t> entry = (*entries)[i];
    bool copies = entry == -1 ||
                  (entry == 0 && reshape.getIntAttr("allowzero", 0) == 0) ||
                  (entry && inType && inType.getRank() > i &&
                   inType.getDimSize(i) == *entry);
    if (!entry && i < pieces.size() && pieces[i])
      if (std::optional<std::pair<Value, int64_t>> dim =
              matchShapeDim(pieces[i]))
        copies = dim->second == i;
    if (!copies)
      return check.fail(
          reshape,
          "target entry " + std::to_string(i) + " is " +
              (entry ? std::to_string(*entry) : std::string("computed")) +
              ", expected dimension " + std::to_string(i) + " of the input");
  }
  return true;
}

/// Peels grouped-query repetition, past-KV concatenation, RoPE and the
/// head split off an attention operand.
std::optional<HeadsOperand> unpackHeads(Value value, bool isKeyValue,
                                        ConstantMismatch &check,
                                        bool alreadySplit = false) {
  HeadsOperand result;
  if (isKeyValue) {
    // repeat_kv: reshape(expand(unsqueeze(kv, 2)), [b, kv * n_rep, s, d]).
    if (onnx::NodeOp reshape = getNode(value, "Reshape"))
      if (onnx::NodeOp expand = getNode(reshape.getInputs()[0], "Expand"))
        if (onnx::NodeOp unsqueeze =
                getNode(expand.getInputs()[0], "Unsqueeze")) {
          // The types are the file's word; the axes are what runs.
          std::optional<SmallVector<int64_t>> axes = getAxes(unsqueeze);
          if (rankOf(unsqueeze.getInputs()[0]) == 4) {
            result.repeat = readRepeat(expand, reshape, check);
            if (!result.repeat)
              return std::nullopt;
            if (!axes ||
                (llvm::ArrayRef<int64_t>(*axes) != ArrayRef<int64_t>{2} &&
                 llvm::ArrayRef<int64_t>(*axes) != ArrayRef<int64_t>{-3})) {
              check.fail(unsqueeze, "repeats key/value heads after inserting "
                                    "axis " +
                                        (axes ? formatList(*axes) : "?") +
                                        ", expected [2]");
              return std::nullopt;
            }
            value = unsqueeze.getInputs()[0];
          }
        }
    // present = concat(past, new) along the sequence axis.
    if (onnx::NodeOp concat = getNode(value, "Concat")) {
      int64_t axis = concat.getIntAttr("axis", 0);
      if (concat.getInputs().size() == 2 &&
          isa<BlockArgument>(concat.getInputs()[0]) &&
          (axis == 2 || axis == -2))
        value = concat.getInputs()[1];
      else
        return std::nullopt;
    }
  }
  // RoPE needs head_dim, which the head split below gives; find the split
  // first by looking through a candidate rope.
  RopeInfo rope{};
  auto splitOf = [](Value v) -> onnx::NodeOp {
    onnx::NodeOp transpose = getNode(v, "Transpose");
    if (!transpose)
      return nullptr;
    std::optional<SmallVector<int64_t>> perm = transpose.getIntsAttr("perm");
    if (!perm ||
        llvm::ArrayRef<int64_t>(*perm) != llvm::ArrayRef<int64_t>{0, 2, 1, 3})
      return nullptr;
    return getNode(transpose.getInputs()[0], "Reshape");
  };
  // Keys transposed straight to [b, h, d, s] skip the [b, h, s, d] form.
  onnx::NodeOp reshape =
      alreadySplit ? getNode(value, "Reshape") : splitOf(value);
  if (!reshape) {
    // Try every head_dim a rope could have: read it from the candidate's
    // input split.
    onnx::NodeOp add = getNode(value, "Add");
    if (!add)
      return std::nullopt;
    for (Value operand : add.getInputs()) {
      onnx::NodeOp mul = getNode(operand, "Mul");
      if (!mul)
        continue;
      for (Value input : mul.getInputs())
        if (onnx::NodeOp split = splitOf(input)) {
          auto entries = getShapeEntries(split.getInputs()[1]);
          if (!entries || entries->size() != 4 || !entries->back())
            continue;
          Value x = matchRotateHalfRope(value, *entries->back(), rope, check);
          if (x == input) {
            result.rope = rope;
            reshape = split;
            break;
          }
        }
      if (reshape)
        break;
    }
    if (!reshape)
      return std::nullopt;
  }
  auto entries = getShapeEntries(reshape.getInputs()[1]);
  Value projection = skipNoOps(reshape.getInputs()[0]);
  if (!entries || entries->size() != 4 || !isLLMValue(projection))
    return std::nullopt;
  if (!checkLeadingDims(reshape, 2, check))
    return std::nullopt;
  int64_t features = lastDimOf(projection);
  std::optional<int64_t> heads = (*entries)[2], headDim = (*entries)[3];
  // Computed entries and -1 are inferred from the features; 0 (copy a
  // dimension the rank-3 input does not have) and other values are not.
  auto inferred = [](std::optional<int64_t> entry) {
    return !entry || *entry == -1;
  };
  if (headDim && *headDim > 0 && inferred(heads) &&
      !ShapedType::isDynamic(features))
    heads = features / *headDim;
  if (heads && *heads > 0 && inferred(headDim) &&
      !ShapedType::isDynamic(features))
    headDim = features / *heads;
  if (!heads || !headDim || *heads <= 0 || *headDim <= 0 ||
      (!ShapedType::isDynamic(features) &&
       llvm::checkedMul(*heads, *headDim) != features)) {
    check.fail(reshape, "splits " + std::to_string(features) +
                            " features into heads of target " +
                            formatList(llvm::to_vector(
                                llvm::map_range(*entries,
                                                [](std::optional<int64_t> e) {
                                                  return e.value_or(-2);
                                                }))) +
                            " (-2: computed)");
    return std::nullopt;
  }
  result.projection = projection;
  result.heads = *heads;
  result.headDim = *headDim;
  return result;
}

/// True if a Transpose node has exactly the permutation `perm`.
bool isPermutation(onnx::NodeOp transpose, ArrayRef<int64_t> perm) {
  std::optional<SmallVector<int64_t>> attr = transpose.getIntsAttr("perm");
  return attr && llvm::ArrayRef<int64_t>(*attr) == perm;
}

/// The one user of `node` of type `opType`, provided every other user only
/// reads its shape; null otherwise.
onnx::NodeOp soleDataUser(onnx::NodeOp node, StringRef opType) {
  onnx::NodeOp found;
  for (Operation *user : node->getUsers()) {
    auto userNode = dyn_cast<onnx::NodeOp>(user);
    if (!userNode)
      return nullptr;
    if (userNode.getOpType() == "Shape")
      continue;
    if (found || userNode.getOpType() != opType)
      return nullptr;
    found = userNode;
  }
  return found;
}

/// Multiplies `scale` by any scalar Mul/Div applied to `value`, and returns
/// the unscaled value.
Value peelScale(Value value, double &scale) {
  while (true) {
    value = skipNoOps(value);
    if (onnx::NodeOp div = getNode(value, "Div"))
      if (std::optional<double> c = getScalar(div.getInputs()[1])) {
        scale /= *c;
        value = div.getInputs()[0];
        continue;
      }
    Value rest;
    if (matchCommutative(getNode(value, "Mul"), [&](Value a, Value b) {
          std::optional<double> c = getScalar(b);
          if (!c)
            return false;
          scale *= *c;
          rest = a;
          return true;
        })) {
      value = rest;
      continue;
    }
    return value;
  }
}

/// True if a square constant `[..., n, n]` is a causal pattern: true (or
/// nonzero) exactly above the diagonal (what to hide) or exactly on and below
/// it (what to keep).
bool isTriangular(ElementsAttr value) {
  auto type = cast<ShapedType>(value.getType());
  int64_t n = type.getRank() >= 2 ? type.getShape().back() : 0;
  if (n < 2 || type.getShape()[type.getRank() - 2] != n)
    return false;
  std::optional<SmallVector<int64_t>> ints = readInts(value);
  std::vector<float> floats;
  if (!ints)
    floats = readFloats(value);
  auto at = [&](int64_t i) { return ints ? (*ints)[i] != 0 : floats[i] != 0; };
  int64_t count = type.getNumElements();
  bool above = true, below = true;
  for (int64_t i = 0; i < count && (above || below); ++i) {
    int64_t row = (i / n) % n, column = i % n;
    above &= at(i) == (column > row);
    below &= at(i) == (column <= row);
  }
  return above || below;
}

/// True if `value` is the sequence length of a past key/value input
/// `[batch, heads, seq, head_dim]`: where new positions start.
bool isPastLength(Value value) {
  std::optional<std::pair<Value, int64_t>> dim = matchShapeDim(value);
  return dim && isa<BlockArgument>(dim->first) && rankOf(dim->first) == 4 &&
         dim->second == 2;
}

/// The query and key axes of a mask stay last: an Unsqueeze of the mask
/// itself (a boolean or float tensor, or the attention_mask input) inserts
/// no axis among or after them. (Integer tensors that are not inputs are index
/// plumbing, such as Optimum's GatherND coordinates, and are left alone.) True
/// if `value` is mask data (a boolean or float tensor, or an input such as
/// attention_mask) rather than index plumbing.
bool isMaskData(Value value) {
  value = skipNoOps(value);
  Type element = getElementTypeOrSelf(value);
  return isa<BlockArgument>(value) || !isa<IntegerType>(element) ||
         element.isInteger(1);
}

bool checkMaskUnsqueeze(onnx::NodeOp unsqueeze, ConstantMismatch &check) {
  Value input = skipNoOps(unsqueeze.getInputs()[0]);
  if (!isMaskData(input) || rankOf(input) < 2)
    return true;
  // An input (attention_mask, [batch, keys]) keeps its last axis last; a
  // computed mask ([..., queries, keys]) keeps its last two.
  int64_t kept = isa<BlockArgument>(input) ? 1 : 2;
  std::optional<SmallVector<int64_t>> axes = getAxes(unsqueeze);
  int64_t rank = rankOf(input) + (axes ? axes->size() : 0);
  if (axes && llvm::none_of(*axes, [&](int64_t axis) {
        int64_t normalized = axis < 0 ? axis + rank : axis;
        return normalized >= rank - kept;
      }))
    return true;
  return check.fail(unsqueeze,
                    "inserts axis " + (axes ? formatList(*axes) : "?") +
                        (kept == 1 ? " after the mask's key axis"
                                   : " among the mask's query and key axes"));
}

/// A Slice of the mask keeps its leading part (`mask[..., :n]`): starts 0,
/// steps 1, ends computed from shapes or "to the end".
bool checkMaskSlice(onnx::NodeOp slice, ConstantMismatch &check) {
  auto inputs = slice.getInputs();
  auto given = [&](unsigned i) {
    return inputs.size() > i && !isa<NoneType>(inputs[i].getType());
  };
  if (!given(2) || !isMaskData(inputs[0]))
    return true; // An opset < 10 Slice, or index plumbing.
  std::optional<SmallVector<int64_t>> starts = readInts(getConstant(inputs[1]));
  std::optional<SmallVector<int64_t>> ends = readInts(getConstant(inputs[2]));
  std::optional<SmallVector<int64_t>> steps =
      given(4) ? readInts(getConstant(inputs[4]))
               : std::optional<SmallVector<int64_t>>(SmallVector<int64_t>{});
  bool ok = starts && steps &&
            llvm::all_of(*starts, [](int64_t v) { return v == 0; }) &&
            llvm::all_of(*steps, [](int64_t v) { return v == 1; });
  if (ok && ends)
    ok = llvm::all_of(*ends, [](int64_t v) { return v >= INT32_MAX; });
  if (ok)
    return true;
  return check.fail(slice, "the mask Slice does not keep a leading part "
                           "(starts 0, steps 1, ends computed or to the "
                           "end)");
}

/// The arithmetic that turns a boolean mask into an additive one,
/// `(1 - m) * fill`: what is subtracted from is 1 and what multiplies is a
/// finite large negative fill (`0 * -inf` would be NaN).
bool checkMaskArithmetic(onnx::NodeOp node, ConstantMismatch &check) {
  StringRef type = node.getOpType();
  if (type != "Sub" && type != "Mul")
    return true;
  for (auto [i, input] : llvm::enumerate(node.getInputs())) {
    ElementsAttr value = getConstant(input);
    if (!value || cast<ShapedType>(value.getType()).getNumElements() != 1 ||
        !isa<FloatType>(cast<ShapedType>(value.getType()).getElementType()))
      continue;
    float v = readFloats(value)[0];
    if (type == "Sub" && i == 0 && v != 1)
      return check.fail(node, "the mask is " + std::to_string(v) +
                                  " - m, expected 1 - m");
    if (type == "Mul" && !(std::isfinite(v) && v <= -1e4f))
      return check.fail(node, "the mask is multiplied by " + std::to_string(v) +
                                  ", expected a finite fill <= -1e4");
  }
  return true;
}

/// The causal comparison of key positions (a `[1, kv]` row) with query
/// positions (a `[q, 1]` column): `keys <= queries` or `queries >= keys`
/// (strict forms too). Comparisons of other shapes are not position grids
/// and are left to the other checks.
bool checkCausalComparison(onnx::NodeOp node, ConstantMismatch &check) {
  StringRef type = node.getOpType();
  bool keysFirst = type == "LessOrEqual" || type == "Less";
  if (!keysFirst && type != "GreaterOrEqual" && type != "Greater")
    return true;
  Value a = node.getInputs()[0], b = node.getInputs()[1];
  if (getConstant(a) || getConstant(b) || rankOf(a) != 2 || rankOf(b) != 2)
    return true;
  // A position vector made 2-D by an Unsqueeze is a row or a column by its
  // axes (what runs); anything else by its type.
  auto isUnitAt = [](Value v, int64_t dim) {
    if (onnx::NodeOp unsqueeze = getNode(skipNoOps(v), "Unsqueeze"))
      if (rankOf(unsqueeze.getInputs()[0]) == 1) {
        std::optional<SmallVector<int64_t>> axes = getAxes(unsqueeze);
        return axes && axes->size() == 1 &&
               ((*axes)[0] == dim || (*axes)[0] == dim - 2);
      }
    return cast<RankedTensorType>(v.getType()).getDimSize(dim) == 1;
  };
  auto isRow = [&](Value v) { return isUnitAt(v, 0); };
  auto isColumn = [&](Value v) { return isUnitAt(v, 1); };
  Value keys = keysFirst ? a : b, queries = keysFirst ? b : a;
  if (!isRow(keys) || !isColumn(queries))
    return check.fail(node, "the causal comparison is not of a [1, kv] row of "
                            "key positions with a [q, 1] column of query "
                            "positions");
  // A query sees its own key: `keys <= queries`, or `keys < queries + 1`.
  int64_t shift = 0;
  Value column = skipNoOps(queries);
  while (onnx::NodeOp unsqueeze = getNode(column, "Unsqueeze"))
    column = skipNoOps(unsqueeze.getInputs()[0]);
  if (onnx::NodeOp add = getNode(column, "Add"))
    for (Value input : add.getInputs())
      if (std::optional<int64_t> c = foldIndex(input))
        shift += *c;
  bool inclusive = type == "LessOrEqual" || type == "GreaterOrEqual";
  if (shift == (inclusive ? 0 : 1))
    return true;
  return check.fail(node, "the causal comparison is keys " +
                              std::string(inclusive ? "<=" : "<") + " queries" +
                              (shift ? " + " + std::to_string(shift) : "") +
                              ", expected keys <= queries (a query sees its "
                              "own key)");
}

/// True if `value` is a sequence length: the sequence axis of a
/// `[batch, seq]` input or a `[batch, seq, hidden]` activation, the length of
/// a past key/value input, or a sum of those.
bool isSequenceLength(Value value) {
  value = skipNoOps(value);
  while (onnx::NodeOp cast = getNode(value, "Cast"))
    value = skipNoOps(cast.getInputs()[0]);
  if (onnx::NodeOp add = getNode(value, "Add"))
    return isSequenceLength(add.getInputs()[0]) &&
           isSequenceLength(add.getInputs()[1]);
  if (isPastLength(value))
    return true;
  // Optimum indexes its unranked 4-D mask with Ranges over all of its
  // dimensions (GatherND coordinates); the shape is not known to check.
  if (onnx::NodeOp gather = getNode(value, "Gather"))
    if (onnx::NodeOp shape = getNode(skipNoOps(gather.getInputs()[0]), "Shape"))
      if (rankOf(shape.getInputs()[0]) < 0)
        return true;
  std::optional<std::pair<Value, int64_t>> dim = matchShapeDim(value);
  return dim && dim->second == 1 &&
         (rankOf(dim->first) == 2 || rankOf(dim->first) == 3);
}

/// Checks the constants the mask of `masked` (the Add or Where that applies
/// it to the scores) is built from, since the raised attention is causal by
/// definition: every float scalar is 0, 1 or a large negative fill (one at
/// least), every square table is triangular and every Range counts by 1
/// from 0 or from the past length. The
/// walk stops at Shape nodes: what they read is only sizes.
bool checkMask(onnx::NodeOp masked, Value scores, ConstantMismatch &check) {
  SmallVector<Value> worklist;
  for (Value input : masked.getInputs())
    if (skipNoOps(input) != scores)
      worklist.push_back(input);
  llvm::SmallPtrSet<Operation *, 32> seen;
  bool hasFill = false;
  while (!worklist.empty()) {
    Operation *op = worklist.pop_back_val().getDefiningOp();
    if (!op || !seen.insert(op).second)
      continue;
    if (seen.size() > 512)
      return check.fail(masked, "the mask is too large a computation");
    if (auto constant = dyn_cast<onnx::ConstantOp>(op)) {
      auto type = constant.getType();
      if (type.getNumElements() == 1 && isa<FloatType>(type.getElementType())) {
        float v = readFloats(constant.getValue())[0];
        if (v <= -1e4f) {
          hasFill = true;
          continue;
        }
        if (v != 0 && v != 1)
          return check.fail(constant, "the mask holds " + std::to_string(v) +
                                          ", expected 0, 1 or a large "
                                          "negative fill");
      }
      if (type.getRank() >= 2 && type.getShape().back() > 1 &&
          type.getShape().back() == type.getShape()[type.getRank() - 2] &&
          !isTriangular(constant.getValue()))
        return check.fail(constant, "the mask table is not causal "
                                    "(triangular)");
      continue;
    }
    auto node = dyn_cast<onnx::NodeOp>(op);
    if (!node)
      continue;
    if (node.getOpType() == "Range" &&
        ((foldIndex(node.getInputs()[0]) != std::optional<int64_t>(0) &&
          !isPastLength(node.getInputs()[0])) ||
         foldIndex(node.getInputs()[2]) != std::optional<int64_t>(1)))
      return check.fail(node, "a mask Range does not count by 1 from 0 or "
                              "from the past length");
    if (node.getOpType() == "Range" && !isSequenceLength(node.getInputs()[1]))
      return check.fail(node, "a mask Range does not end at a sequence "
                              "length");
    if (node.getOpType() == "Shape")
      continue;
    onnx::NodeOp shapeOf =
        node.getOpType() == "Gather"
            ? getNode(skipNoOps(node.getInputs()[0]), "Shape")
            : onnx::NodeOp();
    if (shapeOf && rankOf(shapeOf.getInputs()[0]) >= 0 &&
        !matchShapeDim(node.getResult(0)))
      return check.fail(node, "the mask reads a dimension its tensor does "
                              "not have");
    // Of a past key/value input the mask reads only the past length.
    if (shapeOf && isa<BlockArgument>(shapeOf.getInputs()[0]) &&
        rankOf(shapeOf.getInputs()[0]) == 4 && !isPastLength(node.getResult(0)))
      return check.fail(node, "the mask reads a dimension of a past "
                              "key/value input other than its length");
    if (!checkMaskArithmetic(node, check))
      return false;
    // Padding masks compare attention_mask with 0 (the runtime serves one
    // unpadded sequence, so nothing else may be compared with a constant).
    StringRef type = node.getOpType();
    if (!checkCausalComparison(node, check))
      return false;
    if (type == "Greater" || type == "Less" || type == "Equal" ||
        type == "GreaterOrEqual" || type == "LessOrEqual")
      for (Value input : node.getInputs())
        if (getConstant(input)) {
          std::vector<float> values = readFloats(getConstant(input));
          if (values.size() != 1 || values[0] != 0)
            return check.fail(node, "the mask compares with a constant "
                                    "other than 0");
        }
    if (type == "Unsqueeze" && !checkMaskUnsqueeze(node, check))
      return false;
    if (type == "Slice" && !checkMaskSlice(node, check))
      return false;
    for (Value input : node.getInputs())
      worklist.push_back(input);
  }
  if (!hasFill)
    return check.fail(masked, "the mask has no large negative fill value");
  return true;
}

/// softmax(scale * q k^T + mask) v, with heads split and merged around it.
/// The root is the Softmax; the replaced value is the merged-heads Reshape.
struct AttentionPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp softmax,
                                PatternRewriter &rewriter) const override {
    if (softmax.getOpType() != "Softmax")
      return failure();
    int64_t axis = softmax.getIntAttr("axis", -1);
    if (axis != -1 && axis != 3)
      return rewriter.notifyMatchFailure(softmax, "softmax not over keys");
    // Strip the additive mask; the llm op is causal by definition.
    Value scores = skipNoOps(softmax.getInputs()[0]);
    double scale = 1.0;
    Value logitsValue;
    auto findMatMul = [&](Value v) {
      double s = 1.0;
      Value inner = peelScale(v, s);
      if (!getNode(inner, "MatMul"))
        return false;
      scale = s;
      logitsValue = inner;
      return true;
    };
    ConstantMismatch check;
    if (!findMatMul(scores)) {
      onnx::NodeOp masked = getNode(scores, "Add");
      if (!masked)
        masked = getNode(scores, "Where");
      Value unmasked;
      for (Value input : masked ? masked.getInputs() : ValueRange())
        if (!unmasked && findMatMul(input))
          unmasked = skipNoOps(input);
      if (!unmasked)
        return rewriter.notifyMatchFailure(softmax, "scores are not q.k");
      if (!checkMask(masked, unmasked, check))
        return refuse(rewriter, softmax, "attention", check, "");
    }
    onnx::NodeOp qk = getNode(logitsValue, "MatMul");
    Value q4 = peelScale(qk.getInputs()[0], scale);
    Value kT = peelScale(qk.getInputs()[1], scale);
    // k^T is [b, h, s, d] -> [b, h, d, s], or the head split of k
    // transposed straight to [b, h, d, s].
    onnx::NodeOp kTranspose = getNode(kT, "Transpose");
    bool keysFromSplit = kTranspose && isPermutation(kTranspose, {0, 2, 3, 1});
    if (!kTranspose ||
        (!keysFromSplit && !isPermutation(kTranspose, {0, 1, 3, 2})))
      return rewriter.notifyMatchFailure(softmax, "keys are not transposed");
    Value k4 = peelScale(kTranspose.getInputs()[0], scale);
    if (!std::isfinite(scale) || scale == 0) {
      check.fail(qk, "the scores are scaled by " + std::to_string(scale) +
                         ", expected a finite nonzero factor");
      return refuse(rewriter, softmax, "attention", check, "");
    }

    // probs @ v (probs possibly through a no-op Cast), then heads merged
    // back: transpose(0,2,1,3) + reshape.
    onnx::NodeOp pv, mergeTranspose, mergeReshape;
    SmallVector<Value> probs{softmax.getResult(0)};
    for (size_t i = 0; i < probs.size(); ++i)
      for (Operation *user : probs[i].getUsers())
        if (auto cast = dyn_cast<onnx::NodeOp>(user))
          if (cast.getOpType() == "Cast" &&
              skipNoOps(cast.getResult(0)) == softmax.getResult(0))
            probs.push_back(cast.getResult(0));
    for (Value p : probs)
      for (Operation *user : p.getUsers())
        if (auto node = dyn_cast<onnx::NodeOp>(user))
          if (node.getOpType() == "MatMul" && node.getInputs()[0] == p)
            pv = node;
    if (!pv)
      return rewriter.notifyMatchFailure(softmax, "no probs @ v");
    mergeTranspose = soleDataUser(pv, "Transpose");
    mergeReshape = mergeTranspose ? soleDataUser(mergeTranspose, "Reshape")
                                  : onnx::NodeOp();
    if (!mergeReshape || !isPermutation(mergeTranspose, {0, 2, 1, 3}))
      return rewriter.notifyMatchFailure(softmax, "heads are not merged");

    std::optional<HeadsOperand> q = unpackHeads(q4, false, check);
    std::optional<HeadsOperand> k = unpackHeads(k4, true, check, keysFromSplit);
    std::optional<HeadsOperand> v = unpackHeads(pv.getInputs()[1], true, check);
    if (!q || !k || !v)
      return refuse(rewriter, softmax, "attention", check,
                    "q/k/v are not raised heads");
    if (q->headDim != k->headDim || k->headDim != v->headDim ||
        k->heads != v->heads || q->heads % k->heads != 0)
      return rewriter.notifyMatchFailure(softmax, "inconsistent head shapes");
    for (const std::optional<HeadsOperand::Repeat> &repeat :
         {k->repeat, v->repeat})
      if (repeat &&
          (repeat->kvHeads != k->heads || repeat->headDim != k->headDim ||
           llvm::checkedMul(repeat->kvHeads, repeat->repeats) != q->heads ||
           repeat->heads != q->heads)) {
        check.fail(repeat->node,
                   "repeat_kv expands " + std::to_string(repeat->kvHeads) +
                       " heads " + std::to_string(repeat->repeats) +
                       " times into " + std::to_string(repeat->heads) + " of " +
                       std::to_string(repeat->headDim) + ", expected " +
                       std::to_string(k->heads) + " heads " +
                       std::to_string(q->heads / k->heads) + " times into " +
                       std::to_string(q->heads) + " of " +
                       std::to_string(k->headDim));
        return refuse(rewriter, softmax, "attention", check, "");
      }
    if (q->rope.has_value() != k->rope.has_value() || v->rope ||
        (q->rope && (q->rope->theta != k->rope->theta)))
      return rewriter.notifyMatchFailure(softmax,
                                         "inconsistent rotary embedding");

    // The merged heads must come out as [batch, seq, heads * head_dim].
    std::optional<SmallVector<std::optional<int64_t>>> merged =
        getShapeEntries(mergeReshape.getInputs()[1]);
    if (!merged || merged->size() != 3 ||
        !checkLeadingDims(mergeReshape, 2, check) ||
        ((*merged)[2] != -1 && (*merged)[2] != q->heads * q->headDim)) {
      check.fail(mergeReshape, "merges the heads into a target that is not "
                               "[batch, seq, " +
                                   std::to_string(q->heads * q->headDim) + "]");
      return refuse(rewriter, softmax, "attention", check, "");
    }

    rewriter.setInsertionPoint(mergeReshape);
    Value query = q->projection, key = k->projection;
    if (q->rope) {
      auto style =
          RopeStyleAttr::get(rewriter.getContext(), RopeStyle::RotateHalf);
      auto makeRope = [&](Value input) -> Value {
        return rewriter.create<RopeOp>(
            softmax.getLoc(), input.getType(), input,
            rewriter.getI64IntegerAttr(q->headDim),
            rewriter.getI64IntegerAttr(q->rope->rotaryDim),
            rewriter.getF64FloatAttr(q->rope->theta), style);
      };
      query = makeRope(query);
      key = makeRope(key);
    }
    Value attention = rewriter.create<AttentionOp>(
        softmax.getLoc(),
        activationType(query.getType(), q->heads * q->headDim), query, key,
        v->projection, rewriter.getI64IntegerAttr(q->heads),
        rewriter.getI64IntegerAttr(k->heads),
        rewriter.getI64IntegerAttr(q->headDim), rewriter.getF64FloatAttr(scale),
        rewriter.getI64IntegerAttr(0));
    rewriter.replaceOp(mergeReshape, attention);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Residual
//===----------------------------------------------------------------------===//

struct ResidualAddPattern : RaisePattern<onnx::NodeOp> {
  using RaisePattern::RaisePattern;
  LogicalResult matchAndRewrite(onnx::NodeOp op,
                                PatternRewriter &rewriter) const override {
    if (op.getOpType() != "Add")
      return failure();
    Value lhs = skipNoOps(op.getInputs()[0]),
          rhs = skipNoOps(op.getInputs()[1]);
    if (!isLLMValue(lhs) || !isLLMValue(rhs) || lhs.getType() != rhs.getType())
      return rewriter.notifyMatchFailure(op, "operands are not raised values");
    rewriter.replaceOpWithNewOp<AddOp>(op, lhs.getType(), lhs, rhs);
    return success();
  }
};

} // namespace

void mlir::microscale::llm::populateRaiseONNXPatterns(
    RewritePatternSet &patterns, RaiseRejections *rejections) {
  patterns
      .add<EmbeddingPattern, RMSNormPattern, LayerNormPattern,
           DecomposedLayerNormPattern, MatMulLinearPattern, GemmLinearPattern,
           LinearBiasPattern, UnflattenLinearPattern, SplitLinearPattern,
           MLPPattern, AttentionPattern, ResidualAddPattern>(
          patterns.getContext(), rejections);
}
