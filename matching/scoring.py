"""How a candidate partner city is scored: every feature, every weight and every hard rule, in one place.

The score of the pair (city i, candidate j) is a weighted sum of features that are
all symmetric in i and j, so that one formula ranks both directions:

=================  ==============================================================
feature            value for the pair (i, j)
=================  ==============================================================
complementarity    topics i needs that j has expertise in or published practices
                   on, plus the same the other way round (a count)
similar_scale      -|log10 population_i - log10 population_j|  (0: the same size)
size               log10 population_i + log10 population_j  (big cities twin more)
distance           -log10(great-circle km + 100)
border             1 when the two countries share a land border and the cities
                   are at most BORDER_KM apart
common_partners    log(1 + number of cities partnered with both)
country_pair       log(1 + partnerships already joining the two countries)
country_rate       log((1 + partnerships joining the two countries) / sqrt(cities of one country
                   * cities of the other)): how much the two countries partner for their number
                   of cities (Belarus's 56 cities partner with Russia far more than India's 3,779)
capitals           1 when both cities are their countries' capitals
prominence         -log10 rank_i - log10 rank_j, rank: by population within the city's country
                   (1: the largest; a capital or a second city twins more than its size says)
near_partner       -log10(km + 100), km: from i to the nearest partner of j, or from j to the
                   nearest partner of i, whichever is shorter (NO_PARTNER_KM when neither has one):
                   a city whose partner is i's neighbour likes i's region
regional_centre    how many of the two are the seat of a region (GeoNames feature code PPLA, or the
                   capital, PPLC): 0, 1 or 2. 62 of Russia's 79 regional seats are in a real
                   partnership, against one in seven of its cities; 28 of China's 30 provincial
                   capitals, against one in twenty of its cities
both_regional_centres  1 when both are the seat of a region (PPLA or PPLC), 0 otherwise: what
                   regional_centre cannot say, as it counts the two seats apart (a seat twins with
                   a seat: a province's capital with an oblast's)
district_centre    how many of the two are the seat of a district (PPLA2; China: a prefecture-level
                   city): 0, 1 or 2
region_pair        log(1 + partnerships already joining the two cities' regions, GeoNames' first-level
                   divisions): an oblast and a province whose cities have twinned before twin more
partners_in_country  log(1 + partners j has in i's country) + the same the other way
activity           log(1 + partnerships of i) + log(1 + partnerships of j)
hubs               log(1 + partnerships of i) * log(1 + partnerships of j)  (active cities pair up)
=================  ==============================================================

Hard rules, applied after scoring: never the city itself, never a city of the same
country unless asked, never a city it has an unfinished or active agreement with,
never a candidate its officers dismissed ("Not interested").

Everything is computed with NumPy over a block of cities against all cities (a
(block, N) array per step), never with a Python loop over pairs: memory is bounded
by the block size, so 100,000 cities run in the same memory as 8,000, only longer.

WEIGHTS were fitted, not guessed: `manage.py evaluate_matching --pairs
data/sco_twinnings.csv --refit` splits the real partnerships in ten and hides each
tenth from the graph features in turn (as the evaluation hides a fold); it fits a
conditional logit on them where a hidden pair counts as found when either city picks
the other (as recall@k counts it), weights kept at or above zero, and prints the
weights to paste below (matching/fitting.py). The topic weight cannot be fitted (the
real profiles list no needs or expertise yet); the fitted weights are scaled so that
the score's standard deviation over candidate pairs is 1, and one matching topic is
worth 1.5 of those.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from matching.table import EARTH_RADIUS_KM, CityTable, cosines, ranges, topics_in_common

FEATURES = (
    "complementarity",
    "similar_scale",
    "size",
    "distance",
    "border",
    "common_partners",
    "country_pair",
    "country_rate",
    "capitals",
    "prominence",
    "near_partner",
    "regional_centre",
    "both_regional_centres",
    "region_pair",
    "district_centre",
    "partners_in_country",
    "activity",
    "hubs",
)

# Fitted on the 444 cross-border city pairs of data/sco_twinnings.csv that match the directory
# (seed 1; matching/fitting.py): on inner splits of the pairs (each tenth hidden from the graph in
# turn), a conditional logit where a pair counts when either city picks the other; scaled so that
# the score's standard deviation over candidate pairs is 1.
# Refit: `manage.py evaluate_matching --pairs data/sco_twinnings.csv --refit`.
# "partners_in_country" came out at zero: near_partner and country_rate say it better; it stays a
# feature to fit. "both_regional_centres" takes most of what regional_centre had (0.60 before it,
# 0.37 with it): the fit says a seat is worth much more beside another seat than beside a town.
# Features tried and left out, with the recall each gave: matching/fitting.py.
WEIGHTS: dict[str, float] = {
    "complementarity": 1.5,
    "similar_scale": 0.391,
    "size": 0.3135,
    "distance": 0.9577,
    "border": 0.1546,
    "common_partners": 0.742,
    "country_pair": 0.1519,
    "country_rate": 0.227,
    "capitals": 0.6359,
    "prominence": 0.0982,
    "near_partner": 0.2231,
    "regional_centre": 0.3712,
    "both_regional_centres": 1.0214,
    "region_pair": 0.3612,
    "district_centre": 0.6701,
    "partners_in_country": 0.0,
    "activity": 0.2581,
    "hubs": 0.1607,
}

# Cities of neighbouring countries at most this far apart count as neighbours across a border.
BORDER_KM = 500.0
# The distance near_partner counts when neither city has a partner: half the Earth's circumference.
NO_PARTNER_KM = 20_000.0
# Suggestions kept per city.
TOP_K = 10
# Scores are rounded before ranking, so that a block of one city and a block of many
# (whose float sums may differ in the last bit) rank the same candidates the same way.
SCORE_DECIMALS = 5


def nearest_partner_km(
    table: CityTable, cities: npt.NDArray[np.int64], others: npt.NDArray[np.int64], *, which_partner: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """For flat arrays of pairs: the distance from each city to the nearest partner of its other city
    (NO_PARTNER_KM when it has none), and that partner's position (-1 when none; always -1 unless
    `which_partner`: the score needs only the distance, the reasons the partner too)."""
    starts, lengths = table.indptr[others], table.indptr[others + 1] - table.indptr[others]
    partner = table.neighbours[ranges(starts, lengths)]
    pair = np.repeat(np.arange(len(cities)), lengths)
    cosine = cosines(table, cities[pair], partner)
    km = EARTH_RADIUS_KM * np.arccos(np.clip(cosine, -1.0, 1.0))
    nearest = np.full(len(cities), NO_PARTNER_KM)
    which = np.full(len(cities), -1, np.int64)
    if len(km):
        # Entries come grouped by pair: the minimum of each group, then, among the entries at that minimum,
        # the lowest partner position (a tie between two partners goes to the lower one).
        has = np.flatnonzero(lengths)
        nearest[has] = np.minimum.reduceat(km, (np.cumsum(lengths) - lengths)[has])
    if len(km) and which_partner:
        at_minimum = km == nearest[pair]
        tied_pair, tied_partner = pair[at_minimum], partner[at_minimum]
        starts = np.flatnonzero(np.r_[True, tied_pair[1:] != tied_pair[:-1]])
        which[tied_pair[starts]] = np.minimum.reduceat(tied_partner, starts)
    return nearest, which


def _nearest_partner_dense(
    table: CityTable, rows: npt.NDArray[np.int64], kilometres: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """(len(rows), N): near_partner's kilometres, given the (len(rows), N) distances from the rows."""
    nearest = np.full(kilometres.shape, NO_PARTNER_KM)
    has = np.flatnonzero(table.degree > 0)
    if len(has):
        # From the row to each candidate's nearest partner: the minimum of the row's distances over each
        # candidate's slice of the adjacency list.
        nearest[:, has] = np.minimum.reduceat(kilometres[:, table.neighbours], table.indptr[has], axis=1)
    starts, lengths = table.indptr[rows], table.indptr[rows + 1] - table.indptr[rows]
    with_partners = np.flatnonzero(lengths)
    if len(with_partners):
        # From each candidate to the row's nearest partner: distances from the row's partners, reduced per row.
        partner = table.neighbours[ranges(starts[with_partners], lengths[with_partners])]
        far = EARTH_RADIUS_KM * np.arccos(np.clip(table.unit[partner] @ table.unit.T, -1.0, 1.0))
        offsets = np.cumsum(lengths[with_partners]) - lengths[with_partners]
        nearest[with_partners] = np.minimum(nearest[with_partners], np.minimum.reduceat(far, offsets, axis=0))
    return nearest


def features(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    common: npt.NDArray[np.float32] | None = None,
    cols: npt.NDArray[np.int64] | None = None,
    only: Collection[str] = FEATURES,
    common_at_cols: npt.NDArray[np.float32] | None = None,
) -> Iterator[tuple[str, npt.NDArray[np.float32]]]:
    """Each feature of the row cities against every city, as (len(rows), N) arrays, one at a time so that
    only one is held with the score; or, given `cols` (len(rows), k), against those candidates only
    (`common_at_cols`, shaped like `cols`, may then give the partners in common already gathered).
    Features not in `only` are neither computed nor yielded."""
    r = rows[:, None]
    c = np.arange(len(table))[None, :] if cols is None else cols
    if "complementarity" in only:
        if cols is None:
            both_ways = table.needs_f[rows] @ table.offers_f.T + table.offers_f[rows] @ table.needs_f.T
        elif table.topic_bits:
            # The same counts as the products below, from one popcount per pair instead of one product per topic.
            both_ways = topics_in_common(table, r, c).astype(np.float32)
        else:
            both_ways = (table.needs_f[r] * table.offers_f[c]).sum(axis=-1) + (
                table.offers_f[r] * table.needs_f[c]
            ).sum(axis=-1)
        yield "complementarity", both_ways
    if "similar_scale" in only:
        yield "similar_scale", -np.abs(table.log_population[r] - table.log_population[c])
    if "size" in only:
        yield "size", table.log_population[r] + table.log_population[c]
    if "distance" in only or "border" in only or (cols is None and "near_partner" in only):
        # The angle between the cities' unit vectors: one matrix product for the whole block.
        cosine = table.unit[rows] @ table.unit.T if cols is None else cosines(table, r, c)
        kilometres = EARTH_RADIUS_KM * np.arccos(np.clip(cosine, -1.0, 1.0))
        del cosine
        if "distance" in only:
            yield "distance", -np.log10(kilometres + 100.0).astype(np.float32)
        if "border" in only:
            near = table.borders[table.country[r], table.country[c]] & (kilometres <= BORDER_KM)
            yield "border", near.astype(np.float32)
        if cols is None and "near_partner" in only:
            yield "near_partner", -np.log10(_nearest_partner_dense(table, rows, kilometres) + 100.0).astype(np.float32)
        del kilometres
    if cols is not None and "near_partner" in only:
        a, b = np.broadcast_to(r, c.shape).reshape(-1), np.asarray(c).reshape(-1)
        nearest = np.minimum(
            nearest_partner_km(table, a, b, which_partner=False)[0],
            nearest_partner_km(table, b, a, which_partner=False)[0],
        )
        yield "near_partner", -np.log10(nearest + 100.0).astype(np.float32).reshape(c.shape)
    if "common_partners" in only and common_at_cols is not None:
        yield "common_partners", np.log1p(common_at_cols)
    elif "common_partners" in only:
        if common is None:
            common = table.common_partners(rows)
        yield "common_partners", np.log1p(common if cols is None else np.take_along_axis(common, cols, axis=1))
    if "country_pair" in only:
        yield "country_pair", table.log_country_pairs[table.country[r], table.country[c]]
    if "country_rate" in only:
        yield "country_rate", table.country_rate[table.country[r], table.country[c]]
    if "capitals" in only:
        yield "capitals", table.capital_f[r] * table.capital_f[c]
    if "prominence" in only:
        yield "prominence", table.prominence[r] + table.prominence[c]
    if "regional_centre" in only:
        yield "regional_centre", table.region_seat[r] + table.region_seat[c]
    if "both_regional_centres" in only:
        yield "both_regional_centres", table.region_seat[r] * table.region_seat[c]
    if "district_centre" in only:
        yield "district_centre", table.district_seat[r] + table.district_seat[c]
    if "region_pair" in only:
        yield "region_pair", table.log_region_pairs[table.region_of[r], table.region_of[c]]
    if "partners_in_country" in only:
        yield (
            "partners_in_country",
            table.log_partners_by_country[c, table.country[r]] + table.log_partners_by_country[r, table.country[c]],
        )
    if "activity" in only:
        yield "activity", table.log_degree[r] + table.log_degree[c]
    if "hubs" in only:
        yield "hubs", table.log_degree[r] * table.log_degree[c]


def allowed(table: CityTable, rows: npt.NDArray[np.int64], *, same_country: bool = False) -> npt.NDArray[np.bool_]:
    """(len(rows), N): the hard rules. False for the city itself, its own country (unless asked),
    a city it has an unfinished or active agreement with, and a candidate it dismissed."""
    mask = np.ones((len(rows), len(table)), np.bool_)
    mask[np.arange(len(rows)), rows] = False
    if not same_country:
        mask &= table.country[rows][:, None] != table.country[None, :]
    local = np.full(len(table), -1, np.int64)
    local[rows] = np.arange(len(rows))
    for first, second in ((0, 1), (1, 0)):
        pairs = table.blocked
        hit = local[pairs[:, first]] >= 0
        mask[local[pairs[hit, first]], pairs[hit, second]] = False
    hit = local[table.dismissed[:, 0]] >= 0
    mask[local[table.dismissed[hit, 0]], table.dismissed[hit, 1]] = False
    return mask


def score_block(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    weights: Mapping[str, float] = WEIGHTS,
    common: npt.NDArray[np.float32] | None = None,
) -> npt.NDArray[np.float32]:
    """(len(rows), N): the weighted score of every pair, before the hard rules."""
    score = np.zeros((len(rows), len(table)), np.float32)
    used = [name for name in FEATURES if weights.get(name, 0.0)]
    for name, values in features(table, rows, common, only=used):
        score += np.float32(weights[name]) * values
    return score


@dataclass(frozen=True)
class Ranked:
    """The top candidates of one city: positions in the table, scores and raw components."""

    city: int
    candidates: list[int]
    scores: list[float]
    components: list[dict[str, float]]


@dataclass(frozen=True)
class TopArrays:
    """The top k of each row city as arrays: candidate positions, scores (-inf where fewer were allowed),
    and each feature's value for those pairs."""

    rows: npt.NDArray[np.int64]
    top: npt.NDArray[np.int64]
    scores: npt.NDArray[np.float32]
    features: dict[str, npt.NDArray[np.float32]]


def rank_arrays(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    *,
    k: int = TOP_K,
    weights: Mapping[str, float] = WEIGHTS,
    same_country: bool = False,
) -> TopArrays:
    """The top k allowed candidates of each row city, best first; ties go to the lower city id.

    Computed by cells and upper bounds (matching/pruning.py), which gives the top k of
    rank_arrays_dense() without its (rows, N) arrays; negative weights, which the bounds
    do not cover, take the dense way."""
    # Imported here: pruning builds on this module's features.
    from matching import pruning

    rows = np.asarray(rows, np.int64)
    k = min(k, len(table))
    if not len(rows) or any(weights.get(name, 0.0) < 0 for name in FEATURES):
        return rank_arrays_dense(table, rows, k=k, weights=weights, same_country=same_country)
    return pruning.rank_arrays(table, rows, k=k, weights=weights, same_country=same_country)


def rank_arrays_dense(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    *,
    k: int = TOP_K,
    weights: Mapping[str, float] = WEIGHTS,
    same_country: bool = False,
) -> TopArrays:
    """rank_arrays() the plain way: every pair of the block scored, a (len(rows), N) array."""
    rows = np.asarray(rows, np.int64)
    common = table.common_partners(rows)
    score = np.round(score_block(table, rows, weights, common), SCORE_DECIMALS)
    score[~allowed(table, rows, same_country=same_country)] = -np.inf
    k = min(k, len(table))
    # Candidates sorted by (score desc, position asc); positions follow city ids, so ties go to the lower id.
    top = (
        np.argpartition(-score, k - 1, axis=1)[:, :k]
        if k < len(table)
        else np.tile(np.arange(len(table)), (len(rows), 1))
    )
    top_scores = np.take_along_axis(score, top, axis=1)
    order = np.lexsort((top, -top_scores), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    top_scores = np.take_along_axis(top_scores, order, axis=1)
    # A tie at the k-th place: argpartition may pick any of the tied; settle them by id over the full row.
    cut = top_scores[:, -1:]
    needs_fix = np.isfinite(cut[:, 0]) & ((score == cut).sum(axis=1) > (top_scores == cut).sum(axis=1))
    for tied in np.flatnonzero(needs_fix):
        full = np.lexsort((np.arange(len(table)), -score[tied]))[:k]
        top[tied], top_scores[tied] = full, score[tied, full]
    return TopArrays(rows=rows, top=top, scores=top_scores, features=dict(features(table, rows, common, cols=top)))


def rank_block(
    table: CityTable,
    rows: npt.NDArray[np.int64],
    *,
    k: int = TOP_K,
    weights: Mapping[str, float] = WEIGHTS,
    same_country: bool = False,
) -> list[Ranked]:
    """rank_arrays() as one Ranked per row city."""
    found = rank_arrays(table, rows, k=k, weights=weights, same_country=same_country)
    results = []
    for local, row in enumerate(found.rows.tolist()):
        keep = np.isfinite(found.scores[local])
        results.append(
            Ranked(
                city=row,
                candidates=found.top[local][keep].tolist(),
                scores=found.scores[local][keep].tolist(),
                components=[
                    {name: round(float(found.features[name][local, n]), 6) for name in FEATURES}
                    for n in np.flatnonzero(keep)
                ],
            )
        )
    return results


def blocks(size: int, block_size: int) -> list[tuple[int, int]]:
    """(start, stop) of the blocks that cover positions 0..size."""
    return [(start, min(start + block_size, size)) for start in range(0, size, block_size)]


def block_size_for(size: int, *, budget_bytes: int = 256 * 1024 * 1024) -> int:
    """Rows per block so that the few (block, N) float arrays alive at once stay within the budget."""
    arrays_alive = 8  # score, one feature, distances (float64 counts twice), mask, common partners, temporaries
    return max(1, min(size, budget_bytes // max(1, size * 4 * arrays_alive)))
