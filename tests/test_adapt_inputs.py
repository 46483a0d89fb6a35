"""What the API takes as input: masked and multi-input data for adapt.recalibrate, check()'s select and path.

recalibrate leaves the positions Keras masks (``Embedding(mask_zero=True)``) out of a BN's
statistics, as Keras' BN does in training, and batches one array per input of a multi-input model
(a list in input order, or a dict by input name) together. check() takes ``select`` as one
comma-separated string, as the command line does, and refuses an empty path.
"""

from __future__ import annotations

import numpy as np
import pytest

keras = pytest.importorskip("keras")

import bnlint  # noqa: E402
from bnlint import adapt  # noqa: E402
from bnlint.errors import InputError  # noqa: E402
from conftest import FIXTURES  # noqa: E402

layers = keras.layers


def two_input_model() -> "keras.Model":
    a, c = keras.Input((4,), name="a"), keras.Input((4,), name="c")
    return keras.Model([a, c], layers.BatchNormalization(name="bn")(layers.Add(name="add")([a, c])))


def two_inputs(count: int = 50) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(1)
    xa = (rng.normal(size=(count, 4)) * 2 + 3).astype("float32")
    xc = (rng.normal(size=(count, 4)) * [1.0, 0.5, 3.0, 1.0] - 1).astype("float32")
    return xa, xc


def assert_statistics(bn, values: np.ndarray, rtol: float = 1e-5) -> None:
    values = values.astype(np.float64)
    np.testing.assert_allclose(bn.moving_mean.numpy(), values.mean(axis=0), rtol=rtol, atol=1e-6)
    np.testing.assert_allclose(bn.moving_variance.numpy(), values.var(axis=0), rtol=rtol)


# recalibrate: masks


def test_masked_positions_are_left_out_of_the_statistics():
    keras.utils.set_random_seed(0)
    inputs = keras.Input((6,), dtype="int32")
    embedded = layers.Embedding(10, 3, mask_zero=True, name="emb")(inputs)
    model = keras.Model(inputs, layers.BatchNormalization(name="bn")(embedded))
    rng = np.random.default_rng(0)
    table = rng.normal(size=(10, 3)) * [2.0, 1.0, 0.5] + [1.0, -1.0, 0.0]
    table[0] = [8.0, -8.0, 8.0]  # the padding row: far from the rest, so counting it shows
    model.get_layer("emb").set_weights([table.astype("float32")])
    tokens = rng.integers(1, 10, size=(64, 6))
    tokens[:, 3:] = 0  # half of every sequence is padding

    adapt.recalibrate(model, tokens, batch_size=16)

    values = np.asarray(model.get_layer("emb")(tokens), dtype=np.float64)
    kept, everything = values[tokens != 0], values.reshape(-1, 3)
    bn = model.get_layer("bn")
    assert_statistics(bn, kept)
    assert not np.allclose(bn.moving_mean.numpy(), everything.mean(axis=0), rtol=1e-2)
    assert not np.allclose(bn.moving_variance.numpy(), everything.var(axis=0), rtol=1e-2)


# recalibrate: one array per input


def test_a_list_of_arrays_is_one_per_input_batched_together():
    model = two_input_model()
    xa, xc = two_inputs()
    assert adapt.recalibrate(model, [xa, xc], batch_size=16) is model  # 50 rows: the last batch short
    assert_statistics(model.get_layer("bn"), xa.astype(np.float64) + xc)


def test_a_dict_of_arrays_is_one_per_input_by_name():
    model = two_input_model()
    xa, xc = two_inputs()
    adapt.recalibrate(model, {"c": 2 * xc, "a": xa}, batch_size=16)
    assert_statistics(model.get_layer("bn"), xa.astype(np.float64) + 2 * xc)


@pytest.mark.parametrize("as_dict", [False, True], ids=["list", "dict"])
def test_input_arrays_of_different_lengths_are_refused(as_dict):
    xa, xc = two_inputs()
    data = {"a": xa, "c": xc[:40]} if as_dict else [xa, xc[:40]]
    with pytest.raises(ValueError, match="different lengths"):
        adapt.recalibrate(two_input_model(), data, batch_size=16)


# check(): select and path


@pytest.mark.parametrize("text, codes", [("BN004", ["BN004"]), ("BN004,BN003", ["BN004", "BN003"])])
def test_check_takes_select_as_one_comma_separated_string(text, codes):
    expected = bnlint.check(FIXTURES, select=codes)
    assert expected and {d.code for d in expected} == set(codes)
    assert bnlint.check(FIXTURES, select=text) == expected


def test_check_refuses_an_empty_path(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an empty directory, should "" be read as the current one
    with pytest.raises(InputError, match="empty path"):
        bnlint.check("")
