"""Candidates grouped into cells for matching/pruning.py, and what a block's bounds take from the cells
alone: made once per table (the table keeps them), since one city's recompute loads the table again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from matching.scoring import FEATURES, NO_PARTNER_KM
from matching.table import EARTH_RADIUS_KM, CityTable, ranges

# Cells hold at least this many cities on average: (rows, cells) bounds stay small, cells stay tight.
CITIES_PER_CELL = 4
# Cells also split by population (log10 steps), so that size and similar scale bound tightly.
POPULATION_BAND = 0.25
CELL_DEGREES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 45.0, 180.0)
# near_partner's bound reads each cell's first partners one slot at a time (a slot: the s-th partner of every
# cell with more than s), the others cell by cell.
PARTNER_SLOTS = 4
# Kilometres added to each cell's radius against arccos rounding near zero.
RADIUS_MARGIN_KM = 1.0


@dataclass(frozen=True)
class Cells:
    """Candidates grouped by cell: members of cell g are members[indptr[g]:indptr[g + 1]] (positions)."""

    of: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]
    country: npt.NDArray[np.int64]
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
    # Cells with partners first, the most partnered first (then in key order): near_partner's bound works on
    # those only, and on slices of them (the cells with more than s partners are a prefix): a slice of the
    # bounds is updated in place several times faster than scattered columns (measured).
    partners = np.bincount(of, weights=np.diff(table.indptr), minlength=len(unique))
    renumber = np.empty(len(unique), np.int64)
    renumber[np.lexsort((np.arange(len(unique)), -partners))] = np.arange(len(unique))
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
        partners=table.neighbours[ranges(table.indptr[members], degree[members])],
        partners_indptr=partners_indptr,
        needs_any=np.logical_or.reduceat(table.needs[members], starts, axis=0).astype(np.float64),
        offers_any=np.logical_or.reduceat(table.offers[members], starts, axis=0).astype(np.float64),
        blocked_keys=_sorted_keys(table.blocked, size, both_ways=True),
        dismissed_keys=_sorted_keys(table.dismissed, size, both_ways=False),
    )
    table._cells = cells  # type: ignore[attr-defined]
    return cells


def _region_reach(
    table: CityTable, of: npt.NDArray[np.int64], cells: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """region_pair's bound for every region against every cell, keeping only the cells above zero (Cells'
    region_cells*): most regions have partnered with few others. cell_terms() adds them, weighted, to its
    (regions, cells) table; a (rows, each cell's regions) table cost half of all the bounds (measured: 100,000
    cities)."""
    regions = int(table.region_of.max(initial=0)) + 1
    # Each cell's distinct regions as (region, cell), sorted by region: the cells of region r in one slice.
    by_region = np.unique(table.region_of * cells + of)
    region_of_pair, cell_of_pair = np.divmod(by_region, cells)
    starts = np.searchsorted(region_of_pair, np.arange(regions + 1))
    # Every region pair that has partnered, spread over the cells holding the second region.
    first, second = np.nonzero(table.log_region_pairs)
    lengths = starts[second + 1] - starts[second]
    region = np.repeat(first, lengths)
    cell = cell_of_pair[ranges(starts[second], lengths)]
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


def _sorted_keys(pairs: npt.NDArray[np.int64], size: int, *, both_ways: bool) -> npt.NDArray[np.int64]:
    pairs = pairs.reshape(-1, 2)
    keys = pairs[:, 0] * size + pairs[:, 1]
    if both_ways:
        keys = np.concatenate([keys, pairs[:, 1] * size + pairs[:, 0]])
    return np.unique(keys)


@dataclass(frozen=True)
class CellTerms:
    """What the bounds take from the cells alone, made once per table, weights and same_country (cell_terms())."""

    weights: dict[str, float]
    # The terms that depend on the row's region and the cell only (its country's and region_pair's): a
    # (regions, cells) table, one row gathered per city (-inf for the row's own country, unless asked).
    by_region: npt.NDArray[np.float32]
    # The cells' figures the bounds combine with each row's, in float32 like the bounds: the smallest and largest
    # log population times similar_scale's weight, the largest log degree, whether any member is a capital or a
    # regional seat, the radius.
    similar_scale_low: npt.NDArray[np.float32]
    similar_scale_high: npt.NDArray[np.float32]
    log_degree_max: npt.NDArray[np.float32]
    capital_any: npt.NDArray[np.float32]
    region_seat_any: npt.NDArray[np.float32]
    radius_km: npt.NDArray[np.float32]
    # Cells with partners (the first cells), and their partners' unit vectors (near_partner), slot by slot:
    # the first partner of every cell with partners, then the second of every cell with two or more, and so
    # on for PARTNER_SLOTS slots (slot s holds partner_slot_sizes[s] cells, a prefix: cells_of() puts the most
    # partnered first); then the other partners of the cells with more, cell by cell from more_indptr.
    with_partners: npt.NDArray[np.int64]
    partner_units: npt.NDArray[np.float32]
    partner_slot_sizes: npt.NDArray[np.int64]
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
    with_partners = np.flatnonzero(np.diff(cells.partners_indptr))
    # near_partner's term for the cells without partners: a member's nearest partner is the row's (bounds.py).
    by_country[:, len(with_partners) :] += -w["near_partner"] * np.log10(NO_PARTNER_KM + 100.0)
    if not same_country:
        by_country[np.arange(len(table.country_codes))[:, None] == cells.country[None, :]] = -np.inf
    # region_pair's bound, the row's region against each cell, added to its country's row: a row's bound then
    # starts from one gathered row, where adding the cells its region has partnered with row by row cost a
    # fifth of the bounds (measured at 100,000 cities, 80 regions per country: a row's region reaches
    # about 1,700 cells). The table is regions times cells (47 MB there).
    regions = len(cells.region_cells_indptr) - 1
    country_of_region = np.zeros(regions, np.int64)
    country_of_region[table.region_of] = table.country
    by_region = by_country.astype(np.float32)[country_of_region]
    if w["region_pair"]:
        region = np.repeat(np.arange(regions), np.diff(cells.region_cells_indptr))
        by_region[region, cells.region_cells] += (w["region_pair"] * cells.region_cells_value).astype(np.float32)
    first, count = cells.partners_indptr[with_partners], np.diff(cells.partners_indptr)[with_partners]
    assert not len(with_partners) or with_partners[-1] == len(with_partners) - 1, "cells with partners come first"
    assert (np.diff(count) <= 0).all(), "the most partnered cells come first"
    # Cells with more than s partners, for each slot s: -count ascends.
    slot_sizes = np.searchsorted(-count, -np.arange(min(PARTNER_SLOTS, int(count.max(initial=0)))), side="left")
    more = count > PARTNER_SLOTS
    order = np.concatenate(
        [first[:size] + slot for slot, size in enumerate(slot_sizes)]
        + [ranges(first[more] + PARTNER_SLOTS, count[more] - PARTNER_SLOTS)]
    )
    return CellTerms(
        weights=w,
        by_region=by_region,
        similar_scale_low=(w["similar_scale"] * cells.log_population_min).astype(np.float32),
        similar_scale_high=(w["similar_scale"] * cells.log_population_max).astype(np.float32),
        log_degree_max=cells.log_degree_max.astype(np.float32),
        capital_any=cells.capital_any.astype(np.float32),
        region_seat_any=cells.region_seat_any.astype(np.float32),
        radius_km=cells.radius_km.astype(np.float32),
        with_partners=with_partners,
        partner_units=cells.unit32[cells.partners[order]],
        partner_slot_sizes=slot_sizes,
        more_indptr=np.concatenate([[0], np.cumsum(count[more] - PARTNER_SLOTS)]),
        topics=bool(w["complementarity"]) and bool(table.needs.any() or table.offers.any()),
    )


def topic_word(table: CityTable) -> tuple[type[np.unsignedinteger[Any]], int]:
    """Up to 32 topics, a pair's topics in common both ways are one popcount: the row's needs and offers in
    one word against the candidate's offers and needs in the same places, offers in the low bits and needs
    shifted past them (up to 16 topics, a 32-bit word: the popcounts run half as long)."""
    return (np.uint32, 16) if table.needs.shape[1] <= 16 else (np.uint64, 32)


def row_words(table: CityTable, rows: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """The row cities' needs and offers as topic words (topic_word()), to AND with candidate_words()."""
    word, shift = topic_word(table)
    return (table.needs_bits[rows] | (table.offers_bits[rows] << np.uint64(shift))).astype(word)


def candidate_words(
    table: CityTable, needs: npt.NDArray[np.uint64], offers: npt.NDArray[np.uint64]
) -> npt.NDArray[Any]:
    """Candidates' needs and offers as topic words, offers where a row's needs are (topic_word())."""
    word, shift = topic_word(table)
    return (offers | (needs << np.uint64(shift))).astype(word)


def member_topics(
    table: CityTable, cells: Cells
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint64], npt.NDArray[np.uint64], npt.NDArray[Any]]:
    """Each candidate's cell, needs, offers and topic word (topic_word()), in the cells' member order, made once per
    table (the table keeps them): a cell's bound is then read by its members in a row (cache-friendly)."""
    cached: tuple[Any, ...] | None = getattr(table, "_member_topics", None)
    if cached is None:
        needs, offers = table.needs_bits[cells.members], table.offers_bits[cells.members]
        cell_of_member = np.repeat(np.arange(len(cells)), np.diff(cells.indptr))
        cached = (cell_of_member, needs, offers, candidate_words(table, needs, offers))
        table._member_topics = cached  # type: ignore[attr-defined]
    return cached
