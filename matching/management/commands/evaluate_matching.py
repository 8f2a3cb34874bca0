from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from django.core.management.base import BaseCommand, CommandError, CommandParser

from matching import fitting
from matching.inputs import load_table
from matching.table import CityTable


class Command(BaseCommand):
    help = (
        "Recall@k of the matcher and of four baselines on real partnerships held out fold by fold "
        "(hidden from the graph features too; weights fitted on the other folds only). "
        "--refit prints weights fitted on every pair, for matching/scoring.py."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--pairs", type=Path, required=True, help="A twinning list such as data/sco_twinnings.csv")
        parser.add_argument("--folds", type=int, default=5)
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--k", type=int, default=10)
        parser.add_argument("--refit", action="store_true", help="Print weights fitted on all pairs, and stop.")
        parser.add_argument(
            "--by-country-pair",
            action="store_true",
            help="Also print, per pair of countries, the hidden pairs the matcher finds and where it ranks the rest.",
        )

    def handle(
        self,
        *args: Any,
        pairs: Path,
        folds: int,
        seed: int,
        k: int,
        refit: bool,
        by_country_pair: bool,
        **options: Any,
    ) -> None:
        if not pairs.is_file():
            raise CommandError(f"{pairs} is not a file.")
        if folds < 2 or k < 1:
            raise CommandError("--folds must be at least 2 and --k at least 1.")
        table = load_table()
        real = fitting.read_pairs(pairs, table)
        if len(real) < folds:
            raise CommandError(f"{pairs} has {len(real)} usable city pairs, fewer than {folds} folds.")
        if refit:
            weights = fitting.fit_weights(fitting.with_graph(table, real), real, seed=seed)
            self.stdout.write("WEIGHTS = " + repr(weights))
            return
        self.stdout.write(
            f"{len(real)} city pairs across a border in {pairs} (cities matched by GeoNames id); "
            f"{folds} folds, seed {seed}, recall@{k}."
        )
        results = fitting.evaluate(table, real, folds=folds, seed=seed, k=k)
        names = list(results[0].recall)
        width = max(len(name) for name in names) + 2
        self.stdout.write("fold  hidden  " + "".join(name.rjust(width) for name in names))
        for result in results:
            self.stdout.write(
                f"{result.fold:>4}  {result.hidden:>6}  "
                + "".join(f"{result.recall[name]:.3f}".rjust(width) for name in names)
            )
        means = {name: float(np.mean([result.recall[name] for result in results])) for name in names}
        self.stdout.write("mean  " + " " * 8 + "".join(f"{means[name]:.3f}".rjust(width) for name in names))
        beaten = all(
            result.recall["matcher"] > max(value for name, value in result.recall.items() if name != "matcher")
            for result in results
        )
        self.stdout.write(f"matcher above every baseline on every fold: {'yes' if beaten else 'no'}")
        ranks = np.concatenate([result.ranks for result in results])
        self.stdout.write(
            "hidden pairs the matcher ranks (the better of their two cities) within "
            + ", ".join(f"{limit}: {np.mean(ranks <= limit):.3f}" for limit in (k, 2 * k, 5 * k))
        )
        if by_country_pair:
            self._by_country_pair(table, np.concatenate([result.pairs for result in results]), ranks, k)

    def _by_country_pair(self, table: CityTable, hidden: np.ndarray, ranks: np.ndarray, k: int) -> None:
        codes = np.asarray(table.country_codes)[table.country[hidden]]
        names = np.array(["\N{EN DASH}".join(sorted(pair)) for pair in codes.tolist()])
        labels = ["pairs", f"found (top {k})", f"{k + 1} to {2 * k}", f"{2 * k + 1} to {5 * k}", f"beyond {5 * k}"]
        self.stdout.write("countries  " + "  ".join(labels))
        for name in sorted(set(names.tolist()), key=lambda name: (-int((names == name).sum()), name)):
            rank = ranks[names == name]
            counts = [
                len(rank),
                (rank <= k).sum(),
                ((rank > k) & (rank <= 2 * k)).sum(),
                ((rank > 2 * k) & (rank <= 5 * k)).sum(),
                (rank > 5 * k).sum(),
            ]
            self.stdout.write(
                f"{name:<9}  "
                + "  ".join(f"{int(count):>{len(label)}}" for count, label in zip(counts, labels, strict=True))
            )
