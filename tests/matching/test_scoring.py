"""The vectorised scores against a plain-Python reference of the same formula, and the hard rules."""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

import numpy as np
import pytest

from matching import bounds, cells, pruning, scoring
from matching.table import LAND_BORDERS, CityTable

CODES = ["BY", "CN", "KZ", "KG", "RU", "UZ", "IN"]


def sample_table(size: int = 500, seed: int = 7) -> CityTable:
    """Cities scattered over Eurasia with profiles, practices, a partnership graph, taken pairs and dismissals."""
    rng = np.random.default_rng(seed)
    topics = 6
    edges = rng.integers(0, size, (3 * size, 2))
    edges = np.unique(np.sort(edges[edges[:, 0] != edges[:, 1]], axis=1), axis=0)
    return CityTable(
        ids=np.arange(1, size + 1, dtype=np.int64) * 3,
        country=rng.integers(0, len(CODES), size).astype(np.int32),
        country_codes=CODES,
        population=rng.lognormal(11.5, 1.2, size),
        latitude=rng.uniform(20, 65, size),
        longitude=rng.uniform(25, 130, size),
        needs=rng.random((size, topics)) < 0.2,
        expertise=rng.random((size, topics)) < 0.2,
        practices=np.where(rng.random((size, topics)) < 0.1, rng.integers(1, 4, (size, topics)), 0).astype(np.int32),
        edges=edges,
        blocked=edges[: size // 2],
        dismissed=rng.integers(0, size, (size // 5, 2)),
        is_capital=rng.random(size) < 0.05,
        # A few regions per country, so that regions partner more than once; GeoNames' codes as they come.
        region=rng.integers(0, 4 * len(CODES), size),
        feature_codes=rng.choice(["PPL", "PPLA", "PPLA2", "PPLC", "PPLA3", ""], size).tolist(),
    )


def reference_graph(table: CityTable) -> tuple[dict[int, set[int]], dict[frozenset[int], int]]:
    """Each city's partners and the partnerships per country pair, counted edge by edge."""
    cached = getattr(table, "reference_graph", None)
    if cached is None:
        partners: dict[int, set[int]] = {}
        pairs: dict[frozenset[int], int] = {}
        for a, b in table.edges.tolist():
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
            key = frozenset({int(table.country[a]), int(table.country[b])})
            pairs[key] = pairs.get(key, 0) + 1
        cached = table.reference_graph = (partners, pairs)  # type: ignore[attr-defined]
    return cached


def reference_regions(table: CityTable) -> tuple[list[tuple[int, int]], dict[frozenset[tuple[int, int]], int]]:
    """Each city's region as (country, region number), and the partnerships per pair of regions."""
    assert table.region is not None
    cached = getattr(table, "reference_regions", None)
    if cached is None:
        region = [(int(country), int(number)) for country, number in zip(table.country, table.region, strict=True)]
        pairs: dict[frozenset[tuple[int, int]], int] = {}
        for a, b in table.edges.tolist():
            key = frozenset({region[a], region[b]})
            pairs[key] = pairs.get(key, 0) + 1
        cached = table.reference_regions = (region, pairs)  # type: ignore[attr-defined]
    return cached


def reference_countries(table: CityTable) -> tuple[dict[int, int], list[int]]:
    """The cities of each country, and each city's rank by population in its country (1: the largest; ties
    to the lower position), counted city by city once per table."""
    cached = getattr(table, "reference_countries", None)
    if cached is None:
        cities: dict[int, int] = {}
        for country in table.country.tolist():
            cities[country] = cities.get(country, 0) + 1
        ranks = []
        for city in range(len(table)):
            mine = (float(table.population[city]), -city)
            ranks.append(
                1
                + sum(
                    1
                    for other in range(len(table))
                    if table.country[other] == table.country[city] and (float(table.population[other]), -other) > mine
                )
            )
        cached = table.reference_countries = (cities, ranks)  # type: ignore[attr-defined]
    return cached


def reference_features(table: CityTable, i: int, j: int) -> dict[str, float]:
    """The features of one pair, written out in plain Python from the module docstring."""
    partners_of, country_pairs_of = reference_graph(table)

    def partners(city: int) -> set[int]:
        return partners_of.get(city, set())

    offers_i = [bool(e) or p > 0 for e, p in zip(table.expertise[i], table.practices[i], strict=True)]
    offers_j = [bool(e) or p > 0 for e, p in zip(table.expertise[j], table.practices[j], strict=True)]
    complementarity = sum(bool(n) and o for n, o in zip(table.needs[i], offers_j, strict=True)) + sum(
        bool(n) and o for n, o in zip(table.needs[j], offers_i, strict=True)
    )
    log_i = math.log10(max(float(table.population[i]), 1.0))
    log_j = math.log10(max(float(table.population[j]), 1.0))
    lat1, lat2 = math.radians(table.latitude[i]), math.radians(table.latitude[j])
    dlat, dlon = lat2 - lat1, math.radians(table.longitude[j] - table.longitude[i])
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    km = 2 * 6371.0 * math.asin(math.sqrt(h))
    code_i, code_j = CODES[table.country[i]], CODES[table.country[j]]
    pi, pj = partners(i), partners(j)
    country_pairs = country_pairs_of.get(frozenset({int(table.country[i]), int(table.country[j])}), 0)
    in_country_j = sum(1 for k in pj if table.country[k] == table.country[i])
    in_country_i = sum(1 for k in pi if table.country[k] == table.country[j])
    cities_of, rank_of = reference_countries(table)
    cities_i, cities_j = cities_of[int(table.country[i])], cities_of[int(table.country[j])]

    def rank(city: int) -> int:
        return rank_of[city]

    def km_between(a: int, b: int) -> float:
        lat_a, lat_b = math.radians(table.latitude[a]), math.radians(table.latitude[b])
        half = (
            math.sin((lat_b - lat_a) / 2) ** 2
            + math.cos(lat_a)
            * math.cos(lat_b)
            * math.sin(math.radians(table.longitude[b] - table.longitude[a]) / 2) ** 2
        )
        return 2 * 6371.0 * math.asin(math.sqrt(half))

    nearest = min(
        [km_between(i, k) for k in pj] + [km_between(j, k) for k in pi] + [scoring.NO_PARTNER_KM],
    )
    assert table.is_capital is not None and table.feature_codes is not None
    region, region_pairs = reference_regions(table)

    def seat(city: int, codes: tuple[str, ...]) -> float:
        return 1.0 if table.feature_codes is not None and table.feature_codes[city] in codes else 0.0

    return {
        "complementarity": complementarity,
        "similar_scale": -abs(log_i - log_j),
        "size": log_i + log_j,
        "distance": -math.log10(km + 100.0),
        "border": 1.0 if frozenset({code_i, code_j}) in LAND_BORDERS and km <= scoring.BORDER_KM else 0.0,
        "common_partners": math.log1p(len(pi & pj)),
        "country_pair": math.log1p(country_pairs),
        "country_rate": math.log((1 + country_pairs) / math.sqrt(cities_i * cities_j)),
        "capitals": 1.0 if table.is_capital[i] and table.is_capital[j] else 0.0,
        "prominence": -math.log10(rank(i)) - math.log10(rank(j)),
        "near_partner": -math.log10(nearest + 100.0),
        "regional_centre": seat(i, ("PPLA", "PPLC")) + seat(j, ("PPLA", "PPLC")),
        "both_regional_centres": seat(i, ("PPLA", "PPLC")) * seat(j, ("PPLA", "PPLC")),
        "district_centre": seat(i, ("PPLA2",)) + seat(j, ("PPLA2",)),
        "region_pair": math.log1p(region_pairs.get(frozenset({region[i], region[j]}), 0)),
        "partners_in_country": math.log1p(in_country_j) + math.log1p(in_country_i),
        "activity": math.log1p(len(pi)) + math.log1p(len(pj)),
        "hubs": math.log1p(len(pi)) * math.log1p(len(pj)),
    }


def reference_score(table: CityTable, i: int, j: int) -> float:
    values = reference_features(table, i, j)
    return sum(scoring.WEIGHTS[name] * values[name] for name in scoring.FEATURES)


def test_vectorised_scores_equal_the_plain_python_reference_on_500_cities() -> None:
    """Every pair of the 500 cities (249,500), scored by score_block in blocks and by the reference one by one."""
    table = sample_table()
    compared = 0
    for start in range(0, len(table), 100):
        rows = np.arange(start, min(start + 100, len(table)))
        scores = scoring.score_block(table, rows)
        for local, i in enumerate(rows.tolist()):
            for j in range(len(table)):
                if i != j:
                    expected = reference_score(table, i, j)
                    assert math.isclose(scores[local, j], expected, rel_tol=1e-4, abs_tol=1e-4), (i, j)
                    compared += 1
    assert compared == 500 * 499


def test_every_feature_equals_its_reference_on_a_sample_of_pairs() -> None:
    table = sample_table()
    rows = np.arange(0, 500, 50)
    for name, values in scoring.features(table, rows):
        for local, i in enumerate(rows.tolist()):
            for j in range(0, 500, 37):
                if i != j:
                    expected = reference_features(table, i, j)[name]
                    assert math.isclose(values[local, j], expected, rel_tol=1e-4, abs_tol=1e-4), (name, i, j)


def test_top_candidates_follow_the_hard_rules_and_the_reference_order() -> None:
    table = sample_table()
    blocked = {frozenset(pair) for pair in table.blocked.tolist()}
    dismissed = {tuple(pair) for pair in table.dismissed.tolist()}
    for ranked in scoring.rank_block(table, np.arange(0, 500, 25)):
        i = ranked.city
        allowed = [
            j
            for j in range(len(table))
            if j != i
            and table.country[j] != table.country[i]
            and frozenset({i, j}) not in blocked
            and (i, j) not in dismissed
        ]
        expected = sorted(allowed, key=lambda j: (-round(reference_score(table, i, j), scoring.SCORE_DECIMALS), j))
        assert len(ranked.candidates) == scoring.TOP_K
        assert all(j in allowed for j in ranked.candidates)
        # Float sums may differ in the last digit: a candidate other than the reference's top k, or in another
        # order, only where their reference scores tie within that.
        reference = [reference_score(table, i, j) for j in ranked.candidates]
        assert all(later <= earlier + 1e-4 for earlier, later in itertools.pairwise(reference))
        cut = reference_score(table, i, expected[scoring.TOP_K - 1])
        for j, score in zip(ranked.candidates, reference, strict=True):
            assert j in expected[: scoring.TOP_K] or abs(score - cut) < 1e-4, (i, j)


def test_neighbours_across_a_border_are_the_member_states_that_share_a_land_border() -> None:
    # One city of each member state, all at one place: "border" is then 1 exactly for the countries that share a
    # land border, listed here from the map rather than from LAND_BORDERS.
    members = ["BY", "CN", "IN", "IR", "KG", "KZ", "PK", "RU", "TJ", "UZ"]
    neighbours = {
        frozenset(pair.split("-"))
        for pair in "BY-RU CN-IN CN-KG CN-KZ CN-PK CN-RU CN-TJ IN-PK IR-PK KG-KZ KG-TJ KG-UZ KZ-RU KZ-UZ TJ-UZ".split()
    }
    size = len(members)
    table = CityTable(
        ids=np.arange(1, size + 1, dtype=np.int64),
        country=np.arange(size, dtype=np.int32),
        country_codes=members,
        population=np.full(size, 100_000.0),
        latitude=np.full(size, 40.0),
        longitude=np.full(size, 70.0),
        needs=np.zeros((size, 1), np.bool_),
        expertise=np.zeros((size, 1), np.bool_),
        practices=np.zeros((size, 1), np.int32),
        edges=np.zeros((0, 2), np.int64),
    )
    border = dict(scoring.features(table, np.arange(size), only=["border"]))["border"]
    found = {frozenset({members[i], members[j]}) for i, j in zip(*np.nonzero(border), strict=True) if i < j}
    assert found == neighbours


def test_same_country_candidates_appear_only_when_asked() -> None:
    table = sample_table(120)
    rows = np.arange(len(table))
    for ranked in scoring.rank_block(table, rows):
        assert all(table.country[j] != table.country[ranked.city] for j in ranked.candidates)
    mixed = scoring.rank_block(table, rows, same_country=True)
    assert any(table.country[j] == table.country[r.city] for r in mixed for j in r.candidates)


def test_a_block_of_one_ranks_like_a_block_of_many() -> None:
    table = sample_table()
    together = scoring.rank_block(table, np.arange(40))
    for ranked in together[:10]:
        alone = scoring.rank_block(table, np.array([ranked.city]))[0]
        assert alone.candidates == ranked.candidates
        assert alone.scores == ranked.scores


def test_the_block_size_keeps_memory_bounded_as_cities_grow() -> None:
    small, large = scoring.block_size_for(8_000), scoring.block_size_for(100_000)
    assert large * 100_000 <= small * 8_000 * 1.01 or large == 1
    assert large >= 1


def test_the_pruned_top_k_equals_scoring_every_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    # Cells and bounds leave most pairs unscored; what they keep must be exactly the full computation's top k.
    # Never handed to the dense way here, however loose the bounds, so that the bounds themselves are tested.
    monkeypatch.setattr(pruning, "DENSE_SHARE", 2.0)
    # The fitted weights, and every feature weighted, so that each feature's bound is at work.
    every = {name: 0.2 + 0.1 * number for number, name in enumerate(scoring.FEATURES)}
    # Without complementarity, the cells' bounds alone choose the candidates (with it, each one's own topics).
    no_topics = {**every, "complementarity": 0.0}
    cases: tuple[dict[str, Any], ...] = (
        {},
        {"same_country": True},
        {"k": 3},
        {"weights": every},
        {"weights": every, "k": 3},
        {"weights": no_topics},
    )
    for size, seed in ((500, 7), (120, 3), (12, 1)):
        table = sample_table(size, seed)
        rows = np.arange(len(table))
        for options in cases:
            pruned = scoring.rank_arrays(table, rows, **options)
            full = scoring.rank_arrays_dense(table, rows, **options)
            kept = np.isfinite(full.scores)
            assert (np.isfinite(pruned.scores) == kept).all()
            assert (pruned.top[kept] == full.top[kept]).all()
            # The same candidates in the same order; a score may differ by one unit of its last rounded
            # decimal (the dense way sums distances from a matrix product, the pruned way pair by pair).
            assert np.abs(pruned.scores[kept] - full.scores[kept]).max(initial=0.0) <= 1.5 * 10**-scoring.SCORE_DECIMALS
            for name in scoring.FEATURES:
                assert np.allclose(pruned.features[name][kept], full.features[name][kept], atol=1e-5), name


@pytest.mark.parametrize("same_country", [False, True])
def test_no_member_of_a_cell_scores_above_the_cells_bound(same_country: bool) -> None:
    # The bounds' promise itself, pair by pair: every feature weighted (partners in common aside, which no bound
    # covers), on cities spread over the whole globe, so that far cells, whose distance the bound shortens most,
    # are there too. A bound that came out too low anywhere fails here even where the top k would not show it.
    table = dataclasses.replace(
        sample_table(400, 11),
        latitude=np.random.default_rng(3).uniform(-85, 85, 400),
        longitude=np.random.default_rng(4).uniform(-180, 180, 400),
    )
    weights = {name: 0.2 + 0.1 * number for number, name in enumerate(scoring.FEATURES)} | {"common_partners": 0.0}
    rows = np.arange(len(table))
    grouped = cells.cells_of(table)

    bound = bounds.upper_bounds(table, grouped, rows, weights, same_country=same_country)

    score = scoring.score_block(table, rows, weights)
    allowed = scoring.allowed(table, rows, same_country=same_country)
    assert (score[allowed] <= bound[:, grouped.of][allowed] + 1e-4).all()


def test_bounds_made_a_few_rows_at_a_time_give_the_same_top_k(monkeypatch: pytest.MonkeyPatch) -> None:
    # Bounds are computed in chunks of rows; here chunks of three rows, each candidate's own topics counted as
    # bits and, past 64 topics, the cells' unions of topics bounded with products: the top k must stay the one
    # of scoring every pair.
    monkeypatch.setattr(pruning, "DENSE_SHARE", 2.0)
    table = sample_table(300, 5)
    rng = np.random.default_rng(2)
    many_topics = dataclasses.replace(
        table,
        needs=np.hstack([table.needs, rng.random((300, 64)) < 0.05]),
        expertise=np.hstack([table.expertise, rng.random((300, 64)) < 0.05]),
        practices=np.hstack([table.practices, np.zeros((300, 64), np.int32)]),
    )
    # The sample's few topics: needs and offers counted in one 32-bit word; 20, in one 64-bit word; 40, in two.
    twenty_topics, forty_topics = (
        dataclasses.replace(
            table,
            needs=np.hstack([table.needs, rng.random((300, more)) < 0.1]),
            expertise=np.hstack([table.expertise, rng.random((300, more)) < 0.1]),
            practices=np.hstack([table.practices, np.zeros((300, more), np.int32)]),
        )
        for more in (20 - table.needs.shape[1], 40 - table.needs.shape[1])
    )
    assert table.needs.shape[1] <= 16 and twenty_topics.needs.shape[1] == 20 and forty_topics.needs.shape[1] == 40
    assert table.topic_bits and forty_topics.topic_bits and not many_topics.topic_bits
    # One partner slot: near_partner's bound reads most cells' other partners by cell.
    monkeypatch.setattr(cells, "PARTNER_SLOTS", 1)
    # A probe of a dozen pairs a row: the probe cells' other members are left to the second step.
    monkeypatch.setattr(pruning, "PROBE_PAIRS", 12)
    for case in (table, twenty_topics, forty_topics, many_topics):
        monkeypatch.setattr(bounds, "BOUND_CHUNK_BYTES", 3 * 8 * len(cells.cells_of(case)))
        rows = np.arange(len(case))
        pruned = scoring.rank_arrays(case, rows)
        full = scoring.rank_arrays_dense(case, rows)
        assert (pruned.top == full.top).all()
        assert np.abs(pruned.scores - full.scores).max() <= 1.5 * 10**-scoring.SCORE_DECIMALS


def test_the_probes_threshold_is_the_kth_best_score_of_each_row() -> None:
    # The threshold comes from one sort of integer keys made of the scores' bits: the same k-th best as sorting
    # the scores, negative, zero and tied ones included.
    rng = np.random.default_rng(0)
    for _case in range(100):
        pairs, rows, k = int(rng.integers(0, 300)), int(rng.integers(1, 20)), int(rng.integers(1, 12))
        local = rng.integers(0, rows, pairs)
        score = np.round(rng.normal(0, 3, pairs), scoring.SCORE_DECIMALS).astype(np.float32)
        score[rng.random(pairs) < 0.2] = 0.0
        score[rng.random(pairs) < 0.1] = score[0] if pairs else 0.0
        _top, top_scores, found = pruning._best(local, np.zeros(pairs, np.int64), score, rows, k)
        expected = np.where(found >= k, top_scores[:, -1].astype(np.float64), -np.inf)
        assert np.array_equal(pruning._kth_best(local, score, rows, k), expected)


def test_the_probes_best_pairs_of_each_row_are_the_highest_ties_to_the_earlier() -> None:
    # Sorted by keys that carry each pair's position (or, where the rows' numbers leave no room for it, by a
    # stable argsort): rows in order, each row's highest scores first, a tie to the earlier position.
    # Where a row has many more pairs than it keeps, a histogram of the scores leaves most out before the sort:
    # the same positions, with ties and -inf (a candidate of the row's own country) among the scores.
    rng = np.random.default_rng(1)
    for case in range(80):
        pairs, rows, count = int(rng.integers(0, 300)), int(rng.integers(1, 20)), int(rng.integers(1, 12))
        # Two cases with row numbers too large for the positions' bits (24 + 32 + 9 bits).
        far, pairs = (2**23, 299) if case in (1, 2) else (0, pairs)
        if case >= 60:
            pairs, rows = int(rng.integers(1_000, 3_000)), int(rng.integers(1, 4))
            assert pairs > pruning.PICK_BY_HISTOGRAM * count * rows
        local = rng.integers(0, rows, pairs) + far
        score = np.round(rng.normal(0, 3, pairs), scoring.SCORE_DECIMALS).astype(np.float32)
        score[rng.random(pairs) < 0.3] = score[0] if pairs else 0.0
        if case >= 70:
            score[rng.random(pairs) < 0.5] = -np.inf
        if case >= 76:
            # Every score the same, or every one -inf but a few.
            score[:] = 2.5 if case < 78 else -np.inf
            score[: 3 * max(case - 77, 0)] = 1.0
        expected = [
            position
            for row in range(far, far + rows)
            for position in sorted(np.flatnonzero(local == row).tolist(), key=lambda p: (-score[p], p))[:count]
        ]
        assert pruning._best_of_each_row(local, score, far + rows, count).tolist() == expected


def test_the_probe_takes_the_highest_cell_of_each_of_the_highest_groups() -> None:
    # With many cells the probe does not partition every bound: it takes the best cell of each of the best
    # groups of neighbouring cells. A short last group and rows of -inf (a country left out) included.
    rng = np.random.default_rng(4)
    size = pruning.PROBE_GROUP * pruning.PROBE_CELLS * 3 + 17
    bound = rng.normal(0, 1, (6, size)).astype(np.float32)
    bound[1, : size // 2] = -np.inf
    bound[2, -1] = 100.0
    first = pruning._probe_cells(bound)
    assert (first.sum(axis=1) == pruning.PROBE_CELLS).all()
    groups = np.arange(size) // pruning.PROBE_GROUP
    for row in range(len(bound)):
        maxima = np.array([bound[row, groups == group].max() for group in range(groups[-1] + 1)])
        expected = {
            int(np.flatnonzero(groups == group)[np.argmax(bound[row, groups == group])])
            for group in np.argsort(-maxima)[: pruning.PROBE_CELLS]
        }
        assert set(np.flatnonzero(first[row]).tolist()) == expected
    assert first[2, -1]


def test_cities_of_one_country_get_no_suggestion_unless_asked() -> None:
    # Every cell is the rows' own country: no bound is finite, the probe finds nothing, and nothing is suggested
    # (the pruned way must not fail on an empty probe); with same_country, the dense way's top k.
    table = dataclasses.replace(sample_table(60, 2), country=np.zeros(60, np.int32))
    rows = np.arange(len(table))
    assert not np.isfinite(scoring.rank_arrays(table, rows).scores).any()
    pruned = scoring.rank_arrays(table, rows, same_country=True)
    assert (pruned.top == scoring.rank_arrays_dense(table, rows, same_country=True).top).all()
