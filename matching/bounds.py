"""Upper bounds, for a few row cities, of what every cell's members can score (matching/pruning.py): one term
per feature of matching/scoring.py, from what the cell's members can reach at best.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from matching import scoring
from matching.cells import Cells, CellTerms, cell_terms
from matching.table import EARTH_RADIUS_KM, CityTable, ranges

# The bounds find distances from float32 cosines of unit vectors, raised by this much (above float32's rounding
# of such a cosine, a few units of 1e-7) before the arccos: a distance can only come out shorter, the bound
# higher (by at most a few kilometres, near zero).
COSINE_MARGIN = 2e-6
# Bounds are computed for as many rows at a time as make (rows, cells) arrays of this size at 8 bytes a value
# (set with float64 bounds; the float32 ones measured no faster with twice the rows, and slower past that).
BOUND_CHUNK_BYTES = 512 * 1024


def upper_bounds(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], weights: Mapping[str, float], *, same_country: bool
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32] | None]:
    """(len(rows), cells): no member of the cell scores above this for the row city, partners in common aside;
    and the part of it that complementarity adds (None when it adds nothing).

    In float32, whose rounding (a few millionths over the sum of the terms) stays far within pruning.SCORE_MARGIN:
    four times faster than float64 (measured), half the memory to stream. Distances come from float32
    cosines raised by COSINE_MARGIN first, so that their rounding can only make them shorter.

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
        reach = ranges(starts, lengths)
        # Each row's cells come once: the additions do not collide.
        bound[np.repeat(np.arange(len(rows)), lengths), cells.region_cells[reach]] += (
            w["region_pair"] * cells.region_cells_value[reach]
        ).astype(np.float32)
    if w["both_regional_centres"] and table.region_seat[rows].any():
        bound += w["both_regional_centres"] * table.region_seat[rows][:, None] * terms.region_seat_any
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
        for slot in range(1, terms.partner_slots.shape[1]):
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
        partner = table.neighbours[ranges(starts[with_partners], lengths[with_partners])]
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
