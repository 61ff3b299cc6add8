"""``manage.py scoring fit|predict`` end to end, through ``call_command``; no database needed."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from scoring.modeling import metrics as M

from .synthetic import credit_frame, german_credit


def run(*args: str) -> str:
    out = StringIO()
    call_command("scoring", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def fit(data: Path, out: Path, target: str = "creditability", label: str = "bad", *extra: str) -> str:
    return run(
        "fit", "--data", str(data), "--target", target, "--positive-label", label, "--out", str(out), *extra
    )


@pytest.fixture(scope="module")
def german_split(tmp_path_factory) -> tuple[Path, Path, np.ndarray]:
    frame = german_credit()
    rng = np.random.default_rng(11)
    test_mask = np.zeros(len(frame), dtype=bool)
    for label in ("good", "bad"):  # stratified 70/30
        idx = np.flatnonzero(frame["creditability"].to_numpy() == label)
        test_mask[rng.choice(idx, round(0.3 * len(idx)), replace=False)] = True
    folder = tmp_path_factory.mktemp("german")
    train_csv, test_csv = folder / "train.csv", folder / "test.csv"
    frame[~test_mask].to_csv(train_csv, index=False)
    frame[test_mask].to_csv(test_csv, index=False)  # target kept: predict must ignore it
    return train_csv, test_csv, (frame.loc[test_mask, "creditability"] == "bad").to_numpy().astype(int)


def test_fit_and_predict_on_german_credit(german_split, tmp_path: Path) -> None:
    train_csv, test_csv, y_test = german_split
    model, scored = tmp_path / "model.bin", tmp_path / "scored.csv"
    printed = fit(train_csv, model)
    for word in ("AUC", "Gini", "KS", "Brier", "calibration error", "Champion:", "Per grade", "sha256"):
        assert word in printed
    run("predict", "--model", str(model), "--data", str(test_csv), "--out", str(scored))

    original = pd.read_csv(test_csv, dtype=str, keep_default_na=False)
    result = pd.read_csv(scored, dtype=str, keep_default_na=False)
    assert list(result.columns) == [*original.columns, "pd", "grade", "reasons", "reasons_zh"]
    pd.testing.assert_frame_equal(result[original.columns], original)  # input echoed unchanged, in order
    p = result["pd"].astype(float).to_numpy()
    assert ((p > 0) & (p < 1)).all()
    assert set(result["grade"].astype(int)) <= set(range(1, 11))
    assert M.auc(y_test, p) > 0.72
    assert (result["reasons"] != "").mean() > 0.9
    assert result["reasons"].str.contains("raises risk").any()
    assert result["reasons_zh"].str.contains("增加风险").any()


def test_text_columns_missing_values_and_no_target_in_predict_data(tmp_path: Path) -> None:
    frame = credit_frame(1500, seed=21, missing_rate=0.1).drop(columns=["true_pd"])
    frame["signup"] = pd.date_range("2022-01-01", periods=len(frame), freq="D").strftime("%Y-%m-%d")
    train_csv = tmp_path / "train.csv"
    frame.to_csv(train_csv, index=False)
    new = credit_frame(200, seed=22, missing_rate=0.1).drop(columns=["true_pd", "defaulted"])
    new.loc[0, "sector"] = "shipbuilding"  # a sector never seen in training
    new_csv = tmp_path / "new.csv"
    new.to_csv(new_csv, index=False)
    model, scored = tmp_path / "model.bin", tmp_path / "scored.csv"

    printed = fit(
        train_csv,
        model,
        "defaulted",
        "yes",
        "--id-column",
        "customer_id",
        "--date-column",
        "signup",
        "--monotone",
        "days_late=+1",
        "--monotone",
        "equity_ratio=-1",
        "--folds",
        "3",
    )
    assert "Out-of-time" in printed and "Training window: 2022-01-01" in printed
    run("predict", "--model", str(model), "--data", str(new_csv), "--out", str(scored))

    result = pd.read_csv(scored, keep_default_na=False, dtype=str)
    assert len(result) == 200
    assert result["customer_id"].tolist() == new["customer_id"].tolist()
    assert result["pd"].astype(float).between(0, 1).all()
    assert result.loc[0, "grade"] != ""


@pytest.fixture
def small_csv(tmp_path: Path) -> Path:
    path = tmp_path / "small.csv"
    credit_frame(400, seed=31).drop(columns=["true_pd"]).to_csv(path, index=False)
    return path


@pytest.mark.parametrize(
    ("mutate", "args", "message"),
    [
        (
            None,
            ("--target", "default_flag", "--positive-label", "yes"),
            r"target column 'default_flag' not found; the data has columns: 'customer_id', 'days_late'",
        ),
        (
            None,
            ("--target", "defaulted", "--positive-label", "Y"),
            r"positive label 'Y' not found in target column 'defaulted'; "
            r"values found: 'no' \(\d+ rows\), 'yes'",
        ),
        (
            lambda f: f.assign(defaulted="yes"),
            ("--target", "defaulted", "--positive-label", "yes"),
            r"only one class \('yes' \(400 rows\)\)",
        ),
        (
            lambda f: f.head(30),
            ("--target", "defaulted", "--positive-label", "yes"),
            r"only 30 labelled rows",
        ),
        (
            lambda f: f.assign(defaulted=np.where(np.arange(len(f)) < 5, "yes", "no")),
            ("--target", "defaulted", "--positive-label", "yes"),
            r"too few events: 5 rows have defaulted = 'yes'",
        ),
        (
            lambda f: f.assign(notes=np.nan),
            ("--target", "defaulted", "--positive-label", "yes"),
            r"column\(s\) 'notes' are entirely empty",
        ),
    ],
)
def test_fit_rejects_bad_input_and_writes_nothing(
    tmp_path: Path, small_csv: Path, mutate, args, message
) -> None:
    data = small_csv
    if mutate is not None:
        data = tmp_path / "mutated.csv"
        mutate(pd.read_csv(small_csv)).to_csv(data, index=False)
    out = tmp_path / "model.bin"
    with pytest.raises(CommandError, match=message):
        run("fit", "--data", str(data), *args, "--out", str(out))
    assert not out.exists()
    assert not list(tmp_path.glob(".model.bin*"))


def test_fit_rejects_missing_and_non_csv_files(tmp_path: Path) -> None:
    out = tmp_path / "model.bin"
    with pytest.raises(CommandError, match="no such file"):
        fit(tmp_path / "absent.csv", out)
    garbage = tmp_path / "garbage.csv"
    garbage.write_bytes(bytes(range(256)) * 40)
    with pytest.raises(CommandError, match="binary content, not a CSV text file"):
        fit(garbage, out)
    latin = tmp_path / "latin.csv"
    latin.write_bytes("name,creditability\nM\xfcller,bad\n".encode("latin-1"))
    with pytest.raises(CommandError, match="not utf-8 text"):
        fit(latin, out)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(CommandError, match="empty"):
        fit(empty, out)
    assert not out.exists()


def test_predict_rejects_missing_features_garbage_values_and_tampered_models(
    tmp_path: Path, small_csv: Path
) -> None:
    model = tmp_path / "model.bin"
    fit(small_csv, model, "defaulted", "yes", "--id-column", "customer_id")
    scored = tmp_path / "scored.csv"
    frame = pd.read_csv(small_csv)

    lacking = tmp_path / "lacking.csv"
    frame.drop(columns=["days_late", "noise_region"]).to_csv(lacking, index=False)
    with pytest.raises(
        CommandError, match=r"lacks 2 column\(s\) the model needs: 'days_late', 'noise_region'"
    ):
        run("predict", "--model", str(model), "--data", str(lacking), "--out", str(scored))

    wrong = tmp_path / "wrong.csv"
    frame.assign(equity_ratio=frame["equity_ratio"].astype(object).where(frame.index != 3, "n/a!")).to_csv(
        wrong, index=False
    )
    with pytest.raises(CommandError, match=r"column 'equity_ratio', row 3: 'n/a!' is not a number"):
        run("predict", "--model", str(model), "--data", str(wrong), "--out", str(scored))

    tampered = tmp_path / "tampered.bin"
    data = bytearray(model.read_bytes())
    data[-50] ^= 0xFF
    tampered.write_bytes(bytes(data))
    with pytest.raises(CommandError, match="SHA-256"):
        run("predict", "--model", str(tampered), "--data", str(small_csv), "--out", str(scored))
    with pytest.raises(CommandError, match="not a model file"):
        run("predict", "--model", str(small_csv), "--data", str(small_csv), "--out", str(scored))
    assert not scored.exists()
    assert not list(tmp_path.glob(".scored.csv*"))
