//===- Interpreter.cpp - llm dialect reference interpreter ------*- C++ -*-===//
//
// Part of the Microscale project.
//
// Evaluates a raised module op by op on float32 buffers, one sequence at a
// time, keeping each attention layer's keys and values between calls. It is
// written to be obviously right rather than fast: every op is a plain loop
// nest over row-major [tokens, features] buffers (batch 1), following the op
// descriptions in LLMOps.td.
//
// Everything that can be checked once is checked in `create`: the ops are all
// `llm` ops, weights come from `llm.weight`, feature sizes are static. After
// that, `forward` only checks its tokens and cannot fail half-way.
//
//===----------------------------------------------------------------------===//

#include "microscale/Reference/Interpreter.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"
#include "microscale/Dialect/LLM/IR/WeightData.h"
#include "microscale/Quant/Activations.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/DenseSet.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/FormatVariadic.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <optional>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;
using namespace mlir::microscale::reference;

namespace {

using Buffer = std::vector<float>;

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

/// "'llm.foo' at loc(...)", to name an op in an error.
std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return text;
}

llvm::Error opError(Operation *op, const llvm::Twine &message) {
  return makeError(describe(op) + ": " + message);
}

/// Size of the last dimension, or kDynamic for rank 0.
int64_t lastDim(Value value) {
  auto type = cast<RankedTensorType>(value.getType());
  return type.getRank() == 0 ? ShapedType::kDynamic
                             : type.getDimSize(type.getRank() - 1);
}

int64_t dimOf(Value value, unsigned dim) {
  return cast<RankedTensorType>(value.getType()).getDimSize(dim);
}

/// A weight's float32 contents, decoded once at creation: dense weights of
/// any float width, and quantized ones dequantized with the library's math.
llvm::Expected<Buffer> readWeight(WeightOp weight) {
  auto values = readWeightValues(weight);
  if (!values)
    return opError(weight, llvm::toString(values.takeError()));
  return std::move(*values);
}

/// `y[r, o] = sum_i x[r, i] * w[o, i] + b[o]` with `w` laid out [out, in], so
/// the inner loop walks one contiguous weight row.
Buffer linear(const Buffer &x, int64_t rows, int64_t in, const Buffer &w,
              int64_t out, const Buffer *bias) {
  Buffer y(rows * out);
  for (int64_t r = 0; r < rows; ++r) {
    const float *xr = &x[r * in];
    for (int64_t o = 0; o < out; ++o) {
      const float *wo = &w[o * in];
      float sum = 0.0f;
      for (int64_t i = 0; i < in; ++i)
        sum += xr[i] * wo[i];
      y[r * out + o] = sum + (bias ? (*bias)[o] : 0.0f);
    }
  }
  return y;
}

float activate(Activation kind, float v) {
  constexpr float kSqrtHalf = 0.70710678118654752f;    // 1 / sqrt(2)
  constexpr float kSqrt2OverPi = 0.79788456080286536f; // sqrt(2 / pi)
  switch (kind) {
  case Activation::SiLU:
    return v / (1.0f + std::exp(-v));
  case Activation::GELU:
    return 0.5f * v * (1.0f + std::erf(v * kSqrtHalf));
  case Activation::GELUTanh:
    return 0.5f * v *
           (1.0f + std::tanh(kSqrt2OverPi * (v + 0.044715f * v * v * v)));
  case Activation::ReLU:
    return v > 0.0f ? v : 0.0f;
  }
  llvm_unreachable("unknown activation");
}

class InterpreterImpl final : public Interpreter {
public:
  InterpreterImpl(func::FuncOp entry, ModelAttr model)
      : entry(entry), model(model) {}

  /// Validates the entry function and decodes its weights.
  llvm::Error initialize();

  llvm::Expected<std::vector<float>>
  forward(llvm::ArrayRef<int64_t> tokens) override;
  // Stale cache rows are overwritten before they are read again.
  void reset() override { cached = 0; }
  int64_t vocabSize() const override { return model.getVocabSize(); }
  int64_t cacheLength() const override { return cached; }
  int64_t maxContext() const override { return model.getMaxContext(); }
  void setLinearObserver(LinearObserver observer) override {
    linearObserver = std::move(observer);
  }
  llvm::Expected<std::vector<float>>
  exchangeWeight(Value weight, std::vector<float> values) override;

private:
  /// `linear()` of the weight operand `weight`, shown to the observer. A
  /// weight with 8-bit activations multiplies what the input's 8-bit blocks
  /// stand for, as its kernel does (the observer sees the float input).
  Buffer project(const Buffer &x, int64_t rows, int64_t in, Value weight,
                 int64_t out, Value bias) {
    if (linearObserver)
      linearObserver(weight, llvm::ArrayRef(x).take_front(rows * in), rows, in);
    auto quant = dyn_cast_or_null<QuantAttr>(
        cast<RankedTensorType>(weight.getType()).getEncoding());
    if (!quant || !quant.hasInt8Activations())
      return linear(x, rows, in, *weightOf(weight), out, weightOf(bias));
    Buffer blocks(x.begin(), x.begin() + rows * in);
    quant::fakeQuantizeActivations(blocks, rows, in);
    return linear(blocks, rows, in, *weightOf(weight), out, weightOf(bias));
  }

  // One evaluator per op. `tokens` are this call's ids; they sit at
  // positions `cached .. cached + tokens.size() - 1`.
  Buffer evaluate(EmbeddingOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(PositionEmbeddingOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(RMSNormOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(LayerNormOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(LinearOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(AddOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(RopeOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(AttentionOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(SelfAttentionOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(MLPOp op, ArrayRef<int64_t> tokens);
  Buffer evaluate(LogitsOp op, ArrayRef<int64_t> tokens);

  /// Rotates the heads of `x` (`n` rows of `features`) in place at this
  /// call's positions.
  void applyRope(Buffer &x, int64_t n, int64_t features, int64_t headDim,
                 int64_t rotaryDim, double theta, bool interleaved) const;
  /// Appends `k` and `v` to cache slot `layer` and attends to it.
  Buffer attend(int64_t layer, const Buffer &q, const Buffer &k,
                const Buffer &v, int64_t n, int64_t heads, int64_t kvHeads,
                int64_t headDim, float scale);

  /// The decoded weight defining `value`, or null for a missing optional
  /// operand.
  const Buffer *weightOf(Value value) const {
    if (!value)
      return nullptr;
    auto it = weights.find(value);
    assert(it != weights.end() && "operand checked to be an llm.weight");
    return &it->second;
  }
  /// The activation computed earlier in this call for `value`.
  const Buffer &activation(Value value) const {
    auto it = activations.find(value);
    assert(it != activations.end() && "operand checked to be computed");
    return it->second;
  }

  func::FuncOp entry;
  ModelAttr model;
  /// Number of positions in the KV cache.
  int64_t cached = 0;
  /// Token ids must lie in [0, tokenLimit): the vocabulary, and every
  /// embedding table's rows.
  int64_t tokenLimit = 0;
  /// Positions must stay below every position table's rows.
  int64_t positionLimit = std::numeric_limits<int64_t>::max();
  llvm::DenseMap<Value, Buffer> weights;
  LinearObserver linearObserver;
  /// Per attention `layer` slot: keys and values, [maxContext, kv features].
  llvm::DenseMap<int64_t, std::pair<Buffer, Buffer>> caches;
  /// This call's intermediate results; emptied after each call.
  llvm::DenseMap<Value, Buffer> activations;
};

/// Where an op expects an operand to come from.
enum class Source { Weight, Ids, Computed };
struct OperandUse {
  Value value; // Null for a missing optional operand.
  Source source;
  const char *role;
};

/// The operands of an interpretable op and where each must come from, or
/// std::nullopt for an op the interpreter does not run.
std::optional<SmallVector<OperandUse>> operandUses(Operation &op) {
  using Uses = std::optional<SmallVector<OperandUse>>;
  constexpr Source W = Source::Weight, I = Source::Ids, C = Source::Computed;
  return llvm::TypeSwitch<Operation *, Uses>(&op)
      .Case([&](EmbeddingOp o) {
        return Uses({{o.getTable(), W, "table"}, {o.getIds(), I, "ids"}});
      })
      .Case([&](PositionEmbeddingOp o) {
        return Uses({{o.getTable(), W, "table"}, {o.getIds(), I, "ids"}});
      })
      .Case([&](RMSNormOp o) {
        return Uses({{o.getInput(), C, "input"}, {o.getGain(), W, "gain"}});
      })
      .Case([&](LayerNormOp o) {
        return Uses({{o.getInput(), C, "input"},
                     {o.getGain(), W, "gain"},
                     {o.getBias(), W, "bias"}});
      })
      .Case([&](LinearOp o) {
        return Uses({{o.getInput(), C, "input"},
                     {o.getWeight(), W, "weight"},
                     {o.getBias(), W, "bias"}});
      })
      .Case([&](AddOp o) {
        return Uses({{o.getLhs(), C, "lhs"}, {o.getRhs(), C, "rhs"}});
      })
      .Case([&](RopeOp o) { return Uses({{o.getInput(), C, "input"}}); })
      .Case([&](AttentionOp o) {
        return Uses({{o.getQuery(), C, "query"},
                     {o.getKey(), C, "key"},
                     {o.getValue(), C, "value"}});
      })
      .Case([&](SelfAttentionOp o) {
        return Uses({{o.getInput(), C, "input"},
                     {o.getQWeight(), W, "q weight"},
                     {o.getQBias(), W, "q bias"},
                     {o.getKWeight(), W, "k weight"},
                     {o.getKBias(), W, "k bias"},
                     {o.getVWeight(), W, "v weight"},
                     {o.getVBias(), W, "v bias"},
                     {o.getOWeight(), W, "o weight"},
                     {o.getOBias(), W, "o bias"}});
      })
      .Case([&](MLPOp o) {
        return Uses({{o.getInput(), C, "input"},
                     {o.getUpWeight(), W, "up weight"},
                     {o.getUpBias(), W, "up bias"},
                     {o.getGateWeight(), W, "gate weight"},
                     {o.getGateBias(), W, "gate bias"},
                     {o.getDownWeight(), W, "down weight"},
                     {o.getDownBias(), W, "down bias"}});
      })
      .Case([&](LogitsOp o) {
        return Uses({{o.getInput(), C, "input"},
                     {o.getWeight(), W, "weight"},
                     {o.getBias(), W, "bias"}});
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// Checks that every operand of `op` comes from where the evaluators read
/// it: weights from `llm.weight`, ids from the entry argument, activations
/// from an op evaluated earlier (those in `computed`).
llvm::Error checkOperands(Operation &op, Value ids,
                          const llvm::DenseSet<Value> &computed) {
  std::optional<SmallVector<OperandUse>> uses = operandUses(op);
  if (!uses)
    return opError(&op, "is not an op the reference interpreter runs (only "
                        "llm ops and func.return); is the module fully "
                        "raised?");
  for (const OperandUse &use : *uses) {
    if (!use.value)
      continue;
    switch (use.source) {
    case Source::Weight:
      if (!use.value.getDefiningOp<WeightOp>())
        return opError(&op, llvm::Twine(use.role) + " must be an llm.weight");
      break;
    case Source::Ids:
      if (use.value != ids)
        return opError(&op, llvm::Twine(use.role) +
                                " must be the entry function's token input");
      break;
    case Source::Computed:
      if (!computed.contains(use.value))
        return opError(&op, llvm::Twine(use.role) +
                                " must be the result of an earlier llm op");
      break;
    }
  }
  return llvm::Error::success();
}

llvm::Error InterpreterImpl::initialize() {
  if (model.getMaxContext() <= 0 || model.getVocabSize() <= 0)
    return makeError(llvm::formatv("#llm.model has max_context {0} and "
                                   "vocab_size {1}; both must be positive",
                                   model.getMaxContext(),
                                   model.getVocabSize()));
  if (!entry.getBody().hasOneBlock())
    return opError(entry, "the entry function must have one block");
  auto argType =
      entry.getNumArguments() == 1
          ? dyn_cast<RankedTensorType>(entry.getArgument(0).getType())
          : RankedTensorType();
  if (!argType || !argType.getElementType().isInteger())
    return opError(entry, "the entry function must take one tensor of token "
                          "ids");
  tokenLimit = model.getVocabSize();

  // Values the interpreter will have a buffer for, in evaluation order.
  llvm::DenseSet<Value> computed;
  Block &body = entry.getBody().front();
  for (Operation &op : body) {
    if (auto weight = dyn_cast<WeightOp>(op)) {
      llvm::Expected<Buffer> values = readWeight(weight);
      if (!values)
        return values.takeError();
      weights[weight.getResult()] = std::move(*values);
      continue;
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      if (ret.getNumOperands() != 1)
        return opError(ret, "the entry function must return the logits only");
      if (!computed.contains(ret.getOperand(0)))
        return opError(ret, "the returned value is not computed by an llm op");
      if (lastDim(ret.getOperand(0)) != model.getVocabSize())
        return opError(ret, llvm::formatv("returns {0} logits per token but "
                                          "#llm.model has vocab_size {1}",
                                          lastDim(ret.getOperand(0)),
                                          model.getVocabSize()));
      continue;
    }
    if (llvm::Error error = checkOperands(op, entry.getArgument(0), computed))
      return error;
    // Buffers are [tokens, features]; only the sequence may be dynamic.
    if (op.getNumResults() != 1 ||
        ShapedType::isDynamic(lastDim(op.getResult(0))))
      return opError(&op, "the interpreter needs one result with a static "
                          "feature size");

    if (auto emb = dyn_cast<EmbeddingOp>(op))
      tokenLimit = std::min(tokenLimit, dimOf(emb.getTable(), 0));
    if (auto pos = dyn_cast<PositionEmbeddingOp>(op))
      positionLimit = std::min(positionLimit, dimOf(pos.getTable(), 0));
    // Attention units (primitive or block) each own a KV-cache slot.
    auto attention = dyn_cast<AttentionOp>(op);
    auto block = dyn_cast<SelfAttentionOp>(op);
    if (attention || block) {
      int64_t layer = attention ? attention.getLayer() : block.getLayer();
      int64_t kvFeatures =
          attention ? attention.getNumKvHeads() * attention.getHeadDim()
                    : block.getNumKvHeads() * block.getHeadDim();
      auto &[keys, values] = caches[layer];
      if (!keys.empty())
        return opError(&op, "shares KV-cache slot " + llvm::Twine(layer) +
                                " with an earlier attention op");
      keys.assign(maxContext() * kvFeatures, 0.0f);
      values.assign(maxContext() * kvFeatures, 0.0f);
    }
    computed.insert(op.getResult(0));
  }
  if (!isa<func::ReturnOp>(body.back()))
    return opError(entry, "the entry function does not end in func.return");
  return llvm::Error::success();
}

llvm::Expected<std::vector<float>>
InterpreterImpl::forward(llvm::ArrayRef<int64_t> tokens) {
  int64_t n = tokens.size();
  if (n == 0)
    return makeError("no tokens to run");
  if (cached + n > maxContext())
    return makeError(llvm::formatv("{0} cached + {1} new tokens exceed the "
                                   "model's context of {2}",
                                   cached, n, maxContext()));
  if (cached + n > positionLimit)
    return makeError(llvm::formatv("position {0} is past the position "
                                   "embedding table of {1} rows",
                                   cached + n - 1, positionLimit));
  for (auto [index, token] : llvm::enumerate(tokens))
    if (token < 0 || token >= tokenLimit)
      return makeError(llvm::formatv("token id {0} (at index {1}) is outside "
                                     "the vocabulary [0, {2})",
                                     token, index, tokenLimit));

  for (Operation &op : entry.getBody().front()) {
    if (isa<WeightOp>(op))
      continue;
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      Buffer logits = std::move(activations[ret.getOperand(0)]);
      activations.clear();
      cached += n;
      return logits;
    }
    // Computed before the insertion below, which may move other buffers.
    Buffer result =
        llvm::TypeSwitch<Operation *, Buffer>(&op)
            .Case<EmbeddingOp, PositionEmbeddingOp, RMSNormOp, LayerNormOp,
                  LinearOp, AddOp, RopeOp, AttentionOp, SelfAttentionOp, MLPOp,
                  LogitsOp>([&](auto typed) { return evaluate(typed, tokens); })
            .Default([](Operation *) -> Buffer {
              llvm_unreachable("op rejected by initialize()");
            });
    activations[op.getResult(0)] = std::move(result);
  }
  llvm_unreachable("initialize() checked for func.return");
}

Buffer InterpreterImpl::evaluate(EmbeddingOp op, ArrayRef<int64_t> tokens) {
  const Buffer &table = *weightOf(op.getTable());
  int64_t features = lastDim(op.getResult());
  Buffer out(tokens.size() * features);
  for (auto [r, token] : llvm::enumerate(tokens))
    std::copy_n(&table[token * features], features, &out[r * features]);
  return out;
}

Buffer InterpreterImpl::evaluate(PositionEmbeddingOp op,
                                 ArrayRef<int64_t> tokens) {
  const Buffer &table = *weightOf(op.getTable());
  int64_t n = tokens.size(), features = lastDim(op.getResult());
  Buffer out(n * features);
  for (int64_t r = 0; r < n; ++r)
    std::copy_n(&table[(cached + r) * features], features, &out[r * features]);
  return out;
}

Buffer InterpreterImpl::evaluate(RMSNormOp op, ArrayRef<int64_t> tokens) {
  const Buffer &x = activation(op.getInput());
  const Buffer &gain = *weightOf(op.getGain());
  int64_t n = tokens.size(), features = lastDim(op.getResult());
  float eps = op.getEpsilon().convertToDouble();
  Buffer out(n * features);
  for (int64_t r = 0; r < n; ++r) {
    const float *row = &x[r * features];
    float squares = 0.0f;
    for (int64_t c = 0; c < features; ++c)
      squares += row[c] * row[c];
    float inv = 1.0f / std::sqrt(squares / features + eps);
    for (int64_t c = 0; c < features; ++c)
      out[r * features + c] = row[c] * inv * gain[c];
  }
  return out;
}

Buffer InterpreterImpl::evaluate(LayerNormOp op, ArrayRef<int64_t> tokens) {
  const Buffer &x = activation(op.getInput());
  const Buffer &gain = *weightOf(op.getGain());
  const Buffer *bias = weightOf(op.getBias());
  int64_t n = tokens.size(), features = lastDim(op.getResult());
  float eps = op.getEpsilon().convertToDouble();
  Buffer out(n * features);
  for (int64_t r = 0; r < n; ++r) {
    const float *row = &x[r * features];
    // Two passes: the variance of the centred values, not E[x^2] - E[x]^2.
    float mean = 0.0f, variance = 0.0f;
    for (int64_t c = 0; c < features; ++c)
      mean += row[c];
    mean /= features;
    for (int64_t c = 0; c < features; ++c)
      variance += (row[c] - mean) * (row[c] - mean);
    variance /= features;
    float inv = 1.0f / std::sqrt(variance + eps);
    for (int64_t c = 0; c < features; ++c)
      out[r * features + c] =
          (row[c] - mean) * inv * gain[c] + (bias ? (*bias)[c] : 0.0f);
  }
  return out;
}

Buffer InterpreterImpl::evaluate(LinearOp op, ArrayRef<int64_t> tokens) {
  return project(activation(op.getInput()), tokens.size(), op.getInFeatures(),
                 op.getWeight(), op.getOutFeatures(), op.getBias());
}

Buffer InterpreterImpl::evaluate(AddOp op, ArrayRef<int64_t> /*tokens*/) {
  const Buffer &a = activation(op.getLhs()), &b = activation(op.getRhs());
  Buffer out(a.size());
  for (size_t i = 0; i < a.size(); ++i)
    out[i] = a[i] + b[i];
  return out;
}

Buffer InterpreterImpl::evaluate(RopeOp op, ArrayRef<int64_t> tokens) {
  Buffer out = activation(op.getInput());
  applyRope(out, tokens.size(), lastDim(op.getResult()), op.getHeadDim(),
            op.getRotaryDim(), op.getTheta().convertToDouble(),
            op.getStyle() == RopeStyle::Interleaved);
  return out;
}

void InterpreterImpl::applyRope(Buffer &out, int64_t n, int64_t features,
                                int64_t headDim, int64_t rotaryDim,
                                double theta, bool interleaved) const {
  int64_t half = rotaryDim / 2;
  for (int64_t r = 0; r < n; ++r) {
    for (int64_t i = 0; i < half; ++i) {
      // Exporters (and ONNX Runtime's rotary kernels) hold the inverse
      // frequency and the angle in float32; doing the same keeps the logits
      // within 1e-4 at long positions, where a double angle drifts apart.
      float freq =
          static_cast<float>(1.0 / std::pow(theta, 2.0 * i / rotaryDim));
      float angle = static_cast<float>(cached + r) * freq;
      float cos = std::cos(angle), sin = std::sin(angle);
      int64_t first = interleaved ? 2 * i : i;
      int64_t second = interleaved ? 2 * i + 1 : i + half;
      for (int64_t h = 0; h < features / headDim; ++h) {
        float *head = &out[r * features + h * headDim];
        float a = head[first], b = head[second];
        head[first] = a * cos - b * sin;
        head[second] = b * cos + a * sin;
      }
    }
  }
}

Buffer InterpreterImpl::evaluate(AttentionOp op, ArrayRef<int64_t> tokens) {
  return attend(op.getLayer(), activation(op.getQuery()),
                activation(op.getKey()), activation(op.getValue()),
                tokens.size(), op.getNumHeads(), op.getNumKvHeads(),
                op.getHeadDim(), op.getScale().convertToDouble());
}

Buffer InterpreterImpl::evaluate(SelfAttentionOp op, ArrayRef<int64_t> tokens) {
  const Buffer &x = activation(op.getInput());
  int64_t n = tokens.size(), hidden = lastDim(op.getInput());
  int64_t heads = op.getNumHeads(), kvHeads = op.getNumKvHeads(),
          headDim = op.getHeadDim();
  auto projectInput = [&](Value weight, Value bias, int64_t features) {
    return project(x, n, hidden, weight, features, bias);
  };
  Buffer q = projectInput(op.getQWeight(), op.getQBias(), heads * headDim);
  Buffer k = projectInput(op.getKWeight(), op.getKBias(), kvHeads * headDim);
  Buffer v = projectInput(op.getVWeight(), op.getVBias(), kvHeads * headDim);
  if (RopeAttr rope = op.getRopeAttr()) {
    bool interleaved = rope.getStyle() == RopeStyle::Interleaved;
    double theta = rope.getTheta().getValueAsDouble();
    applyRope(q, n, heads * headDim, headDim, rope.getRotaryDim(), theta,
              interleaved);
    applyRope(k, n, kvHeads * headDim, headDim, rope.getRotaryDim(), theta,
              interleaved);
  }
  Buffer attended = attend(op.getLayer(), q, k, v, n, heads, kvHeads, headDim,
                           op.getScale().convertToDouble());
  return project(attended, n, heads * headDim, op.getOWeight(),
                 lastDim(op.getResult()), op.getOBias());
}

Buffer InterpreterImpl::attend(int64_t layer, const Buffer &q, const Buffer &k,
                               const Buffer &v, int64_t n, int64_t heads,
                               int64_t kvHeads, int64_t headDim, float scale) {
  int64_t features = heads * headDim;
  int64_t kvFeatures = kvHeads * headDim;
  int64_t group = heads / kvHeads;

  // Append this call's keys and values at their positions first, so the
  // loop below reads the cache only.
  auto &[keys, values] = caches[layer];
  std::copy_n(k.begin(), n * kvFeatures, &keys[cached * kvFeatures]);
  std::copy_n(v.begin(), n * kvFeatures, &values[cached * kvFeatures]);

  Buffer out(n * features, 0.0f);
  Buffer scores(cached + n);
  for (int64_t r = 0; r < n; ++r) {
    int64_t visible = cached + r + 1; // Causal: positions <= this one.
    for (int64_t h = 0; h < heads; ++h) {
      const float *query = &q[r * features + h * headDim];
      int64_t kvOffset = (h / group) * headDim;
      float maxScore = -std::numeric_limits<float>::infinity();
      for (int64_t p = 0; p < visible; ++p) {
        const float *key = &keys[p * kvFeatures + kvOffset];
        float dot = 0.0f;
        for (int64_t d = 0; d < headDim; ++d)
          dot += query[d] * key[d];
        scores[p] = dot * scale;
        maxScore = std::max(maxScore, scores[p]);
      }
      // Softmax, shifted by the maximum so exp cannot overflow.
      float total = 0.0f;
      for (int64_t p = 0; p < visible; ++p) {
        scores[p] = std::exp(scores[p] - maxScore);
        total += scores[p];
      }
      float *dst = &out[r * features + h * headDim];
      for (int64_t p = 0; p < visible; ++p) {
        const float *value = &values[p * kvFeatures + kvOffset];
        float weight = scores[p] / total;
        for (int64_t d = 0; d < headDim; ++d)
          dst[d] += weight * value[d];
      }
    }
  }
  return out;
}

Buffer InterpreterImpl::evaluate(MLPOp op, ArrayRef<int64_t> tokens) {
  const Buffer &x = activation(op.getInput());
  int64_t n = tokens.size(), hidden = lastDim(op.getInput());
  int64_t inner = op.getIntermediateSize();
  Activation kind = op.getActivation();
  Buffer up = project(x, n, hidden, op.getUpWeight(), inner, op.getUpBias());
  if (op.isGated()) {
    Buffer gate =
        project(x, n, hidden, op.getGateWeight(), inner, op.getGateBias());
    for (int64_t i = 0; i < n * inner; ++i)
      up[i] *= activate(kind, gate[i]);
  } else {
    for (int64_t i = 0; i < n * inner; ++i)
      up[i] = activate(kind, up[i]);
  }
  return project(up, n, inner, op.getDownWeight(), lastDim(op.getResult()),
                 op.getDownBias());
}

Buffer InterpreterImpl::evaluate(LogitsOp op, ArrayRef<int64_t> tokens) {
  return project(activation(op.getInput()), tokens.size(),
                 dimOf(op.getWeight(), 1), op.getWeight(),
                 dimOf(op.getWeight(), 0), op.getBias());
}

llvm::Expected<std::vector<float>>
InterpreterImpl::exchangeWeight(Value weight, std::vector<float> values) {
  auto it = weights.find(weight);
  if (it == weights.end())
    return llvm::createStringError("exchangeWeight: not a weight the model "
                                   "uses");
  if (it->second.size() != values.size())
    return llvm::createStringError(
        llvm::formatv("exchangeWeight: {0} values for a weight of {1}",
                      values.size(), it->second.size()));
  std::swap(it->second, values);
  return values;
}

/// The function to run: the only one with a body, else the only public one.
llvm::Expected<func::FuncOp> findEntry(ModuleOp module) {
  SmallVector<func::FuncOp> defined, publicOnes;
  for (auto func : module.getOps<func::FuncOp>()) {
    if (func.isExternal())
      continue;
    defined.push_back(func);
    if (func.isPublic())
      publicOnes.push_back(func);
  }
  if (defined.size() == 1)
    return defined.front();
  if (publicOnes.size() == 1)
    return publicOnes.front();
  if (defined.empty())
    return makeError("the module has no function to run");
  return makeError(llvm::formatv("the module has {0} functions and {1} public "
                                 "ones; expected one entry function",
                                 defined.size(), publicOnes.size()));
}

} // namespace

Interpreter::~Interpreter() = default;

llvm::Expected<std::unique_ptr<Interpreter>>
Interpreter::create(ModuleOp module) {
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model)
    return makeError("the module has no #llm.model attribute '" +
                     kModelAttrName + "'; raise it first");
  llvm::Expected<func::FuncOp> entry = findEntry(module);
  if (!entry)
    return entry.takeError();
  auto interpreter = std::make_unique<InterpreterImpl>(*entry, model);
  if (llvm::Error error = interpreter->initialize())
    return std::move(error);
  return std::unique_ptr<Interpreter>(std::move(interpreter));
}
