//===- ShapeInferenceTest.cpp - ONNX result type inference ------*- C++ -*-===//
//
// Part of the Microscale project.
//
//===----------------------------------------------------------------------===//

#include "ShapeInference.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace mlir::microscale::onnx_import;

namespace {
constexpr int64_t kDyn = ShapedType::kDynamic;

class ShapeInferenceTest : public ::testing::Test {
protected:
  ShapeInferenceTest() : builder(&context) {}

  RankedTensorType f32(llvm::ArrayRef<int64_t> shape) {
    return RankedTensorType::get(shape, builder.getF32Type());
  }
  InferenceInput input(Type type) { return {type, {}}; }
  InferenceInput constI64(llvm::ArrayRef<int64_t> values) {
    auto type =
        RankedTensorType::get({(int64_t)values.size()}, builder.getI64Type());
    return {type, DenseElementsAttr::get(type, values)};
  }
  DictionaryAttr attrs(llvm::ArrayRef<NamedAttribute> entries = {}) {
    return builder.getDictionaryAttr(entries);
  }
  NamedAttribute intAttr(llvm::StringRef name, int64_t value) {
    return builder.getNamedAttr(name, builder.getI64IntegerAttr(value));
  }
  NamedAttribute intsAttr(llvm::StringRef name,
                          llvm::ArrayRef<int64_t> values) {
    return builder.getNamedAttr(name, builder.getI64ArrayAttr(values));
  }
  /// Infers one result and returns it, failing the test on error.
  Type infer(llvm::StringRef op, DictionaryAttr attributes,
             llvm::ArrayRef<InferenceInput> inputs) {
    auto types = inferResultTypes(op, attributes, inputs, 1, 17);
    if (!types) {
      ADD_FAILURE() << llvm::toString(types.takeError());
      return {};
    }
    return (*types)[0];
  }
  std::string error(llvm::StringRef op, DictionaryAttr attributes,
                    llvm::ArrayRef<InferenceInput> inputs) {
    auto types = inferResultTypes(op, attributes, inputs, 1, 17);
    if (types)
      return "";
    return llvm::toString(types.takeError());
  }

  MLIRContext context;
  Builder builder;
};

TEST_F(ShapeInferenceTest, BroadcastKeepsDynamicAndStaticDims) {
  Type result =
      infer("Add", attrs(), {input(f32({kDyn, kDyn, 64})), input(f32({64}))});
  EXPECT_EQ(result, f32({kDyn, kDyn, 64}));
}

TEST_F(ShapeInferenceTest, BroadcastRejectsMismatch) {
  EXPECT_NE(error("Mul", attrs(), {input(f32({3, 4})), input(f32({5}))})
                .find("cannot be broadcast"),
            std::string::npos);
}

TEST_F(ShapeInferenceTest, ComparisonGivesBool) {
  Type result = infer("Less", attrs(), {input(f32({2})), input(f32({2}))});
  EXPECT_EQ(result, RankedTensorType::get({2}, builder.getI1Type()));
}

TEST_F(ShapeInferenceTest, MatMulBatchedBroadcast) {
  Type result = infer("MatMul", attrs(),
                      {input(f32({kDyn, 8, kDyn, 16})), input(f32({16, 32}))});
  EXPECT_EQ(result, f32({kDyn, 8, kDyn, 32}));
}

TEST_F(ShapeInferenceTest, MatMulInnerMismatchNamesShapes) {
  std::string message =
      error("MatMul", attrs(), {input(f32({3, 4})), input(f32({5, 6}))});
  EXPECT_NE(message.find("inner dimensions differ: 4 vs 5"), std::string::npos)
      << message;
}

TEST_F(ShapeInferenceTest, ReshapeCopiesZeroAndInfersMinusOne) {
  Type result = infer("Reshape", attrs(),
                      {input(f32({2, 3, 8})), constI64({0, -1, 4, 2})});
  EXPECT_EQ(result, f32({2, 3, 4, 2}));
}

TEST_F(ShapeInferenceTest, ReshapeRejectsWrongElementCount) {
  EXPECT_NE(error("Reshape", attrs(), {input(f32({2, 3})), constI64({4, 2})})
                .find("cannot reshape 6 elements"),
            std::string::npos);
}

TEST_F(ShapeInferenceTest, GatherInsertsIndexShape) {
  auto ids = RankedTensorType::get({kDyn, kDyn}, builder.getI64Type());
  Type result = infer("Gather", attrs(), {input(f32({512, 64})), input(ids)});
  EXPECT_EQ(result, f32({kDyn, kDyn, 64}));
}

TEST_F(ShapeInferenceTest, UnsqueezeWithAxesInput) {
  Type result =
      infer("Unsqueeze", attrs(), {input(f32({kDyn, 4})), constI64({0, 3})});
  EXPECT_EQ(result, f32({1, kDyn, 4, 1}));
}

TEST_F(ShapeInferenceTest, TransposePermutes) {
  Type result = infer("Transpose",
                      attrs({builder.getNamedAttr(
                          "perm", builder.getI64ArrayAttr({0, 2, 1, 3}))}),
                      {input(f32({1, kDyn, 8, 16}))});
  EXPECT_EQ(result, f32({1, 8, kDyn, 16}));
}

TEST_F(ShapeInferenceTest, ConcatSumsAxis) {
  Type result = infer(
      "Concat",
      attrs({builder.getNamedAttr("axis", builder.getI64IntegerAttr(-2))}),
      {input(f32({1, 4, kDyn, 8})), input(f32({1, 4, 3, 8}))});
  EXPECT_EQ(result, f32({1, 4, kDyn, 8}));
}

TEST_F(ShapeInferenceTest, SplitUsesSizes) {
  auto types = inferResultTypes(
      "Split",
      attrs({builder.getNamedAttr("axis", builder.getI64IntegerAttr(2))}),
      {input(f32({kDyn, kDyn, 192})), constI64({64, 64, 64})}, 3, 17);
  ASSERT_TRUE(!!types);
  for (Type t : *types)
    EXPECT_EQ(t, f32({kDyn, kDyn, 64}));
}

TEST_F(ShapeInferenceTest, MissingInputsAreNamed) {
  EXPECT_EQ(error("Where", attrs(), {input(f32({1})), input(f32({1}))}),
            "expects at least 3 inputs, got 2");
  EXPECT_EQ(
      error("Gather", attrs(), {input(f32({4})), input(builder.getNoneType())}),
      "required input 1 is missing");
}

TEST_F(ShapeInferenceTest, CastLikeChecksTheFirstInputFirst) {
  EXPECT_EQ(error("CastLike", attrs(), {}), "expects at least 1 inputs, got 0");
  EXPECT_EQ(error("CastLike", attrs(), {input(f32({2}))}),
            "expects at least 2 inputs, got 1");
  auto like = RankedTensorType::get({}, builder.getI64Type());
  EXPECT_EQ(infer("CastLike", attrs(), {input(f32({2, kDyn})), input(like)}),
            RankedTensorType::get({2, kDyn}, builder.getI64Type()));
}

TEST_F(ShapeInferenceTest, CastRejectsUnknownDtype) {
  EXPECT_EQ(error("Cast", attrs({intAttr("to", 99)}), {input(f32({2}))}),
            "unsupported dtype 99 in 'to'");
}

TEST_F(ShapeInferenceTest, PowKeepsBaseTypeWithOtherExponentType) {
  auto exponent = RankedTensorType::get({3}, builder.getI64Type());
  EXPECT_EQ(infer("Pow", attrs(), {input(f32({2, 3})), input(exponent)}),
            f32({2, 3}));
  EXPECT_EQ(error("Sub", attrs(), {input(f32({2, 3})), input(exponent)}),
            "input element types differ: tensor<2x3xf32> and tensor<3xi64>");
}

TEST_F(ShapeInferenceTest, ConstantTypeComesFromItsValueAttribute) {
  EXPECT_EQ(infer("Constant", attrs({intsAttr("value_ints", {3, 4, 5})}), {}),
            RankedTensorType::get({3}, builder.getI64Type()));
  EXPECT_EQ(error("Constant", attrs(), {}),
            "Constant has no supported value attribute");
}

TEST_F(ShapeInferenceTest, ShapeHonoursStartAndEnd) {
  Type result = infer("Shape", attrs({intAttr("start", 1), intAttr("end", -1)}),
                      {input(f32({2, 3, 4, 5}))});
  EXPECT_EQ(result, RankedTensorType::get({2}, builder.getI64Type()));
}

TEST_F(ShapeInferenceTest, SqueezeWithoutAxesDropsStaticOnes) {
  EXPECT_EQ(infer("Squeeze", attrs(), {input(f32({1, kDyn, 1, 4}))}),
            f32({kDyn, 4}));
}

TEST_F(ShapeInferenceTest, SqueezeRejectsAxisOfOtherSize) {
  EXPECT_EQ(error("Squeeze", attrs(), {input(f32({2, 3})), constI64({1})}),
            "cannot squeeze axis 1 of size 3");
}

TEST_F(ShapeInferenceTest, UnsqueezeRejectsRepeatedAxis) {
  EXPECT_EQ(error("Unsqueeze", attrs(), {input(f32({4})), constI64({0, -3})}),
            "axis -3 appears twice");
}

TEST_F(ShapeInferenceTest, ReshapeErrorsNameTheTarget) {
  EXPECT_EQ(error("Reshape", attrs(), {input(f32({6})), constI64({-1, -1})}),
            "shape has more than one -1");
  EXPECT_EQ(error("Reshape", attrs(), {input(f32({6})), constI64({0, 0})}),
            "target dimension 1 copies input dimension 1, which does not "
            "exist");
  EXPECT_EQ(error("Reshape", attrs(), {input(f32({6})), constI64({-1, 4})}),
            "cannot reshape 6 elements into a multiple of 4");
}

TEST_F(ShapeInferenceTest, ReshapeAllowZeroKeepsZero) {
  EXPECT_EQ(infer("Reshape", attrs({intAttr("allowzero", 1)}),
                  {input(f32({0, 3})), constI64({3, 0})}),
            f32({3, 0}));
}

TEST_F(ShapeInferenceTest, ReshapeWithRuntimeTargetKeepsItsRank) {
  auto target = RankedTensorType::get({3}, builder.getI64Type());
  EXPECT_EQ(infer("Reshape", attrs(), {input(f32({6})), input(target)}),
            f32({kDyn, kDyn, kDyn}));
}

TEST_F(ShapeInferenceTest, SliceClampsConstantBounds) {
  Type result = infer("Slice", attrs(),
                      {input(f32({2, 3, 8})), constI64({1, -2}),
                       constI64({100, -1}), constI64({2, 1})});
  EXPECT_EQ(result, f32({2, 1, 7}));
}

TEST_F(ShapeInferenceTest, SliceWithStepIsDynamicAndRejectsZeroStep) {
  EXPECT_EQ(infer("Slice", attrs(),
                  {input(f32({2, 8})), constI64({0}), constI64({8}),
                   constI64({1}), constI64({2})}),
            f32({2, kDyn}));
  EXPECT_EQ(error("Slice", attrs(),
                  {input(f32({2, 8})), constI64({0}), constI64({8}),
                   constI64({1}), constI64({0})}),
            "slice step is 0");
  EXPECT_EQ(error("Slice", attrs(),
                  {input(f32({2, 8})), constI64({0}), constI64({8, 8})}),
            "starts, ends, axes and steps differ in length");
}

TEST_F(ShapeInferenceTest, ExpandBroadcastsToTarget) {
  EXPECT_EQ(infer("Expand", attrs(), {input(f32({3, 1})), constI64({2, 1, 4})}),
            f32({2, 3, 4}));
  EXPECT_EQ(error("Expand", attrs(), {input(f32({3, 2})), constI64({4, 2})}),
            "cannot expand dimension 0 from 3 to 4");
}

TEST_F(ShapeInferenceTest, ConstantOfShapeRejectsNegativeDim) {
  EXPECT_EQ(error("ConstantOfShape", attrs(), {constI64({2, -3})}),
            "shape has a negative dimension");
}

TEST_F(ShapeInferenceTest, SplitDividesEvenlyWithoutSizes) {
  auto types = inferResultTypes("Split", attrs(), {input(f32({6, 4}))}, 3, 17);
  ASSERT_TRUE(!!types);
  ASSERT_EQ(types->size(), 3u);
  for (Type t : *types)
    EXPECT_EQ(t, f32({2, 4}));
  auto wrong = inferResultTypes("Split", attrs(),
                                {input(f32({6, 4})), constI64({4, 1})}, 2, 17);
  ASSERT_FALSE(!!wrong);
  EXPECT_EQ(llvm::toString(wrong.takeError()),
            "split sizes sum to 5, axis has 6");
}

TEST_F(ShapeInferenceTest, LayerNormalizationStatisticsKeepLeadingDims) {
  auto types =
      inferResultTypes("LayerNormalization", attrs(),
                       {input(f32({2, 3, 8})), input(f32({8}))}, 3, 17);
  ASSERT_TRUE(!!types);
  ASSERT_EQ(types->size(), 3u);
  EXPECT_EQ((*types)[0], f32({2, 3, 8}));
  EXPECT_EQ((*types)[1], f32({2, 3, 1}));
  EXPECT_EQ((*types)[2], f32({2, 3, 1}));
}

TEST_F(ShapeInferenceTest, ReduceMeanWithoutKeepDimsDropsAxes) {
  EXPECT_EQ(infer("ReduceMean",
                  attrs({intsAttr("axes", {-1}), intAttr("keepdims", 0)}),
                  {input(f32({2, 3, 8}))}),
            f32({2, 3}));
}

TEST_F(ShapeInferenceTest, GemmHonoursTranspose) {
  EXPECT_EQ(infer("Gemm", attrs({intAttr("transB", 1)}),
                  {input(f32({kDyn, 16})), input(f32({32, 16}))}),
            f32({kDyn, 32}));
}

TEST_F(ShapeInferenceTest, SliceRejectsConstantsOfOtherRank) {
  // A rank-0 starts must not be indexed as if it had one entry per axis.
  auto scalar = RankedTensorType::get({}, builder.getI64Type());
  InferenceInput start = {scalar, DenseElementsAttr::get(scalar, int64_t(1))};
  EXPECT_EQ(
      error("Slice", attrs(),
            {input(f32({4, 4})), start, constI64({3, 3}), constI64({0, 1})}),
      "starts must be a 1-D tensor, not tensor<i64>");
}

TEST_F(ShapeInferenceTest, AttributesOfTheWrongKindAreErrors) {
  auto floats =
      builder.getNamedAttr("perm", builder.getF32ArrayAttr({0.0f, 2.0f, 1.0f}));
  EXPECT_EQ(error("Transpose", attrs({floats}), {input(f32({1, 2, 3}))}),
            "attribute 'perm' must be INTS, not FLOATS");
  auto text = builder.getNamedAttr("axis", builder.getStringAttr("1"));
  EXPECT_EQ(
      error("Gather", attrs({text}), {input(f32({4, 8})), input(f32({2}))}),
      "attribute 'axis' must be INT, not STRING");
}

TEST_F(ShapeInferenceTest, AttributesOnnxDoesNotDefineAreErrors) {
  auto typo = builder.getNamedAttr("perms", builder.getI64ArrayAttr({1, 0}));
  EXPECT_EQ(error("Transpose", attrs({typo}), {input(f32({2, 3}))}),
            "attribute 'perms' is not an attribute of Transpose");
}

TEST_F(ShapeInferenceTest, ShapeArithmeticDoesNotOverflow) {
  // 2^62 x 2 elements used to wrap to INT64_MIN, and a target whose product
  // wraps to -1 then divided it: SIGFPE.
  EXPECT_EQ(error("Reshape", attrs(),
                  {input(f32({int64_t(1) << 62, 2})),
                   constI64({3, 5, 17, 257, 641, 65537, 6700417, -1})}),
            "input 0 is tensor<4611686018427387904x2xf32>: more than "
            "1099511627776 elements");
  EXPECT_EQ(error("Reshape", attrs(),
                  {input(f32({4, 2})),
                   constI64({int64_t(1) << 62, int64_t(1) << 62, -1})}),
            "target shape has more than 1099511627776 elements");
  // Each input within the limits, the sum past them.
  int64_t big = int64_t(1) << 40;
  EXPECT_EQ(error("Concat", attrs({intAttr("axis", 0)}),
                  {input(f32({big})), input(f32({big}))}),
            "result 0 is tensor<2199023255552xf32>: more than 1099511627776 "
            "elements");
}

TEST_F(ShapeInferenceTest, ShapeOperandLengthIsARankLimit) {
  auto length = RankedTensorType::get({int64_t(1) << 40}, builder.getI64Type());
  EXPECT_EQ(error("ConstantOfShape", attrs(), {{length, {}}}),
            "shape has 1099511627776 entries; at most 64 dimensions are "
            "supported");
}

TEST_F(ShapeInferenceTest, UnknownOpIsAnError) {
  EXPECT_FALSE(isSupportedOpType("GridSample"));
  EXPECT_EQ(error("GridSample", attrs(), {input(f32({1}))}), "unsupported op");
}
} // namespace
