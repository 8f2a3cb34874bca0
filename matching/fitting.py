"""Fitting the weights of matching/scoring.py on real partnerships, and checking them on pairs held out.

Nothing here runs in production: `manage.py evaluate_matching` uses it to print
recall@k per fold against the baselines, and `--refit` to print new weights.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import numpy.typing as npt

from matching import scoring
from matching.scoring import FEATURES, CityTable

# Each real partnership is contrasted with this many other candidates of the same city.
NEGATIVES_PER_PAIR = 400
# The coordinate search: inner splits of the training pairs, factors tried per weight, rounds at most.
INNER_SPLITS = 3
SEARCH_FACTORS = (0.0, 0.5, 1.5, 3.0)
SEARCH_ROUNDS = 2
# Features the real data can inform; complementarity keeps its set weight (no profiles yet).
FITTED = tuple(name for name in FEATURES if name != "complementarity")


def read_pairs(path: Path, table: CityTable) -> npt.NDArray[np.int64]:
    """The city-to-city rows of a twinning list whose both GeoNames ids are in the table, each pair once,
    across a border (the matcher never suggests a city of the same country unless asked)."""
    by_geonameid = table.by_geonameid
    seen: set[tuple[int, int]] = set()
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["entity_a"] != "city" or row["entity_b"] != "city":
                continue
            ids = (row["geonameid_a"].strip(), row["geonameid_b"].strip())
            if not all(value.isdigit() for value in ids):
                continue
            first, second = (by_geonameid.get(int(value)) for value in ids)
            if first is None or second is None or first == second:
                continue
            if table.country[first] == table.country[second]:
                continue
            seen.add((min(first, second), max(first, second)))
    return np.array(sorted(seen), np.int64).reshape(-1, 2)


def with_graph(table: CityTable, edges: npt.NDArray[np.int64]) -> CityTable:
    """The same cities with these partnerships as the graph and as the pairs already taken."""
    return replace(table, edges=edges, blocked=edges, dismissed=np.zeros((0, 2), np.int64))


def folds_of(count: int, folds: int, seed: int) -> list[npt.NDArray[np.int64]]:
    order = np.random.default_rng(seed).permutation(count)
    return [np.sort(part) for part in np.array_split(order, folds)]


# -- the conditional logit ------------------------------------------------------------


def _examples(
    table: CityTable, pairs: npt.NDArray[np.int64], rng: np.random.Generator
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """For each partnership, both ways: the features of the real partner (with the partnership itself left
    out of the graph features) and of NEGATIVES_PER_PAIR other allowed candidates of the same city."""
    directed = np.concatenate([pairs, pairs[:, ::-1]])
    positives = np.zeros((len(directed), len(FEATURES)))
    negatives = np.zeros((len(directed), NEGATIVES_PER_PAIR, len(FEATURES)))
    valid = np.zeros((len(directed), NEGATIVES_PER_PAIR), np.bool_)
    rows = np.unique(directed[:, 0])
    for start, stop in scoring.blocks(len(rows), 256):
        block = rows[start:stop]
        local = np.searchsorted(block, directed[:, 0])
        mine = (local < len(block)) & (block[np.minimum(local, len(block) - 1)] == directed[:, 0])
        which = np.flatnonzero(mine)
        mask = scoring.allowed(table, block)
        # Candidates drawn uniformly; those the hard rules exclude are masked out of the softmax.
        choices = rng.integers(0, len(table), (len(which), NEGATIVES_PER_PAIR))
        valid[which] = mask[local[which][:, None], choices]
        for f, (_name, values) in enumerate(scoring.features(table, block)):
            positives[which, f] = values[local[which], directed[which, 1]]
            negatives[which, :, f] = values[local[which][:, None], choices]
    # Leave the partnership out of its own graph features.
    i, j = directed[:, 0], directed[:, 1]
    f_activity, f_pair = FEATURES.index("activity"), FEATURES.index("country_pair")
    positives[:, f_activity] = np.log1p(table.degree[i] - 1) + np.log1p(table.degree[j] - 1)
    positives[:, FEATURES.index("hubs")] = np.log1p(table.degree[i] - 1) * np.log1p(table.degree[j] - 1)
    positives[:, f_pair] = np.log1p(table.country_pairs[table.country[i], table.country[j]] - 1)
    f_country = FEATURES.index("partners_in_country")
    positives[:, f_country] = np.log1p(table.partners_by_country[j, table.country[i]] - 1) + np.log1p(
        table.partners_by_country[i, table.country[j]] - 1
    )
    return positives, negatives, valid


def _fit(
    positives: npt.NDArray[np.float64],
    negatives: npt.NDArray[np.float64],
    valid: npt.NDArray[np.bool_],
    penalty: float,
) -> dict[str, float]:
    """Conditional logit by projected gradient descent on standardised features: maximise the real
    partner's share among its city's candidates. Weights stay at or above zero, so that each
    feature can only speak for a candidate (a reason is something in its favour)."""
    columns = [FEATURES.index(name) for name in FITTED]
    pos, neg = positives[:, columns], negatives[:, :, columns]
    everything = np.concatenate([pos, neg[valid]])
    mean, spread = everything.mean(axis=0), everything.std(axis=0) + 1e-9
    pos, neg = (pos - mean) / spread, (neg - mean) / spread
    group = np.concatenate([pos[:, None, :], neg], axis=1)
    present = np.concatenate([np.ones((len(pos), 1), np.bool_), valid], axis=1)
    weights = np.zeros(len(columns))
    step = 0.5
    for _iteration in range(400):
        scores = np.where(present, group @ weights, -np.inf)
        scores -= scores.max(axis=1, keepdims=True)
        share = np.exp(scores)
        share /= share.sum(axis=1, keepdims=True)
        gradient = np.einsum("gc,gcf->f", share, group) / len(group) - pos.mean(axis=0) + 2 * penalty * weights
        weights = np.maximum(weights - step * gradient, 0.0)
    fitted = weights / spread
    scale = np.abs(fitted).max() or 1.0
    result = {name: round(float(value / scale), 3) for name, value in zip(FITTED, fitted, strict=True)}
    result["complementarity"] = scoring.WEIGHTS["complementarity"]
    return {name: result[name] for name in FEATURES}


def fit_weights(
    table: CityTable, pairs: npt.NDArray[np.int64], *, seed: int, penalty: float = 0.01, k: int = scoring.TOP_K
) -> dict[str, float]:
    """Weights fitted on these partnerships only (the table's graph must be exactly these pairs).

    First a conditional logit on all of them; then a coordinate search that scales one
    weight at a time and keeps a change when recall@k improves on inner splits of the
    same pairs (each split hidden in turn from the graph, as the evaluation does).
    """
    positives, negatives, valid = _examples(table, pairs, np.random.default_rng(seed))
    weights = _fit(positives, negatives, valid, penalty)
    splits = folds_of(len(pairs), INNER_SPLITS, seed + 1)
    inner = [(with_graph(table, np.delete(pairs, part, axis=0)), pairs[part]) for part in splits]

    def quality(candidate: Mapping[str, float]) -> float:
        return float(np.mean([recall_at_k(seen, hidden, k, _matcher(candidate)) for seen, hidden in inner]))

    best = quality(weights)
    for _round in range(SEARCH_ROUNDS):
        improved = False
        for name in FITTED:
            for factor in SEARCH_FACTORS:
                trial = dict(weights)
                trial[name] = round(weights[name] * factor if weights[name] else 0.1 * factor, 4)
                found = quality(trial)
                if found > best + 1e-9:
                    weights, best, improved = trial, found, True
        if not improved:
            break
    return weights


# -- recall@k ---------------------------------------------------------------------------

Scorer = Callable[[CityTable, npt.NDArray[np.int64]], npt.NDArray[np.float64]]


def _matcher(weights: Mapping[str, float]) -> Scorer:
    def score(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.round(scoring.score_block(table, rows, weights), scoring.SCORE_DECIMALS).astype(np.float64)

    return score


def baselines(seed: int) -> dict[str, Scorer]:
    """The simple rankings the matcher must beat, under the same hard rules."""

    def random(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return np.random.default_rng([seed, int(rows[0]) if len(rows) else 0]).random((len(rows), len(table)))

    def nearest(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return -scoring.distance_km(table, rows[:, None], np.arange(len(table))[None, :])

    def similar_population(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        return -np.abs(table.log_population[rows][:, None] - table.log_population[None, :]).astype(np.float64)

    def most_active(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
        # Ties (most cities have no partnership) go to the larger city.
        return np.broadcast_to(table.degree * 100 + table.log_population, (len(rows), len(table))).astype(np.float64)

    return {
        "random": random,
        "nearest": nearest,
        "similar population": similar_population,
        "most active": most_active,
    }


def top_k(table: CityTable, rows: npt.NDArray[np.int64], k: int, scorer: Scorer) -> npt.NDArray[np.int64]:
    """(len(rows), k) positions of each row's best allowed candidates (ties: lower position)."""
    score = scorer(table, rows).copy()
    score[~scoring.allowed(table, rows)] = -np.inf
    order = np.lexsort((np.broadcast_to(np.arange(len(table)), score.shape), -score), axis=1)
    return order[:, :k]


def recall_at_k(table: CityTable, hidden: npt.NDArray[np.int64], k: int, scorer: Scorer) -> float:
    """Share of hidden pairs where either city has the other among its top k."""
    rows = np.unique(hidden)
    found: dict[int, set[int]] = {}
    for start, stop in scoring.blocks(len(rows), 256):
        block = rows[start:stop]
        for row, best in zip(block, top_k(table, block, k, scorer), strict=True):
            found[int(row)] = {int(candidate) for candidate in best}
    hits = [b in found[a] or a in found[b] for a, b in hidden.tolist()]
    return float(np.mean(hits)) if hits else 0.0


@dataclass
class FoldResult:
    fold: int
    hidden: int
    recall: dict[str, float]
    weights: dict[str, float]


def evaluate(table: CityTable, pairs: npt.NDArray[np.int64], *, folds: int, seed: int, k: int) -> list[FoldResult]:
    """Per fold: hide its pairs (from the graph features too), fit on the rest, rank, count the hidden found."""
    results = []
    for number, part in enumerate(folds_of(len(pairs), folds, seed), start=1):
        training = np.delete(pairs, part, axis=0)
        seen = with_graph(table, training)
        weights = fit_weights(seen, training, seed=seed)
        scorers = {"matcher": _matcher(weights), **baselines(seed)}
        recall = {name: recall_at_k(seen, pairs[part], k, scorer) for name, scorer in scorers.items()}
        results.append(FoldResult(fold=number, hidden=len(part), recall=recall, weights=weights))
    return results
