"""The default rules on keras.applications' own sources: only BN004, on ResNet50/101/152."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import keras

from conftest import run_bnlint

APPLICATIONS = Path(keras.__file__).parent / "src" / "applications"


def test_default_rules_report_only_the_resnet_biases():
    result = run_bnlint("check", str(APPLICATIONS), "--output-format", "json")
    assert result.returncode == 1, result.stderr
    findings = json.loads(result.stdout)
    assert {(Path(f["path"]).name, f["code"]) for f in findings} == {("resnet.py", "BN004")}
    # One finding per constructor call in resnet.py, however many layers it makes.
    assert len(findings) == 5
    per_model = Counter(model for f in findings for model in f["models"])
    assert set(per_model) == {"resnet50", "resnet101", "resnet152"}
    # conv1 + 4 projection shortcuts + 3 convolutions in each of 16 / 33 / 50 blocks:
    # ResNet50 has 53 biased convolutions before a BN, ResNet101 104, ResNet152 155.
    assert sum(f["instances"] for f in findings) == 53 + 104 + 155
    assert any(f["layers"][:2] == ["conv2_block1_1_conv", "conv2_block2_1_conv"] for f in findings)
