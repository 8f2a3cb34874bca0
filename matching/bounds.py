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
# of such a cosine, a few units of 1e-7) before the distance is taken: a distance can only come out shorter, the
# bound higher (by at most a few kilometres, near zero).
COSINE_MARGIN = 2e-6
# Bounds are computed for as many rows at a time as make (rows, cells) arrays of this size at 8 bytes a value
# (100,000 cities: a tenth faster than half of it, no faster with twice; measured).
BOUND_CHUNK_BYTES = 1024 * 1024


def upper_bounds(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    weights: Mapping[str, float],
    *,
    same_country: bool,
    topics: bool = True,
) -> npt.NDArray[np.float32]:
    """(len(rows), cells): no member of the cell scores above this for the row city, partners in common aside,
    and complementarity aside unless `topics` (where the caller counts each candidate's own topics instead).

    In float32, whose rounding (a few millionths over the sum of the terms) stays far within pruning.SCORE_MARGIN:
    four times faster than float64 (measured), half the memory to stream. Distances come from float32
    cosines raised by COSINE_MARGIN first, so that their rounding can only make them shorter.

    Computed a few rows at a time: each term makes a temporary (rows, cells) array, and those of a few
    rows stay in the processor's cache where those of a whole block go to memory and back, three
    times slower (measured on the directory: 2.1 s with blocks of 256 rows, 0.6 s with 128)."""
    terms = cell_terms(table, cells, weights, same_country=same_country)
    step = max(1, BOUND_CHUNK_BYTES // (8 * len(cells)))
    bound = np.empty((len(rows), len(cells)), np.float32)
    for start in range(0, len(rows), step):
        chunk = slice(start, start + step)
        bound[chunk] = _upper_bounds(table, cells, rows[chunk], terms, topics=topics and terms.topics)
    return bound


def _upper_bounds(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    terms: CellTerms,
    *,
    topics: bool,
) -> npt.NDArray[np.float32]:
    """upper_bounds() of a few rows, one term per feature (Python floats times float32 arrays stay float32)."""
    w = terms.weights
    lp = table.log_population[rows][:, None]
    ld = table.log_degree[rows][:, None]
    bound = terms.by_region[table.region_of[rows]]
    # The terms of the row city alone, added together first: one pass over the chunk instead of five.
    bound += (
        w["size"] * lp
        + w["activity"] * ld
        + w["prominence"] * table.prominence[rows][:, None]
        + w["regional_centre"] * table.region_seat[rows][:, None]
        + w["district_centre"] * table.district_seat[rows][:, None]
    )
    if w["both_regional_centres"] and table.region_seat[rows].any():
        bound += w["both_regional_centres"] * table.region_seat[rows][:, None] * terms.region_seat_any
    if w["capitals"] and table.capital[rows].any():
        bound += w["capitals"] * table.capital_f[rows][:, None] * terms.capital_any
    if w["near_partner"]:
        _add_near_partner_bound(table, cells, rows, terms, bound)
    if topics:
        # Topics the row needs that a member offers and the other way, at most: with the union of the members'.
        # (Up to 64 topics, pruning.py counts each candidate's own instead, from popcounts.)
        needs, offers = table.needs_f[rows].astype(np.float64), table.offers_f[rows].astype(np.float64)
        bound += (w["complementarity"] * (needs @ cells.offers_any.T + offers @ cells.needs_any.T)).astype(np.float32)
    if w["similar_scale"]:
        # -w * the gap from the row's size to the cell's nearest, max(x, low) - min(x, high) at the row's x:
        # four passes where the gap's own expression makes six.
        size = w["similar_scale"] * lp
        part = np.maximum(size, terms.similar_scale_low)
        bound -= part
        bound += np.minimum(size, terms.similar_scale_high, out=part)
    if w["distance"]:
        bound += _distance_term(cells.unit32[rows] @ cells.centre32.T, w["distance"], terms.radius_km)
    if w["partners_in_country"]:
        bound += w["partners_in_country"] * table.log_partners_by_country[rows][:, cells.country]
    if w["hubs"] and ld.any():
        bound += w["hubs"] * ld * terms.log_degree_max
    return bound


def _distance_term(
    cosine: npt.NDArray[np.float32], weight: float, less_km: npt.NDArray[np.float32] | float = 0.0
) -> npt.NDArray[np.float32]:
    """At least -weight * log10(km + 100), km: the great-circle distance of these float32 cosines, made no
    longer by COSINE_MARGIN, minus `less_km` (a cell's radius), at least 0. Computed in place of the cosines
    (returned), one pass per operation and no temporary: the bounds' two distance terms are their costliest.

    The distance is the chord's, R * sqrt(2 - 2 cos), never longer than the arc, so the term can only come out
    higher (at 2,000 km by 0.002 of a log10, at 10,000 km by 0.045, at the far side of the Earth by 0.195): a
    square root is a tenth of an arccos's cost, and the natural logarithm half of log10's (measured, float32,
    on this processor's AVX2)."""
    cosine += np.float32(COSINE_MARGIN)
    np.minimum(cosine, np.float32(1.0), out=cosine)
    cosine *= np.float32(-2.0)
    cosine += np.float32(2.0)
    np.sqrt(cosine, out=cosine)
    cosine *= np.float32(EARTH_RADIUS_KM)
    cosine += np.float32(100.0) - np.asarray(less_km, np.float32)
    np.maximum(cosine, np.float32(100.0), out=cosine)
    np.log(cosine, out=cosine)
    cosine *= np.float32(-weight / np.log(10.0))
    return cosine


def _add_near_partner_bound(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], terms: CellTerms, bound: npt.NDArray[np.float32]
) -> None:
    """Adds to `bound` (len(rows), cells) what near_partner can add at most for each cell's members.

    Either way of near_partner is bounded: from the row to its members' partners (exact: the
    nearest of all the cell's partners), and from the members to the row's partners (the distance
    from each partner to the cell's centre, minus the cell's radius). Most rows have no partner and most
    cells none either: their term is the one of NO_PARTNER_KM, in the cells' part of the bound (cell_terms()), and only
    the cells with partners (and the rows with partners) are worked out."""
    weight = terms.weights["near_partner"]
    far = np.float32(-weight * np.log10(scoring.NO_PARTNER_KM + 100.0))
    has = len(terms.with_partners)
    # The cells without partners have the term of NO_PARTNER_KM already (in terms.by_region); with no cell
    # partnered, the rows with partners below have nothing to replace.
    near = np.empty((len(rows), 0), np.float32)
    if has:
        # The nearest partner of each cell is the one of highest cosine: the cosines are reduced per cell (a few
        # slots of contiguous columns, then the partners past them cell by cell), and only the cells' highest
        # turned into the term. A reduceat over every cell's partners cost more than the rest of the bounds
        # (cells of one partner), and gathering each slot's columns a third of near_partner's bound (measured).
        cosine = cells.unit32[rows] @ terms.partner_units.T
        # The first slot's cosines are the highest so far; each later slot raises a prefix of them in place.
        sizes = terms.partner_slot_sizes
        near = cosine[:, : sizes[0]]
        for start, size in zip(np.cumsum(sizes)[:-1], sizes[1:], strict=True):
            np.maximum(near[:, :size], cosine[:, start : start + size], out=near[:, :size])
        if len(terms.more_indptr) > 1:
            more = np.maximum.reduceat(cosine[:, sizes.sum() :], terms.more_indptr[:-1], axis=1)
            np.maximum(near[:, : more.shape[1]], more, out=near[:, : more.shape[1]])
        # The cells with partners come first (cells_of).
        bound[:, :has] += _distance_term(near, weight)
    starts, lengths = table.indptr[rows], table.indptr[rows + 1] - table.indptr[rows]
    with_partners = np.flatnonzero(lengths)
    if len(with_partners):
        # Rows with partners of their own: the nearer of both ways, the higher term, in place of the above.
        partner = table.neighbours[ranges(starts[with_partners], lengths[with_partners])]
        to_centre = _distance_term(cells.unit32[partner] @ cells.centre32.T, weight, terms.radius_km)
        offsets = np.cumsum(lengths[with_partners]) - lengths[with_partners]
        nearest = np.maximum.reduceat(to_centre, offsets, axis=0)
        nearest[:, :has] -= near[with_partners]
        nearest[:, has:] -= far
        bound[with_partners] += np.maximum(nearest, np.float32(0.0), out=nearest)
