"""``manage.py scoring fit|predict``: train a PD model from a CSV file, or score a CSV file.

A thin edge: it parses arguments, calls ``scoring.modeling`` and prints. Nothing is written
unless everything succeeded (the model file and the scored file are written atomically).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from scoring.modeling import io as model_io
from scoring.modeling.schema import DataError
from scoring.modeling.tables import read_csv
from scoring.modeling.trainer import TrainedModel, train

OUTPUT_COLUMNS = ("pd", "grade", "reasons", "reasons_zh")


def _parse_monotone(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, sep, direction = item.rpartition("=")
        if not sep or not name:
            raise CommandError(f"--monotone '{item}': expected COLUMN=+1 or COLUMN=-1")
        out[name] = direction
    return out


def _check_out(path: Path) -> None:
    parent = path.resolve().parent
    if not parent.is_dir():
        raise CommandError(f"{path}: folder {parent} does not exist")
    if path.is_dir():
        raise CommandError(f"{path}: is a folder; give a file name")


class Command(BaseCommand):
    help = "Train a probability-of-default model from a CSV file (fit) or score a CSV file (predict)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="subcommand", required=True, title="subcommands")
        fit = sub.add_parser("fit", help="train, cross-validate, calibrate and save a model")
        fit.add_argument("--data", required=True, type=Path, help="training CSV file")
        fit.add_argument("--target", required=True, help="column holding the outcome")
        fit.add_argument("--positive-label", required=True, help="target value meaning default (e.g. bad, 1)")
        fit.add_argument("--out", required=True, type=Path, help="model file to write (model.bin)")
        fit.add_argument(
            "--date-column", help="observation date: enables an out-of-time check; not a feature"
        )
        fit.add_argument("--id-column", help="row identifier; not a feature")
        fit.add_argument(
            "--exclude",
            action="append",
            default=[],
            metavar="COLUMN",
            help="column to leave out of the features (repeatable)",
        )
        fit.add_argument(
            "--monotone",
            action="append",
            default=[],
            metavar="COLUMN=+1|-1",
            help="risk rises (+1) or falls (-1) with this numeric column (repeatable)",
        )
        fit.add_argument("--folds", type=int, default=5, help="cross-validation folds (default 5)")
        fit.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        fit.add_argument("--encoding", default="utf-8", help="CSV encoding (default utf-8)")
        fit.add_argument("--report", type=Path, help="also write the validation report as JSON")
        pred = sub.add_parser("predict", help="score a CSV file: pd, grade, reasons, reasons_zh")
        pred.add_argument("--model", required=True, type=Path, help="model file written by 'scoring fit'")
        pred.add_argument("--data", required=True, type=Path, help="CSV file to score")
        pred.add_argument("--out", required=True, type=Path, help="scored CSV file to write")
        pred.add_argument("--max-reasons", type=int, default=4, help="reasons per row, 1-10 (default 4)")
        pred.add_argument("--expected-sha256", help="refuse the model unless its payload has this SHA-256")
        pred.add_argument(
            "--encoding", default="utf-8", help="CSV encoding of input and output (default utf-8)"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["subcommand"] == "fit":
                self._fit(options)
            else:
                self._predict(options)
        except (DataError, model_io.ModelFileError) as exc:
            raise CommandError(str(exc)) from exc

    # ------------------------------------------------------------------------------------- fit
    def _fit(self, o: dict[str, Any]) -> None:
        out: Path = o["out"]
        _check_out(out)
        if o["report"] is not None:
            _check_out(o["report"])
        frame = read_csv(o["data"], encoding=o["encoding"])
        verbose = o.get("verbosity", 1) >= 2
        model = train(
            frame,
            o["target"],
            o["positive_label"],
            _parse_monotone(o["monotone"]),
            date_column=o["date_column"],
            id_column=o["id_column"],
            exclude=o["exclude"],
            n_splits=o["folds"],
            random_state=o["seed"],
            log=(lambda msg: self.stdout.write(msg)) if verbose else None,
        )
        self._print_fit(model)
        if o["report"] is not None:
            text = json.dumps(model.report, indent=2, ensure_ascii=False, default=str)
            model_io.write_atomic(o["report"], lambda fh: fh.write(text.encode("utf-8")))
        header = model_io.save(model, out)
        self.stdout.write(self.style.SUCCESS(f"Wrote {out} (sha256 {header['sha256']})"))

    def _print_fit(self, model: TrainedModel) -> None:
        r = model.report
        d = r["data"]
        w = self.stdout.write
        w(
            f"Trained on {d['labelled_rows']} rows ({d['events']} with {model.target} = "
            f"'{model.positive_label}', "
            f"{d['event_rate']:.1%}), {len(model.features)} features"
            + (
                f"; {d['unlabelled_rows_dropped']} rows without a target value skipped"
                if d["unlabelled_rows_dropped"]
                else ""
            )
        )
        if model.training_window:
            w(f"Training window: {model.training_window[0]} .. {model.training_window[1]}")
        w("Candidates (cross-validated AUC, mean +- sd over folds):")
        for name, c in r["candidates"].items():
            extra = []
            if "n_iter" in c:
                extra.append(f"{c['n_iter']} iterations")
            if "logit_C" in c and name == "logit":
                extra.append(f"C {c['logit_C']:g}")
            if "weights" in c:
                extra.append("weights " + ", ".join(f"{m} {w:.1f}" for m, w in c["weights"].items()))
            mark = "  <- champion" if name == model.champion else ""
            w(
                f"  {name:<10} {c['cv_auc']:.4f} +- {c['cv_auc_std']:.4f}"
                + (f"  ({', '.join(extra)})" if extra else "")
                + mark
            )
        cv = r["cv"]
        w(
            f"Champion: {model.champion}; calibration: {r['calibration']['method']} "
            f"(chosen by cross-validated Brier)"
        )
        w(
            "Cross-validated metrics of the calibrated champion: "
            f"AUC {cv['auc']:.4f}  Gini {cv['gini']:.4f}  "
            f"KS {cv['ks']:.4f}  Brier {cv['brier']:.4f}  calibration error {cv['calibration_error']:.4f}"
        )
        oot = r.get("out_of_time")
        if oot:
            if "metrics" in oot:
                m = oot["metrics"]
                w(
                    f"Out-of-time (trained before {oot['cut']}, {oot['rows_after']} later rows): "
                    f"AUC {m['auc']:.4f}  KS {m['ks']:.4f}  Brier {m['brier']:.4f}  "
                    f"calibration error {m['calibration_error']:.4f}"
                )
            else:
                w(f"Out-of-time check skipped: {oot.get('skipped')}")
        w("Per grade (cross-validated PD, default master scale: grade 10 = PD >= 50%):")
        w(f"  {'grade':>5} {'PD band':>17} {'rows':>6} {'defaults':>8} {'observed':>9} {'predicted':>9}")
        bands = {b["grade"]: b for b in r["master_scale"]}
        for g in r["grade_table"]:
            b = bands[g["grade"]]
            band = f"{b['pd_lower']:.2%}-{b['pd_upper']:.2%}"
            obs = "" if g["count"] == 0 else f"{g['observed_rate']:.2%}"
            pred = "" if g["count"] == 0 else f"{g['predicted_pd']:.2%}"
            w(f"  {g['grade']:>5} {band:>17} {g['count']:>6} {g['defaults']:>8} {obs:>9} {pred:>9}")

    # --------------------------------------------------------------------------------- predict
    def _predict(self, o: dict[str, Any]) -> None:
        out: Path = o["out"]
        _check_out(out)
        if out.resolve() == o["data"].resolve():
            raise CommandError(f"{out}: the output would overwrite the input data; choose another --out")
        if not 1 <= o["max_reasons"] <= 10:
            raise CommandError(f"--max-reasons must be between 1 and 10, got {o['max_reasons']}")
        model = model_io.load(o["model"], expected_sha256=o["expected_sha256"])
        frame = read_csv(o["data"], encoding=o["encoding"])
        original = read_csv(o["data"], encoding=o["encoding"], as_text=True)
        clash = [c for c in OUTPUT_COLUMNS if c in original.columns]
        if clash:
            raise CommandError(
                f"{o['data']}: already has column(s) {', '.join(clash)}, which the scored file "
                "adds; rename them"
            )
        scored = model.predict(frame, max_reasons=o["max_reasons"])
        result = original.copy()
        result["pd"] = scored["pd"].to_numpy()
        result["grade"] = scored["grade"].to_numpy()
        result["reasons"] = scored["reasons"].to_numpy()
        result["reasons_zh"] = scored["reasons_zh"].to_numpy()
        text = result.to_csv(index=False, float_format="%.6f")
        model_io.write_atomic(out, lambda fh: fh.write(text.encode(o["encoding"])))
        self.stdout.write(
            self.style.SUCCESS(f"Scored {len(result)} rows with the {model.champion} model -> {out}")
        )
