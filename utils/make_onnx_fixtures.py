#!/usr/bin/env python3
"""Writes the small hand-made ONNX models the importer tests read.

  make_onnx_fixtures.py OUTDIR

One model per supported op (with symbolic dimensions where the shape
inference has something to show), the weight storage variants (external
data, float16, typed fields), one model per malformed-input case, and
bug_* cases: inconsistent graphs the importer must reject cleanly.
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


def y_any():
    return value("y", F, None)


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

    # The rest of the elementwise ops: logical ones on bool, Max/Min/Mod on
    # two symbolic shapes that broadcast to both.
    for op in ["And", "Or"]:
        save(out, op.lower(), [helper.make_node(op, ["p", "q"], ["y"], name=op)],
             [value("p", B, ["batch", 1]), value("q", B, [1, "seq"])],
             [value("y", B, None)])
    for op in ["Max", "Min", "Mod"]:
        save(out, op.lower(), [helper.make_node(op, ["p", "q"], ["y"], name=op)],
             [value("p", I64, ["batch", 1, 4]), value("q", I64, [3, 1])],
             [value("y", I64, None)])
    save(out, "not", [helper.make_node("Not", ["m"], ["y"], name="not")],
         [value("m", B, ["batch", 2])], [value("y", B, None)])
    save(out, "log", [helper.make_node("Log", ["x"], ["y"], name="log")], [x], [y])
    save(out, "gelu", [helper.make_node("Gelu", ["x"], ["y"], approximate="tanh",
                                        name="gelu")], [x], [y], opset=20)
    save(out, "trilu", [helper.make_node("Trilu", ["x", "k"], ["y"], upper=0,
                                         name="trilu")],
         [value("x", F, ["seq", "seq"])], [y], [const("k", np.int64(0))])
    save(out, "greaterorequal",
         [helper.make_node("GreaterOrEqual", ["p", "q"], ["y"], name="ge")],
         [value("p", I64, ["seq"]), value("q", I64, ["seq", 1])],
         [value("y", B, None)])
    save(out, "castlike", [helper.make_node("CastLike", ["x", "like"], ["y"],
                                            name="castlike")], [x],
         [value("y", I64, None)], [const("like", np.zeros(1, np.int64))])
    save(out, "cast_half", [helper.make_node("Cast", ["i"], ["y"],
                                             to=TensorProto.FLOAT16, name="cast")],
         [value("i", I64, ["n"])], [y])
    save(out, "flatten", [helper.make_node("Flatten", ["x"], ["y"], axis=1,
                                           name="flatten")],
         [value("x", F, [2, 3, 4])], [y])
    # Shape with start/end; Gather on axis 1 with a scalar index.
    save(out, "shape_slice", [helper.make_node("Shape", ["x"], ["y"], start=1,
                                               end=-1, name="shape")],
         [value("x", F, ["a", "b", "c", "d"])], [value("y", I64, None)])
    save(out, "gather_axis1", [helper.make_node("Gather", ["x", "i"], ["y"],
                                                axis=1, name="gather")],
         [x], [y], [const("i", np.int64(-1))])
    save(out, "unsqueeze_scalar", [helper.make_node("Unsqueeze", ["s", "axes"],
                                                    ["y"], name="unsqueeze")],
         [value("s", I64, [])], [value("y", I64, None)],
         [const("axes", np.array([0], np.int64))])
    save(out, "squeeze_all", [helper.make_node("Squeeze", ["x"], ["y"],
                                               name="squeeze")],
         [value("x", F, [1, "n", 1, 4])], [y])
    # Reshape: 0 copies a (symbolic) input dimension; -1 is inferred only
    # when the input is static; a computed target shape gives only the rank.
    save(out, "reshape_dynamic", [helper.make_node("Reshape", ["x", "s"], ["y"],
                                                   name="reshape")],
         [x], [y], [const("s", np.array([0, 0, 2, 2], np.int64))])
    save(out, "reshape_infer_dynamic",
         [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
         [x], [y], [const("s", np.array([0, -1], np.int64))])
    save(out, "reshape_computed",
         [helper.make_node("Shape", ["x"], ["s"], name="shape"),
          helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
         [x], [y])
    save(out, "transpose_default", [helper.make_node("Transpose", ["x"], ["y"],
                                                     name="transpose")], [x], [y])
    # MatMul with a vector on either side.
    save(out, "matmul_vec_lhs", [helper.make_node("MatMul", ["v", "w"], ["y"],
                                                  name="matmul")],
         [value("v", F, [4])], [y], [const("w", np.ones((2, 4, 6), np.float32))])
    save(out, "matmul_vec_rhs", [helper.make_node("MatMul", ["x", "v"], ["y"],
                                                  name="matmul")],
         [x], [y], [const("v", np.ones(4, np.float32))])
    save(out, "gemm_transa", [helper.make_node("Gemm", ["a", "w"], ["y"],
                                               transA=1, name="gemm")],
         [value("a", F, [4, "rows"])], [y], [const("w", np.ones((4, 6), np.float32))])
    save(out, "reducemean_drop", [helper.make_node("ReduceMean", ["x"], ["y"],
                                                   axes=[1], keepdims=0,
                                                   name="mean")], [x], [y])
    save(out, "reducemean_opset18",
         [helper.make_node("ReduceMean", ["x", "axes"], ["y"], name="mean")],
         [x], [y], [const("axes", np.array([0, 2], np.int64))], opset=18)
    save(out, "range_float", [helper.make_node("Range", ["s", "n", "d"], ["y"],
                                               name="range")],
         [value("n", F, [])], [y],
         [const("s", np.float32(0)), const("d", np.float32(0.5))])
    save(out, "constantofshape_default",
         [helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")],
         [value("s", I64, [3])], [y])
    save(out, "expand_dynamic", [helper.make_node("Expand", ["x", "s"], ["y"],
                                                  name="expand")],
         [value("x", F, ["batch", 1, 4])], [y],
         [const("s", np.array([2, 1, 3, 1], np.int64))])
    # Slice without axes (all leading axes), with negative bounds, and with
    # a step other than 1 (size left dynamic).
    save(out, "slice_noaxes", [helper.make_node("Slice", ["x", "st", "en"], ["y"],
                                                name="slice")],
         [value("x", F, [10, 8, "n"])], [y],
         [const("st", np.array([2, -3], np.int64)),
          const("en", np.array([100, -1], np.int64))])
    save(out, "slice_step", [helper.make_node("Slice", ["x", "st", "en", "ax", "sp"],
                                              ["y"], name="slice")],
         [value("x", F, [10, 8])], [y],
         [const("st", np.array([0], np.int64)), const("en", np.array([8], np.int64)),
          const("ax", np.array([0], np.int64)), const("sp", np.array([2], np.int64))])
    save(out, "split_even", [helper.make_node("Split", ["x"], ["a", "b"], axis=-1,
                                              name="split")], [x],
         [value("a", F, None), value("b", F, None)])
    save(out, "layernorm_stats",
         [helper.make_node("LayerNormalization", ["x", "g"], ["y", "mean", "inv"],
                           axis=1, name="ln")], [x],
         [y, value("mean", F, None), value("inv", F, None)],
         [const("g", np.ones(4, np.float32))])
    save(out, "concat3", [helper.make_node("Concat", ["p", "q", "r"], ["y"], axis=1,
                                           name="concat")],
         [value("p", F, ["n", 2]), value("q", F, [5, 3]), value("r", F, ["n", "k"])],
         [y])
    save(out, "constant_scalars", [
        helper.make_node("Constant", [], ["i"], name="ci", value_int=7),
        helper.make_node("Constant", [], ["f"], name="cf", value_floats=[0.25, -1.0]),
        helper.make_node("Constant", [], ["big"], name="cbig",
                         value=numpy_helper.from_array(
                             np.arange(100, dtype=np.float32).reshape(50, 2), "big_value")),
        helper.make_node("Add", ["f", "big"], ["y"], name="add")],
        [], [y, value("i", I64, None)])


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

    # Small tensors in typed fields (inline, so the values are readable):
    # int64_data, float16 bit patterns in int32_data, and bool.
    small = [helper.make_node("Gather", ["h", "i"], ["y"], name="gather"),
             helper.make_node("Where", ["m", "y", "y"], ["z"], name="where")]
    save(out, "typed_small", small, [], [value("z", F, None)],
         [helper.make_tensor("h", TensorProto.FLOAT16, [3],
                             [1.0, -2.5, 65504.0]),
          helper.make_tensor("i", I64, [2], [2, -1]),
          helper.make_tensor("m", B, [2], [True, False])])
    # float16 edge values: smallest subnormal, -0, infinity.
    save(out, "float16_special", [helper.make_node("Identity", ["h"], ["y"], name="id")],
         [], [y_any()], [const("h", np.array([2.0 ** -24, -0.0, np.inf], np.float16))])
    # 64 elements stay inline; 65 become a resource blob.
    save(out, "inline_limit", [helper.make_node("Identity", ["a"], ["y"], name="id1"),
                               helper.make_node("Identity", ["b"], ["z"], name="id2")],
         [], [y_any(), value("z", F, None)],
         [const("a", np.full(64, 0.5, np.float32)),
          const("b", np.full(65, 0.5, np.float32))])
    # External data at an offset and length inside a shared file.
    folder = os.path.join(out, "external_offset_ok")
    os.makedirs(folder, exist_ok=True)
    tensor = TensorProto(name="w", data_type=F, dims=[2, 2])
    tensor.data_location = TensorProto.EXTERNAL
    for key, val in [("location", "blob.bin"), ("offset", "16"), ("length", "16")]:
        entry = tensor.external_data.add()
        entry.key, entry.value = key, val
    save(folder, "model", [helper.make_node("Identity", ["w"], ["y"], name="id")],
         [], [y_any()], [tensor])
    with open(os.path.join(folder, "blob.bin"), "wb") as f:
        f.write(b"\xff" * 16 + np.array([1, 2, 3, 4], np.float32).tobytes() + b"\xff" * 8)


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
    for case, location, extra, size in [("offset", "weights.bin", {"offset": 100}, 64),
                                        ("noloc", "", {}, 0),
                                        ("dir", "sub", {}, 0),
                                        ("symlink", "link.bin", {}, 0)]:
        folder = os.path.join(out, "external_" + case)
        os.makedirs(folder, exist_ok=True)
        tensor = TensorProto(name="w", data_type=F, dims=[4, 4])
        tensor.data_location = TensorProto.EXTERNAL
        for key, val in [("location", location)] + list(extra.items()):
            entry = tensor.external_data.add()
            entry.key, entry.value = key, str(val)
        save(folder, "model", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
             [x], [y], [tensor])
        if size:
            with open(os.path.join(folder, location), "wb") as f:
                f.write(b"\0" * size)
    os.makedirs(os.path.join(out, "external_dir", "sub"), exist_ok=True)
    # A link inside the folder whose target is outside it.
    link = os.path.join(out, "external_symlink", "link.bin")
    if not os.path.lexists(link):
        os.symlink(os.path.join("..", "outside.bin"), link)
    with open(os.path.join(out, "outside.bin"), "wb") as f:
        f.write(b"\0" * 64)

    # Bytes that are not a protobuf at all (fixed seed).
    rng = np.random.default_rng(0)
    with open(os.path.join(out, "random_bytes.onnx"), "wb") as f:
        f.write(rng.integers(0, 256, 512, dtype=np.uint8).tobytes())
    save(out, "unsupported_op_gridsample",
         [helper.make_node("GridSample", ["x", "g"], ["y"], name="grid")],
         [value("x", F, [1, 1, 4, 4]), value("g", F, [1, 4, 4, 2])], [y])
    save(out, "string_initializer", [helper.make_node("Identity", ["s"], ["y"], name="id")],
         [], [y], [helper.make_tensor("s", TensorProto.STRING, [1], [b"text"])])
    save(out, "unsupported_input_dtype", [helper.make_node("Identity", ["u"], ["y"], name="id")],
         [value("u", TensorProto.UINT8, [4])], [y])
    save(out, "cast_unsupported", [helper.make_node("Cast", ["x"], ["y"], to=TensorProto.UINT8,
                                                    name="to_u8")], [x], [y])
    save(out, "opset22", [helper.make_node("Relu", ["x"], ["y"], name="relu")], [x], [y],
         opset=22)
    graph = helper.make_graph([helper.make_node("Relu", ["x"], ["y"], name="relu")],
                              "no_default_opset", [x], [y])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("com.example", 1)])
    model.ir_version = 8
    with open(os.path.join(out, "no_default_opset.onnx"), "wb") as f:
        f.write(model.SerializeToString())
    save(out, "no_nodes", [], [x], [])
    save(out, "output_mismatch", [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [x], [value("y", F, ["seq", 5])])
    save(out, "graph_attribute", [helper.make_node(
        "Relu", ["x"], ["y"], name="relu",
        body=helper.make_graph([], "body", [], []))], [x], [y])
    save(out, "constant_string", [helper.make_node("Constant", [], ["y"], name="cs",
                                                   value_string="text")], [], [y])
    save(out, "squeeze_non_unit", [helper.make_node("Squeeze", ["x", "axes"], ["y"],
                                                    name="squeeze")],
         [value("x", F, [2, 4])], [y], [const("axes", np.array([0], np.int64))])
    save(out, "reshape_count", [helper.make_node("Reshape", ["x", "s"], ["y"],
                                                 name="reshape")],
         [value("x", F, [2, 3, 4])], [y], [const("s", np.array([5, -1], np.int64))])
    save(out, "split_sum", [helper.make_node("Split", ["x", "sizes"], ["a", "b"], axis=1,
                                             name="split")],
         [value("x", F, [2, 6])], [value("a", F, None), value("b", F, None)],
         [const("sizes", np.array([2, 3], np.int64))])
    save(out, "dtype_mismatch", [helper.make_node("Add", ["x", "i"], ["y"], name="add")],
         [x], [y], [const("i", np.ones(4, np.int64))])
    save(out, "missing_required", [helper.make_node("Where", ["m", "", "x"], ["y"],
                                                    name="where")],
         [value("m", B, ["seq", 4]), x], [y])
    save(out, "axis_range", [helper.make_node("Concat", ["x", "x"], ["y"], axis=2,
                                              name="concat")], [x], [y])
    # A constant index past a static axis (x's shape has 2 entries).
    save(out, "gather_index_range",
         [helper.make_node("Shape", ["x"], ["s"], name="shape"),
          helper.make_node("Gather", ["s", "i"], ["y"], name="gather")],
         [x], [value("y", I64, None)], [const("i", np.array(5, np.int64))])


def bug_models(out):
    """Inconsistent graphs that once crashed the importer or slipped through
    shape inference; malformed.test checks each is rejected with a reason."""
    x = value("x", F, ["seq", 4])
    y = value("y", F, None)
    # Duplicate Unsqueeze axes: output rank counts both, the loop reads past
    # the input shape (garbage dimension) instead of rejecting the node.
    save(out, "bug_unsqueeze_duplicate_axes",
         [helper.make_node("Unsqueeze", ["x", "axes"], ["y"], name="unsqueeze")],
         [x], [y], [const("axes", np.array([1, 1], np.int64))])
    # Negative sizes in a constant shape become negative tensor dimensions.
    save(out, "bug_constantofshape_negative",
         [helper.make_node("ConstantOfShape", ["s"], ["y"], name="cos")], [], [y],
         [const("s", np.array([-2, 3], np.int64))])
    save(out, "bug_expand_negative",
         [helper.make_node("Expand", ["x", "s"], ["y"], name="expand")],
         [value("x", F, [1, 4])], [y], [const("s", np.array([-3, 4], np.int64))])
    # A Split node without outputs divides by zero (SIGFPE).
    save(out, "bug_split_no_outputs",
         [helper.make_node("Split", ["x"], [], axis=1, name="split")],
         [value("x", F, [3, 4])], [])
    # Element count overflows int64 and wraps to 0: accepted with no data.
    save(out, "bug_dims_overflow", [helper.make_node("Identity", ["w"], ["y"], name="id")],
         [], [y], [TensorProto(name="w", data_type=F, dims=[1 << 62, 4])])
    # Transpose perm with a repeated entry is accepted (3x4 -> 3x3).
    save(out, "bug_transpose_repeated_perm",
         [helper.make_node("Transpose", ["x"], ["y"], perm=[0, 0], name="transpose")],
         [value("x", F, [3, 4])], [y])
    # Slice starts/ends of different lengths: reads past the ends list.
    save(out, "bug_slice_length_mismatch",
         [helper.make_node("Slice", ["x", "st", "en"], ["y"], name="slice")],
         [value("x", F, [3, 4])], [y],
         [const("st", np.array([0, 0], np.int64)), const("en", np.array([1], np.int64))])
    # Reshape 0 for an axis the input does not have is accepted.
    save(out, "bug_reshape_zero_past_rank",
         [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
         [value("x", F, [2, 6])], [y], [const("s", np.array([0, 0, 0], np.int64))])
    # Where with different value element types is accepted.
    save(out, "bug_where_types",
         [helper.make_node("Where", ["m", "x", "i"], ["y"], name="where")],
         [value("m", B, [4]), x], [y], [const("i", np.ones(1, np.int64))])
    # A node without a name: the message says node '' (MatMul).
    save(out, "bug_unnamed_node", [helper.make_node("MatMul", ["x", "w_missing"], ["y"])],
         [x], [y])
    # A non-numeric external data offset is read as 0.
    folder = os.path.join(out, "bug_external_offset_text")
    os.makedirs(folder, exist_ok=True)
    tensor = TensorProto(name="w", data_type=F, dims=[4, 4])
    tensor.data_location = TensorProto.EXTERNAL
    for key, val in [("location", "weights.bin"), ("offset", "abc")]:
        entry = tensor.external_data.add()
        entry.key, entry.value = key, val
    save(folder, "model", [helper.make_node("MatMul", ["x", "w"], ["y"], name="mm")],
         [x], [y], [tensor])
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(b"\0" * 64)


def attribute_kind_models(out):
    """Attributes of a kind other than the one ONNX specifies (floats for
    integer lists and the other way round); attribute-kinds.test checks
    each is a clean error naming the node, op and attribute."""
    x = value("x", F, [2, 1, 4])
    y = value("y", F, None)
    save(out, "kind_transpose_perm_floats",
         [helper.make_node("Transpose", ["x"], ["y"], perm=[2.0, 1.0, 0.0],
                           name="transpose")], [x], [y])
    save(out, "kind_transpose_perm_int",
         [helper.make_node("Transpose", ["x"], ["y"], perm=1, name="transpose")],
         [x], [y])
    save(out, "kind_squeeze_axes_floats",
         [helper.make_node("Squeeze", ["x"], ["y"], axes=[1.0], name="squeeze")],
         [x], [y])
    save(out, "kind_unsqueeze_axes_floats",
         [helper.make_node("Unsqueeze", ["x"], ["y"], axes=[0.0], name="unsqueeze")],
         [x], [y])
    save(out, "kind_reducemean_axes_floats",
         [helper.make_node("ReduceMean", ["x"], ["y"], axes=[-1.0], name="mean")],
         [x], [y])
    save(out, "kind_split_floats",
         [helper.make_node("Split", ["x"], ["a", "b"], axis=2, split=[2.0, 2.0],
                           name="split")],
         [x], [value("a", F, None), value("b", F, None)])
    save(out, "kind_concat_axis_float",
         [helper.make_node("Concat", ["x", "x"], ["y"], axis=0.5, name="concat")],
         [x], [y])
    save(out, "kind_gemm_alpha_string",
         [helper.make_node("Gemm", ["a", "b"], ["y"], alpha="two", name="gemm")],
         [value("a", F, [2, 2]), value("b", F, [2, 2])], [y])
    save(out, "kind_constant_value_ints_floats",
         [helper.make_node("Constant", [], ["y"], value_ints=[1.5, 2.5],
                           name="const")], [], [value("y", I64, None)])
    save(out, "kind_constant_value_floats_ints",
         [helper.make_node("Constant", [], ["y"], value_floats=[1, 2],
                           name="const")], [], [y])
    save(out, "kind_constant_value_int_float",
         [helper.make_node("Constant", [], ["y"], value_int=1.5, name="const")],
         [], [value("y", I64, None)])
    save(out, "kind_unknown_attribute",
         [helper.make_node("Transpose", ["x"], ["y"], perms=[1, 0, 2],
                           name="transpose")], [x], [y])


def limit_models(out):
    """Shapes and sizes at and past the importer's documented limits:
    arithmetic that overflows int64, operands whose length would become a
    rank of billions, negative dimensions, external data whose offset plus
    length overflows; limits.test checks each is a clean error."""
    y = value("y", F, None)
    # 2^62 x 2 elements wrap to INT64_MIN; a target whose product wraps to
    # -1 then divided it (SIGFPE on INT64_MIN % -1).
    wraps_to_minus_one = [3, 5, 17, 257, 641, 65537, 6700417, -1]
    save(out, "limit_reshape_overflow",
         [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
         [value("x", F, [1 << 62, 2])], [y],
         [const("s", np.array(wraps_to_minus_one, np.int64))])
    save(out, "limit_reshape_target_overflow",
         [helper.make_node("Reshape", ["x", "s"], ["y"], name="reshape")],
         [value("x", F, [4, 2])], [y],
         [const("s", np.array([1 << 62, 1 << 62, -1], np.int64))])
    save(out, "limit_concat_overflow",
         [helper.make_node("Concat", ["x", "x"], ["y"], axis=0, name="concat")],
         [value("x", F, [(1 << 63) - 1])], [y])
    save(out, "limit_input_elements",
         [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [value("x", F, [1 << 40, 1 << 40])], [y])
    save(out, "limit_negative_input_dim",
         [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [value("x", F, [-1, 4])], [y])
    save(out, "limit_negative_output_dim",
         [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [value("x", F, [2, 4])], [value("y", F, [2, -4])])
    save(out, "limit_input_rank",
         [helper.make_node("Relu", ["x"], ["y"], name="relu")],
         [value("x", F, [1] * 100)], [y])
    # A shape operand whose declared length would be the result's rank.
    for op, length in [("ConstantOfShape", 1 << 31), ("Reshape", 1 << 40),
                       ("Expand", 1 << 31)]:
        inputs = ["s"] if op == "ConstantOfShape" else ["x", "s"]
        graph_inputs = [value("s", I64, [length])]
        if op != "ConstantOfShape":
            graph_inputs.insert(0, value("x", F, [2, 4]))
        save(out, "limit_%s_rank" % op.lower(),
             [helper.make_node(op, inputs, ["y"], name=op.lower())],
             graph_inputs, [y])
    # Slice starts/ends must be 1-D: a scalar and a rank-2 starts.
    for case, starts in [("scalar", np.int64(1)),
                         ("rank2", np.array([[0], [1]], np.int64))]:
        save(out, "limit_slice_starts_" + case,
             [helper.make_node("Slice", ["x", "st", "en", "ax"], ["y"],
                               name="slice")],
             [value("x", F, [4, 4])], [y],
             [const("st", starts), const("en", np.array([3, 3], np.int64)),
              const("ax", np.array([0, 1], np.int64))])
    # External data whose offset + length overflows int64.
    folder = os.path.join(out, "limit_external_overflow")
    os.makedirs(folder, exist_ok=True)
    tensor = TensorProto(name="w", data_type=F, dims=[4, 4])
    tensor.data_location = TensorProto.EXTERNAL
    for key, val in [("location", "weights.bin"), ("offset", "16"),
                     ("length", str((1 << 63) - 1))]:
        entry = tensor.external_data.add()
        entry.key, entry.value = key, val
    save(folder, "model", [helper.make_node("Identity", ["w"], ["y"], name="id")],
         [], [y], [tensor])
    with open(os.path.join(folder, "weights.bin"), "wb") as f:
        f.write(b"\0" * 80)
    # External data in 'pipe.bin', which special-files.test makes a FIFO.
    folder = os.path.join(out, "external_fifo")
    os.makedirs(folder, exist_ok=True)
    tensor = TensorProto(name="w", data_type=F, dims=[4, 4])
    tensor.data_location = TensorProto.EXTERNAL
    entry = tensor.external_data.add()
    entry.key, entry.value = "location", "pipe.bin"
    save(folder, "model", [helper.make_node("Identity", ["w"], ["y"], name="id")],
         [], [y], [tensor])


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    op_models(out)
    weight_models(out)
    malformed_models(out)
    bug_models(out)
    attribute_kind_models(out)
    limit_models(out)


if __name__ == "__main__":
    main()
