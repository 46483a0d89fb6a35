"""Compare bnlint's static reading of builders with injected Keras modules with the models Keras 3 builds.

Not part of the test suite: the packages checked (keras-applications,
image-classifiers, efficientnet) are not test dependencies, and most of
their builders no longer run under Keras 3. By hand, from the repository
root, where bnlint and the test dependencies are installed:

    pip download --no-deps -d DIR keras-applications==1.0.8 image-classifiers==1.0.0 efficientnet==1.1.1
    (cd DIR && for w in *.whl; do unzip -qo "$w"; done)
    python tests/data/check_injected_packages.py DIR

For each builder below it calls the builder with ``weights=None`` and
Keras' modules given as its package's wrapper gives them
(``backend=keras.backend, layers=keras.layers, ...``), then runs
``bnlint graph`` on the builder's source file and compares the graph whose
entry is the builder with ``tests/test_applications_fidelity.compare``. It
prints one line per builder: ``OK``, the differences, or the error that
kept Keras 3 from building it (these packages were written for Keras 2:
``backend.int_shape`` and ``/`` in layer names are gone).
"""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the tests' comparison helpers

# module -> builders; image-classifiers' models take no default input shape.
BUILDERS = {
    "keras_applications.resnet50": ["ResNet50"],
    "keras_applications.resnet_common": ["ResNet50", "ResNet101", "ResNeXt50"],
    "keras_applications.vgg16": ["VGG16"],
    "keras_applications.xception": ["Xception"],
    "keras_applications.inception_v3": ["InceptionV3"],
    "keras_applications.mobilenet": ["MobileNet"],
    "keras_applications.mobilenet_v2": ["MobileNetV2"],
    "keras_applications.densenet": ["DenseNet121"],
    "classification_models.models.resnet": ["ResNet18", "ResNet34", "ResNet50", "ResNet152", "SEResNet18"],
    "classification_models.models.senet": ["SEResNet50"],
    "efficientnet.model": ["EfficientNetB0", "EfficientNetB3", "EfficientNetB7"],
}
INPUT_SHAPE = {"classification_models": (224, 224, 3)}


def main(directory: str) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    warnings.simplefilter("ignore")
    sys.path.insert(0, directory)
    import keras
    from keras_reference import describe_config
    from test_applications_fidelity import compare, format_diffs, select_graph

    modules = {"backend": keras.backend, "layers": keras.layers, "models": keras.models, "utils": keras.utils}
    failed = 0
    for module_name, builders in BUILDERS.items():
        module = importlib.import_module(module_name)
        source = module.__file__
        graphs = bnlint_graphs(source)
        extra = {"input_shape": INPUT_SHAPE[module_name.split(".")[0]]} if module_name.split(".")[0] in INPUT_SHAPE else {}
        for builder in builders:
            keras.backend.clear_session()
            try:
                model = getattr(module, builder)(weights=None, **extra, **modules)
            except Exception as error:  # noqa: BLE001 (a Keras 2 builder that Keras 3 cannot run)
                print(f"{module_name}.{builder}: Keras 3 cannot build it: {type(error).__name__}: {error}"[:200])
                continue
            graph = select_graph(graphs, builder)
            diffs = compare(describe_config(model.get_config(), type(model).__name__), graph, graphs) if graph else [
                "bnlint read no graph"]
            failed += bool(diffs)
            print(f"{module_name}.{builder}: " + ("OK" if not diffs else f"\n{format_diffs(diffs, limit=5)}"))
    return 1 if failed else 0


def bnlint_graphs(path: str) -> list:
    import json

    result = subprocess.run([sys.executable, "-m", "bnlint", "graph", path, "--format", "json"],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    raise SystemExit(main(sys.argv[1]))
