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

TEST_F(ShapeInferenceTest, UnknownOpIsAnError) {
  EXPECT_FALSE(isSupportedOpType("GridSample"));
  EXPECT_EQ(error("GridSample", attrs(), {input(f32({1}))}), "unsupported op");
}
} // namespace
