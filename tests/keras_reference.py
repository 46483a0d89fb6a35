"""Reference layer graphs of the ``keras.applications`` models, built by real Keras.

The fidelity test (``tests/test_applications_fidelity.py``) checks that the
graph bnlint recovers *statically* from each builder's source file equals
the model that real Keras builds. This module is the Keras side: it builds
each model with ``weights=None`` and otherwise default arguments, after
``keras.backend.clear_session()`` (so automatic layer names start fresh, as
in a new process), and describes it as JSON::

    {"keras_version", "tensorflow_version", "backend", "image_data_format",
     "available_builders": [names exported by keras.applications],
     "seconds": total, "peak_rss_mb": peak resident memory of the process,
     "models": [
       {"builder": "ResNet50", "module_file": ".../keras/src/applications/resnet.py",
        "name": "resnet50", "seconds": 1.2, "rss_mb": 950.0,
        "inputs": [layer names], "outputs": [layer names],
        "layers": [{"name", "class_name", "module", "calls",
                    "config": {subset}, "op": true (raw keras.ops calls only),
                    "submodel": {"name", "class_name", "layers", "edges", ...}
                                (nested models only)}],
        "edges": [[src_layer, dst_layer, input_index], ...]},
       {"builder": ..., "error": "traceback"}   # a builder that raised
     ]}

- ``config`` holds the keys ``CONFIG_KEYS`` that the layer's ``get_config()``
  has; a one-element ``axis`` list becomes an int and ``activation`` is its
  serialized name (``"linear"``, ``"relu"``, ``"silu"`` -- Keras canonical
  names, so ``"swish"`` in the source is ``"silu"`` here).
- ``edges`` come from ``inbound_nodes`` in ``model.get_config()``: one
  ``[producer, consumer, index]`` per Keras tensor among a call's inputs, where
  ``index`` is the tensor's position among that call's tensor inputs
  (``args`` flattened, merges included, then ``kwargs``; non-tensor arguments
  such as the ``3.0`` of ``x + 3.0`` are not counted). A layer called several
  times contributes the edges of every call (``calls`` counts them).
- Raw tensor ops in a functional model (``x + 3.0``, ``keras.ops.*``) appear
  in the config as layers of module ``keras.src.ops.*``; they are kept, with
  ``"op": true``.
- A nested model (ConvNeXt's ``Sequential`` stem and downsampling blocks) is
  one layer of its parent with a ``submodel`` described the same way; a
  ``Sequential``'s layers include the ``InputLayer`` Keras adds when the
  model is built by its first call, and its edges are the chain of its
  layers.

Commands (from the repository root; TensorFlow needed)::

    # one line per builder: matching / N layer, edge, config diffs
    /tmp/venv/bin/python tests/keras_reference.py --report
    /tmp/venv/bin/python tests/keras_reference.py --report ResNet50 MobileNetV3Small
    # ... reusing references: builds them into FILE the first time, reads it after
    /tmp/venv/bin/python tests/keras_reference.py --report --reference /tmp/keras_ref.json
    # print the differences themselves (first 20 per category)
    /tmp/venv/bin/python tests/keras_reference.py --report -v ConvNeXtTiny
    # only dump references (what the test's session fixture runs)
    /tmp/venv/bin/python tests/keras_reference.py --out /tmp/keras_ref.json [BUILDER ...]

Importing this module does not import TensorFlow or Keras.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # run as a script: siblings importable
    sys.path.insert(0, str(HERE))

from applications_builders import BUILDERS  # noqa: E402

CONFIG_KEYS = ("use_bias", "activation", "momentum", "epsilon", "axis",
               "rate", "filters", "units")

# Operations recorded in a functional config: keras.ops calls, and keras.activations
# functions applied to symbolic tensors (an Operation such as activations.ReLU).
OPS_MODULE_PREFIX = ("keras.src.ops", "keras.src.activations")


# ---------------------------------------------------------------------------
# Describing a model config (pure functions on get_config() dicts; no TF)


def _jsonable(value):
    """Tuples (which get_config returns) as lists, recursively."""
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


def normalise_config_value(key: str, value):
    value = _jsonable(value)
    if key == "axis" and isinstance(value, list) and len(value) == 1:
        value = value[0]
    if key == "activation" and isinstance(value, str) and value.startswith("<function ") and value.endswith(">"):
        value = value[len("<function "):-1]  # bnlint's description of a function of the code's own: its name
    elif key == "activation" and not isinstance(value, str) and value is not None:
        if isinstance(value, dict):  # a serialized (registered/custom) function
            inner = value.get("config")
            value = inner if isinstance(inner, str) else value.get("class_name")
        else:
            value = getattr(value, "__name__", repr(value))
    return value


def config_subset(config: dict) -> dict:
    return {key: normalise_config_value(key, config[key])
            for key in CONFIG_KEYS if key in config}


def keras_tensors(obj):
    """The ``keras_history`` of every ``__keras_tensor__`` in *obj*, in order."""
    if isinstance(obj, dict):
        if obj.get("class_name") == "__keras_tensor__":
            yield list(obj["config"]["keras_history"])
            return
        for value in obj.values():
            yield from keras_tensors(value)
    elif isinstance(obj, (list, tuple)):
        for value in obj:
            yield from keras_tensors(value)


def node_inputs(node) -> list:
    """Producer histories of one inbound node, in input-index order."""
    if isinstance(node, dict) and ("args" in node or "kwargs" in node):
        return (list(keras_tensors(node.get("args", ())))
                + list(keras_tensors(node.get("kwargs", {}))))
    # the legacy (tf_keras) form: [[layer, node_index, tensor_index, kwargs], ...]
    return [list(item[:3]) for item in node]


def _is_model_config(layer_cfg: dict) -> bool:
    return isinstance(layer_cfg.get("config"), dict) and "layers" in layer_cfg["config"]


def describe_config(model_config: dict, class_name: str = "Functional") -> dict:
    """``{"name", "class_name", "inputs", "outputs", "layers", "edges"}`` of
    a Functional or Sequential ``get_config()`` dict."""
    # (a subclass of Sequential has its own class name, and a Sequential's config, without input_layers)
    sequential = class_name == "Sequential" or "input_layers" not in model_config
    layers, edges = [], []
    previous = None
    for layer_cfg in model_config["layers"]:
        name = layer_cfg.get("name") or layer_cfg["config"]["name"]
        inbound = layer_cfg.get("inbound_nodes") or []
        entry = {
            "name": name,
            "class_name": layer_cfg["class_name"],
            "module": layer_cfg.get("module"),
            "calls": len(inbound),
            "config": config_subset(layer_cfg.get("config") or {}),
        }
        if (layer_cfg.get("module") or "").startswith(OPS_MODULE_PREFIX):
            entry["op"] = True
        if _is_model_config(layer_cfg):
            entry["submodel"] = describe_config(layer_cfg["config"],
                                                layer_cfg["class_name"])
        layers.append(entry)
        if sequential:
            if previous is not None:
                edges.append([previous, name, 0])
                entry["calls"] = 1
            previous = name
            continue
        for node in inbound:
            for index, history in enumerate(node_inputs(node)):
                edges.append([history[0], name, index])

    def names(spec):
        spec = _jsonable(spec or [])
        if isinstance(spec, dict):  # dict inputs or outputs: Keras flattens them by sorted key
            spec = [spec[key] for key in sorted(spec)]
        if spec and isinstance(spec[0], str):  # a single [layer, node, tensor]
            spec = [spec]
        return [item[0] for item in spec]

    if sequential:
        inputs = [layers[0]["name"]] if layers else []
        outputs = [layers[-1]["name"]] if layers else []
    else:
        inputs = names(model_config.get("input_layers"))
        outputs = names(model_config.get("output_layers"))
    return {"name": model_config.get("name"), "class_name": class_name,
            "inputs": inputs, "outputs": outputs,
            "layers": layers, "edges": edges}


# ---------------------------------------------------------------------------
# Building the references (imports TensorFlow)


def _rss_mb() -> float:
    import resource
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def dump(builders: list[str], log=None) -> dict:
    """Build each builder's model with real Keras and describe it."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    import inspect
    import warnings

    warnings.simplefilter("ignore")
    import keras
    import tensorflow as tf

    started = time.perf_counter()
    available = sorted(
        name for name in dir(keras.applications)
        if name[:1].isupper() and callable(getattr(keras.applications, name)))
    result = {
        "keras_version": keras.__version__,
        "tensorflow_version": tf.__version__,
        "backend": keras.backend.backend(),
        "image_data_format": keras.backend.image_data_format(),
        "available_builders": available,
        "models": [],
    }
    for builder in builders:
        t0 = time.perf_counter()
        entry = {"builder": builder}
        try:
            fn = getattr(keras.applications, builder)
            entry["module_file"] = str(Path(inspect.getsourcefile(fn)).resolve())
            entry["module"] = fn.__module__
            keras.backend.clear_session()
            model = fn(weights=None)
            entry.update(describe_config(model.get_config(), "Functional"))
            entry["name"] = model.name
            del model
        except Exception:  # noqa: BLE001 - recorded, the test reports it
            entry["error"] = traceback.format_exc()
        keras.backend.clear_session()
        gc.collect()
        entry["seconds"] = round(time.perf_counter() - t0, 2)
        entry["rss_mb"] = round(_rss_mb(), 1)
        result["models"].append(entry)
        if log:
            status = "error" if "error" in entry else f"{len(entry['layers'])} layers"
            print(f"{builder:20s} {entry['seconds']:7.2f}s  {status}  "
                  f"(peak rss {entry['rss_mb']:.0f} MB)", file=log, flush=True)
    result["seconds"] = round(time.perf_counter() - started, 2)
    result["peak_rss_mb"] = round(_rss_mb(), 1)
    return result


def load_or_build(path: Path | None, builders: list[str], log=None) -> dict:
    """References of *builders*. With *path*: those already in that file
    (written for the installed Keras version) are reused, the others built
    and added to it. ``seconds`` is the time spent building in this call."""
    cached = None
    if path is not None and path.exists():
        from importlib.metadata import version

        cached = json.loads(path.read_text())
        if cached.get("keras_version") != version("keras"):
            cached = None
    have = {m["builder"] for m in cached["models"]} if cached else set()
    missing = [b for b in builders if b not in have]
    if cached is not None and not missing:
        return dict(cached, seconds=0.0)
    data = dump(missing, log=log)
    if cached is not None:
        data["models"] = [m for m in cached["models"] if m["builder"] not in missing] + data["models"]
    if path is not None:
        path.write_text(json.dumps(data))
    return data


# ---------------------------------------------------------------------------
# Command line


def report(data: dict, builders: list[str], verbose: bool = False) -> int:
    """One line per builder; exit status 1 when any builder differs."""
    from test_applications_fidelity import (bnlint_graphs, compare, format_diffs,
                                            select_graph, summarize)

    by_builder = {m["builder"]: m for m in data["models"]}
    failing = 0
    for builder in builders:
        ref = by_builder[builder]
        diffs = []
        if ref.get("error"):
            line = "keras failed: " + ref["error"].strip().splitlines()[-1]
        else:
            graphs, error = bnlint_graphs(ref["module_file"])
            graph = None if error else select_graph(graphs, builder)
            if error:
                line = "bnlint failed: " + " | ".join(error.strip().splitlines()[-2:])
            elif graph is None:
                entries = sorted({str(g.get("entry")) for g in graphs})
                line = (f"no graph with entry {builder!r} ({len(graphs)} graphs; "
                        f"entries {entries[:6]})")
            else:
                diffs = compare(ref, graph, graphs)
                line = summarize(diffs)
        ok = line == "matching"
        failing += not ok
        print(f"{builder:20s} {line}", flush=True)
        if verbose and diffs:
            print(format_diffs(diffs, limit=20, indent="    "))
    print(f"{len(builders) - failing}/{len(builders)} builders match", flush=True)
    return 1 if failing else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("builders", nargs="*", help="builder names (default: all)")
    parser.add_argument("--out", type=Path, help="write the references here")
    parser.add_argument("--reference", type=Path,
                        help="reuse references from this file (built into it when "
                             "missing or incomplete)")
    parser.add_argument("--report", action="store_true",
                        help="compare with `bnlint graph`, one line per builder")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="with --report: print the differences")
    parser.add_argument("--list-only", action="store_true",
                        help="build no model; only record the installed Keras' builder list")
    args = parser.parse_args(argv)
    builders = [] if args.list_only else (args.builders or list(BUILDERS))
    unknown = [b for b in builders if b not in BUILDERS]
    if unknown:
        parser.error(f"unknown builders: {', '.join(unknown)}")
    if not args.out and not args.report:
        parser.error("nothing to do: give --out FILE and/or --report")
    data = load_or_build(args.reference, builders, log=sys.stderr)
    if args.out:
        args.out.write_text(json.dumps(data))
    print(f"references: {len(builders)} builders, {data['seconds']:.1f}s, "
          f"peak rss {data['peak_rss_mb']:.0f} MB", file=sys.stderr)
    if args.report:
        return report(data, builders, verbose=args.verbose)
    return 0


if __name__ == "__main__":
    sys.exit(main())
