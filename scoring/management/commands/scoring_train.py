"""``manage.py scoring_train --organization demo``: train a PD model on an organization's history and
register it as a candidate. A credit manager promotes it (scoring page or admin) after reading its
validation report; nothing here changes the champion."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from credit_platform.models import Organization
from scoring import services
from scoring.modeling.schema import DataError


class Command(BaseCommand):
    help = "Train a PD model on an organization's labelled history and register it as a candidate."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--organization", required=True, help="organization slug")
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                            help="YYYY-MM-DD: use only data up to this date (default: today)")
        parser.add_argument("--snapshot-months", type=int, default=3, choices=[1, 3, 6, 12],
                            help="months between observation snapshots (default 3: quarter ends)")
        parser.add_argument("--dry-run", action="store_true", help="train and report; register nothing")

    def handle(self, *args: Any, **o: Any) -> None:
        org = Organization.objects.filter(slug=o["organization"]).first()
        if org is None:
            raise CommandError(f"no organization with slug '{o['organization']}'")
        verbose = o.get("verbosity", 1) >= 2
        say = self.stdout.write
        try:
            result = services.model_train(
                organization=org, as_of=o["as_of"], months=o["snapshot_months"], dry_run=o["dry_run"],
                log=say if verbose else (lambda m: say(m) if m.startswith("  snapshot") else None),
            )
        except DataError as exc:
            raise CommandError(str(exc)) from exc
        self._print(result.outcome)
        if result.model is None:
            say("Dry run: nothing registered.")
        else:
            m = result.model
            say(self.style.SUCCESS(
                f"Registered v{m.version} ({m.algorithm}) as a candidate; file {m.file_path} sha256 {m.sha256}. "
                f"Promote it from the scoring page or the admin."))

    def _print(self, outcome: Any) -> None:
        say, r = self.stdout.write, outcome.report
        d = r["data"]
        say(f"Trained on {d['labelled_rows']} snapshot rows ({d['events']} defaults, {d['event_rate']:.2%}) in "
            f"{outcome.seconds:.1f}s; window {outcome.window[0]} .. {outcome.window[1]}; champion {r['champion']}")
        for name, c in r["candidates"].items():
            say(f"  {name:<10} CV AUC {c['cv_auc']:.4f} +- {c['cv_auc_std']:.4f}")
        cv = r["cv"]
        say(f"Cross-validated: AUC {cv['auc']:.4f} Gini {cv['gini']:.4f} KS {cv['ks']:.4f} Brier {cv['brier']:.4f} "
            f"calibration error {cv['calibration_error']:.4f}")
        oot = r["out_of_time_by_snapshot"]
        if "metrics" not in oot:
            say(f"Out-of-time check skipped: {oot.get('skipped')}")
            return
        m = oot["metrics"]
        say(f"Out-of-time ({oot['rows_after']} rows of {', '.join(oot['dates'])}; model trained before {oot['cut']}, "
            f"champion {oot['champion']}): AUC {m['auc']:.4f} Gini {m['gini']:.4f} KS {m['ks']:.4f} "
            f"Brier {m['brier']:.4f} calibration error {m['calibration_error']:.4f}")
        say("Out-of-time default rate per grade:")
        say(f"  {'grade':>5} {'rows':>6} {'defaults':>8} {'observed':>9} {'predicted':>9}")
        for g in oot["grade_table"]:
            if g["count"]:
                say(f"  {g['grade']:>5} {g['count']:>6} {g['defaults']:>8} {g['observed_rate']:>9.2%} "
                    f"{g['predicted_pd']:>9.2%}")
