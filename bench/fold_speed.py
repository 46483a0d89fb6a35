"""`bnlint fold` on ResNet50, next to the peer `tensorflow-batchnorm-folding` 1.0.9 and Keras itself.

One run prints, as a table:

1. bnlint end to end as a process: ``python -m bnlint fold in.keras out.keras
   --force`` (file in, file out), with a plain copy of the same file as a
   process beside it for scale (the archive is about 100 MB);
2. the peer end to end as a process (start Python, import, load the .h5, fold,
   save the .h5), and its in-memory fold call alone (timed inside that
   process and reported back as JSON on stdout);
3. Keras 3's own ``keras.saving.load_model`` + ``model.save`` of the same
   ``in.keras`` as a process: the floor for any tool that goes through
   TensorFlow/Keras to rewrite the file;
4. inference latency of the original and the bnlint-folded model with
   TensorFlow on CPU, batch 1 and batch 32 (one process, both models behind a
   ``tf.function``, warm-up calls first, then alternating timed calls);

then the ratios (peer / bnlint end to end, ...), the BN layers each tool
folded (bnlint's from ``--report json``, in one extra untimed run) and the
numerical error of each folded model against its original.
Process timings alternate between the tools on every repeat, after one
untimed warm-up run of each, and the medians are printed. The machine is
shared and noisy: the figures to read are the ratios measured in one run.
Nothing here asserts a time; the targets are printed for information.

The model is ``keras.applications.ResNet50(weights=None)`` built under a fixed
seed, with every BatchNormalization given random statistics (gamma ~ U[0.2, 2],
beta ~ N(0, 0.5), moving mean ~ N(0, 0.5), moving variance ~ U[0.5, 2]), saved
once as ``.keras`` for bnlint and Keras. The peer needs legacy Keras 2, so
the same architecture is rebuilt under tf-keras, given the *same* weights
(copied layer by layer by name from the Keras 3 model), and saved as ``.h5``,
the peer's own file format. Every error is measured on one seeded batch of 8
inputs: the peer's in its own process (folded model reloaded from its .h5)
against its unfolded model, bnlint's with Keras 3 against the original
``.keras``; and, since the weights are the same, the two originals and the two
folded models are also compared across Keras 3 and tf-keras.

Run (from the repository root, with bnlint and the ``test`` extra installed)::

    python bench/fold_speed.py --peer-python /tmp/tfkeras-venv/bin/python   # the default
    python bench/fold_speed.py --skip-peer            # bnlint, Keras floor, latency only
    python bench/fold_speed.py --repeats 3 --keep     # fewer runs; keep the temporary directory

It takes about 3.5 minutes with the default 5 repeats on 2 cores, and exits 1
(after printing everything it could measure) when a step failed.

The peer's Python is a separate virtual environment, because the peer does not
work on Keras 3 (it fails with ``KeyError: 'batch_input_shape'``). Make it
with::

    python3.11 -m venv /tmp/tfkeras-venv
    /tmp/tfkeras-venv/bin/pip install tensorflow-cpu==2.21.0 tf-keras==2.21.0 \\
        tensorflow-batchnorm-folding==1.0.9 scikit-network scipy

(the peer declares a dependency on ``tensorflow``, so pip also installs that
wheel beside ``tensorflow-cpu``; both are 2.21.0). The bench runs the peer
with ``TF_USE_LEGACY_KERAS=1``, which makes ``tf.keras`` mean tf-keras.

Implementation note: this file is also its own worker. The parent process
uses only the standard library; it calls this script again under the right
Python with a first argument starting with ``_`` (``_make``, ``_peer-make``,
``_peer-fold``, ``_keras-roundtrip``, ``_latency``) for every step that needs
TensorFlow. A worker prints its result as one JSON line after ``MARKER``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

MARKER = "FOLD-SPEED-RESULT "
SEED = 20240607
ERROR_BATCH = 8  # every folded model's error is measured on one batch of 8 (seeded normal inputs)


# --------------------------------------------------------------------------- workers
# Each runs in a fresh process, imports what it needs itself, and ends with _emit().


def _emit(result: dict) -> None:
    print(MARKER + json.dumps(result), flush=True)


def _randomise_bn(layers, bn_class, rng) -> int:
    """Give every BN layer random inference statistics; return how many there are."""
    count = 0
    for layer in layers:
        if not isinstance(layer, bn_class):
            continue
        draws = {
            "gamma": lambda shape: rng.uniform(0.2, 2.0, shape),
            "beta": lambda shape: rng.normal(0.0, 0.5, shape),
            "moving_mean": lambda shape: rng.normal(0.0, 0.5, shape),
            "moving_variance": lambda shape: rng.uniform(0.5, 2.0, shape),
        }
        values = []
        for variable in layer.weights:
            name = variable.name.split("/")[-1].split(":")[0]
            if name not in draws:
                raise SystemExit(f"bench: unexpected BN variable {variable.name!r} in {layer.name}")
            values.append(draws[name](tuple(variable.shape)).astype("float32"))
        layer.set_weights(values)
        count += 1
    return count


def _output_error(reference, folded) -> dict:
    import numpy as np

    reference = np.asarray(reference, dtype=np.float64)
    folded = np.asarray(folded, dtype=np.float64)
    max_abs = float(np.max(np.abs(reference - folded)))
    scale = float(np.max(np.abs(reference)))
    agree = int(np.sum(reference.argmax(-1) == folded.argmax(-1)))
    return {
        "max_abs": max_abs,
        "max_rel": max_abs / scale if scale else float("inf"),
        "argmax_agree": agree,
        "batch": int(reference.shape[0]),
    }


def _worker_make(out_keras: str, out_weights: str) -> None:
    """Keras 3: ResNet50 with random BN statistics -> .keras, plus its weights by layer name (.npz)."""
    import keras
    import numpy as np

    keras.utils.set_random_seed(SEED)
    model = keras.applications.ResNet50(weights=None)
    bn_count = _randomise_bn(model.layers, keras.layers.BatchNormalization, np.random.default_rng(SEED))
    model.save(out_keras)
    arrays = {}
    for layer in model.layers:
        for index, value in enumerate(layer.get_weights()):
            arrays[f"{layer.name}/{index}"] = value
    np.savez(out_weights, **arrays)
    _emit({"bn": bn_count, "layers": len(model.layers), "params": int(model.count_params())})


def _worker_peer_make(weights: str, out_h5: str) -> None:
    """tf-keras: the same ResNet50, given the Keras 3 model's weights layer by layer -> .h5."""
    import numpy as np
    import tensorflow as tf

    arrays = np.load(weights)
    by_layer: dict[str, dict[int, object]] = {}
    for key in arrays.files:
        layer, index = key.rsplit("/", 1)
        by_layer.setdefault(layer, {})[int(index)] = arrays[key]
    model = tf.keras.applications.ResNet50(weights=None)
    copied = 0
    for layer in model.layers:
        expected = len(layer.get_weights())
        given = by_layer.pop(layer.name, {})
        if len(given) != expected:
            raise SystemExit(f"bench: layer {layer.name}: tf-keras has {expected} weights, Keras 3 saved {len(given)}")
        if expected:
            layer.set_weights([given[i] for i in range(expected)])
            copied += 1
    if by_layer:
        raise SystemExit(f"bench: Keras 3 layers missing under tf-keras: {sorted(by_layer)[:5]}")
    model.save(out_h5)
    _emit({"layers_copied": copied})


def _worker_peer_fold(in_h5: str, out_h5: str, check: str = "") -> None:
    """The peer end to end: load, fold, save.

    With `check` (a path for an .npz), also count BN, measure the folded model's error on the
    shared error batch, and save both outputs there.
    """
    start = time.perf_counter()
    import numpy as np
    import tensorflow as tf
    from batch_normalization_folding.folder import fold_batchnormalization_layers

    imported = time.perf_counter()
    model = tf.keras.models.load_model(in_h5, compile=False)
    loaded = time.perf_counter()
    folded, status = fold_batchnormalization_layers(model, folding_mechanism="ban-off", verbose=False)
    fold_end = time.perf_counter()
    folded.save(out_h5)
    saved = time.perf_counter()
    result = {
        "import_s": imported - start,
        "load_s": loaded - imported,
        "fold_s": fold_end - loaded,
        "save_s": saved - fold_end,
        "status": status,
    }
    if check:
        bn = tf.keras.layers.BatchNormalization
        x = _error_batch(tuple(model.input_shape[1:]))
        reloaded = tf.keras.models.load_model(out_h5, compile=False)  # what a user gets back from the file
        result.update(
            bn_before=sum(isinstance(layer, bn) for layer in model.layers),
            bn_after=sum(isinstance(layer, bn) for layer in reloaded.layers),
            layers_before=len(model.layers),
            layers_after=len(reloaded.layers),
            extra_classes=sorted(
                {type(layer).__name__ for layer in reloaded.layers} - {type(layer).__name__ for layer in model.layers}
            ),
        )
        original_y, folded_y = model(x, training=False).numpy(), reloaded(x, training=False).numpy()
        result["error"] = _output_error(original_y, folded_y)
        np.savez(check, original=original_y, folded=folded_y)  # for the cross-check in _latency
    _emit(result)


def _worker_keras_roundtrip(in_keras: str, out_keras: str) -> None:
    """Keras 3's own load_model + save of the same file: the floor for TF-based rewriting."""
    start = time.perf_counter()
    import keras

    imported = time.perf_counter()
    model = keras.saving.load_model(in_keras)
    loaded = time.perf_counter()
    model.save(out_keras)
    saved = time.perf_counter()
    _emit({"import_s": imported - start, "load_s": loaded - imported, "save_s": saved - loaded})


def _error_batch(shape: tuple):
    """The input on which every error is measured: the same for bnlint and the peer."""
    import numpy as np

    return np.random.default_rng(SEED).standard_normal((ERROR_BATCH, *shape), dtype=np.float32)


def _worker_latency(original: str, folded: str, repeats: str, peer_outputs: str = "") -> None:
    """TensorFlow CPU inference of both models at batch 1 and 32; medians of alternating timed calls.

    Also the folded model's error on the shared error batch and, given the peer's outputs on that
    batch, how far the Keras 3 and tf-keras originals (same weights) and the two folded models are apart.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    runs = int(repeats)
    models = {"original": keras.saving.load_model(original), "folded": keras.saving.load_model(folded)}
    bn = keras.layers.BatchNormalization
    result: dict = {
        "bn": {name: sum(isinstance(layer, bn) for layer in m.layers) for name, m in models.items()},
        "layers": {name: len(m.layers) for name, m in models.items()},
        "threads": [tf.config.threading.get_inter_op_parallelism_threads(),
                    tf.config.threading.get_intra_op_parallelism_threads()],
        "latency": {},
    }
    calls = {name: tf.function(lambda x, m=m: m(x, training=False)) for name, m in models.items()}
    shape = tuple(models["original"].input_shape[1:])
    x = _error_batch(shape)
    outputs = {name: np.asarray(call(tf.constant(x))) for name, call in calls.items()}
    result["error"] = _output_error(outputs["original"], outputs["folded"])
    if peer_outputs and os.path.exists(peer_outputs):
        peer = np.load(peer_outputs)
        result["cross"] = {
            "originals": _output_error(outputs["original"], peer["original"]),
            "folded": _output_error(outputs["folded"], peer["folded"]),
        }
    rng = np.random.default_rng(SEED + 1)
    for batch, count, warm in ((1, max(10 * runs, 20), 5), (32, max(2 * runs, 5), 2)):
        x = tf.constant(rng.standard_normal((batch, *shape), dtype=np.float32))
        for call in calls.values():
            for _ in range(warm):  # the first call traces; the rest let oneDNN settle
                call(x).numpy()
        times: dict[str, list[float]] = {name: [] for name in calls}
        for i in range(count):
            order = list(calls) if i % 2 == 0 else list(reversed(list(calls)))
            for name in order:
                t0 = time.perf_counter()
                calls[name](x).numpy()
                times[name].append(time.perf_counter() - t0)
        result["latency"][str(batch)] = {
            name: {"median": statistics.median(v), "min": min(v), "runs": len(v)} for name, v in times.items()
        }
    _emit(result)


WORKERS = {
    "_make": _worker_make,
    "_peer-make": _worker_peer_make,
    "_peer-fold": _worker_peer_fold,
    "_keras-roundtrip": _worker_keras_roundtrip,
    "_latency": _worker_latency,
}


# --------------------------------------------------------------------------- parent


class StepFailed(Exception):
    pass


def _env(legacy_keras: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.pop("TF_USE_LEGACY_KERAS", None)
    if legacy_keras:
        env["TF_USE_LEGACY_KERAS"] = "1"
    return env


def _run(command: list[str], env: dict[str, str]) -> tuple[float, dict | None, str]:
    """Run a process; return (wall seconds, worker JSON or None, stdout). Raise StepFailed on failure."""
    start = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        lines = [line for line in (done.stderr or done.stdout).strip().splitlines() if line.strip()]
        tail = lines[-1] if lines else f"exit status {done.returncode}"
        raise StepFailed(f"{' '.join(Path(c).name if i == 0 else c for i, c in enumerate(command[:4]))} ...: {tail}")
    result = None
    for line in done.stdout.splitlines():
        if line.startswith(MARKER):
            result = json.loads(line[len(MARKER):])
    return wall, result, done.stdout


def _worker(python: str, name: str, *args: str, legacy_keras: bool = False) -> tuple[float, dict]:
    wall, result, _ = _run([python, str(Path(__file__).resolve()), name, *args], _env(legacy_keras))
    if result is None:
        raise StepFailed(f"{name}: the worker printed no result")
    return wall, result


def _count_bn_in_archive(path: Path) -> int:
    """BN layers in a .keras archive's config, counted without importing Keras (nested models included)."""
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    count = 0

    def walk(node) -> None:
        nonlocal count
        if isinstance(node, dict):
            if node.get("class_name") == "BatchNormalization":
                count += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(config)
    return count


def _bnlint_report(stdout: str) -> str:
    """A short summary of `bnlint fold --report json`, whatever its exact shape (folded/refused counts)."""
    try:
        report = json.loads(stdout)
    except ValueError:
        return ""
    decisions = report
    if isinstance(report, dict):
        for key in ("decisions", "batchnorms", "bn", "layers", "results"):
            if isinstance(report.get(key), list):
                decisions = report[key]
                break
    if not isinstance(decisions, list):
        return ""
    folded = refused = 0
    reasons: dict[str, int] = {}
    for item in decisions:
        if not isinstance(item, dict):
            continue
        outcome = str(item.get("decision", item.get("action", item.get("status", "")))).lower()
        if item.get("folded") is True or outcome.startswith("fold"):
            folded += 1
        else:
            refused += 1
            reason = str(item.get("reason", outcome or "?"))
            reasons[reason] = reasons.get(reason, 0) + 1
    text = f"{folded} folded, {refused} refused"
    if reasons:
        text += " (" + "; ".join(f"{n}x {r}" for r, n in sorted(reasons.items(), key=lambda kv: -kv[1])) + ")"
    return text


def _error_line(label: str, e: dict) -> str:
    return (f"{label}, batch {e['batch']}: max |Δ| {e['max_abs']:.3g}, relative {e['max_rel']:.3g}, "
            f"argmax agrees on {e['argmax_agree']}/{e['batch']}")


def _median(values: list[float]) -> float | None:
    return statistics.median(values) if values else None


def _fmt_s(value: float | None) -> str:
    return "—" if value is None else f"{value:8.3f} s"


def _ratio(a: float | None, b: float | None) -> str:
    return "—" if a is None or b is None or b == 0 else f"{a / b:.2f}x"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per process (median; default 5)")
    parser.add_argument("--peer-python", default="/tmp/tfkeras-venv/bin/python",
                        help="Python of the tf-keras venv holding the peer (see the module docstring)")
    parser.add_argument("--skip-peer", action="store_true", help="do not run the peer")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory and print its path")
    args = parser.parse_args()
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    run_peer = not args.skip_peer
    if run_peer and not Path(args.peer_python).exists():
        parser.error(f"--peer-python {args.peer_python} does not exist (make the venv, or pass --skip-peer)")

    me = sys.executable
    failures: list[str] = []
    work = Path(tempfile.mkdtemp(prefix="bnlint-fold-speed-"))
    try:
        source, weights = work / "resnet50.keras", work / "resnet50_weights.npz"
        bnlint_out, keras_out = work / "bnlint_folded.keras", work / "keras_roundtrip.keras"
        peer_in, peer_out = work / "resnet50_tfkeras.h5", work / "peer_folded.h5"
        peer_outputs, copy_out = work / "peer_outputs.npz", work / "copy.keras"

        print("bench: building ResNet50 with random BN statistics ...", file=sys.stderr, flush=True)
        try:
            _, made = _worker(me, "_make", str(source), str(weights))
        except StepFailed as error:
            print(f"bench: could not build the model: {error}", file=sys.stderr)
            return 1
        if run_peer:
            try:
                _worker(args.peer_python, "_peer-make", str(weights), str(peer_in), legacy_keras=True)
            except StepFailed as error:
                failures.append(f"peer model: {error}")
                run_peer = False

        commands: dict[str, tuple[list[str], dict[str, str]]] = {
            "bnlint": ([me, "-m", "bnlint", "fold", str(source), str(bnlint_out), "--force"], _env()),
            "keras": ([me, str(Path(__file__).resolve()), "_keras-roundtrip", str(source), str(keras_out)], _env()),
            "copy": ([me, "-c", "import shutil, sys; shutil.copyfile(sys.argv[1], sys.argv[2])", str(source),
                      str(copy_out)], _env()),
        }
        if run_peer:
            commands["peer"] = ([args.peer_python, str(Path(__file__).resolve()), "_peer-fold",
                                 str(peer_in), str(peer_out)], _env(legacy_keras=True))
        walls: dict[str, list[float]] = {name: [] for name in commands}
        details: dict[str, list[dict]] = {name: [] for name in commands}
        first: dict[str, dict] = {}
        broken: set[str] = set()

        # Warm-up (untimed) run of each: warms the file cache, and gives the BN counts and errors.
        print("bench: warm-up runs ...", file=sys.stderr, flush=True)
        try:
            _run(*commands["bnlint"])
            first["bnlint"] = {"bn_after": _count_bn_in_archive(bnlint_out), "report": ""}
        except (StepFailed, OSError, KeyError, ValueError, zipfile.BadZipFile) as error:
            failures.append(f"bnlint fold: {error}")
            broken.add("bnlint")
        if "bnlint" in first:  # one more untimed run, for the per-BN decisions
            try:
                _, _, stdout = _run([*commands["bnlint"][0], "--report", "json"], _env())
                first["bnlint"]["report"] = _bnlint_report(stdout) or "(--report json: unrecognised shape)"
            except StepFailed as error:
                first["bnlint"]["report"] = f"(--report json failed: {error})"
        for name in ("keras", "copy"):
            try:
                _run(*commands[name])
            except StepFailed as error:
                failures.append(f"{name}: {error}")
                broken.add(name)
        if run_peer:
            try:
                _, first["peer"] = _worker(args.peer_python, "_peer-fold", str(peer_in), str(peer_out),
                                           str(peer_outputs), legacy_keras=True)
            except StepFailed as error:
                failures.append(f"peer fold: {error}")
                broken.add("peer")

        names = [name for name in commands if name not in broken]
        for repeat in range(args.repeats):
            print(f"bench: timed round {repeat + 1}/{args.repeats} ...", file=sys.stderr, flush=True)
            for name in names:
                try:
                    wall, result, _ = _run(*commands[name])
                except StepFailed as error:
                    failures.append(f"{name} (round {repeat + 1}): {error}")
                    continue
                walls[name].append(wall)
                if result:
                    details[name].append(result)

        latency = None
        if "bnlint" not in broken and bnlint_out.exists():
            print("bench: inference latency ...", file=sys.stderr, flush=True)
            try:
                _, latency = _worker(me, "_latency", str(source), str(bnlint_out), str(args.repeats),
                                     str(peer_outputs))
            except StepFailed as error:
                failures.append(f"latency: {error}")

        # ------------------------------------------------------------------ report
        e2e = {name: _median(walls[name]) for name in commands}

        def part(name: str, key: str) -> float | None:
            return _median([d[key] for d in details.get(name, []) if key in d])

        print()
        print(f"ResNet50 ({made['layers']} layers, {made['params']:,} parameters, {made['bn']} BatchNormalization "
              f"with random statistics); {args.repeats} timed runs per process after one warm-up, medians; "
              f"{os.cpu_count()} CPUs")
        print()
        size = source.stat().st_size / 1e6
        rows = [
            ("(1) bnlint fold, process end to end", e2e.get("bnlint"), "python -m bnlint fold IN OUT --force"),
            ("    for scale: copy IN to OUT, process", e2e.get("copy"), f"shutil.copyfile, {size:.0f} MB"),
        ]
        if "peer" in commands:
            rows += [
                ("(2) peer, process end to end", e2e.get("peer"), "start, import, load .h5, fold, save .h5"),
                ("    peer: import TF/tf-keras + peer", part("peer", "import_s"), "inside the peer's process"),
                ("    peer: load .h5", part("peer", "load_s"), ""),
                ("    peer: fold call alone (in memory)", part("peer", "fold_s"), "fold_batchnormalization_layers"),
                ("    peer: save .h5", part("peer", "save_s"), ""),
            ]
        else:
            rows.append(("(2) peer", None, "skipped (--skip-peer, or its model could not be made)"))
        rows += [
            ("(3) Keras 3 load_model + save, process", e2e.get("keras"), "floor for TF-based rewriting"),
            ("    keras: import keras (TF backend)", part("keras", "import_s"), ""),
            ("    keras: load_model", part("keras", "load_s"), ""),
            ("    keras: model.save", part("keras", "save_s"), ""),
        ]
        width = max(len(r[0]) for r in rows)
        print(f"  {'step':<{width}}  {'median':>10}  note")
        for label, value, note in rows:
            print(f"  {label:<{width}}  {_fmt_s(value):>10}  {note}")

        if latency:
            print()
            print(f"  (4) inference, TensorFlow CPU, tf.function(model(x, training=False)), medians "
                  f"(threads inter/intra: {latency['threads'][0]}/{latency['threads'][1]}, 0 = TF default)")
            print(f"  {'batch':>7}  {'original':>12}  {'bnlint-folded':>14}  {'folded/original':>16}"
                  f"  {'(min: orig, folded)':>22}  runs")
            for batch, figures in latency["latency"].items():
                o, f = figures["original"]["median"], figures["folded"]["median"]
                mins = f"{figures['original']['min'] * 1000:.1f}, {figures['folded']['min'] * 1000:.1f} ms"
                print(f"  {batch:>7}  {o * 1000:9.1f} ms  {f * 1000:11.1f} ms  {f / o:15.3f}x  {mins:>22}  "
                      f"{figures['original']['runs']}")

        print()
        print("  ratios")
        b = e2e.get("bnlint")
        if "peer" in commands:
            print(f"    peer end to end / bnlint end to end:        {_ratio(e2e.get('peer'), b)}  (target: >= 5x)")
            print(f"    peer fold call alone / bnlint end to end:   {_ratio(part('peer', 'fold_s'), b)}")
        print(f"    Keras load+save / bnlint end to end:        {_ratio(e2e.get('keras'), b)}")
        print(f"    bnlint end to end / plain copy of the file:  {_ratio(b, e2e.get('copy'))}")
        print(f"    bnlint end to end: {_fmt_s(b).strip()} (target: under 2 s)")
        if latency:
            for batch, figures in latency["latency"].items():
                o, f = figures["original"]["median"], figures["folded"]["median"]
                print(f"    inference speed-up from folding, batch {batch:>2}:  {_ratio(o, f)}")

        print()
        print("  what was folded, and the error of the folded model against the original (max |Δ| / max |output|)")
        if "bnlint" in first:
            line = f"    bnlint: BN {made['bn']} -> {first['bnlint']['bn_after']} in the file"
            if first["bnlint"]["report"]:
                line += f"; report: {first['bnlint']['report']}"
            print(line)
        if latency and "error" in latency:
            print("    " + _error_line("bnlint (Keras 3)", latency["error"]))
        if "peer" in first:
            p = first["peer"]
            print(f"    peer: status {p['status']!r} (folded/not folded); BN {p['bn_before']} -> {p['bn_after']}, "
                  f"layers {p['layers_before']} -> {p['layers_after']}"
                  + (f", new layer classes {p['extra_classes']}" if p["extra_classes"] else ""))
            print("    " + _error_line("peer (tf-keras, folded model reloaded from its .h5)", p["error"]))
        if latency and "cross" in latency:
            print("    same weights, same inputs, Keras 3 against tf-keras:")
            print("      " + _error_line("original vs original", latency["cross"]["originals"]))
            print("      " + _error_line("bnlint-folded vs peer-folded", latency["cross"]["folded"]))
        if failures:
            print()
            print("  failed steps:")
            for failure in failures:
                print(f"    {failure}")
        if args.keep:
            print(f"\nfiles kept in {work}")
        return 1 if failures else 0
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in WORKERS:
        WORKERS[sys.argv[1]](*sys.argv[2:])
    else:
        sys.exit(main())
