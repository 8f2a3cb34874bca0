"""The exact top k without scoring every pair: cells of candidates, an upper bound per cell, and only the
cells that can still reach a city's top k scored pair by pair.

Candidates are grouped into cells of one country, one square of latitude and longitude, one band of
population and one kind of seat (none, a district's, a region's or the capital). For a row city i and
a cell g, every feature of the score in matching/scoring.py is bounded from above by what the cell's
members can reach at best: the cell's largest population, degree and partners per country, whether
one is the seat of a region or a district (for a pair of regional seats, the row's own seat times the
cell's), the most partnered region pair among its members' regions, the closest its members can be to
i (the distance from i to the cell's centre minus the cell's radius, by the triangle inequality), the
country pair (one country per cell). Complementarity is counted for each candidate itself where topics
fit in 64 bits (a popcount per pair: a cell's union of topics bounds loosely where topics are many and
spread), and bounded by that union beyond. Partners in common are the one feature that no cell bound
covers: the few candidates that share a partner with i are always scored exactly.

For each row: score exactly a few candidates likely to rank high (the members of a few cells of high bound;
where topics are counted pair by pair, the candidates sharing the most topics with the row whose cells reach
highest), take the k-th best allowed score as a threshold, then score exactly every candidate that can still
reach it (minus a margin far above float rounding): the members of the cells whose bound reaches it, or,
with topics counted pair by pair, every candidate whose cell's bound plus its own topics reaches it. A
candidate left out scores below the threshold, so below k allowed candidates already found: the top k, ties
to the lower position included, is the one a full (rows, N) computation gives. The work is (rows, cells)
bounds in float32, a few byte-wide operations per (row, candidate) at most, and the pairs kept, not (rows, N)
scores of every feature.

The bounds need weights at or above zero (what the fit keeps); other weights fall back to the full
computation. The cells are made in matching/cells.py, their bounds in matching/bounds.py; this module
finds the threshold and the candidates that can still reach it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching import scoring
from matching.bounds import upper_bounds
from matching.cells import Cells, cell_terms, cells_of, member_topics, row_words
from matching.scoring import FEATURES, TopArrays
from matching.table import CityTable, ranges, topics_in_common

# Cells scored first, to find the threshold (their every member), chosen among groups of neighbouring cells.
PROBE_CELLS = 32
PROBE_GROUP = 16
# Where topics are counted pair by pair, this many pairs per row are scored first: of the candidates with at
# least PROBE_TOPICS topics in common with the row (or one fewer), those whose cells' bounds reach highest. A
# row with too few such candidates probes PROBE_CELLS_BY_TOPICS cells, the likeliest member of each (measured
# at 100,000 cities: more cells than without topics give a threshold much nearer the final one).
PROBE_PAIRS = 64
PROBE_TOPICS = 3
PROBE_CELLS_BY_TOPICS = 128
# The score margin kept below the threshold against float32 sums (the bounds') and rounding to SCORE_DECIMALS.
SCORE_MARGIN = 1e-3
# Past this share of all pairs left to score, the plain (rows, N) computation is cheaper.
DENSE_SHARE = 0.05
# Where topics are counted pair by pair, rows at a time: as many as make (rows, N) arrays of this size, at 8 bytes
# a pair in _own_topics() and _reaching_members() (at 100,000 cities, five rows: a few percent faster than one;
# measured), at one byte in _most_in_common()'s scan of the counts.
MEMBER_CHUNK_BYTES = 4 * 1024 * 1024
# Where the probe picks the best few of many more pairs a row (more than PICK_BY_HISTOGRAM times as many), the
# pairs below each row's few best are left out by a histogram of the scores in this many buckets before the
# sort (at 100,000 cities the probe sorts about 600 pairs a row to keep 64: a third of its time, measured).
PICK_BY_HISTOGRAM = 4
HISTOGRAM_BUCKETS = 1024


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


def _member_of(sorted_keys: npt.NDArray[np.int64], keys: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    if not len(sorted_keys):
        return np.zeros(keys.shape, np.bool_)
    where = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[where] == keys


def _pairs_in_cells(cells: Cells, chosen: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(local row, candidate) of every member of the chosen cells."""
    # flatnonzero: several times faster than a 2-d nonzero (measured).
    local, cell = np.divmod(np.flatnonzero(chosen), chosen.shape[1])
    lengths = cells.indptr[cell + 1] - cells.indptr[cell]
    return np.repeat(local, lengths), cells.members[ranges(cells.indptr[cell], lengths)]


def _reaching_members(
    table: CityTable,
    cells: Cells,
    own: npt.NDArray[np.uint8],
    bound: npt.NDArray[np.float32],
    threshold: npt.NDArray[np.float64],
    weights: Mapping[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """(local row, candidate) of every candidate whose cell's bound (complementarity left out), plus its own
    topics in common with the row (`own`, _own_topics()), reaches the row's threshold.

    Compared over every candidate at once: a byte per pair in the cells' member order, a few rows at a time,
    rather than the members of the cells within reach walked by index lists (a few dozen operations each;
    with topics many and spread, a cell's union of topics would leave most cells within reach)."""
    cell_of_member = member_topics(table, cells)[0]
    # A row with no threshold (fewer than k candidates probed) takes every candidate of another country.
    threshold = np.maximum(threshold, -1e30).astype(np.float32)
    step = max(1, MEMBER_CHUNK_BYTES // (8 * len(table)))
    found_local, found_member = [], []
    for start in range(0, len(own), step):
        chunk = slice(start, start + step)
        # The topics in common each cell's members need to reach the threshold: a small integer per cell, so
        # that each pair compares one byte (255: out of reach). Rounded down by a hair, which can only keep
        # a pair more; in float32, like the bounds.
        short = threshold[chunk, None] - bound[chunk]
        short *= np.float32(1.0 / weights["complementarity"])
        need = np.clip(np.ceil(short - np.float32(1e-4), out=short), 0, 255, out=short).astype(np.uint8)
        # Each member's cell's need, by np.take along the rows (twice as fast as np.repeat by the cells' sizes at
        # 100,000 cities, measured), and flatnonzero: several times faster than a 2-d nonzero (measured).
        local, member = np.divmod(np.flatnonzero(own[chunk] >= np.take(need, cell_of_member, axis=1)), len(table))
        found_local.append(local + start)
        found_member.append(member)
    return np.concatenate(found_local), cells.members[np.concatenate(found_member)]


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


def _row_then_descending(local: npt.NDArray[np.int64], score: npt.NDArray[np.float32]) -> npt.NDArray[np.uint64]:
    """One integer per pair that sorts by row, then by score from the highest: the row in the high 32 bits, the
    float32 score's bits, flipped to sort descending, in the low."""
    bits = score.astype(np.float32).view(np.uint32).astype(np.uint64)
    # Floats sort like these integers: a negative one with every bit flipped, any other with its sign bit set.
    ascending = np.where(bits >> np.uint64(31), bits ^ np.uint64(0xFFFFFFFF), bits | np.uint64(0x80000000))
    return (local.astype(np.uint64) << np.uint64(32)) | (np.uint64(0xFFFFFFFF) - ascending)


def _best_of_each_row(
    local: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, count: int
) -> npt.NDArray[np.int64]:
    """Positions of the `count` highest scores of each row (ties: the earlier position), grouped by row. Scores
    are finite or -inf."""
    if len(local) <= PICK_BY_HISTOGRAM * count * rows:
        return _sorted_best_of_each_row(local, score, rows, count)
    near = np.flatnonzero(_near_the_best(local, score, rows, count))
    return near[_sorted_best_of_each_row(local[near], score[near], rows, count)]


def _near_the_best(
    local: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, count: int
) -> npt.NDArray[np.bool_]:
    """The pairs in or above the histogram bucket of their row's `count`-th highest score: each row's `count`
    highest among them, and its ties. Buckets follow the scores (a higher score, the same bucket or a higher one:
    each step below keeps the order), -inf in the lowest; one bincount of (row, bucket) counts them."""
    finite = np.isfinite(score)
    bucket = np.zeros(len(score), np.int64)
    if finite.any():
        low, high = score[finite].min(), score[finite].max()
        scale = np.float32((HISTOGRAM_BUCKETS - 1) / max(float(high - low), 1e-30))
        bucket[finite] = np.minimum(((score[finite] - low) * scale).astype(np.int64), HISTOGRAM_BUCKETS - 1)
    counts = np.bincount(local * HISTOGRAM_BUCKETS + bucket, minlength=rows * HISTOGRAM_BUCKETS)
    # Per row, from the highest bucket down: how many pairs are in that bucket or above.
    from_the_top = np.cumsum(counts.reshape(rows, HISTOGRAM_BUCKETS)[:, ::-1], axis=1)
    reached = from_the_top >= count
    # The bucket where the row reaches `count` pairs; a row with fewer keeps every pair (bucket 0).
    cutoff = np.where(reached.any(axis=1), HISTOGRAM_BUCKETS - 1 - reached.argmax(axis=1), 0)
    return bucket >= cutoff[local]


def _sorted_best_of_each_row(
    local: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, count: int
) -> npt.NDArray[np.int64]:
    """_best_of_each_row() by sorting every pair."""
    keys = _row_then_descending(local, score)
    bits = max(1, len(local).bit_length())
    if max(rows - 1, 0).bit_length() + 32 + bits <= 64:
        # Each pair's position in the low bits makes the keys distinct: sorting the values gives the stable
        # order, several times faster than a stable argsort (measured: 7 against 20 us a row at 100,000 cities).
        keys = (keys << np.uint64(bits)) | np.arange(len(local), dtype=np.uint64)
        order = (np.sort(keys) & np.uint64((1 << bits) - 1)).astype(np.int64)
    else:
        order = np.argsort(keys, kind="stable")
    place = np.arange(len(order)) - np.searchsorted(local[order], np.arange(rows))[local[order]]
    return order[place < count]


def _kth_best(
    local: npt.NDArray[np.int64], score: npt.NDArray[np.float32], rows: int, k: int
) -> npt.NDArray[np.float64]:
    """The k-th best score of each row (-inf where a row has fewer than k pairs), from one sort of one integer
    key per pair (row, then score descending) rather than _best()'s sort of three keys."""
    keys = np.sort(_row_then_descending(local, score))
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
    bound: npt.NDArray[np.float32],
    weights: Mapping[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Of the probe cells' members (`pairs`, grouped by row and cell), the likeliest of each cell, and of those
    the PROBE_PAIRS of each row that reach highest: a member reaches its cell's bound (complementarity left
    out) plus its own topics in common with the row.

    The probe's cells hold thousands of members per row, most far below their cell's bound: one good member
    from each of many cells gives a threshold near the final one for a fraction of the scoring (the threshold
    decides how many candidates the second step scores)."""
    local, candidate = pairs
    if not len(local):
        return pairs
    own = topics_in_common(table, rows[local], candidate)
    cell = cells.of[candidate]
    reach = np.take(bound, local * bound.shape[1] + cell) + np.float32(weights["complementarity"]) * own
    # Each (row, cell) group's first member of the highest reach.
    starts = np.flatnonzero(np.r_[True, (local[1:] != local[:-1]) | (cell[1:] != cell[:-1])])
    highest = np.maximum.reduceat(reach, starts)
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(local)]))
    at_highest = np.flatnonzero(reach == highest[group])
    best = at_highest[np.r_[True, group[at_highest][1:] != group[at_highest][:-1]]]
    # Then the best PROBE_PAIRS of each row.
    keep = best[_best_of_each_row(local[starts], highest, len(rows), PROBE_PAIRS)]
    return local[keep], candidate[keep]


def _own_topics(table: CityTable, cells: Cells, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
    """(len(rows), N): the topics in common of each row city with every candidate, in the cells' member order
    (complementarity's count), from one popcount per pair: arrays laid out by cell, so that a cell's bound is
    read by its members in a row. Made once per block, for the probe and for the filter of the candidates."""
    _cell_of_member, needs, offers, words = member_topics(table, cells)
    own = np.empty((len(rows), len(table)), np.uint8)
    step = max(1, MEMBER_CHUNK_BYTES // (8 * len(table)))
    for start in range(0, len(rows), step):
        row = rows[start : start + step, None]
        if table.needs.shape[1] <= 32:
            np.bitwise_count(row_words(table, row) & words, out=own[start : start + step])
        else:
            own[start : start + step] = np.bitwise_count(table.needs_bits[row] & offers) + np.bitwise_count(
                table.offers_bits[row] & needs
            )
    return own


def _most_in_common(
    table: CityTable,
    cells: Cells,
    own: npt.NDArray[np.uint8],
    bound: npt.NDArray[np.float32],
    weights: Mapping[str, float],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """The probe where topics are counted pair by pair: of the candidates with the most topics in common with
    the row (`own`: at least PROBE_TOPICS, or one fewer where fewer than PROBE_PAIRS have that many), the
    PROBE_PAIRS that reach highest: their cell's bound (complementarity left out) plus their own topics.
    Rows with too few such candidates (few topics of their own) get none here.

    Where topics weigh (a matching topic is worth 1.5 standard deviations of the score), a row's best
    candidates share the most topics with it: a threshold from them is near the final one (measured at
    100,000 cities: 187 candidates a row left to score after it, against about 300 after the best members of
    the best cells, and 113 after the final k-th best score itself)."""
    rows = len(own)
    step = max(1, MEMBER_CHUNK_BYTES // len(table))
    found_local, found_member = [], []
    for start in range(0, rows, step):
        chunk = own[start : start + step]
        # The most topics first (a few candidates in a thousand); one fewer only for the rows short of pairs.
        local, member = np.divmod(np.flatnonzero(chunk >= PROBE_TOPICS), len(table))
        short = np.flatnonzero(np.bincount(local, minlength=len(chunk)) < PROBE_PAIRS)
        fewer_local, fewer_member = np.divmod(np.flatnonzero(chunk[short] == PROBE_TOPICS - 1), len(table))
        fewer_local = short[fewer_local]
        enough = np.bincount(np.concatenate([local, fewer_local]), minlength=len(chunk)) >= PROBE_PAIRS
        keep, fewer_keep = enough[local], enough[fewer_local]
        found_local += [local[keep] + start, fewer_local[fewer_keep] + start]
        found_member += [member[keep], fewer_member[fewer_keep]]
    local, member = np.concatenate(found_local), np.concatenate(found_member)
    have = own[local, member]
    cell_of_member = member_topics(table, cells)[0]
    at = local * bound.shape[1] + cell_of_member[member]
    reach = np.take(bound, at) + np.float32(weights["complementarity"]) * have
    best = _best_of_each_row(local, reach, rows, PROBE_PAIRS)
    return local[best], cells.members[member[best]]


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
    # Up to 64 topics, every candidate's own topics in common with the row are counted (popcounts): the cells'
    # bounds leave complementarity out, and the probe and the filter add each candidate's own. A cell's union
    # of topics would bound it loosely where topics are many and spread.
    by_topics = table.topic_bits and cell_terms(table, cells, weights, same_country=same_country).topics
    bound = upper_bounds(table, cells, rows, weights, same_country=same_country, topics=not by_topics)
    common = common_partners(table, rows)
    # First a few candidates likely to rank high: their k-th best allowed score is a threshold.
    if by_topics:
        own = _own_topics(table, cells, rows)
        probe_pairs = _most_in_common(table, cells, own, bound, weights)
        # Rows with few topics of their own: probed by cells, the likeliest member of each.
        rest = np.flatnonzero(np.bincount(probe_pairs[0], minlength=count) < PROBE_PAIRS)
        if len(rest):
            first = _probe_cells(bound[rest], PROBE_CELLS_BY_TOPICS) & np.isfinite(bound[rest])
            local, candidate = _likeliest(table, cells, rows[rest], _pairs_in_cells(cells, first), bound[rest], weights)
            probe_pairs = (np.concatenate([probe_pairs[0], rest[local]]), np.concatenate([probe_pairs[1], candidate]))
    else:
        probe_pairs = _pairs_in_cells(cells, _probe_cells(bound) & np.isfinite(bound))
    probed = _scored_pairs(table, cells, rows, probe_pairs, common, weights, same_country=same_country)
    threshold = _kth_best(probed[0], probed[2], count, k) - SCORE_MARGIN
    # Then every candidate that can still reach it; where bounds are too loose to leave out much, every pair.
    if by_topics:
        pairs = _reaching_members(table, cells, own, bound, threshold, weights)
        left = len(pairs[0])
    else:
        chosen = np.isfinite(bound) & (bound >= threshold[:, None])
        left = int(np.diff(cells.indptr) @ chosen.sum(axis=0))
    if left > DENSE_SHARE * count * len(table):
        # Bounds this loose here are likely as loose for the table's next blocks: they go the dense way at once.
        table._pruning_fell_back = True  # type: ignore[attr-defined]
        return scoring.rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
    if not by_topics:
        pairs = _pairs_in_cells(cells, chosen)
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
