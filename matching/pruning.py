"""The exact top k without scoring every pair: cells of candidates, an upper bound per cell, and only the
cells that can still reach a city's top k scored pair by pair.

Candidates are grouped into cells of one country, one square of latitude and longitude, one band of
population and one kind of seat (none, a district's, a region's or the capital). For a row city i and
a cell g, every feature of the score in matching/scoring.py is bounded from above by what the cell's
members can reach at best: the cell's largest population, degree and partners per country, the union
of its topics, whether one is the seat of a region or a district, the most partnered region pair
among its members' regions, the closest its members can be to i (the distance from i to the cell's
centre minus the cell's radius, by the triangle inequality), the country pair (one country per cell).
Partners in common are the one feature that no cell bound covers: the few candidates that share a
partner with i are always scored exactly.

For each row: score the likeliest members of a few cells of high bound exactly, take the k-th best
allowed score as a threshold, then score exactly every candidate that can still reach it (minus a margin
far above float rounding): the members of the cells whose bound reaches it, or, where topics are many
and spread (cells' unions of topics then bound loosely), every candidate whose cell's bound with its
own topics in place of the cell's union reaches it. A candidate left out scores below the threshold,
so below k allowed candidates already found: the top k, ties to the lower position included, is the
one a full (rows, N) computation gives. The work is (rows, cells) bounds in float32, a few byte-wide
operations per (row, candidate) at most, and the pairs kept, not (rows, N) scores of every feature.

The bounds need weights at or above zero (what the fit keeps); other weights fall back to the full
computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching import scoring
from matching.scoring import EARTH_RADIUS_KM, FEATURES, CityTable, TopArrays

# Cells hold at least this many cities on average: (rows, cells) bounds stay small, cells stay tight.
CITIES_PER_CELL = 4
# Cells also split by population (log10 steps), so that size and similar scale bound tightly.
POPULATION_BAND = 0.25
CELL_DEGREES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 45.0, 180.0)
# Cells scored first, to find the threshold (their every member), chosen among groups of neighbouring cells.
PROBE_CELLS = 32
PROBE_GROUP = 16
# Where topics are counted pair by pair: more cells probed, the likeliest member of each, and of those this
# many per row scored (measured at 100,000 cities: a threshold much nearer the final one, a tenth less work).
PROBE_CELLS_BY_TOPICS = 128
PROBE_PAIRS = 64
# near_partner's bound reads each cell's first partners one slot at a time, the others by cell.
PARTNER_SLOTS = 4
# Kilometres added to each cell's radius against arccos rounding near zero, and the score margin
# kept below the threshold against float32 sums and rounding to SCORE_DECIMALS.
RADIUS_MARGIN_KM = 1.0
# The bounds find distances from float32 cosines of unit vectors, raised by this much (above float32's rounding
# of such a cosine, a few units of 1e-7) before the arccos: a distance can only come out shorter, the bound
# higher (by at most a few kilometres, near zero).
COSINE_MARGIN = 2e-6
SCORE_MARGIN = 1e-3
# Bounds are computed for as many rows at a time as make (rows, cells) arrays of this size at 8 bytes a value
# (set with float64 bounds; the float32 ones measured no faster with twice the rows, and slower past that).
BOUND_CHUNK_BYTES = 512 * 1024
# Past this share of all pairs left to score, the plain (rows, N) computation is cheaper.
DENSE_SHARE = 0.05
# The same, counted before the members of the chosen cells are filtered on their own topics (a cheap step).
FILTERED_SHARE = 0.5
# Past this share of all pairs in the chosen cells, every candidate's topics are counted with its row at once
# (a few operations per pair, in memory order) rather than the chosen cells' members walked (a few dozen).
FILTER_EVERY_ABOVE = 0.05
# Rows at a time of that count: as many as make (rows, N) arrays of this size.
MEMBER_CHUNK_BYTES = 1024 * 1024


# A block's bounds, their complementarity part and each row's threshold (see rank_arrays).
TopicFilter = tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float64]]


@dataclass(frozen=True)
class Cells:
    """Candidates grouped by cell: members of cell g are members[indptr[g]:indptr[g + 1]] (positions)."""

    of: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]
    country: npt.NDArray[np.int64]
    centre: npt.NDArray[np.float64]
    # Every city's unit vector and each cell's centre in float32, for the bounds' distances.
    unit32: npt.NDArray[np.float32]
    centre32: npt.NDArray[np.float32]
    radius_km: npt.NDArray[np.float64]
    log_population_min: npt.NDArray[np.float64]
    log_population_max: npt.NDArray[np.float64]
    log_degree_max: npt.NDArray[np.float64]
    partners_in_country_max: npt.NDArray[np.float64]
    prominence_max: npt.NDArray[np.float64]
    capital_any: npt.NDArray[np.float64]
    region_seat_any: npt.NDArray[np.float64]
    district_seat_any: npt.NDArray[np.float64]
    # region_pair's bound, region by region: for a row city of region r, the cells one of whose members'
    # regions has partnered with r are region_cells[region_cells_indptr[r]:region_cells_indptr[r + 1]], each
    # once, with the most partnerships of such a region in region_cells_value (every other cell: 0).
    region_cells: npt.NDArray[np.int64]
    region_cells_value: npt.NDArray[np.float64]
    region_cells_indptr: npt.NDArray[np.int64]
    # The partners of the cell's members, cell by cell: partners of cell g are
    # partners[partners_indptr[g]:partners_indptr[g + 1]] (positions, repeats kept).
    partners: npt.NDArray[np.int64]
    partners_indptr: npt.NDArray[np.int64]
    needs_any: npt.NDArray[np.float64]
    offers_any: npt.NDArray[np.float64]
    # The same unions as bits (the first 64 topics).
    needs_bits: npt.NDArray[np.uint64]
    offers_bits: npt.NDArray[np.uint64]
    # The pairs never suggested, as sorted keys (city * N + candidate): an unfinished or active agreement
    # (both ways), a dismissal (one way).
    blocked_keys: npt.NDArray[np.int64]
    dismissed_keys: npt.NDArray[np.int64]

    def __len__(self) -> int:
        return len(self.country)


def cells_of(table: CityTable) -> Cells:
    """The table's cells, made once per table (the table keeps them)."""
    cached: Cells | None = getattr(table, "_cells", None)
    if cached is not None:
        return cached
    size = len(table)
    for degrees in CELL_DEGREES:
        keys = np.stack(
            [
                table.country.astype(np.int64),
                np.floor(table.latitude / degrees).astype(np.int64),
                np.floor(table.longitude / degrees).astype(np.int64),
                np.floor(table.log_population / POPULATION_BAND).astype(np.int64),
                (table.region_seat + 2 * table.district_seat).astype(np.int64),
            ],
            axis=1,
        )
        # One integer per key (np.unique on rows sorts structured views, ten times slower): the table is
        # loaded again for one city's recompute, and its cells with it.
        packed_keys, first, of = np.unique(_packed(keys), return_index=True, return_inverse=True)
        unique = keys[first]
        if size <= CITIES_PER_CELL * len(packed_keys):
            continue
        break
    of = of.reshape(-1).astype(np.int64)
    # Cells with partners first (each part in key order): near_partner's bound works on those only, and a
    # slice of the bounds is updated in place several times faster than scattered columns (measured).
    partnered = np.bincount(of, weights=np.diff(table.indptr), minlength=len(unique)) > 0
    renumber = np.empty(len(unique), np.int64)
    renumber[np.lexsort((np.arange(len(unique)), ~partnered))] = np.arange(len(unique))
    of, unique = renumber[of], unique[np.argsort(renumber)]
    members = np.lexsort((np.arange(size), of))
    indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(of, minlength=len(unique)), out=indptr[1:])
    starts = indptr[:-1]
    centre = np.add.reduceat(table.unit[members], starts, axis=0)
    centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-12)
    spread = EARTH_RADIUS_KM * np.arccos(np.clip((table.unit * centre[of]).sum(axis=1), -1.0, 1.0))
    log_population = table.log_population.astype(np.float64)[members]
    degree = np.diff(table.indptr)
    region_cells, region_cells_value, region_cells_indptr = _region_reach(table, of, len(unique))
    partners_indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(of, weights=degree, minlength=len(unique)).astype(np.int64), out=partners_indptr[1:])
    cells = Cells(
        of=of,
        members=members,
        indptr=indptr,
        country=unique[:, 0],
        centre=centre,
        unit32=table.unit.astype(np.float32),
        centre32=centre.astype(np.float32),
        radius_km=np.maximum.reduceat(spread[members], starts) + RADIUS_MARGIN_KM,
        log_population_min=np.minimum.reduceat(log_population, starts),
        log_population_max=np.maximum.reduceat(log_population, starts),
        log_degree_max=np.maximum.reduceat(table.log_degree.astype(np.float64)[members], starts),
        partners_in_country_max=np.maximum.reduceat(
            table.log_partners_by_country.astype(np.float64)[members], starts, axis=0
        ),
        prominence_max=np.maximum.reduceat(table.prominence.astype(np.float64)[members], starts),
        capital_any=np.logical_or.reduceat(table.capital[members], starts).astype(np.float64),
        region_seat_any=np.maximum.reduceat(table.region_seat.astype(np.float64)[members], starts),
        district_seat_any=np.maximum.reduceat(table.district_seat.astype(np.float64)[members], starts),
        region_cells=region_cells,
        region_cells_value=region_cells_value,
        region_cells_indptr=region_cells_indptr,
        partners=table.neighbours[scoring._ranges(table.indptr[members], degree[members])],
        partners_indptr=partners_indptr,
        needs_any=np.logical_or.reduceat(table.needs[members], starts, axis=0).astype(np.float64),
        offers_any=np.logical_or.reduceat(table.offers[members], starts, axis=0).astype(np.float64),
        needs_bits=np.bitwise_or.reduceat(table.needs_bits[members], starts),
        offers_bits=np.bitwise_or.reduceat(table.offers_bits[members], starts),
        blocked_keys=_sorted_keys(table.blocked, size, both_ways=True),
        dismissed_keys=_sorted_keys(table.dismissed, size, both_ways=False),
    )
    table._cells = cells  # type: ignore[attr-defined]
    return cells


def _region_reach(
    table: CityTable, of: npt.NDArray[np.int64], cells: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """region_pair's bound for every region against every cell, keeping only the cells above zero (Cells'
    region_cells*): most regions have partnered with few others, so a row's bound touches a few cells where
    the whole (rows, each cell's regions) table cost half of all the bounds (measured: 100,000 cities)."""
    regions = int(table.region_of.max(initial=0)) + 1
    # Each cell's distinct regions as (region, cell), sorted by region: the cells of region r in one slice.
    by_region = np.unique(table.region_of * cells + of)
    region_of_pair, cell_of_pair = np.divmod(by_region, cells)
    starts = np.searchsorted(region_of_pair, np.arange(regions + 1))
    # Every region pair that has partnered, spread over the cells holding the second region.
    first, second = np.nonzero(table.log_region_pairs)
    lengths = starts[second + 1] - starts[second]
    region = np.repeat(first, lengths)
    cell = cell_of_pair[scoring._ranges(starts[second], lengths)]
    value = np.repeat(table.log_region_pairs[first, second].astype(np.float64), lengths)
    # The most for each (region, cell): sorted by key, then by value, the last of each key.
    key = region * cells + cell
    order = np.lexsort((value, key))
    key, value = key[order], value[order]
    last = np.flatnonzero(np.r_[key[1:] != key[:-1], True]) if len(key) else np.zeros(0, np.int64)
    region, cell = np.divmod(key[last], cells)
    indptr = np.zeros(regions + 1, np.int64)
    np.cumsum(np.bincount(region, minlength=regions), out=indptr[1:])
    return cell, value[last], indptr


def _packed(columns: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Each row of integer columns as one integer that sorts like the row (mixed radix from each column's range)."""
    shifted = columns - columns.min(axis=0, initial=0)
    radix = shifted.max(axis=0, initial=0) + 1
    assert float(np.prod(radix.astype(np.float64))) < 2.0**62, "cell keys overflow"
    key = np.zeros(len(columns), np.int64)
    for column, base in zip(shifted.T, radix, strict=True):
        key = key * base + column
    return key


@dataclass(frozen=True)
class CellTerms:
    """What the bounds of a block take from the cells alone, made once per block rather than per few rows."""

    weights: dict[str, float]
    # The terms that depend on the row's country and the cell only: a (countries, cells) table, one row
    # gathered per city (-inf for the row's own country, unless asked).
    by_country: npt.NDArray[np.float32]
    # The cells' figures the bounds combine with each row's, in float32 like the bounds.
    log_population_min: npt.NDArray[np.float32]
    log_population_max: npt.NDArray[np.float32]
    log_degree_max: npt.NDArray[np.float32]
    capital_any: npt.NDArray[np.float32]
    radius_km: npt.NDArray[np.float32]
    # Cells with partners, and their partners' unit vectors (near_partner).
    with_partners: npt.NDArray[np.int64]
    partner_units: npt.NDArray[np.float32]
    # The first PARTNER_SLOTS partners of each cell with partners, as indices into partner_units (a cell with
    # fewer repeats its last); the cells with more, and the indices of their other partners by cell.
    partner_slots: npt.NDArray[np.int64]
    more_partners: npt.NDArray[np.int64]
    more_indices: npt.NDArray[np.int64]
    more_indptr: npt.NDArray[np.int64]
    # Whether any city has a topic (complementarity).
    topics: bool


def cell_terms(table: CityTable, cells: Cells, weights: Mapping[str, float], *, same_country: bool) -> CellTerms:
    """The block's CellTerms, made once per table, weights and same_country (the table keeps the last)."""
    w = {name: float(weights.get(name, 0.0)) for name in FEATURES}
    key = (tuple(w.values()), same_country, PARTNER_SLOTS)
    cached: tuple[object, CellTerms] | None = getattr(table, "_cell_terms", None)
    if cached is not None and cached[0] == key:
        return cached[1]
    terms = _cell_terms(table, cells, w, same_country=same_country)
    table._cell_terms = (key, terms)  # type: ignore[attr-defined]
    return terms


def _cell_terms(table: CityTable, cells: Cells, w: dict[str, float], *, same_country: bool) -> CellTerms:
    by_country = (
        w["country_pair"] * table.log_country_pairs[:, cells.country].astype(np.float64)
        + w["border"] * table.borders[:, cells.country]
        + w["partners_in_country"] * cells.partners_in_country_max.T
        + w["size"] * cells.log_population_max
        + w["activity"] * cells.log_degree_max
        + w["country_rate"] * table.country_rate[:, cells.country].astype(np.float64)
        + w["prominence"] * cells.prominence_max
        + w["regional_centre"] * cells.region_seat_any
        + w["district_centre"] * cells.district_seat_any
    )
    if not same_country:
        by_country[np.arange(len(table.country_codes))[:, None] == cells.country[None, :]] = -np.inf
    with_partners = np.flatnonzero(np.diff(cells.partners_indptr))
    assert not len(with_partners) or with_partners[-1] == len(with_partners) - 1, "cells with partners come first"
    first, count = cells.partners_indptr[with_partners], np.diff(cells.partners_indptr)[with_partners]
    more = np.flatnonzero(count > PARTNER_SLOTS)
    return CellTerms(
        weights=w,
        by_country=by_country.astype(np.float32),
        log_population_min=cells.log_population_min.astype(np.float32),
        log_population_max=cells.log_population_max.astype(np.float32),
        log_degree_max=cells.log_degree_max.astype(np.float32),
        capital_any=cells.capital_any.astype(np.float32),
        radius_km=cells.radius_km.astype(np.float32),
        with_partners=with_partners,
        partner_units=cells.unit32[cells.partners],
        partner_slots=first[:, None] + np.minimum(np.arange(PARTNER_SLOTS)[None, :], count[:, None] - 1),
        more_partners=more,
        more_indices=scoring._ranges(first[more] + PARTNER_SLOTS, count[more] - PARTNER_SLOTS),
        more_indptr=np.concatenate([[0], np.cumsum(count[more] - PARTNER_SLOTS)]),
        topics=bool(w["complementarity"]) and bool(table.needs.any() or table.offers.any()),
    )


def upper_bounds(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], weights: Mapping[str, float], *, same_country: bool
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    """(len(rows), cells): no member of the cell scores above this for the row city, partners in common aside;
    and the part of it that complementarity adds (None when it adds nothing).

    In float32, whose rounding (a few millionths over the sum of the terms) stays far within SCORE_MARGIN:
    four times faster than float64 (measured), half the memory to stream. Distances are found in float64
    (a float32 cosine cannot tell a few kilometres apart) and only then rounded.

    Computed a few rows at a time: each term makes a temporary (rows, cells) array, and those of a few
    rows stay in the processor's cache where those of a whole block go to memory and back, three
    times slower (measured on the directory: 2.1 s with blocks of 256 rows, 0.6 s with 128)."""
    terms = cell_terms(table, cells, weights, same_country=same_country)
    step = max(1, BOUND_CHUNK_BYTES // (8 * len(cells)))
    bound = np.empty((len(rows), len(cells)), np.float32)
    topics = np.zeros(bound.shape, np.float32) if terms.topics else None
    for start in range(0, len(rows), step):
        chunk = slice(start, start + step)
        bound[chunk] = _upper_bounds(table, cells, rows[chunk], terms, None if topics is None else topics[chunk])
    return bound, topics


def _upper_bounds(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    terms: CellTerms,
    topics: npt.NDArray[np.float32] | None,
) -> npt.NDArray[np.float32]:
    """upper_bounds() of a few rows, one term per feature; complementarity's part also written into `topics`.
    (Python floats times float32 arrays stay float32.)"""
    w = terms.weights
    lp = table.log_population[rows][:, None]
    ld = table.log_degree[rows][:, None]
    bound = terms.by_country[table.country[rows]]
    # The terms of the row city alone, added together first: one pass over the chunk instead of five.
    bound += (
        w["size"] * lp
        + w["activity"] * ld
        + w["prominence"] * table.prominence[rows][:, None]
        + w["regional_centre"] * table.region_seat[rows][:, None]
        + w["district_centre"] * table.district_seat[rows][:, None]
    )
    if w["region_pair"]:
        # The most the row's region has partnered with any region of the cell: above zero in a few cells only.
        region = table.region_of[rows]
        starts, lengths = cells.region_cells_indptr[region], np.diff(cells.region_cells_indptr)[region]
        reach = scoring._ranges(starts, lengths)
        # Each row's cells come once: the additions do not collide.
        bound[np.repeat(np.arange(len(rows)), lengths), cells.region_cells[reach]] += (
            w["region_pair"] * cells.region_cells_value[reach]
        ).astype(np.float32)
    if w["capitals"] and table.capital[rows].any():
        bound += w["capitals"] * table.capital_f[rows][:, None] * terms.capital_any
    if w["near_partner"]:
        _add_near_partner_bound(table, cells, rows, terms, bound)
    if topics is not None:
        if table.topic_bits:
            # The same counts as the products below, from popcounts (the products cost more than the rest).
            common = np.bitwise_count(table.needs_bits[rows][:, None] & cells.offers_bits) + np.bitwise_count(
                table.offers_bits[rows][:, None] & cells.needs_bits
            )
        else:
            needs, offers = table.needs_f[rows].astype(np.float64), table.offers_f[rows].astype(np.float64)
            common = needs @ cells.offers_any.T + offers @ cells.needs_any.T
        topics[:] = w["complementarity"] * common
        bound += topics
    if w["similar_scale"]:
        gap = np.maximum(lp - terms.log_population_max, terms.log_population_min - lp)
        bound -= w["similar_scale"] * np.maximum(gap, np.float32(0.0), out=gap)
    if w["distance"]:
        centre_km = _km_at_least(cells.unit32[rows] @ cells.centre32.T) - terms.radius_km
        bound -= w["distance"] * np.log10(np.maximum(centre_km, np.float32(0.0), out=centre_km) + np.float32(100.0))
    if w["partners_in_country"]:
        bound += w["partners_in_country"] * table.log_partners_by_country[rows][:, cells.country]
    if w["hubs"] and ld.any():
        bound += w["hubs"] * ld * terms.log_degree_max
    return bound


def _km_at_least(cosine: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Kilometres no longer than the great-circle distance of these float32 cosines (COSINE_MARGIN)."""
    raised = np.clip(cosine + np.float32(COSINE_MARGIN), np.float32(-1.0), np.float32(1.0))
    return np.float32(EARTH_RADIUS_KM) * np.arccos(raised, out=raised)


def _add_near_partner_bound(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], terms: CellTerms, bound: npt.NDArray[np.float32]
) -> None:
    """Adds to `bound` (len(rows), cells) what near_partner can add at most for each cell's members.

    Either way of near_partner is bounded: from the row to its members' partners (exact: the
    nearest of all the cell's partners), and from the members to the row's partners (the distance
    from each partner to the cell's centre, minus the cell's radius). Most rows have no partner and most
    cells none either: their term is the one of NO_PARTNER_KM, added to every cell at once, and only
    the cells with partners (and the rows with partners) are worked out."""
    weight = terms.weights["near_partner"]
    far = np.float32(-weight * np.log10(scoring.NO_PARTNER_KM + 100.0))
    bound += far
    has = terms.with_partners
    if len(has):
        # The nearest partner of each cell is the one of highest cosine: the cosines are reduced per cell (a few
        # slots each, then the partners past them), and only the cells' highest turned into kilometres. A
        # reduceat over every cell's partners cost more than the rest of the bounds (cells of one partner).
        cosine = cells.unit32[rows] @ terms.partner_units.T
        # np.take: several times faster than fancy indexing along the second axis (measured).
        highest = np.take(cosine, terms.partner_slots[:, 0], axis=1)
        for slot in range(1, PARTNER_SLOTS):
            np.maximum(highest, np.take(cosine, terms.partner_slots[:, slot], axis=1), out=highest)
        if len(terms.more_partners):
            more = np.maximum.reduceat(np.take(cosine, terms.more_indices, axis=1), terms.more_indptr[:-1], axis=1)
            highest[:, terms.more_partners] = np.maximum(highest[:, terms.more_partners], more)
        to_partners = _km_at_least(highest)
        # The cells with partners come first (cells_of).
        bound[:, : len(has)] += (
            -weight * np.log10(np.maximum(to_partners, 0.0).astype(np.float32) + np.float32(100.0)) - far
        )
    starts, lengths = table.indptr[rows], table.indptr[rows + 1] - table.indptr[rows]
    with_partners = np.flatnonzero(lengths)
    if len(with_partners):
        # Rows with partners of their own: the term made again from the nearer of both ways, in place of the above.
        nearest = np.full((len(with_partners), len(cells)), scoring.NO_PARTNER_KM)
        if len(has):
            nearest[:, : len(has)] = to_partners[with_partners]
        partner = table.neighbours[scoring._ranges(starts[with_partners], lengths[with_partners])]
        to_centre = _km_at_least(cells.unit32[partner] @ cells.centre32.T)
        offsets = np.cumsum(lengths[with_partners]) - lengths[with_partners]
        nearest = np.minimum(nearest, np.minimum.reduceat(to_centre - terms.radius_km, offsets, axis=0))
        exact = -weight * np.log10(np.maximum(nearest, 0.0).astype(np.float32) + np.float32(100.0))
        added = np.full(exact.shape, far)
        if len(has):
            added[:, : len(has)] = -weight * np.log10(
                np.maximum(to_partners[with_partners], 0.0).astype(np.float32) + np.float32(100.0)
            )
        bound[with_partners] += exact - added


@dataclass(frozen=True)
class Common:
    """Partners in common of a block's rows, sparse: key local * N + candidate, sorted, with counts."""

    keys: npt.NDArray[np.int64]
    counts: npt.NDArray[np.float32]

    def at(self, keys: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        where = np.minimum(np.searchsorted(self.keys, keys), max(len(self.keys) - 1, 0))
        if not len(self.keys):
            return np.zeros(keys.shape, np.float32)
        return np.where(self.keys[where] == keys, self.counts[where], np.float32(0))


def common_partners(table: CityTable, rows: npt.NDArray[np.int64]) -> Common:
    local, far = table.paths_of_two(rows)
    keys, counts = np.unique(local * len(table) + far, return_counts=True)
    return Common(keys=keys, counts=counts.astype(np.float32))


def _sorted_keys(pairs: npt.NDArray[np.int64], size: int, *, both_ways: bool) -> npt.NDArray[np.int64]:
    pairs = pairs.reshape(-1, 2)
    keys = pairs[:, 0] * size + pairs[:, 1]
    if both_ways:
        keys = np.concatenate([keys, pairs[:, 1] * size + pairs[:, 0]])
    return np.unique(keys)


def _member_of(sorted_keys: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    if not len(sorted_keys):
        return np.zeros(keys.shape, np.bool_)
    where = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[where] == keys


def _pairs_in_cells(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    chosen: npt.NDArray[np.bool_],
    weights: Mapping[str, float],
    topic_filter: TopicFilter | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(local row, candidate) of every member of the chosen cells.

    With `topic_filter` (bounds, their complementarity part, thresholds per row), a member of a chosen
    cell is kept only if the cell's bound, with the cell's complementarity replaced by the member's
    own (topics as bits, counted with popcount), still reaches its row's threshold."""
    # flatnonzero: several times faster than a 2-d nonzero (measured).
    local, cell = np.divmod(np.flatnonzero(chosen), chosen.shape[1])
    lengths = cells.indptr[cell + 1] - cells.indptr[cell]
    candidate = cells.members[scoring._ranges(cells.indptr[cell], lengths)]
    if topic_filter is None:
        return np.repeat(local, lengths), candidate
    bound, topics, threshold = topic_filter
    rest = np.repeat(bound[local, cell] - topics[local, cell], lengths)
    local = np.repeat(local, lengths)
    row_of = rows[local]
    own = np.bitwise_count(table.needs_bits[row_of] & table.offers_bits[candidate]) + np.bitwise_count(
        table.offers_bits[row_of] & table.needs_bits[candidate]
    )
    reach = rest + float(weights["complementarity"]) * own >= threshold[local]
    return local[reach], candidate[reach]


def _reaching_members(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    topic_filter: TopicFilter,
    weights: Mapping[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(local row, candidate) of every candidate whose cell's bound, with the cell's complementarity replaced by
    the candidate's own, reaches its row's threshold: _pairs_in_cells() with a topic filter, over every cell.

    Where the cells' unions of topics leave many cells in reach (topics many and spread), counting every
    candidate's own topics with the row costs less than walking the chosen cells' members: a popcount per
    pair over arrays laid out in the cells' member order, a few rows at a time, instead of index lists."""
    bound, topics, threshold = topic_filter
    weight = float(weights["complementarity"])
    cell_of_member, needs, offers, words = _member_topics(table, cells)
    one_word = table.needs.shape[1] <= 32
    word, shift = _word(table)
    step = max(1, MEMBER_CHUNK_BYTES // (8 * len(table)))
    found_local, found_member = [], []
    for start in range(0, len(rows), step):
        chunk = slice(start, start + step)
        row = rows[chunk, None]
        # The topics in common each cell's members need to reach the threshold: a small integer per cell, so
        # that each pair compares one byte (255: out of reach). Rounded down by a hair, which can only keep
        # a pair more; in float32, like the bounds.
        short = threshold[chunk, None].astype(np.float32) - bound[chunk] + topics[chunk]
        short *= np.float32(1.0 / weight)
        need = np.clip(np.ceil(short - np.float32(1e-4), out=short), 0, 255, out=short).astype(np.uint8)
        if one_word:
            own = np.bitwise_count(
                (table.needs_bits[row] | (table.offers_bits[row] << np.uint64(shift))).astype(word) & words
            )
        else:
            own = np.bitwise_count(table.needs_bits[row] & offers) + np.bitwise_count(table.offers_bits[row] & needs)
        # np.take and flatnonzero: several times faster here than fancy indexing and a 2-d nonzero (measured).
        local, member = np.divmod(np.flatnonzero(own >= np.take(need, cell_of_member, axis=1)), len(table))
        found_local.append(local + start)
        found_member.append(member)
    return np.concatenate(found_local), cells.members[np.concatenate(found_member)]


def _word(table: CityTable) -> tuple[type[np.unsignedinteger[Any]], int]:
    """Up to 32 topics, a pair's topics in common both ways are one popcount: the row's needs and offers in
    one word against the candidate's offers and needs in the same places, offers in the low bits and needs
    shifted past them (up to 16 topics, a 32-bit word: the popcounts run half as long)."""
    return (np.uint32, 16) if table.needs.shape[1] <= 16 else (np.uint64, 32)


def _member_topics(
    table: CityTable, cells: Cells
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[Any]]:
    """Each candidate's cell, needs, offers and topic word (_word()), in the cells' member order, made once per
    table (the table keeps them): a cell's bound is then read by its members in a row (cache-friendly)."""
    cached: tuple[Any, ...] | None = getattr(table, "_member_topics", None)
    if cached is None:
        needs, offers = table.needs_bits[cells.members], table.offers_bits[cells.members]
        word, shift = _word(table)
        cached = (
            np.repeat(np.arange(len(cells)), np.diff(cells.indptr)),
            needs,
            offers,
            (offers | (needs << np.uint64(shift))).astype(word),
        )
        table._member_topics = cached  # type: ignore[attr-defined]
    return cached


def _scored_pairs(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    common: Common,
    weights: Mapping[str, float],
    *,
    same_country: bool,
    scored: npt.NDArray[np.int64] | None = None,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """(local row, candidate, rounded score) of every allowed pair of `pairs` (local row, candidate) and of
    every allowed candidate sharing a partner with its row; or, given the sorted keys (local * N + candidate)
    of the pairs `scored` already (those sharing a partner among them), of the other pairs of `pairs` only."""
    size = len(table)
    local, candidate = pairs
    keys = local * size + candidate
    if scored is None:
        # Partners in common are not in the bounds: such candidates are scored whatever the bounds said.
        extra = common.keys[~_member_of(np.sort(keys), common.keys)]
        local, candidate = np.divmod(np.concatenate([keys, extra]), size)
    else:
        fresh = ~_member_of(scored, keys)
        local, candidate = local[fresh], candidate[fresh]
    row = rows[local]
    keep = candidate != row
    if not same_country:
        keep &= table.country[candidate] != table.country[row]
    pair_keys = row * size + candidate
    keep &= ~_member_of(cells.blocked_keys, pair_keys)
    keep &= ~_member_of(cells.dismissed_keys, pair_keys)
    local, candidate = local[keep], candidate[keep]
    score = np.zeros(len(local), np.float32)
    used = [name for name in FEATURES if weights.get(name, 0.0)]
    shared = common.at(local * size + candidate)
    for name, values in scoring.features(
        table, rows[local], cols=candidate[:, None], only=used, common_at_cols=shared[:, None]
    ):
        score += np.float32(weights[name]) * values[:, 0]
    return local, candidate, np.round(score, scoring.SCORE_DECIMALS)


def _best(
    local: npt.NDArray[np.int64], candidate: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, k: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    """The k best (score desc, position asc) per row as (rows, k) arrays padded with -inf, and how many each has."""
    order = np.lexsort((candidate, -score, local))
    local, candidate, score = local[order], candidate[order], score[order]
    start = np.searchsorted(local, np.arange(rows))
    place = np.arange(len(local)) - start[local]
    keep = place < k
    top = np.zeros((rows, k), np.int64)
    top_scores = np.full((rows, k), -np.inf, np.float32)
    top[local[keep], place[keep]] = candidate[keep]
    top_scores[local[keep], place[keep]] = score[keep]
    return top, top_scores, np.bincount(local[keep], minlength=rows)


def _kth_best(
    local: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, k: int
) -> npt.NDArray[np.float64]:
    """The k-th best score of each row (-inf where a row has fewer than k pairs), from one sort of one integer
    key per pair (row, then score descending) rather than _best()'s sort of three keys."""
    bits = score.astype(np.float32).view(np.uint32).astype(np.uint64)
    # Floats sort like these integers: a negative one with every bit flipped, any other with its sign bit set.
    ascending = np.where(bits >> np.uint64(31), bits ^ np.uint64(0xFFFFFFFF), bits | np.uint64(0x80000000))
    keys = np.sort((local.astype(np.uint64) << np.uint64(32)) | (np.uint64(0xFFFFFFFF) - ascending))
    counts = np.bincount(local, minlength=rows)
    has = np.flatnonzero(counts >= k)
    kth = np.full(rows, -np.inf)
    if len(has):
        picked = np.uint64(0xFFFFFFFF) - (keys[(np.cumsum(counts) - counts)[has] + k - 1] & np.uint64(0xFFFFFFFF))
        bits = np.where(picked >> np.uint64(31), picked ^ np.uint64(0x80000000), picked ^ np.uint64(0xFFFFFFFF))
        kth[has] = bits.astype(np.uint32).view(np.float32)
    return kth


def _probe_cells(bound: npt.NDArray[np.float32], probe: int = PROBE_CELLS) -> npt.NDArray[np.bool_]:
    """(rows, cells): for each row, `probe` cells of high bound, where the threshold is sought first.

    Any cells give a valid threshold, high ones a tight one. With many cells, not the very highest (a
    partition of every row's bounds cost a tenth of the whole computation): the highest cell of each of
    the `probe` groups of PROBE_GROUP neighbouring cells whose highest is highest."""
    count, size = bound.shape
    first = np.zeros(bound.shape, np.bool_)
    probe = min(probe, size)
    starts = np.arange(0, size, PROBE_GROUP)
    if len(starts) <= probe:
        first[np.arange(count)[:, None], np.argpartition(-bound, probe - 1, axis=1)[:, :probe]] = True
        return first
    groups = np.argpartition(-np.maximum.reduceat(bound, starts, axis=1), probe - 1, axis=1)[:, :probe]
    # The cells of those groups (the last group may be short: its last cell stands in for the missing ones).
    members = np.minimum(groups[:, :, None] * PROBE_GROUP + np.arange(PROBE_GROUP), size - 1).reshape(count, -1)
    # np.take on the flat bounds: several times faster than take_along_axis (measured).
    values = np.take(bound, members + (np.arange(count) * size)[:, None]).reshape(count, probe, PROBE_GROUP)
    highest = np.take_along_axis(members.reshape(count, probe, PROBE_GROUP), values.argmax(axis=2)[:, :, None], axis=2)
    first[np.arange(count)[:, None], highest[:, :, 0]] = True
    return first


def _likeliest(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    pairs: tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]],
    bounds: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    weights: Mapping[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Of the probe cells' members (`pairs`, grouped by row and cell), the likeliest of each cell, and of those
    the PROBE_PAIRS of each row that reach highest: a member reaches its cell's bound with the cell's
    complementarity replaced by its own (`bounds`: the bounds and their complementarity part).

    The probe's cells hold thousands of members per row, most far below their cell's bound: one good member
    from each of many cells gives a threshold near the final one for a fraction of the scoring (the threshold
    decides how many candidates the second step scores)."""
    local, candidate = pairs
    if not len(local):
        return pairs
    own = np.bitwise_count(table.needs_bits[rows[local]] & table.offers_bits[candidate]) + np.bitwise_count(
        table.offers_bits[rows[local]] & table.needs_bits[candidate]
    )
    bound, topics = bounds
    cell = cells.of[candidate]
    at = local * bound.shape[1] + cell
    reach = np.take(bound, at) - np.take(topics, at) + np.float32(weights["complementarity"]) * own
    # Each (row, cell) group's first member of the highest reach.
    starts = np.flatnonzero(np.r_[True, (local[1:] != local[:-1]) | (cell[1:] != cell[:-1])])
    highest = np.maximum.reduceat(reach, starts)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(local)]))
    at_highest = np.flatnonzero(reach == highest[group])
    best = at_highest[np.r_[True, group[at_highest][1:] != group[at_highest][:-1]]]
    # Then the best PROBE_PAIRS of each row.
    order = np.lexsort((-highest, local[starts]))
    best, row_of = best[order], local[starts][order]
    place = np.arange(len(best)) - np.searchsorted(row_of, np.arange(len(rows)))[row_of]
    keep = best[place < PROBE_PAIRS]
    return local[keep], candidate[keep]


def rank_arrays(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    *,
    k: int,
    weights: Mapping[str, float],
    same_country: bool,
) -> TopArrays:
    """scoring.rank_arrays() by cells and bounds: the same top k, without the (rows, N) arrays."""
    if getattr(table, "_pruning_fell_back", False):
        return scoring.rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
    cells = cells_of(table)
    count = len(rows)
    bound, topics = upper_bounds(table, cells, rows, weights, same_country=same_country)
    common = common_partners(table, rows)
    # First the cells with the highest bounds: their k-th best allowed score is a threshold.
    by_topics = topics is not None and table.topic_bits
    first = _probe_cells(bound, PROBE_CELLS_BY_TOPICS if by_topics else PROBE_CELLS) & np.isfinite(bound)
    probe_pairs = _pairs_in_cells(table, cells, rows, first, weights)
    if topics is not None and by_topics:
        probe_pairs = _likeliest(table, cells, rows, probe_pairs, (bound, topics), weights)
    probed = _scored_pairs(table, cells, rows, probe_pairs, common, weights, same_country=same_country)
    threshold = _kth_best(probed[0], probed[2], count, k) - SCORE_MARGIN
    # Then every cell that can still reach it; where bounds are too loose to leave out much, every pair.
    chosen = np.isfinite(bound) & (bound >= threshold[:, None])
    in_chosen = int(np.diff(cells.indptr) @ chosen.sum(axis=0))
    # Complementarity's cell bound (the union of the members' topics) is loose where topics are many and
    # spread: the members of the chosen cells are then filtered on their own topics before being scored,
    # cell by cell where few cells are chosen, or over every candidate at once where many are.
    topic_filter = (bound, topics, threshold) if topics is not None and table.topic_bits else None
    many_chosen = in_chosen > FILTER_EVERY_ABOVE * count * len(table)
    if topic_filter is not None and many_chosen and np.isfinite(threshold).all():
        local, candidate = _reaching_members(table, cells, rows, topic_filter, weights)
        if len(local) > DENSE_SHARE * count * len(table):
            table._pruning_fell_back = True  # type: ignore[attr-defined]
            return scoring.rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
        pairs = (local, candidate)
    else:
        share = DENSE_SHARE if topic_filter is None else FILTERED_SHARE
        if in_chosen > share * count * len(table):
            # Bounds this loose here are likely as loose for the table's next blocks: they go the dense way at once.
            table._pruning_fell_back = True  # type: ignore[attr-defined]
            return scoring.rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
        pairs = _pairs_in_cells(table, cells, rows, chosen, weights, topic_filter)
    # The probe's pairs, and every candidate sharing a partner with its row, are scored already: the other
    # chosen pairs are scored, and the pairs of both taken together.
    local, candidate, score = (
        np.concatenate([probed_part, part])
        for probed_part, part in zip(
            probed,
            _scored_pairs(
                table,
                cells,
                rows,
                pairs,
                common,
                weights,
                same_country=same_country,
                scored=np.sort(probed[0] * len(table) + probed[1]),
            ),
            strict=True,
        )
    )
    # Below its row's threshold a pair cannot be in the top k (k pairs above it are known): not sorted.
    above = score >= threshold[local]
    top, top_scores, found = _best(local[above], candidate[above], score[above], count, k)
    # Places left empty (fewer than k allowed) hold the row itself, at -inf.
    empty = np.arange(k)[None, :] >= found[:, None]
    top[empty] = np.broadcast_to(rows[:, None], top.shape)[empty]
    shared = common.at(np.arange(count)[:, None] * len(table) + top)
    return TopArrays(
        rows=rows,
        top=top,
        scores=top_scores,
        features=dict(scoring.features(table, rows, cols=top, common_at_cols=shared)),
    )
