"""What the matcher knows of every city, as NumPy arrays aligned by position: the table that
matching/scoring.py scores, matching/cells.py groups into cells and matching/reasons.py explains; and the
small array helpers they share (great-circle geometry, topic popcounts, ranges of an adjacency list).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

EARTH_RADIUS_KM = 6371.0

# Land borders between SCO member states and partners (ISO codes, each pair once).
LAND_BORDERS = frozenset(
    frozenset(pair.split("-"))
    for pair in (
        "CN-RU CN-IN CN-PK CN-KZ CN-KG CN-TJ CN-MN CN-AF CN-NP CN-MM CN-LA "
        "RU-KZ RU-BY RU-MN RU-AZ KZ-KG KZ-UZ KZ-TM KG-UZ KG-TJ TJ-UZ TJ-AF UZ-AF UZ-TM "
        "IN-PK IN-NP IN-MM IN-BD IR-PK IR-AF IR-TM IR-AZ IR-AM IR-TR PK-AF AZ-AM AZ-TR AM-TR"
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
        middle = self.neighbours[ranges(starts, lengths)]
        second_lengths = self.indptr[middle + 1] - self.indptr[middle]
        local = np.repeat(local, second_lengths)
        return local, self.neighbours[ranges(self.indptr[middle], second_lengths)]

    def common_partners(self, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.float32]:
        """(len(rows), N): how many partners each row city shares with every city, by joining edge lists."""
        counts = np.zeros((len(rows), len(self)), np.float32)
        local, far = self.paths_of_two(rows)
        np.add.at(counts, (local, far), 1)
        return counts


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


def cosines(table: CityTable, a: npt.NDArray[np.int64], b: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """The cosine of the angle between the cities at positions a and b (broadcastable index arrays), from their
    unit vectors gathered with np.take: the same values as table.unit[a], three to five times faster for rows of
    three numbers (measured)."""
    return dot3(np.take(table.unit, a, axis=0), np.take(table.unit, b, axis=0))


def ranges(starts: npt.NDArray[np.int64], lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
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
