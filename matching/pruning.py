"""The exact top k without scoring every pair: cells of candidates, an upper bound per cell, and only the
cells that can still reach a city's top k scored pair by pair.

Candidates are grouped into cells of one country and one square of latitude and longitude. For a row
city i and a cell g, every feature of the score in matching/scoring.py is bounded from above by what
the cell's members can reach at best: the cell's largest population, degree and partners per country,
the union of its topics, whether one is the seat of a region or a district (the row's own seat times
the cell's for a pair of regional seats), the most partnered
region pair among its members' regions, the closest its members can be to i (the distance from i to
the cell's centre minus the cell's radius, by the triangle inequality), the country pair (one
country per cell). Partners in common are the one feature that no cell bound covers: the few
candidates that share a partner with i are always scored exactly.

For each row: score the members of the few cells with the highest bounds exactly, take the k-th best
allowed score as a threshold, then score exactly every cell whose bound reaches that threshold (minus a
margin far above float rounding). A candidate left out scores below the threshold, so below k allowed
candidates already found: the top k, ties to the lower position included, is the one a full (rows, N)
computation gives. The work is (rows, cells) bounds plus the pairs of the cells kept, not (rows, N).

The bounds need weights at or above zero (what the fit keeps); other weights fall back to the full
computation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import scoring
from matching.scoring import EARTH_RADIUS_KM, FEATURES, CityTable, TopArrays

# Cells hold at least this many cities on average: (rows, cells) bounds stay small, cells stay tight.
CITIES_PER_CELL = 4
# Cells also split by population (log10 steps), so that size and similar scale bound tightly.
POPULATION_BAND = 0.25
CELL_DEGREES = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 45.0, 180.0)
# Cells scored first, to find the threshold.
PROBE_CELLS = 32
# Kilometres added to each cell's radius against arccos rounding near zero, and the score margin
# kept below the threshold against float32 sums and rounding to SCORE_DECIMALS.
RADIUS_MARGIN_KM = 1.0
SCORE_MARGIN = 1e-3
# Bounds are computed for as many rows at a time as make a (rows, cells) float64 array of this size.
BOUND_CHUNK_BYTES = 512 * 1024
# Past this share of all pairs left to score, the plain (rows, N) computation is cheaper.
DENSE_SHARE = 0.05
# The same, counted before the members of the chosen cells are filtered on their own topics (a cheap step).
FILTERED_SHARE = 0.5


@dataclass(frozen=True)
class Cells:
    """Candidates grouped by cell: members of cell g are members[indptr[g]:indptr[g + 1]] (positions)."""

    of: npt.NDArray[np.int64]
    members: npt.NDArray[np.int64]
    indptr: npt.NDArray[np.int64]
    country: npt.NDArray[np.int64]
    centre: npt.NDArray[np.float64]
    radius_km: npt.NDArray[np.float64]
    log_population_min: npt.NDArray[np.float64]
    log_population_max: npt.NDArray[np.float64]
    log_degree_max: npt.NDArray[np.float64]
    partners_in_country_max: npt.NDArray[np.float64]
    prominence_max: npt.NDArray[np.float64]
    capital_any: npt.NDArray[np.float64]
    region_seat_any: npt.NDArray[np.float64]
    district_seat_any: npt.NDArray[np.float64]
    # The regions of the cell's members, cell by cell: regions of cell g are
    # regions[regions_indptr[g]:regions_indptr[g + 1]] (each once).
    regions: npt.NDArray[np.int64]
    regions_indptr: npt.NDArray[np.int64]
    # The partners of the cell's members, cell by cell: partners of cell g are
    # partners[partners_indptr[g]:partners_indptr[g + 1]] (positions, repeats kept).
    partners: npt.NDArray[np.int64]
    partners_indptr: npt.NDArray[np.int64]
    needs_any: npt.NDArray[np.float64]
    offers_any: npt.NDArray[np.float64]
    # The same unions as bits (the first 64 topics).
    needs_bits: npt.NDArray[np.uint64]
    offers_bits: npt.NDArray[np.uint64]

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
    members = np.lexsort((np.arange(size), of))
    indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(of, minlength=len(unique)), out=indptr[1:])
    starts = indptr[:-1]
    centre = np.add.reduceat(table.unit[members], starts, axis=0)
    centre /= np.maximum(np.linalg.norm(centre, axis=1, keepdims=True), 1e-12)
    spread = EARTH_RADIUS_KM * np.arccos(np.clip((table.unit * centre[of]).sum(axis=1), -1.0, 1.0))
    log_population = table.log_population.astype(np.float64)[members]
    degree = np.diff(table.indptr)
    # Each cell's distinct regions: the distinct (cell, region) pairs, sorted by cell.
    cell_regions = np.unique(of * (int(table.region_of.max()) + 1) + table.region_of)
    cell_of_region, regions = np.divmod(cell_regions, int(table.region_of.max()) + 1)
    regions_indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(cell_of_region, minlength=len(unique)), out=regions_indptr[1:])
    partners_indptr = np.zeros(len(unique) + 1, np.int64)
    np.cumsum(np.bincount(of, weights=degree, minlength=len(unique)).astype(np.int64), out=partners_indptr[1:])
    cells = Cells(
        of=of,
        members=members,
        indptr=indptr,
        country=unique[:, 0],
        centre=centre,
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
        regions=regions,
        regions_indptr=regions_indptr,
        partners=table.neighbours[scoring._ranges(table.indptr[members], degree[members])],
        partners_indptr=partners_indptr,
        needs_any=np.logical_or.reduceat(table.needs[members], starts, axis=0).astype(np.float64),
        offers_any=np.logical_or.reduceat(table.offers[members], starts, axis=0).astype(np.float64),
        needs_bits=np.bitwise_or.reduceat(table.needs_bits[members], starts),
        offers_bits=np.bitwise_or.reduceat(table.offers_bits[members], starts),
    )
    table._cells = cells  # type: ignore[attr-defined]
    return cells


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
    by_country: npt.NDArray[np.float64]
    # Cells with partners, and their partners' unit vectors (near_partner).
    with_partners: npt.NDArray[np.int64]
    partner_units: npt.NDArray[np.float64]
    # Whether any city has a topic (complementarity).
    topics: bool


def cell_terms(table: CityTable, cells: Cells, weights: Mapping[str, float], *, same_country: bool) -> CellTerms:
    w = {name: float(weights.get(name, 0.0)) for name in FEATURES}
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
    return CellTerms(
        weights=w,
        by_country=by_country,
        with_partners=np.flatnonzero(np.diff(cells.partners_indptr)),
        partner_units=table.unit[cells.partners],
        topics=bool(w["complementarity"]) and bool(table.needs.any() or table.offers.any()),
    )


def upper_bounds(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], weights: Mapping[str, float], *, same_country: bool
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64] | None]:
    """(len(rows), cells): no member of the cell scores above this for the row city, partners in common aside;
    and the part of it that complementarity adds (None when it adds nothing).

    Computed a few rows at a time: each term makes a temporary (rows, cells) array, and those of a few
    rows stay in the processor's cache where those of a whole block go to memory and back, three
    times slower (measured on the directory: 2.1 s with blocks of 256 rows, 0.6 s with 128)."""
    terms = cell_terms(table, cells, weights, same_country=same_country)
    step = max(1, BOUND_CHUNK_BYTES // (8 * len(cells)))
    bound = np.empty((len(rows), len(cells)))
    topics = np.zeros(bound.shape) if terms.topics else None
    for start in range(0, len(rows), step):
        chunk = slice(start, start + step)
        bound[chunk] = _upper_bounds(table, cells, rows[chunk], terms, None if topics is None else topics[chunk])
    return bound, topics


def _upper_bounds(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    terms: CellTerms,
    topics: npt.NDArray[np.float64] | None,
) -> npt.NDArray[np.float64]:
    """upper_bounds() of a few rows, one term per feature; complementarity's part also written into `topics`."""
    w = terms.weights
    lp = table.log_population.astype(np.float64)[rows][:, None]
    ld = table.log_degree.astype(np.float64)[rows][:, None]
    bound = terms.by_country[table.country[rows]]
    bound += w["size"] * lp + w["activity"] * ld + w["prominence"] * table.prominence.astype(np.float64)[rows][:, None]
    bound += w["regional_centre"] * table.region_seat.astype(np.float64)[rows][:, None]
    bound += w["district_centre"] * table.district_seat.astype(np.float64)[rows][:, None]
    if w["both_regional_centres"]:
        seat = table.region_seat.astype(np.float64)[rows][:, None]
        bound += w["both_regional_centres"] * seat * cells.region_seat_any
    if w["region_pair"]:
        # The most the row's region has partnered with any region of the cell.
        by_region = table.log_region_pairs[table.region_of[rows]][:, cells.regions].astype(np.float64)
        bound += w["region_pair"] * np.maximum.reduceat(by_region, cells.regions_indptr[:-1], axis=1)
    if w["capitals"]:
        bound += w["capitals"] * table.capital_f.astype(np.float64)[rows][:, None] * cells.capital_any
    if w["near_partner"]:
        bound += w["near_partner"] * -np.log10(_nearest_partner_bound_km(table, cells, rows, terms) + 100.0)
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
        gap = np.maximum(lp - cells.log_population_max, cells.log_population_min - lp)
        bound -= w["similar_scale"] * np.maximum(gap, 0.0)
    if w["distance"]:
        centre_km = EARTH_RADIUS_KM * np.arccos(np.clip(table.unit[rows] @ cells.centre.T, -1.0, 1.0))
        centre_km -= cells.radius_km
        bound -= w["distance"] * np.log10(np.maximum(centre_km, 0.0) + 100.0)
    if w["partners_in_country"]:
        bound += w["partners_in_country"] * table.log_partners_by_country[rows][:, cells.country]
    if w["hubs"]:
        bound += w["hubs"] * ld * cells.log_degree_max
    return bound


def _nearest_partner_bound_km(
    table: CityTable, cells: Cells, rows: npt.NDArray[np.int64], terms: CellTerms
) -> npt.NDArray[np.float64]:
    """(len(rows), cells): no member of the cell is nearer, in near_partner's sense, to the row city.

    Either way of near_partner is bounded: from the row to its members' partners (exact: the
    nearest of all the cell's partners), and from the members to the row's partners (the distance
    from each partner to the cell's centre, minus the cell's radius)."""
    nearest = np.full((len(rows), len(cells)), scoring.NO_PARTNER_KM)
    has = terms.with_partners
    if len(has):
        cosine = table.unit[rows] @ terms.partner_units.T
        kilometres = EARTH_RADIUS_KM * np.arccos(np.clip(cosine, -1.0, 1.0)) - RADIUS_MARGIN_KM
        nearest[:, has] = np.minimum.reduceat(kilometres, cells.partners_indptr[has], axis=1)
    starts, lengths = table.indptr[rows], table.indptr[rows + 1] - table.indptr[rows]
    with_partners = np.flatnonzero(lengths)
    if len(with_partners):
        partner = table.neighbours[scoring._ranges(starts[with_partners], lengths[with_partners])]
        to_centre = EARTH_RADIUS_KM * np.arccos(np.clip(table.unit[partner] @ cells.centre.T, -1.0, 1.0))
        offsets = np.cumsum(lengths[with_partners]) - lengths[with_partners]
        reach = np.minimum.reduceat(to_centre - cells.radius_km, offsets, axis=0)
        nearest[with_partners] = np.minimum(nearest[with_partners], reach)
    return np.maximum(nearest, 0.0)


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


def _scored_pairs(
    table: CityTable,
    cells: Cells,
    rows: npt.NDArray[np.int64],
    chosen: npt.NDArray[np.bool_],
    common: Common,
    weights: Mapping[str, float],
    *,
    same_country: bool,
    topic_filter: tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]] | None = None,
    sharing_partners: bool = True,
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.float32]]:
    """(local row, candidate, rounded score) of every allowed pair in the chosen cells, and of every
    allowed candidate sharing a partner with its row; or, if not `sharing_partners`, of the pairs in the
    chosen cells that share none.

    With `topic_filter` (bounds, their complementarity part, thresholds per row), a member of a chosen
    cell is scored only if the cell's bound, with the cell's complementarity replaced by the member's
    own (topics as bits, counted with popcount), still reaches its row's threshold."""
    size = len(table)
    local, cell = np.nonzero(chosen)
    lengths = cells.indptr[cell + 1] - cells.indptr[cell]
    candidate = cells.members[scoring._ranges(cells.indptr[cell], lengths)]
    if topic_filter is not None:
        bound, topics, threshold = topic_filter
        rest = np.repeat(bound[local, cell] - topics[local, cell], lengths)
        row_of = rows[np.repeat(local, lengths)]
        own = np.bitwise_count(table.needs_bits[row_of] & table.offers_bits[candidate]) + np.bitwise_count(
            table.offers_bits[row_of] & table.needs_bits[candidate]
        )
        reach = rest + float(weights["complementarity"]) * own >= threshold[np.repeat(local, lengths)]
        local, candidate = np.repeat(local, lengths)[reach], candidate[reach]
    else:
        local = np.repeat(local, lengths)
    extra_local, extra = np.divmod(common.keys, size)
    if sharing_partners and topic_filter is None:
        outside = ~chosen[extra_local, cells.of[extra]]
        local = np.concatenate([local, extra_local[outside]])
        candidate = np.concatenate([candidate, extra[outside]])
    elif sharing_partners:
        # Partners in common are not in the bounds: such candidates are scored whatever the filter said.
        local, candidate = np.divmod(
            np.union1d(local * size + candidate, extra_local * size + extra).astype(np.int64), size
        )
    else:
        # Left to the caller, which has them scored already.
        sharing = _member_of(common.keys, local * size + candidate)
        local, candidate = local[~sharing], candidate[~sharing]
    row = rows[local]
    keep = candidate != row
    if not same_country:
        keep &= table.country[candidate] != table.country[row]
    pair_keys = row * size + candidate
    keep &= ~_member_of(_sorted_keys(table.blocked, size, both_ways=True), pair_keys)
    keep &= ~_member_of(_sorted_keys(table.dismissed, size, both_ways=False), pair_keys)
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
    probe = min(PROBE_CELLS, len(cells))
    first = np.zeros(bound.shape, np.bool_)
    first[np.arange(count)[:, None], np.argpartition(-bound, probe - 1, axis=1)[:, :probe]] = True
    first &= np.isfinite(bound)
    probed = _scored_pairs(table, cells, rows, first, common, weights, same_country=same_country)
    threshold = _kth_best(probed[0], probed[2], count, k) - SCORE_MARGIN
    # Then every cell that can still reach it; where bounds are too loose to leave out much, every pair.
    chosen = np.isfinite(bound) & (bound >= threshold[:, None])
    # Complementarity's cell bound (the union of the members' topics) is loose where topics are many and
    # spread: the members of the chosen cells are then filtered on their own topics before being scored.
    topic_filter = (bound, topics, threshold) if topics is not None and table.topic_bits else None
    share = DENSE_SHARE if topic_filter is None else FILTERED_SHARE
    if int(np.diff(cells.indptr) @ chosen.sum(axis=0)) > share * count * len(table):
        # Bounds this loose here are likely as loose for the table's next blocks: they go the dense way at once.
        table._pruning_fell_back = True  # type: ignore[attr-defined]
        return scoring.rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
    # The probe's pairs, and every candidate sharing a partner with its row, are scored already: the other
    # chosen cells are scored, and the pairs of both taken together.
    local, candidate, score = (
        np.concatenate([probed_part, part])
        for probed_part, part in zip(
            probed,
            _scored_pairs(
                table,
                cells,
                rows,
                chosen & ~first,
                common,
                weights,
                same_country=same_country,
                topic_filter=topic_filter,
                sharing_partners=False,
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
