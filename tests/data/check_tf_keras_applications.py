"""Compare bnlint's static reading of tf_keras' application sources with the models tf_keras builds.

Not part of the test suite: tf_keras is not a test dependency (Keras 3 and
tf_keras cannot share a process). Two steps, from the repository root:

    # 1. in a tf_keras venv: build every builder of tf_keras.applications with
    #    weights=None and write its config alone (no weights) to DIR/<builder>.h5
    TF_USE_LEGACY_KERAS=1 /tmp/tfkeras-venv/bin/python tests/data/check_tf_keras_applications.py --dump DIR
    # 2. where bnlint and the test dependencies are installed: compare
    python tests/data/check_tf_keras_applications.py --compare DIR [-v] [BUILDER ...]

Step 2 runs ``bnlint graph`` on each builder's source file in tf_keras (the
graph whose entry is the builder, analysed uncalled with its default
arguments) and on the ``.h5`` file, and compares the two with
``tests/test_applications_fidelity.compare``: model name, inputs and
outputs, layer names and classes, edges (through raw TensorFlow calls,
which tf_keras records as ``TFOpLambda`` layers), and the configuration
values that test compares. It prints one line per builder.

Keras 2 spells some of these differently from Keras 3, which is what
bnlint's source reader names as; such differences are left in, so read
them knowing that: the automatic name of an ``Input`` (``input_1``, not
``input_layer``) and of a ``Sequential``'s input layer, op names sharing
counters with layers, and ``backend.get_uid`` names. The reader of the
``.h5`` file gives a built BN's saved axis ``[3]`` as ``-1``, and keeps a
``LayerNormalization``'s ``[3]``, where the source says ``3`` or ``-1``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
INDEX = "builders.json"  # builder -> the source file that defines it
if str(HERE.parent) not in sys.path:  # the tests' comparison helpers (no TensorFlow imported)
    sys.path.insert(0, str(HERE.parent))


def dump(directory: Path) -> None:
    import gc
    import inspect

    import h5py
    import tf_keras
    from tf_keras import applications, backend

    directory.mkdir(parents=True, exist_ok=True)
    builders = {}
    for name, builder in sorted(vars(applications).items()):
        if not (inspect.isfunction(builder) and name[:1].isupper()):
            continue
        backend.clear_session()  # automatic names start afresh, as in a new process
        model = builder(weights=None)
        with h5py.File(directory / f"{name}.h5", "w") as file:
            file.attrs["model_config"] = json.dumps({"class_name": type(model).__name__, "config": model.get_config()})
            file.attrs["keras_version"] = tf_keras.__version__
            file.attrs["backend"] = "tensorflow"
        builders[name] = inspect.getsourcefile(builder)
        print(name, len(model.layers), "layers", flush=True)
        del model
        gc.collect()
    (directory / INDEX).write_text(json.dumps(builders, indent=1))


def _graphs(path: str) -> list[dict]:
    result = subprocess.run([sys.executable, "-m", "bnlint", "graph", path, "--format", "json"],
                            capture_output=True, text=True, check=False)
    if result.returncode not in (0, 1):
        raise SystemExit(f"bnlint graph {path} failed:\n{result.stderr}")
    return json.loads(result.stdout)


def as_reference(graph: dict, graphs: list[dict]) -> dict:
    """A bnlint graph of the saved file, in the form ``compare`` takes for Keras' side."""
    from keras_reference import config_subset
    from test_applications_fidelity import _bnlint_is_op

    by_id = {node["id"]: node for node in graph["nodes"]}
    layers, seen = [], set()
    for node in graph["nodes"]:
        if node["name"] in seen:
            continue
        seen.add(node["name"])
        layer = {"name": node["name"], "class_name": node["class_name"], "config": config_subset(node.get("config") or {}),
                 "op": _bnlint_is_op(node) or node["class_name"] in ("TFOpLambda", "SlicingOpLambda")}
        nested = [g for g in graphs if g["name"] == node["name"] and g is not graph]
        if node["class_name"] in ("Sequential", "Functional") and nested:
            layer["submodel"] = dict(as_reference(nested[0], graphs), class_name=node["class_name"])
        layers.append(layer)
    return {
        "name": graph["name"],
        "inputs": [by_id[i]["name"] for i in graph["inputs"]],
        "outputs": [by_id[i]["name"] for i in graph["outputs"]],
        "layers": layers,
        "edges": [[by_id[e["source"]]["name"], by_id[e["target"]]["name"], e.get("index", 0)] for e in graph["edges"]],
    }


def compare_all(directory: Path, only: list[str], verbose: bool) -> None:
    from test_applications_fidelity import compare, format_diffs, summarize

    builders = json.loads((directory / INDEX).read_text())
    sources: dict[str, list[dict]] = {}
    for name, source in builders.items():
        if only and name not in only:
            continue
        if source not in sources:
            sources[source] = _graphs(source)
        ours = [g for g in sources[source] if g.get("entry") == name]
        saved = _graphs(str(directory / f"{name}.h5"))
        if not ours:
            print(f"{name:18s} no graph read from {source}")
            continue
        diffs = compare(as_reference(saved[0], saved), ours[-1], sources[source])
        print(f"{name:18s} {summarize(diffs)}")
        if verbose and diffs:
            print(format_diffs(diffs, limit=8))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group(required=True)
    mode.add_argument("--dump", type=Path, metavar="DIR")
    mode.add_argument("--compare", type=Path, metavar="DIR")
    parser.add_argument("-v", action="store_true", help="print the differences (8 per category)")
    parser.add_argument("builders", nargs="*")
    arguments = parser.parse_args()
    if arguments.dump:
        dump(arguments.dump)
    else:
        compare_all(arguments.compare, arguments.builders, arguments.v)


if __name__ == "__main__":
    main()
