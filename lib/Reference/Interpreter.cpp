//===- Interpreter.cpp - reference interpreter of the llm dialect -*- C++
//-*-===//
//
// Part of the Microscale project.
//
// Evaluates a raised module op by op on float32 buffers, one sequence at a
// time, keeping each attention layer's keys and values between calls. It is
// written to be obviously right rather than fast: every op is a plain loop
// nest over row-major [tokens, features] buffers, following the op
// descriptions in LLMOps.td.
//
//===----------------------------------------------------------------------===//

#include "microscale/Reference/Interpreter.h"
#include "microscale/Dialect/LLM/IR/LLMOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/DialectResourceBlobManager.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/Support/FormatVariadic.h"

#include <cmath>

using namespace mlir;
using namespace mlir::microscale;
using namespace mlir::microscale::llm;
using namespace mlir::microscale::reference;

namespace {

llvm::Error makeError(const llvm::Twine &message) {
  return llvm::createStringError(llvm::inconvertibleErrorCode(), message);
}

std::string describe(Operation *op) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "'" << op->getName() << "' at " << op->getLoc();
  return text;
}

int64_t lastDim(Value value) {
  return cast<RankedTensorType>(value.getType()).getShape().back();
}

/// A weight's float32 contents, read once at creation.
llvm::Expected<std::vector<float>> readWeight(WeightOp weight) {
  auto type = weight.getType();
  if (!type.getElementType().isF32())
    return makeError("weight '" + weight.getName() + "' is not float32");
  size_t count = type.getNumElements();
  std::vector<float> values(count);
  ElementsAttr attr = weight.getValue();
  if (auto dense = dyn_cast<DenseElementsAttr>(attr)) {
    llvm::copy(dense.getValues<float>(), values.begin());
    return values;
  }
  if (auto resource = dyn_cast<DenseResourceElementsAttr>(attr)) {
    AsmResourceBlob *blob = resource.getRawHandle().getBlob();
    if (!blob || blob->getData().size() != count * sizeof(float))
      return makeError("weight '" + weight.getName() +
                       "' has no data of the right size");
    std::memcpy(values.data(), blob->getData().data(), count * sizeof(float));
    return values;
  }
  return makeError("weight '" + weight.getName() +
                   "' has an unsupported value attribute");
}

class InterpreterImpl : public Interpreter {
public:
  InterpreterImpl(func::FuncOp func, ModelAttr model)
      : func(func), model(model) {}

  llvm::Error initialize();
  llvm::Expected<std::vector<float>>
  forward(llvm::ArrayRef<int64_t> tokens) override;
  void reset() override { cacheLength_ = 0; }
  int64_t vocabSize() const override { return vocab; }
  int64_t cacheLength() const override { return cacheLength_; }
  int64_t maxContext() const override { return model.getMaxContext(); }

private:
  using Buffer = std::vector<float>;

  /// `y[r, o] = sum_i x[r, i] * w[o, i] + b[o]` with w [out, in].
  static void linear(const Buffer &x, int64_t rows, int64_t in, const Buffer &w,
                     int64_t out, const Buffer *bias, Buffer &y) {
    y.assign(rows * out, 0.0f);
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t o = 0; o < out; ++o) {
        const float *xr = &x[r * in], *wo = &w[o * in];
        float sum = 0.0f;
        for (int64_t i = 0; i < in; ++i)
          sum += xr[i] * wo[i];
        y[r * out + o] = sum + (bias ? (*bias)[o] : 0.0f);
      }
  }
  static float activate(Activation kind, float v) {
    switch (kind) {
    case Activation::SiLU:
      return v / (1.0f + std::exp(-v));
    case Activation::GELU:
      return 0.5f * v * (1.0f + std::erf(v / std::sqrt(2.0f)));
    case Activation::GELUTanh:
      return 0.5f * v *
             (1.0f + std::tanh(std::sqrt(2.0f / float(M_PI)) *
                               (v + 0.044715f * v * v * v)));
    case Activation::ReLU:
      return v > 0.0f ? v : 0.0f;
    }
    return v;
  }
  const Buffer *weightOf(Value value) const {
    auto it = weights.find(value);
    return it == weights.end() ? nullptr : &it->second;
  }

  func::FuncOp func;
  ModelAttr model;
  int64_t vocab = 0;
  int64_t cacheLength_ = 0;
  llvm::DenseMap<Value, Buffer> weights;
  /// Per attention layer: keys and values, [maxContext, kv features].
  llvm::DenseMap<int64_t, std::pair<Buffer, Buffer>> caches;
};

llvm::Error InterpreterImpl::initialize() {
  Block &body = func.getBody().front();
  for (Operation &op : body) {
    if (auto weight = dyn_cast<WeightOp>(op)) {
      auto values = readWeight(weight);
      if (!values)
        return values.takeError();
      weights[weight.getResult()] = std::move(*values);
      continue;
    }
    if (auto attention = dyn_cast<AttentionOp>(op)) {
      int64_t size =
          maxContext() * attention.getNumKvHeads() * attention.getHeadDim();
      auto &slot = caches[attention.getLayer()];
      if (!slot.first.empty())
        return makeError("two attention ops share KV-cache slot " +
                         llvm::Twine(attention.getLayer()));
      slot = {Buffer(size), Buffer(size)};
      continue;
    }
    if (isa<EmbeddingOp, PositionEmbeddingOp, RMSNormOp, LayerNormOp, LinearOp,
            AddOp, RopeOp, MLPOp, LogitsOp, func::ReturnOp>(op))
      continue;
    return makeError("cannot interpret " + describe(&op) +
                     ": the module is not fully raised to the llm dialect");
  }
  auto returnOp = cast<func::ReturnOp>(body.getTerminator());
  if (returnOp.getNumOperands() != 1)
    return makeError("the entry function must return the logits only");
  vocab = lastDim(returnOp.getOperand(0));
  if (func.getNumArguments() != 1)
    return makeError("the entry function must take the token ids only");
  return llvm::Error::success();
}

llvm::Expected<std::vector<float>>
InterpreterImpl::forward(llvm::ArrayRef<int64_t> tokens) {
  int64_t n = tokens.size(), start = cacheLength_;
  if (n == 0)
    return makeError("no tokens to run");
  if (start + n > maxContext())
    return makeError(llvm::formatv("{0} cached + {1} new tokens exceed the "
                                   "context of {2}",
                                   start, n, maxContext()));
  Block &body = func.getBody().front();
  Value idsArg = func.getArgument(0);
  llvm::DenseMap<Value, Buffer> values;

  for (Operation &op : body) {
    if (isa<WeightOp>(op))
      continue;
    if (auto returnOp = dyn_cast<func::ReturnOp>(op)) {
      cacheLength_ += n;
      return std::move(values[returnOp.getOperand(0)]);
    }
    Value result = op.getResult(0);
    int64_t features = lastDim(result);
    Buffer &out = values[result];
    auto input = [&](Value v) -> const Buffer & { return values[v]; };

    if (auto emb = dyn_cast<EmbeddingOp>(op)) {
      if (emb.getIds() != idsArg)
        return makeError("embedding ids are not the token input");
      const Buffer &table = *weightOf(emb.getTable());
      int64_t rows =
          cast<RankedTensorType>(emb.getTable().getType()).getDimSize(0);
      out.resize(n * features);
      for (int64_t r = 0; r < n; ++r) {
        if (tokens[r] < 0 || tokens[r] >= rows)
          return makeError(llvm::formatv("token id {0} is outside the "
                                         "vocabulary [0, {1})",
                                         tokens[r], rows));
        std::copy_n(&table[tokens[r] * features], features, &out[r * features]);
      }
    } else if (auto posEmb = dyn_cast<PositionEmbeddingOp>(op)) {
      const Buffer &table = *weightOf(posEmb.getTable());
      int64_t rows =
          cast<RankedTensorType>(posEmb.getTable().getType()).getDimSize(0);
      if (start + n > rows)
        return makeError(llvm::formatv("position {0} is past the position "
                                       "table of {1} rows",
                                       start + n - 1, rows));
      out.resize(n * features);
      for (int64_t r = 0; r < n; ++r)
        std::copy_n(&table[(start + r) * features], features,
                    &out[r * features]);
    } else if (auto norm = dyn_cast<RMSNormOp>(op)) {
      const Buffer &x = input(norm.getInput());
      const Buffer &gain = *weightOf(norm.getGain());
      float eps = norm.getEpsilon().convertToDouble();
      out.resize(n * features);
      for (int64_t r = 0; r < n; ++r) {
        const float *row = &x[r * features];
        float squares = 0.0f;
        for (int64_t c = 0; c < features; ++c)
          squares += row[c] * row[c];
        float inv = 1.0f / std::sqrt(squares / features + eps);
        for (int64_t c = 0; c < features; ++c)
          out[r * features + c] = row[c] * inv * gain[c];
      }
    } else if (auto norm = dyn_cast<LayerNormOp>(op)) {
      const Buffer &x = input(norm.getInput());
      const Buffer &gain = *weightOf(norm.getGain());
      const Buffer *bias = norm.getBias() ? weightOf(norm.getBias()) : nullptr;
      float eps = norm.getEpsilon().convertToDouble();
      out.resize(n * features);
      for (int64_t r = 0; r < n; ++r) {
        const float *row = &x[r * features];
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
    } else if (auto lin = dyn_cast<LinearOp>(op)) {
      linear(input(lin.getInput()), n, lin.getInFeatures(),
             *weightOf(lin.getWeight()), lin.getOutFeatures(),
             lin.getBias() ? weightOf(lin.getBias()) : nullptr, out);
    } else if (auto logits = dyn_cast<LogitsOp>(op)) {
      auto weightType = cast<RankedTensorType>(logits.getWeight().getType());
      linear(input(logits.getInput()), n, weightType.getDimSize(1),
             *weightOf(logits.getWeight()), weightType.getDimSize(0),
             logits.getBias() ? weightOf(logits.getBias()) : nullptr, out);
    } else if (auto add = dyn_cast<AddOp>(op)) {
      const Buffer &a = input(add.getLhs()), &b = input(add.getRhs());
      out.resize(n * features);
      for (int64_t i = 0; i < n * features; ++i)
        out[i] = a[i] + b[i];
    } else if (auto rope = dyn_cast<RopeOp>(op)) {
      out = input(rope.getInput());
      int64_t headDim = rope.getHeadDim(), rotary = rope.getRotaryDim();
      int64_t half = rotary / 2;
      double theta = rope.getTheta().convertToDouble();
      bool interleaved = rope.getStyle() == RopeStyle::Interleaved;
      for (int64_t r = 0; r < n; ++r)
        for (int64_t i = 0; i < half; ++i) {
          // Exporters hold frequencies and angles in float32.
          float freq =
              static_cast<float>(1.0 / std::pow(theta, 2.0 * i / rotary));
          float angle = static_cast<float>(start + r) * freq;
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
    } else if (auto attention = dyn_cast<AttentionOp>(op)) {
      int64_t heads = attention.getNumHeads(),
              kvHeads = attention.getNumKvHeads(),
              headDim = attention.getHeadDim();
      int64_t kvFeatures = kvHeads * headDim, group = heads / kvHeads;
      float scale = attention.getScale().convertToDouble();
      auto &[keys, vals] = caches[attention.getLayer()];
      const Buffer &q = input(attention.getQuery());
      const Buffer &k = input(attention.getKey());
      const Buffer &v = input(attention.getValue());
      std::copy_n(k.begin(), n * kvFeatures, &keys[start * kvFeatures]);
      std::copy_n(v.begin(), n * kvFeatures, &vals[start * kvFeatures]);
      out.assign(n * features, 0.0f);
      std::vector<float> weightsRow(start + n);
      for (int64_t r = 0; r < n; ++r) {
        int64_t visible = start + r + 1; // Causal: positions <= this one.
        for (int64_t h = 0; h < heads; ++h) {
          const float *query = &q[r * features + h * headDim];
          int64_t kvOffset = (h / group) * headDim;
          float maxScore = -INFINITY;
          for (int64_t p = 0; p < visible; ++p) {
            const float *key = &keys[p * kvFeatures + kvOffset];
            float dot = 0.0f;
            for (int64_t d = 0; d < headDim; ++d)
              dot += query[d] * key[d];
            weightsRow[p] = dot * scale;
            maxScore = std::max(maxScore, weightsRow[p]);
          }
          float total = 0.0f;
          for (int64_t p = 0; p < visible; ++p) {
            weightsRow[p] = std::exp(weightsRow[p] - maxScore);
            total += weightsRow[p];
          }
          float *dst = &out[r * features + h * headDim];
          for (int64_t p = 0; p < visible; ++p) {
            const float *value = &vals[p * kvFeatures + kvOffset];
            float w = weightsRow[p] / total;
            for (int64_t d = 0; d < headDim; ++d)
              dst[d] += w * value[d];
          }
        }
      }
    } else if (auto mlp = dyn_cast<MLPOp>(op)) {
      const Buffer &x = input(mlp.getInput());
      int64_t hidden = lastDim(mlp.getInput()),
              inner = mlp.getIntermediateSize();
      Buffer up, gate;
      linear(x, n, hidden, *weightOf(mlp.getUpWeight()), inner,
             mlp.getUpBias() ? weightOf(mlp.getUpBias()) : nullptr, up);
      if (mlp.isGated()) {
        linear(x, n, hidden, *weightOf(mlp.getGateWeight()), inner,
               mlp.getGateBias() ? weightOf(mlp.getGateBias()) : nullptr, gate);
        for (int64_t i = 0; i < n * inner; ++i)
          up[i] *= activate(mlp.getActivation(), gate[i]);
      } else {
        for (int64_t i = 0; i < n * inner; ++i)
          up[i] = activate(mlp.getActivation(), up[i]);
      }
      linear(up, n, inner, *weightOf(mlp.getDownWeight()), hidden,
             mlp.getDownBias() ? weightOf(mlp.getDownBias()) : nullptr, out);
    }
  }
  return makeError("the entry function has no return");
}

} // namespace

Interpreter::~Interpreter() = default;

llvm::Expected<std::unique_ptr<Interpreter>>
Interpreter::create(ModuleOp module) {
  auto model = module->getAttrOfType<ModelAttr>(kModelAttrName);
  if (!model)
    return makeError("module has no #llm.model attribute; raise it first");
  SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
  if (funcs.size() != 1)
    return makeError("expected one entry function, found " +
                     llvm::Twine(funcs.size()));
  auto interpreter = std::make_unique<InterpreterImpl>(funcs.front(), model);
  if (llvm::Error error = interpreter->initialize())
    return std::move(error);
  return std::unique_ptr<Interpreter>(std::move(interpreter));
}
