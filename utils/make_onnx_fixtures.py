#!/usr/bin/env python3
"""Writes the small hand-made ONNX models the importer tests read.

  make_onnx_fixtures.py OUTDIR

One model per supported op (with symbolic dimensions where the shape
inference has something to show), the weight storage variants (external
data, float16, typed fields), and one model per malformed-input case.
Deterministic: the same bytes every run.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F, I64, B = TensorProto.FLOAT, TensorProto.INT64, TensorProto.BOOL


def value(name, dtype, shape):
    return helper.make_tensor_value_info(name, dtype, shape)


def save(out, name, nodes, inputs, outputs, initializers=(), opset=17,
         **save_args):
    graph = helper.make_graph(nodes, name, inputs, outputs,
                              initializer=list(initializers))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="microscale-fixtures")
    model.ir_version = 8
    path = os.path.join(out, name + ".onnx")
    if save_args:
        onnx.save_model(model, path, **save_args)
    else:
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
    return path


def const(name, array):
    return numpy_helper.from_array(np.asarray(array), name)


def op_models(out):
    x = value("x", F, ["batch", "seq", 4])
    y = value("y", F, None)
    # Elementwise with broadcasting against a [4] constant.
    for op in ["Add", "Sub", "Mul", "Div", "Pow"]:
        save(out, op.lower(), [helper.make_node(op, ["x", "c"], ["y"], name=op)],
             [x], [y], [const("c", np.ones(4, np.float32))])
    for op in ["Neg", "Sqrt", "Reciprocal", "Sigmoid", "Tanh", "Cos", "Sin",
               "Exp", "Erf", "Relu", "Identity", "Abs"]:
        save(out, op.lower(), [helper.make_node(op, ["x"], ["y"], name=op)],
             [x], [y])
    save(out, "softmax", [helper.make_node("Softmax", ["x"], ["y"], axis=-1,
                                           name="sm")], [x], [y])
    for op in ["Equal", "Less", "LessOrEqual", "Greater"]:
        save(out, op.lower(), [helper.make_node(op, ["x", "c"], ["y"], name=op)],
             [x], [value("y", B, None)], [const("c", np.zeros(4, np.float32))])
    save(out, "where", [helper.make_node("Where", ["m", "x", "c"], ["y"],
                                         name="where")],
         [value("m", B, [1, "seq", 1]), x], [y],
         [const("c", np.float32(-1e9))])
    save(out, "cast", [helper.make_node("Cast", ["x"], ["y"], to=I64,
                                        name="cast")], [x], [value("y", I64, None)])
    save(out, "shape", [helper.make_node("Shape", ["x"], ["y"], name="shape")],
         [x], [value("y", I64, None)])
    save(out, "gather", [helper.make_node("Gather", ["table", "ids"], ["y"],
                                          name="gather")],
         [value("ids", I64, ["batch", "seq"])], [y],
         [const("table", np.arange(40, dtype=np.float32).reshape(10, 4))])
    save(out, "unsqueeze", [helper.make_node("Unsqueeze", ["x", "axes"], ["y"],
                                             name="unsqueeze")], [x], [y],
         [const("axes", np.array([1, -1], np.int64))])
    save(out, "squeeze", [helper.make_node("Squeeze", ["x", "axes"], ["y"],
                                           name="squeeze")],
         [value("x", F, [2, 1, 4])], [y], [const("axes", np.array([1], np.int64))])
    save(out, "concat", [helper.make_node("Concat", ["x", "x"], ["y"], axis=-1,
                                          name="concat")], [x], [y])
    save(out, "reshape", [helper.make_node("Reshape", ["x", "s"], ["y"],
                                           name="reshape")],
         [value("x", F, [2, 3, 8])], [y], [const("s", np.array([0, -1, 4, 2]))])
    save(out, "transpose", [helper.make_node("Transpose", ["x"], ["y"],
                                             perm=[0, 2, 1], name="transpose")],
         [x], [y])
    save(out, "matmul", [helper.make_node("MatMul", ["x", "w"], ["y"],
                                          name="matmul")], [x], [y],
         [const("w", np.ones((4, 6), np.float32))])
    save(out, "matmul_batched", [helper.make_node("MatMul", ["a", "b"], ["y"],
                                                  name="bmm")],
         [value("a", F, ["batch", 8, "seq", 16]), value("b", F, [1, 8, 16, "kv"])],
         [y])
    save(out, "gemm", [helper.make_node("Gemm", ["a", "w", "bias"], ["y"],
                                        transB=1, name="gemm")],
         [value("a", F, ["rows", 4])], [y],
         [const("w", np.ones((6, 4), np.float32)), const("bias", np.zeros(6, np.float32))])
    save(out, "reducemean", [helper.make_node("ReduceMean", ["x"], ["y"],
                                              axes=[-1], keepdims=1, name="mean")],
         [x], [y])
    save(out, "range", [helper.make_node("Range", ["s", "n", "d"], ["y"],
                                         name="range")],
         [value("n", I64, [])], [value("y", I64, None)],
         [const("s", np.int64(0)), const("d", np.int64(1))])
    save(out, "constantofshape",
         [helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos",
                           value=helper.make_tensor("v", I64, [1], [1]))],
         [], [value("y", I64, None)], [const("s", np.array([2, 3], np.int64))])
    save(out, "expand", [helper.make_node("Expand", ["x", "s"], ["y"],
                                          name="expand")],
         [value("x", F, [1, 4])], [y], [const("s", np.array([3, 1], np.int64))])
    save(out, "slice", [helper.make_node("Slice", ["x", "st", "en", "ax"], ["y"],
                                         name="slice")], [x], [y],
         [const("st", np.array([1])), const("en", np.array([3])),
          const("ax", np.array([-1]))])
    save(out, "split", [helper.make_node("Split", ["x", "sizes"], ["a", "b"],
                                         axis=2, name="split")], [x],
         [value("a", F, None), value("b", F, None)],
         [const("sizes", np.array([1, 3], np.int64))])
    save(out, "layernormalization",
         [helper.make_node("LayerNormalization", ["x", "g", "b"], ["y"],
                           axis=-1, epsilon=1e-5, name="ln")], [x], [y],
         [const("g", np.ones(4, np.float32)), const("b", np.zeros(4, np.float32))])
    save(out, "tile", [helper.make_node("Tile", ["x", "r"], ["y"], name="tile")],
         [x], [y], [const("r", np.array([1, 2, 1], np.int64))])
    save(out, "scatternd", [helper.make_node("ScatterND", ["x", "i", "u"], ["y"],
                                             name="scatter")],
         [value("x", F, [4, 4])], [y],
         [const("i", np.array([[1]], np.int64)), const("u", np.ones((1, 4), np.float32))])
    save(out, "constant", [
        helper.make_node("Constant", [], ["a"], name="c1",
                         value=helper.make_tensor("t", F, [2], [1.0, 2.0])),
        helper.make_node("Constant", [], ["b"], name="c2", value_float=0.5),
        helper.make_node("Constant", [], ["c"], name="c3", value_ints=[3, 4]),
        helper.make_node("Mul", ["a", "b"], ["y"], name="mul")],
        [], [y, value("c", I64, None)])


def weight_models(out):
    w = np.arange(64 * 8, dtype=np.float32).reshape(64, 8) / 100
    x = value("x", F, ["seq", 64])
    node = [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")]
    ext = os.path.join(out, "external")
    os.makedirs(ext, exist_ok=True)
    graph = helper.make_graph(node, "external", [x], [value("y", F, None)],
                              initializer=[const("w", w)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save_model(model, os.path.join(ext, "model.onnx"),
                    save_as_external_data=True, all_tensors_to_one_file=True,
                    location="weights.bin", size_threshold=0)
    save(out, "float16", node, [x], [value("y", F, None)],
         [const("w", w.astype(np.float16))])
    typed = helper.make_tensor("w", F, [64, 8], w.flatten().tolist(), raw=False)
    save(out, "typed_fields", node, [x], [value("y", F, None)], [typed])


def malformed_models(out):
    x = value("x", F, ["seq", 4])
    y = value("y", F, None)
    good = save(out, "good", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
                [x], [y], [const("w", np.ones((4, 4), np.float32))])
    data = open(good, "rb").read()
    with open(os.path.join(out, "truncated.onnx"), "wb") as f:
        f.write(data[:len(data) // 2])
    with open(os.path.join(out, "not_protobuf.onnx"), "wb") as f:
        f.write(b"this is plain text, not an ONNX model\n" * 4)
    open(os.path.join(out, "empty.onnx"), "wb").close()
    save(out, "missing_initializer",
         [helper.make_node("MatMul", ["x", "w_missing"], ["y"], name="proj")], [x], [y])
    save(out, "unsupported_op", [helper.make_node("Einsum", ["x", "x"], ["y"],
                                                  equation="ij,ij->i", name="einsum")],
         [x], [y])
    save(out, "unsupported_dtype", [helper.make_node("Identity", ["s"], ["y"], name="id")],
         [], [y], [helper.make_tensor("s", TensorProto.UINT8, [2], [1, 2])])
    save(out, "custom_domain", [helper.make_node("Fancy", ["x"], ["y"], name="fancy",
                                                 domain="com.example")], [x], [y])
    save(out, "matmul_mismatch", [helper.make_node("MatMul", ["a", "b"], ["y"], name="mm")],
         [], [y], [const("a", np.ones((3, 4), np.float32)),
                   const("b", np.ones((5, 6), np.float32))])
    save(out, "broadcast_mismatch", [helper.make_node("Add", ["a", "b"], ["y"], name="add")],
         [], [y], [const("a", np.ones((2, 3), np.float32)),
                   const("b", np.ones((4,), np.float32))])
    bad_raw = TensorProto(name="w", data_type=F, dims=[4, 4],
                          raw_data=np.ones(3, np.float32).tobytes())
    save(out, "raw_size_mismatch", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
         [x], [y], [bad_raw])
    save(out, "opset12", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [x], [y], opset=12)
    save(out, "dangling_output", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [x], [value("nowhere", F, None)])
    # External data cases live in their own folders.
    for case, location, length in [("escape", "../outside.bin", None),
                                   ("absolute", "/etc/hostname", None),
                                   ("missing", "weights.bin", None),
                                   ("short", "weights.bin", 1024)]:
        folder = os.path.join(out, "external_" + case)
        os.makedirs(folder, exist_ok=True)
        tensor = TensorProto(name="w", data_type=F, dims=[4, 4])
        tensor.data_location = TensorProto.EXTERNAL
        entry = tensor.external_data.add()
        entry.key, entry.value = "location", location
        if length:
            entry = tensor.external_data.add()
            entry.key, entry.value = "length", str(length)
        save(folder, "model", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
             [x], [y], [tensor])
        if case == "short":
            with open(os.path.join(folder, "weights.bin"), "wb") as f:
                f.write(b"\0" * 16)
    with open(os.path.join(out, "outside.bin"), "wb") as f:
        f.write(b"\0" * 64)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    op_models(out)
    weight_models(out)
    malformed_models(out)


if __name__ == "__main__":
    main()
