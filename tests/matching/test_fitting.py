"""The evaluation never lets a fold's pairs into the fit or the graph it is scored on."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from matching import fitting, scoring
from matching.table import CityTable
from tests.matching.test_scoring import sample_table


def test_each_fold_is_fitted_and_scored_without_its_own_pairs(monkeypatch: pytest.MonkeyPatch) -> None:
    table = sample_table(120, 3)
    pairs = np.unique(
        np.sort(table.edges[table.country[table.edges[:, 0]] != table.country[table.edges[:, 1]]]), axis=0
    )
    fitted_on: list[set[tuple[int, int]]] = []
    scored_on: list[set[tuple[int, int]]] = []

    def fit(seen: Any, training: np.ndarray, *, seed: int) -> dict[str, float]:
        fitted_on.append({tuple(pair) for pair in training.tolist()})
        return dict(scoring.WEIGHTS)

    recall = fitting.recall_at_k

    def recall_at_k(seen: CityTable, hidden: np.ndarray, k: int, scorer: Any) -> float:
        scored_on.append({tuple(pair) for pair in seen.edges.tolist()})
        return recall(seen, hidden, k, scorer)

    ranks = fitting.best_ranks
    ranked_on: list[set[tuple[int, int]]] = []

    def best_ranks(seen: CityTable, hidden: np.ndarray, scorer: Any) -> np.ndarray:
        ranked_on.append({tuple(pair) for pair in seen.edges.tolist()})
        return ranks(seen, hidden, scorer)

    monkeypatch.setattr(fitting, "fit_weights", fit)
    monkeypatch.setattr(fitting, "recall_at_k", recall_at_k)
    monkeypatch.setattr(fitting, "best_ranks", best_ranks)
    results = fitting.evaluate(table, pairs, folds=3, seed=1, k=5)
    assert len(results) == len(fitted_on) == len(ranked_on) == 3
    for number, part in enumerate(fitting.folds_of(len(pairs), 3, 1)):
        hidden = {tuple(pair) for pair in pairs[part].tolist()}
        assert hidden and not hidden & fitted_on[number]
        assert fitted_on[number] | hidden == {tuple(pair) for pair in pairs.tolist()}
        # Five scorers per fold, every one on the graph without the fold's pairs.
        for graph in scored_on[5 * number : 5 * number + 5]:
            assert not hidden & graph
        assert not hidden & ranked_on[number]
        assert {tuple(pair) for pair in results[number].pairs.tolist()} == hidden


def test_a_pair_ranks_within_k_exactly_where_recall_at_k_finds_it() -> None:
    # best_ranks() counts the candidates ahead of the partner as top_k() orders them (a higher score, or the same
    # score at a lower position); with every score tied (the last scorer), the order is the positions alone.
    table = sample_table(120, 3)
    pairs = np.unique(
        np.sort(table.edges[table.country[table.edges[:, 0]] != table.country[table.edges[:, 1]]]), axis=0
    )
    seen = fitting.with_graph(table, pairs[::2])
    hidden = pairs[1::2]

    def tied(graph: CityTable, rows: np.ndarray) -> np.ndarray:
        return np.zeros((len(rows), len(graph)))

    scorers = {**fitting.baselines(1), "matcher": fitting._matcher(scoring.WEIGHTS), "tied": tied}
    for name, scorer in scorers.items():
        ranks = fitting.best_ranks(seen, hidden, scorer)
        assert len(ranks) == len(hidden) and (ranks >= 1).all(), name
        for k in (1, 2, 5, 10, 40):
            assert np.mean(ranks <= k) == fitting.recall_at_k(seen, hidden, k, scorer), (name, k)


def test_the_inner_splits_hide_their_pairs_from_the_graph_they_are_scored_on() -> None:
    table = sample_table(120, 3)
    pairs = table.edges[: len(table.edges) // 2]
    for split in fitting.inner_splits(table, pairs, seed=1):
        graph = {tuple(pair) for pair in split.table.edges.tolist()}
        hidden = {tuple(pair) for pair in split.hidden.tolist()}
        assert hidden and not hidden & graph
        assert graph | hidden == {tuple(pair) for pair in pairs.tolist()}
