"""Read a Keras 3 ``model.export(dir)`` SavedModel at op level, without TensorFlow.

Such an export has no Keras config (no ``keras_metadata.pb``): only
``saved_model.pb`` and ``variables/``. Its serving function is an op graph,
which this module decodes with a minimal protobuf wire-format reader (no
``protobuf`` package) and groups back into layers by name scope.

Messages walked (field numbers checked against the descriptors of
TensorFlow 2.21's ``*_pb2`` modules; the wheel ships no ``.proto`` text)::

    SavedModel      { meta_graphs = 2 }
    MetaGraphDef    { graph_def = 2; signature_def = 5 (map<string, SignatureDef>) }
    SignatureDef    { outputs = 2 (map<string, TensorInfo>) }   TensorInfo { name = 1 }
    GraphDef        { node = 1 (NodeDef); library = 2 }
    FunctionDefLibrary { function = 1 }
    FunctionDef     { signature = 1 (OpDef); node_def = 3; ret = 4 (map<string, string>) }
    OpDef           { name = 1; input_arg = 2 (ArgDef { name = 1; type = 3 }) }
    NodeDef         { name = 1; op = 2; input = 3; attr = 5 (map<string, AttrValue>) }
    AttrValue       { list = 1; s = 2; i = 3; f = 4; b = 5; type = 6; tensor = 8; func = 10 }
    ListValue       { s = 2; i = 3 }   NameAttrList { name = 1 }
    TensorProto     { dtype = 1; tensor_content = 4; float_val = 5; double_val = 6;
                      int_val = 7; int64_val = 10 }

What a Keras 3 export looks like (Keras 3.15, TF 2.21): the serving signature
calls ``__inference_signature_wrapper___call___N``, which calls
``__inference___call___M``, whose ops are named ``<model>_1/<layer>_1/...``
(every scope gets a ``_1`` suffix from tracing; ``add_1`` becomes
``add_1_1``). Conv: ``conv_1/convolution`` (Conv2D) and, with a bias,
``conv_1/BiasAdd``; Dense: ``MatMul`` (+ ``BiasAdd``); a fused activation
is an op in the same scope (``conv_1/Relu``, ``dense_1/Softmax``); BN:
``bn_1/batchnorm/{add(var, eps), Rsqrt, mul(., gamma), mul_1(x, .), mul_2(mean, .),
sub(beta, .), add_1}`` (``Neg(mean)`` instead of ``sub`` with
``center=False``; no gamma ``mul`` with ``scale=False``; ``Reshape`` of the
four parameters to a broadcast shape when ``axis`` is not the last axis).
Dropout emits no op at all. A 1D conv (transposed too) or pooling is its
2D op between ``ExpandDims`` and ``Squeeze``. A channels_first ``DepthwiseConv1D/2D``,
``SeparableConv1D/2D`` or pooling layer is computed channels-last on CPU
(TF has no NCHW kernel for them): ``Transpose(x, (0, 2, .., 1))``, the
NHWC op, and ``Transpose(., (0, r-1, 1, ..))`` back, all in the layer's
scope; the op's ``data_format`` attr then says NHWC, so the layout is read
from the two transposes. ``ZeroPadding1D/2D/3D`` is one ``Pad`` op: its
``paddings`` constant gives the rank and, by which of axis 1 and the last
axis is padded, the layout. A conv that Keras compiles with XLA (a grouped conv,
``groups > 1``, and a channels_first ``Conv3D``, which TF cannot run on
CPU) is a ``StatefulPartitionedCall`` in the layer's scope
(``conv_1/StatefulPartitionedCall`` -> ``__inference__conv_xla_N``, whose
ops hold the ``Conv2D``/``Conv3D`` and its ``data_format``), followed by
the layer's ``BiasAdd`` and activation in the layer's own scope.
``TimeDistributed(conv)`` first swaps the batch and time axes
(``Transpose(x, (1, 0, 2, ..))``); the wrapped conv is read as the layer,
and a channels_first one gets an UNKNOWN ``data_format`` (its channel axis
is 2, which ``data_format`` cannot say).

What an export can and cannot show, per rule
--------------------------------------------
==========  =====================================================================
BN001       checkable: conv/dense layers and BNs, with the connectivity.
BN002       checkable: activation ops (Relu, Relu6, Sigmoid, ...) are recovered.
BN003       NOT checkable: an inference graph has no dropout ops.
BN004       checkable: ``BiasAdd`` in a conv/dense scope gives ``use_bias``;
            BN ``center`` (``Sub`` vs ``Neg``) and ``axis`` (from the broadcast
            ``Reshape``) are recovered.
BN005       checkable: the graph's outputs are known.
BN006       NOT checkable: momentum only affects training; it is not exported.
BN007       partly: ``epsilon`` is the constant added to the variance; the
            layer's dtype policy is not recovered (float16 case not checked).
BN008       checkable for conv ``data_format`` (op attr) and BN ``axis``.
BN009       checkable.
BN010       NOT checkable: ``fit`` calls are not in a saved model.
BN011       NOT checkable: initialisers are not exported (only trained values).
==========  =====================================================================

Limitations: ``Flatten`` and ``Reshape`` are told apart by the rank of the
target shape (2 -> Flatten); ``ReLU`` layers and ``Activation("relu")``
both appear as ``Activation``; a layer whose ops cannot be recognised is a
node of kind ``op`` that keeps its edges; nested models are flattened (their
layers appear as ``inner/layer``).
"""

from __future__ import annotations

import re
import struct
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bnlint import kinds
from bnlint.errors import InputError
from bnlint.graph import UNKNOWN, Layer, ModelGraph, SavedLayer
from bnlint.readers.protobuf import fields, message, varint
from bnlint.readers.result import ReadResult

__all__ = ["MAX_SAVED_MODEL_BYTES", "RULES_NOT_CHECKABLE", "is_exported_savedmodel", "read_exported_savedmodel"]

#: The largest saved_model.pb read (MobileNetV2's is 1.6 MB; big graphs embed constants).
MAX_SAVED_MODEL_BYTES = 512 * 1024 * 1024

#: Rules whose subject does not survive ``model.export()``, with the reason.
RULES_NOT_CHECKABLE = {
    "BN003": "an exported inference graph contains no dropout ops",
    "BN006": "BatchNormalization momentum only affects training and is not exported",
    "BN010": "model.fit calls (batch sizes) are not part of a saved model",
    "BN011": "initialisers are not exported, only the trained weight values",
}

_DT_RESOURCE = 20
_DT_FLOAT, _DT_DOUBLE, _DT_INT32, _DT_INT64 = 1, 2, 3, 9


def is_exported_savedmodel(path: Path) -> bool:
    """True for a SavedModel directory without Keras metadata (a Keras 3 ``export()``)."""
    return path.is_dir() and (path / "saved_model.pb").is_file() and not (path / "keras_metadata.pb").is_file()


# -- protobuf wire format ---------------------------------------------------


def _text(value: bytes) -> str:
    if not isinstance(value, bytes):  # (a damaged file: a varint where a string was expected)
        raise ValueError("a number where a string was expected")
    return value.decode("utf-8", "replace")


def _map_entries(raw: list) -> Iterator[tuple[bytes, Any]]:
    """``(key bytes, value)`` of a protobuf map field (entries ``{key = 1; value = 2}``)."""
    for entry in raw:
        key, value = b"", b""
        for number, _, item in fields(entry):
            if number == 1:
                key = item
            elif number == 2:
                value = item
        yield key, value


def _signed(value: int) -> int:
    return value - (1 << 64) if value >= 1 << 63 else value


def _packed_varints(items: list) -> list[int]:
    values: list[int] = []
    for item in items:
        if isinstance(item, int):
            values.append(_signed(item))
        else:
            pos = 0
            while pos < len(item):
                value, pos = varint(item, pos)
                values.append(_signed(value))
    return values


def _tensor_values(raw: bytes) -> list | None:
    """The numbers in a small TensorProto (float/double/int32/int64), or None."""
    parts = message(raw)
    dtype = (parts.get(1) or [0])[-1]
    content = b"".join(parts.get(4, []))
    try:
        if dtype == _DT_FLOAT:
            if content:
                return list(struct.unpack(f"<{len(content) // 4}f", content))
            data = b"".join(parts.get(5, []))
            return list(struct.unpack(f"<{len(data) // 4}f", data))
        if dtype == _DT_DOUBLE:
            data = content or b"".join(parts.get(6, []))
            return list(struct.unpack(f"<{len(data) // 8}d", data))
        if dtype == _DT_INT32:
            if content:
                return list(struct.unpack(f"<{len(content) // 4}i", content))
            return [((v + (1 << 31)) % (1 << 32)) - (1 << 31) for v in _packed_varints(parts.get(7, []))]
        if dtype == _DT_INT64:
            if content:
                return list(struct.unpack(f"<{len(content) // 8}q", content))
            return _packed_varints(parts.get(10, []))
    except struct.error:
        return None
    return None


# -- ops --------------------------------------------------------------------


@dataclass
class _Op:
    name: str
    op: str
    inputs: list[str]
    _attr: list = field(repr=False, default_factory=list)
    _decoded: dict | None = field(repr=False, default=None)

    def attr(self, key: str) -> dict[int, list] | None:
        """The AttrValue fields of attribute *key*, or None."""
        if self._decoded is None:
            self._decoded = {_text(k): v for k, v in _map_entries(self._attr)}
        value = self._decoded.get(key)
        return message(value) if value is not None else None

    def attr_str(self, key: str) -> str | None:
        value = self.attr(key)
        return _text(value[2][-1]) if value and 2 in value else None

    def attr_bool(self, key: str) -> bool | None:
        value = self.attr(key)
        return bool(value[5][-1]) if value and 5 in value else None

    def attr_float(self, key: str) -> float | None:
        value = self.attr(key)
        return struct.unpack("<f", value[4][-1])[0] if value and 4 in value else None

    def tensor(self) -> list | None:
        value = self.attr("value")
        return _tensor_values(value[8][-1]) if value and 8 in value else None

    def data_inputs(self) -> list[str]:
        """Producer op (or argument) names of the data inputs, in order."""
        return [i.split(":", 1)[0] for i in self.inputs if not i.startswith("^")]


def _node(raw: bytes) -> _Op:
    name, op, inputs, attrs = "", "", [], []
    for number, _, value in fields(raw):
        if number == 1:
            name = _text(value)
        elif number == 2:
            op = _text(value)
        elif number == 3:
            inputs.append(_text(value))
        elif number == 5:
            attrs.append(value)
    return _Op(name, op, inputs, attrs)


@dataclass
class _Function:
    name: str
    raw: bytes

    def decode(self) -> tuple[list[tuple[str, int]], list[_Op], dict[str, str]]:
        """``(input args as (name, dtype)), ops, ret map``."""
        args: list[tuple[str, int]] = []
        ops: list[_Op] = []
        ret: dict[str, str] = {}
        for number, _, value in fields(self.raw):
            if number == 1:
                for sub, _, item in fields(value):
                    if sub == 2:
                        arg = message(item)
                        args.append((_text((arg.get(1) or [b""])[-1]), (arg.get(3) or [0])[-1]))
            elif number == 3:
                ops.append(_node(value))
            elif number == 4:
                for key, item in _map_entries([value]):
                    ret[_text(key)] = _text(item)
        return args, ops, ret


def _function_name(raw: bytes) -> str:
    for number, _, value in fields(raw):
        if number == 1:
            for sub, _, item in fields(value):
                if sub == 1:
                    return _text(item)
    return ""


_CALL_OPS = {"StatefulPartitionedCall", "PartitionedCall"}
_PLUMBING = {"Identity", "NoOp", "IdentityN"}


def _serving_function(saved: bytes) -> tuple[_Function, set[str], dict[str, _Function]]:
    """The function the serving signature runs, the layer names owning variables, and the function library."""
    meta = next((value for number, _, value in fields(saved) if number == 2), None)
    if meta is None:
        raise ValueError("no MetaGraphDef")
    graph_raw, signatures = b"", []
    for number, _, value in fields(meta):
        if number == 2:
            graph_raw = value
        elif number == 5:
            signatures.append(value)
    functions: dict[str, _Function] = {}
    top_nodes: list[_Op] = []
    for number, _, value in fields(graph_raw):
        if number == 1:
            top_nodes.append(_node(value))
        elif number == 2:
            for sub, _, item in fields(value):
                if sub == 1:
                    name = _function_name(item)
                    functions[name] = _Function(name, item)
    owners = {op.name.split("/", 1)[0] for op in top_nodes if op.op == "VarHandleOp" and "/" in op.name}
    sigs = dict(_map_entries(signatures))
    start = None
    for key in (b"serving_default", b"serve", *sigs):
        if key in sigs and not key.startswith(b"__"):
            outputs = message(sigs[key]).get(2, [])
            for _, info in _map_entries(outputs):
                tensor = _text((message(info).get(1) or [b""])[-1]).split(":", 1)[0]
                caller = next((op for op in top_nodes if op.name == tensor), None)
                start = _called(caller) if caller is not None else None
                if start:
                    break
        if start:
            break
    if start is None or start not in functions:
        candidates = [f for n, f in functions.items() if "__call__" in n and "signature_wrapper" not in n]
        if not candidates:
            raise LookupError("no serving function")
        return max(candidates, key=lambda f: len(f.raw)), owners, functions
    function = functions[start]
    for _ in range(16):  # follow wrappers: a function that only calls another
        _, ops, _ = function.decode()
        real = [op for op in ops if op.op not in _PLUMBING]
        if len(real) == 1 and real[0].op in _CALL_OPS and _called(real[0]) in functions:
            function = functions[_called(real[0])]
        else:
            break
    return function, owners, functions


def _called(op: _Op) -> str | None:
    value = op.attr("f")
    if value and 10 in value:
        name = message(value[10][-1]).get(1)
        return _text(name[-1]) if name else None
    return None


# -- grouping into layers ---------------------------------------------------

_SUFFIX = re.compile(r"^(.*)_(\d+)$")
_ANCHORS = {"Conv2D", "Conv3D", "DepthwiseConv2dNative", "Conv2DBackpropInput", "Conv3DBackpropInputV2",
            "MatMul", "BatchMatMulV2", "Einsum", "Rsqrt", "FusedBatchNormV3", "FusedBatchNorm"}
_STATIC = {"Const", "ReadVariableOp", "NoOp"}


def _strip(scope: str, strip: bool) -> str:
    match = _SUFFIX.match(scope)
    return match.group(1) if strip and match else scope


def _group(ops: list[_Op], depth: int, prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], list[_Op]]]:
    """Split *ops* (all under scope *prefix*) into layer groups; nested models are split further."""
    groups: dict[str, list[_Op]] = {}
    for op in ops:
        parts = op.name.split("/")
        key = parts[depth] if len(parts) > depth else parts[-1]
        groups.setdefault(key, []).append(op)
    out = []
    for key, members in groups.items():
        subscopes = {op.name.split("/")[depth + 1] for op in members  # (a call: a conv compiled with XLA)
                     if (op.op in _ANCHORS or op.op in _CALL_OPS) and len(op.name.split("/")) > depth + 2}
        if len(subscopes) >= 2 and depth < 8:  # anchors in several sub-layers: a nested model
            out.extend(_group(members, depth + 1, prefix + (key,)))
        else:
            out.append((prefix + (key,), members))
    return out


_ACTIVATION_OPS = {"Relu": "relu", "Relu6": "relu6", "Sigmoid": "sigmoid", "Tanh": "tanh", "Softmax": "softmax",
                   "Elu": "elu", "Selu": "selu", "LeakyRelu": "leaky_relu", "Softplus": "softplus",
                   "Softsign": "softsign", "LogSoftmax": "log_softmax"}
_CONV_OPS = {"Conv2D": "Conv2D", "Conv3D": "Conv3D", "DepthwiseConv2dNative": "DepthwiseConv2D",
             "Conv2DBackpropInput": "Conv2DTranspose", "Conv3DBackpropInputV2": "Conv3DTranspose"}
_POOL_OPS = {"MaxPool": "MaxPooling2D", "AvgPool": "AveragePooling2D", "MaxPool3D": "MaxPooling3D",
             "AvgPool3D": "AveragePooling3D"}
_MERGE_OPS = {"AddV2": "Add", "Add": "Add", "Mul": "Multiply", "Sub": "Subtract", "Maximum": "Maximum",
              "Minimum": "Minimum", "ConcatV2": "Concatenate"}


def _activation(types: Counter) -> str | None:
    """The activation computed by ops of a group (fused in a layer, or the whole group)."""
    if types["Erf"] or types["Erfc"]:
        return "gelu"
    if types["Sigmoid"] and types["Mul"] and not types["Rsqrt"]:
        return "silu"  # x * sigmoid(beta * x), often wrapped in an IdentityN (custom gradient)
    for op, name in _ACTIVATION_OPS.items():
        if types[op]:
            return name
    return None


def _classify(name: str, ops: list[_Op], by_name: dict[str, _Op], external: int,
              called: list[_Op] = ()) -> tuple[str, str, dict]:
    """``(class_name, kind, config)`` of one op group; *external* is its number of distinct inputs.

    *called* are the ops of the functions the group calls: a conv that Keras compiles with XLA (a grouped
    conv, a channels_first Conv3D) is a ``StatefulPartitionedCall`` in the layer's scope, with the
    ``Conv2D``/``Conv3D`` op (and a 1D conv's ``ExpandDims``/``Squeeze``) inside the called function.
    """
    types = Counter(op.op for op in ops)
    conv = next((op for op in ops if op.op in _CONV_OPS), None)
    outside = conv is not None  # (the transposes around a channels_first conv are looked for only in the layer)
    if conv is None and not (types["MatMul"] or types["BatchMatMulV2"] or types["Einsum"]):
        conv = next((op for op in called if op.op in _CONV_OPS), None)
        if conv is not None:
            types.update(op.op for op in called)
    if conv is not None or types["MatMul"] or types["BatchMatMulV2"] or types["Einsum"]:
        if conv is not None:
            class_name = _CONV_OPS[conv.op]
            if types["DepthwiseConv2dNative"] and types["Conv2D"]:
                class_name = "SeparableConv2D"
            if types["ExpandDims"] and types["Squeeze"] and class_name in ("Conv2D", "DepthwiseConv2D",
                                                                         "SeparableConv2D", "Conv2DTranspose"):
                class_name = class_name.replace("2D", "1D")
            data_format = conv.attr_str("data_format") or "NHWC"
            config: dict[str, Any] = dict(kinds.DEFAULT_CONFIG.get(class_name, {}))
            channels_first = data_format.startswith("NC") or (outside and _transposed_around(conv, ops, by_name))
            config["data_format"] = "channels_first" if channels_first else "channels_last"
            if channels_first and _time_distributed(ops, by_name):
                # TimeDistributed(conv): the time axis sits before the conv's channel axis 1, which is axis 2
                # of the layer's output; data_format cannot say so.
                config["data_format"] = UNKNOWN
        else:
            class_name = "EinsumDense" if types["Einsum"] else "Dense"
            config = dict(kinds.DEFAULT_CONFIG.get(class_name, {}))
        if class_name != "EinsumDense":
            config["use_bias"] = bool(types["BiasAdd"] or types["BiasAddV1"]
                                      or any(op.op in ("Add", "AddV2") and _reads_variable(op, by_name) for op in ops))
        config["activation"] = _activation(types) or "linear"
        return class_name, kinds.kind_of(class_name), config
    if types["Rsqrt"] or types["FusedBatchNormV3"] or types["FusedBatchNorm"]:
        return "BatchNormalization", "batchnorm", _batchnorm(ops, types, by_name)
    if types["Mean"] or types["Max"]:
        reducer = next(op for op in ops if op.op in ("Mean", "Max"))
        class_name = "GlobalAveragePooling" if reducer.op == "Mean" else "GlobalMaxPooling"
        axes = _const_input(reducer, 1, by_name)
        rank = len(axes) if axes else 2
        class_name += f"{min(max(rank, 1), 3)}D"
        config = dict(kinds.DEFAULT_CONFIG.get(class_name, {}))
        keep = reducer.attr_bool("keep_dims")
        config["keepdims"] = bool(keep)
        if axes and min(axes) >= 2:
            config["data_format"] = "channels_first"
        return class_name, "pool", config
    for op_type, class_name in _POOL_OPS.items():
        if types[op_type]:
            pool = next(op for op in ops if op.op == op_type)
            if types["ExpandDims"] and types["Squeeze"] and class_name.endswith("2D"):
                class_name = class_name.replace("2D", "1D")
            data_format = pool.attr_str("data_format") or "NHWC"
            config = dict(kinds.DEFAULT_CONFIG.get(class_name, {}))
            channels_first = data_format.startswith("NC") or _transposed_around(pool, ops, by_name)
            config["data_format"] = "channels_first" if channels_first else "channels_last"
            return class_name, "pool", config
    activation = _activation(types)
    if activation is not None:
        return "Activation", "activation", {"activation": activation}
    if types["ConcatV2"] and external >= 2:
        concat = next(op for op in ops if op.op == "ConcatV2")
        axis = _const_input(concat, len(concat.data_inputs()) - 1, by_name)
        return "Concatenate", "merge", {"axis": axis[0] if axis and len(axis) == 1 else UNKNOWN}
    real = [op for op in ops if op.op not in _STATIC and op.op not in _PLUMBING]
    if (real and all(op.op == real[0].op for op in real) and real[0].op in _MERGE_OPS
            and len(real[0].data_inputs()) >= 2
            and all(by_name.get(i) is None or by_name[i].op not in _STATIC for i in real[0].data_inputs())):
        return _MERGE_OPS[real[0].op], "merge", {}
    if types["Pad"] or types["PadV2"]:
        return _padding(next(op for op in ops if op.op in ("Pad", "PadV2")), by_name)
    if types["Reshape"] and {op.op for op in real} <= {"Reshape", "Shape", "StridedSlice", "Pack"}:
        reshape = next(op for op in ops if op.op == "Reshape")
        shape = by_name.get(reshape.data_inputs()[1]) if len(reshape.data_inputs()) > 1 else None
        rank = len(shape.data_inputs()) if shape is not None and shape.op == "Pack" else None
        if shape is not None and shape.op == "Const":
            values = shape.tensor()
            rank = len(values) if values is not None else None
        if rank == 2:
            return "Flatten", "reshape", dict(kinds.DEFAULT_CONFIG["Flatten"])
        return "Reshape", "reshape", {}
    first = real[0].op if real else "Identity"
    return first, "op", {}


def _transposed_around(op: _Op, ops: list[_Op], by_name: dict[str, _Op]) -> bool:
    """True when the layer moves channels-first input to the last axis before *op* and back after it.

    TensorFlow has no channels-first depthwise or separable convolution (nor pooling) on CPU, so Keras'
    TF backend computes such a layer as ``Transpose(x, (0, 2, ..., 1)) -> op (NHWC) -> Transpose(.,
    (0, r-1, 1, ...))``; *op*'s own ``data_format`` attr then says NHWC although the layer's input and
    output are channels-first. The input ``Transpose`` is found by walking *op*'s data input back inside
    the layer (through ``ExpandDims`` of a 1D layer, ``Pad``, ...).
    """
    members = {member.name for member in ops}
    current = op
    for _ in range(16):
        inputs = current.data_inputs()
        if not inputs or inputs[0] not in members:
            return False
        current = by_name[inputs[0]]
        if current.op == "Transpose":
            break
    else:
        return False
    perm = _const_input(current, 1, by_name)
    if not perm or len(perm) < 3 or perm != [0, *range(2, len(perm)), 1]:
        return False
    back = [0, len(perm) - 1, *range(1, len(perm) - 1)]
    return any(member.op == "Transpose" and _const_input(member, 1, by_name) == back for member in ops)


def _time_distributed(ops: list[_Op], by_name: dict[str, _Op]) -> bool:
    """True for a ``TimeDistributed`` layer: it swaps the batch and time axes, ``Transpose(x, (1, 0, 2, ..))``,
    before running the wrapped layer on each step (unrolled, or in a loop when the steps are not known)."""
    for op in ops:
        if op.op == "Transpose":
            perm = _const_input(op, 1, by_name)
            if perm and len(perm) >= 3 and perm == [1, 0, *range(2, len(perm))]:
                return True
    return False


def _called_ops(ops: list[_Op], functions: dict[str, _Function]) -> list[_Op]:
    """The ops of the library functions that *ops* call, and of the functions those call (a few levels)."""
    found: list[_Op] = []
    seen: set[str] = set()
    pending = [op for op in ops if op.op in _CALL_OPS]
    for _ in range(4):
        callees = []
        for op in pending:
            name = _called(op)
            if name in functions and name not in seen:
                seen.add(name)
                callees.extend(functions[name].decode()[1])
        found.extend(callees)
        pending = [op for op in callees if op.op in _CALL_OPS]
        if not pending:
            break
    return found


def _padding(pad: _Op, by_name: dict[str, _Op]) -> tuple[str, str, dict]:
    """A ZeroPadding layer from its ``Pad`` op: rank and layout from the ``paddings`` constant.

    ``paddings`` holds ``(before, after)`` per axis; a ZeroPadding layer never pads the batch or the
    channel axis, so padding on axis 1 means channels_last and padding on the last axis channels_first.
    When neither is padded (or the constant is not there) the layout is unknown.
    """
    paddings = _const_input(pad, 1, by_name)
    rank = len(paddings) // 2 if paddings and len(paddings) % 2 == 0 else 0
    if not 3 <= rank <= 5:
        return "ZeroPadding2D", "reshape", dict(kinds.DEFAULT_CONFIG["ZeroPadding2D"])
    class_name = f"ZeroPadding{rank - 2}D"
    config = dict(kinds.DEFAULT_CONFIG[class_name])
    second, last = any(paddings[2:4]), any(paddings[-2:])
    if second != last:
        config["data_format"] = "channels_last" if second else "channels_first"
    else:
        config["data_format"] = UNKNOWN
    return class_name, "reshape", config


def _reads_variable(op: _Op, by_name: dict[str, _Op]) -> bool:
    return any(by_name.get(i) is not None and by_name[i].op == "ReadVariableOp" for i in op.data_inputs())


def _const_input(op: _Op, index: int, by_name: dict[str, _Op]) -> list | None:
    inputs = op.data_inputs()
    if index >= len(inputs):
        return None
    producer = by_name.get(inputs[index])
    return producer.tensor() if producer is not None and producer.op == "Const" else None


def _written_decimal(value: float) -> float:
    """The shortest decimal that is the same float32 as *value*: ``0.1`` for the 0.100000001490116 an
    export stores for ``epsilon=0.1`` (rounding to 9 places left 0.100000001, which BN007 read as above 0.1)."""
    stored = struct.pack("<f", value)
    for digits in range(1, 10):
        decimal = float(f"{value:.{digits}g}")
        if struct.pack("<f", decimal) == stored:
            return decimal
    return value


def _batchnorm(ops: list[_Op], types: Counter, by_name: dict[str, _Op]) -> dict:
    config: dict[str, Any] = dict(kinds.DEFAULT_CONFIG["BatchNormalization"])
    config["momentum"] = UNKNOWN
    config["epsilon"] = UNKNOWN
    fused = next((op for op in ops if op.op.startswith("FusedBatchNorm")), None)
    if fused is not None:
        epsilon = fused.attr_float("epsilon")
        config["epsilon"] = _written_decimal(epsilon) if epsilon is not None else UNKNOWN
        data_format = fused.attr_str("data_format") or "NHWC"
        config["axis"] = 1 if data_format.startswith("NC") else -1
        config["center"] = config["scale"] = UNKNOWN  # a fused BN always takes both tensors
        return config
    names = {op.name: op for op in ops}
    rsqrt = next(op for op in ops if op.op == "Rsqrt")
    add = names.get(rsqrt.data_inputs()[0]) if rsqrt.data_inputs() else None
    if add is not None and add.op in ("Add", "AddV2"):
        for i in range(2):
            value = _const_input(add, i, by_name)
            if value and len(value) == 1:
                config["epsilon"] = _written_decimal(float(value[0]))
    config["center"] = bool(types["Sub"])
    reads = sum(1 for op in ops if op.op == "ReadVariableOp")
    if reads:
        config["scale"] = reads - (2 + (1 if config["center"] else 0)) >= 1
    else:
        config["scale"] = UNKNOWN
    reshapes = [op for op in ops if op.op == "Reshape"]
    if not reshapes:
        config["axis"] = -1
    else:
        shape = _const_input(reshapes[0], 1, by_name)
        non_one = [i for i, size in enumerate(shape or []) if size != 1]
        config["axis"] = non_one[0] if len(non_one) == 1 else UNKNOWN
    return config


# -- the reader -------------------------------------------------------------


def read_exported_savedmodel(directory: Path, display: str) -> ReadResult:
    """The model of a Keras 3 ``model.export()`` SavedModel, read from its serving function.

    Raises
    ------
    InputError
        No ``saved_model.pb``, oversized, truncated or invalid protobuf, or no
        serving function.
    """
    path = Path(directory) / "saved_model.pb"
    if not path.is_file():
        raise InputError(display, "is not a SavedModel directory (it has no saved_model.pb)")
    try:
        size = path.stat().st_size
        if size > MAX_SAVED_MODEL_BYTES:
            raise InputError(display, f"has a saved_model.pb of {size} bytes, over the "
                                      f"{MAX_SAVED_MODEL_BYTES} byte limit")
        data = path.read_bytes()
    except OSError as error:
        raise InputError(display, f"has a saved_model.pb that cannot be read ({error.strerror or error})") from None
    try:
        function, owners, functions = _serving_function(data)
        args, ops, ret = function.decode()
    except LookupError:
        raise InputError(display, "is a SavedModel without a serving function to read") from None
    except (ValueError, struct.error, IndexError) as error:
        raise InputError(display, f"has a saved_model.pb that is not a valid SavedModel protobuf ({error})") from None
    if not ops:
        raise InputError(display, "is a SavedModel whose serving function has no ops")
    try:  # (the functions a layer calls are decoded here)
        graph = _build(function.name, args, ops, ret, owners, display, functions)
    except (ValueError, struct.error, IndexError) as error:
        raise InputError(display, f"has a saved_model.pb that is not a valid SavedModel protobuf ({error})") from None
    return ReadResult(display, [graph],
                      notes=[("read at op level from a model.export() SavedModel; not checkable: "
                              f"{', '.join(sorted(RULES_NOT_CHECKABLE))}")])


def _build(function: str, args: list[tuple[str, int]], ops: list[_Op], ret: dict[str, str],
           owners: set[str], display: str, functions: dict[str, _Function] | None = None) -> ModelGraph:
    by_name = {op.name: op for op in ops}
    scoped = [op for op in ops if "/" in op.name]
    tops = Counter(op.name.split("/", 1)[0] for op in scoped)
    model_scope = tops.most_common(1)[0][0] if tops else function
    in_model = [op for op in scoped if op.name.split("/", 1)[0] == model_scope]
    groups = _group(in_model, 1, ())
    # Tracing suffixes every scope with _1; decide from the layers that own variables.
    votes = Counter()
    for path, _ in groups:
        scope = path[-1]
        if scope in owners:
            votes["keep"] += 1
        elif _strip(scope, True) in owners:
            votes["strip"] += 1
    strip = votes["strip"] > votes["keep"] if votes else bool(_SUFFIX.match(model_scope))
    graph = ModelGraph(_strip(model_scope, strip), SavedLayer(display, _strip(model_scope, strip)))

    owner_of: dict[str, int] = {}
    layer_ids: dict[str, int] = {}
    data_args = [name for name, dtype in args if dtype != _DT_RESOURCE]
    for name in data_args:
        node = graph.add_layer(Layer(name, "InputLayer", "input", {}, SavedLayer(display, name), len(layer_ids)))
        layer_ids[name] = len(layer_ids)
        owner_of[name] = node
        graph.inputs.append(node)

    pending = []
    for path, members in groups:
        if all(op.op in _STATIC for op in members):
            continue
        name = "/".join(_strip(part, strip) for part in path)
        pending.append((name, members))

    group_of = {}
    for position, (_, members) in enumerate(pending):
        for op in members:
            group_of[op.name] = position

    inputs_of: list[list[str | int]] = []
    for position, (_, members) in enumerate(pending):
        found: list[str | int] = []
        for op in members:
            for producer in op.data_inputs():
                source = _source(producer, by_name, group_of, data_args)
                if source is not None and source != position and source not in found:
                    found.append(source)
        inputs_of.append(found)

    nodes: dict[int, int] = {}
    for position, (name, members) in enumerate(pending):
        called = _called_ops(members, functions or {})
        class_name, kind, config = _classify(name, members, by_name, len(inputs_of[position]), called)
        layer_id = layer_ids.setdefault(name, len(layer_ids))
        nodes[position] = graph.add_layer(Layer(name, class_name, kind, config, SavedLayer(display, name), layer_id))
    for position, found in enumerate(inputs_of):
        for index, source in enumerate(found):
            producer = owner_of[source] if isinstance(source, str) else nodes[source]
            graph.add_edge(producer, nodes[position], index)
    for tensor in ret.values():
        source = _source(tensor.split(":", 1)[0], by_name, group_of, data_args)
        node = owner_of.get(source) if isinstance(source, str) else nodes.get(source) if source is not None else None
        if node is not None and node not in graph.outputs:
            graph.outputs.append(node)
    return graph


def _source(producer: str, by_name: dict[str, _Op], group_of: dict[str, int], args: list[str]) -> str | int | None:
    """The group (or input argument) whose output *producer* carries, looking through plumbing outside groups."""
    seen = 0
    while seen < 64:
        seen += 1
        if producer in group_of:
            op = by_name[producer]
            return None if op.op in _STATIC else group_of[producer]
        if producer in args:
            return producer
        op = by_name.get(producer)
        if op is None or op.op not in _PLUMBING or not op.data_inputs():
            return None
        producer = op.data_inputs()[0]
    return None
