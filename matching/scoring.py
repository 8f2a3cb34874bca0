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

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

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
# Tried and left out (5 folds, seed 1, mean recall@10; 0.475 before both_regional_centres, 0.489 with
# it). Added before it: |log rank_i - log rank_j| 0.462; distance bins (within 300, 1,000, 2,500 km)
# 0.466, 0.471, 0.475; two seats of regions across a land border 0.480; distance only across a land
# border, Adamic-Adar and resource allocation for the partners in common, and partners in common over
# sqrt(degree_i * degree_j) were fitted at or near zero (0.475). Added with it: the share of a city's
# partners in the other's country fitted at zero (0.489); distance counted only when not both seats
# 0.487; at most five or seven of one country in the top ten 0.421, 0.464.
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
EARTH_RADIUS_KM = 6371.0
# The distance near_partner counts when neither city has a partner: half the Earth's circumference.
NO_PARTNER_KM = 20_000.0
# Suggestions kept per city.
TOP_K = 10
# Scores are rounded before ranking, so that a block of one city and a block of many
# (whose float sums may differ in the last bit) rank the same candidates the same way.
SCORE_DECIMALS = 5

# Land borders between SCO member states and partners (ISO codes, each pair once).
LAND_BORDERS = frozenset(
    frozenset(pair.split("-"))
    for pair in (
        "CN-RU CN-IN CN-PK CN-KZ CN-KG CN-TJ CN-MN CN-AF CN-NP CN-MM CN-LA "
        "RU-KZ RU-BY RU-MN RU-AZ KZ-KG KZ-UZ KZ-TM KG-UZ KG-TJ TJ-UZ TJ-AF UZ-AF UZ-TM "
        "IN-PK IN-NP IN-MM IN-BD IR-PK IR-AF IR-TM IR-AZ IR-AM IR-TR PK-AF AZ-AM AZ-TR AM-TR "
        "BY-RU"
    ).split()
)


@dataclass
class CityTable:
    """What the matcher knows of every city, as arrays aligned by position (cities sorted by id).

    `edges` are the partnerships of the graph features (positions, each pair once);
    `blocked` the pairs never suggested either way (an unfinished or active agreement);
    `dismissed` the (city, candidate) pairs a city said "Not interested" to.
    """

    ids: npt.NDArray[np.int64]
    country: npt.NDArray[np.int32]
    country_codes: Sequence[str]
    population: npt.NDArray[np.float64]
    latitude: npt.NDArray[np.float64]
    longitude: npt.NDArray[np.float64]
    needs: npt.NDArray[np.bool_]
    expertise: npt.NDArray[np.bool_]
    practices: npt.NDArray[np.int32]
    edges: npt.NDArray[np.int64]
    blocked: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    dismissed: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros((0, 2), np.int64))
    geonameids: npt.NDArray[np.int64] | None = None
    is_capital: npt.NDArray[np.bool_] | None = None
    # GeoNames' feature code of each city (PPLC a capital, PPLA a region's seat, PPLA2 a district's seat...).
    feature_codes: Sequence[str] | None = None
    # Each city's region (GeoNames' first-level division) as a number within its country; None: the
    # country stands for the region.
    region: npt.NDArray[np.int64] | None = None
    # Each city's name in English, Russian and Chinese, for the reasons that name a third city.
    names: Sequence[tuple[str, str, str]] | None = None

    def __post_init__(self) -> None:
        size = len(self.ids)
        self.position = {int(city_id): index for index, city_id in enumerate(self.ids)}
        self.by_geonameid = (
            {} if self.geonameids is None else {int(value): index for index, value in enumerate(self.geonameids)}
        )
        self.log_population = np.log10(np.maximum(self.population, 1.0)).astype(np.float32)
        # Rank by population within the country (1: the largest; ties to the lower position).
        by_size = np.lexsort((np.arange(size), -self.population, self.country))
        first_of_country = np.searchsorted(self.country[by_size], self.country[by_size])
        rank = np.empty(size, np.float64)
        rank[by_size] = np.arange(size) - first_of_country + 1
        self.rank_in_country = rank.astype(np.int64)
        self.prominence = (-np.log10(rank)).astype(np.float32)
        # Regions numbered 0.. across countries: a region number is the country's own.
        within = np.zeros(size, np.int64) if self.region is None else np.asarray(self.region, np.int64)
        _, region_of = np.unique(
            self.country.astype(np.int64) * (int(within.max(initial=0)) + 1) + within, return_inverse=True
        )
        self.region_of = region_of.reshape(-1).astype(np.int64)
        codes = np.asarray(self.feature_codes if self.feature_codes is not None else [""] * size)
        self.region_seat = np.isin(codes, ("PPLC", "PPLA")).astype(np.float32)
        self.district_seat = (codes == "PPLA2").astype(np.float32)
        self.capital = np.zeros(size, np.bool_) if self.is_capital is None else np.asarray(self.is_capital, np.bool_)
        self.capital_f = self.capital.astype(np.float32)
        self.lat_rad = np.radians(self.latitude)
        self.lon_rad = np.radians(self.longitude)
        self.offers = self.expertise | (self.practices > 0)
        self.needs_f = self.needs.astype(np.float32)
        self.offers_f = self.offers.astype(np.float32)
        # Topics as bits of one integer per city, so that a pair's topics in common are a popcount
        # (up to 64 topics; with more, the bits stay unused and topic_bits is False).
        self.topic_bits = self.needs.shape[1] <= 64
        powers = np.left_shift(np.uint64(1), np.arange(min(self.needs.shape[1], 64), dtype=np.uint64))
        self.needs_bits = (self.needs[:, :64] * powers).sum(axis=1, dtype=np.uint64)
        self.offers_bits = (self.offers[:, :64] * powers).sum(axis=1, dtype=np.uint64)
        edges = self.edges.reshape(-1, 2)
        both = np.concatenate([edges, edges[:, ::-1]]) if len(edges) else np.zeros((0, 2), np.int64)
        # Adjacency in CSR form: neighbours of i are indices[indptr[i]:indptr[i + 1]].
        order = np.lexsort((both[:, 1], both[:, 0]))
        both = both[order]
        self.neighbours = both[:, 1]
        self.indptr = np.zeros(size + 1, np.int64)
        np.cumsum(np.bincount(both[:, 0], minlength=size), out=self.indptr[1:])
        self.degree = np.diff(self.indptr).astype(np.float32)
        countries = len(self.country_codes)
        self.country_pairs = np.zeros((countries, countries), np.float32)
        np.add.at(self.country_pairs, (self.country[edges[:, 0]], self.country[edges[:, 1]]), 1)
        np.add.at(self.country_pairs, (self.country[edges[:, 1]], self.country[edges[:, 0]]), 1)
        np.fill_diagonal(self.country_pairs, np.diag(self.country_pairs) / 2)
        # Partners each city has in each country.
        self.partners_by_country = np.zeros((size, countries), np.float32)
        np.add.at(self.partners_by_country, (both[:, 0], self.country[both[:, 1]]), 1)
        self.log_country_pairs = np.log1p(self.country_pairs)
        regions = int(self.region_of.max()) + 1 if size else 0
        self.region_pairs = np.zeros((regions, regions), np.float32)
        np.add.at(self.region_pairs, (self.region_of[edges[:, 0]], self.region_of[edges[:, 1]]), 1)
        np.add.at(self.region_pairs, (self.region_of[edges[:, 1]], self.region_of[edges[:, 0]]), 1)
        np.fill_diagonal(self.region_pairs, np.diag(self.region_pairs) / 2)
        self.log_region_pairs = np.log1p(self.region_pairs)

        self.cities_per_country = np.bincount(self.country, minlength=countries).astype(np.float64)
        spread = np.sqrt(np.outer(self.cities_per_country, self.cities_per_country))
        self.country_rate = np.log((1.0 + self.country_pairs) / np.maximum(spread, 1.0)).astype(np.float32)
        self.log_partners_by_country = np.log1p(self.partners_by_country)
        self.log_degree = np.log1p(self.degree)
        self.unit = np.stack(
            [
                np.cos(self.lat_rad) * np.cos(self.lon_rad),
                np.cos(self.lat_rad) * np.sin(self.lon_rad),
                np.sin(self.lat_rad),
            ],
            axis=1,
        )
        self.borders = np.zeros((countries, countries), np.bool_)
        for a, code_a in enumerate(self.country_codes):
            for b, code_b in enumerate(self.country_codes):
                self.borders[a, b] = frozenset({code_a, code_b}) in LAND_BORDERS

    def __len__(self) -> int:
        return len(self.ids)

    def paths_of_two(self, rows: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Every path row -> partner -> partner's partner, as (local row, far end) arrays (repeat/cumsum, no loop)."""
        starts, ends = self.indptr[rows], self.indptr[rows + 1]
        lengths = ends - starts
        local = np.repeat(np.arange(len(rows)), lengths)
        middle = self.neighbours[_ranges(starts, lengths)]
        second_lengths = self.indptr[middle + 1] - self.indptr[middle]
        local = np.repeat(local, second_lengths)
        return local, self.neighbours[_ranges(self.indptr[middle], second_lengths)]

    def common_partners(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """(len(rows), N): how many partners each row city shares with every city, by joining edge lists."""
        counts = np.zeros((len(rows), len(self)), np.float32)
        local, far = self.paths_of_two(rows)
        np.add.at(counts, (local, far), 1)
        return counts


def nearest_partner_km(
    table: CityTable, cities: npt.NDArray[np.int64], others: npt.NDArray[np.int64], *, which_partner: bool = True
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """For flat arrays of pairs: the distance from each city to the nearest partner of its other city
    (NO_PARTNER_KM when it has none), and that partner's position (-1 when none; always -1 unless
    `which_partner`: the score needs only the distance, the reasons the partner too)."""
    starts, lengths = table.indptr[others], table.indptr[others + 1] - table.indptr[others]
    partner = table.neighbours[_ranges(starts, lengths)]
    pair = np.repeat(np.arange(len(cities)), lengths)
    cosine = dot3(table.unit[cities[pair]], table.unit[partner])
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
        partner = table.neighbours[_ranges(starts[with_partners], lengths[with_partners])]
        far = EARTH_RADIUS_KM * np.arccos(np.clip(table.unit[partner] @ table.unit.T, -1.0, 1.0))
        offsets = np.cumsum(lengths[with_partners]) - lengths[with_partners]
        nearest[with_partners] = np.minimum(nearest[with_partners], np.minimum.reduceat(far, offsets, axis=0))
    return nearest


def topics_in_common(
    table: CityTable, cities: npt.NDArray[np.int64], others: npt.NDArray[np.int64]
) -> npt.NDArray[np.uint8]:
    """For broadcastable position arrays (up to 64 topics, table.topic_bits): the topics each city needs that
    the other offers, plus the same the other way, from one popcount per pair and way (complementarity's count)."""
    return np.bitwise_count(table.needs_bits[cities] & table.offers_bits[others]) + np.bitwise_count(
        table.offers_bits[cities] & table.needs_bits[others]
    )


def dot3(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """The dot products of two arrays of 3-vectors (last axis): the same sums, in the same order, as
    (a * b).sum(axis=-1), whose reduction over an axis of three costs several times more (measured)."""
    product = a * b
    return product[..., 0] + product[..., 1] + product[..., 2]


def _ranges(starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """The concatenation of range(start, start + length) for every pair, vectorised."""
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, np.int64)
    offsets = np.repeat(np.cumsum(lengths) - lengths, lengths)
    return np.repeat(starts, lengths) + np.arange(total) - offsets


def distance_km(table: CityTable, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """Great-circle distance (haversine) between broadcastable index arrays."""
    lat1, lat2 = table.lat_rad[rows], table.lat_rad[cols]
    half = (
        np.sin((lat2 - lat1) / 2) ** 2
        + np.cos(lat1) * np.cos(lat2) * np.sin((table.lon_rad[cols] - table.lon_rad[rows]) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(half, 0.0, 1.0)))


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
        cosine = table.unit[rows] @ table.unit.T if cols is None else dot3(table.unit[r], table.unit[c])
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
