"""Russian and Chinese city names whose evidence is exact, for the sources that come after the reviewed list and CLDR.

Two kinds of evidence count. A name that GeoNames labels Russian (its alternate
names file says the language; the pycities package ships those labels). Or an
alternate name whose standard romanisation gives back the GeoNames name itself:
GeoNames writes Russian names in BGN/PCGN and Chinese names in pinyin, so
"Екатеринбург" is Yekaterinburg's Russian name because BGN/PCGN turns it into
"Yekaterinburg", and "江阴" is Jiangyin's Chinese name because its pinyin is
"jiangyin". Nothing is chosen by likeness: a name passes the check exactly, or
the city gets no name in that language and the pages show its GeoNames name.
"""

from __future__ import annotations

import functools
import itertools
import sqlite3
import unicodedata
from collections.abc import Iterable
from contextlib import closing
from pathlib import Path
from typing import Any

import iuliia
from pycities import config as pycities_config
from pypinyin import Style, pinyin

RUSSIAN_LETTERS = frozenset("абвгдеёжзийклмнопрстуфхцчшщъыьэюя")
# An administrative suffix that a Chinese name may carry and the GeoNames name may drop, or spell out.
CHINESE_SUFFIXES = {"市": ("shi", "city"), "县": ("xian", "county"), "区": ("qu", "district"), "镇": ("zhen", "town")}
# Enough for every reading of a city name with a few characters of several readings each.
MAX_PINYIN_READINGS = 256


def romanisation_key(text: str) -> str:
    """`text` as the checks compare it: case-folded, without diacritics, spaces, hyphens or apostrophes.

    "Kazan’", "kazan" and "KAZAN" give "kazan"; "Orël" gives "orel"; BGN/PCGN's
    primes for ь and ъ and its "·" go, as GeoNames' ASCII names drop them too.
    """
    decomposed = unicodedata.normalize("NFKD", text).casefold()
    return "".join(char for char in decomposed if unicodedata.category(char)[0] in "LN")


def is_russian_spelling(text: str) -> bool:
    """Whether `text` has letters and they are all of the Russian alphabet (not Kazakh қ, Belarusian і, Latin...)."""
    letters = {char for char in text.lower() if char.isalpha()}
    return bool(letters) and letters <= RUSSIAN_LETTERS


def bgn_pcgn(text: str) -> str:
    """`text` romanised by BGN/PCGN, the system GeoNames uses for Russian names (Екатеринбург -> Yekaterinburg)."""
    return iuliia.BGN_PCGN.translate(text)


def verified_russian_name(names: Iterable[str], alternate_names: Iterable[str]) -> str:
    """The alternate name spelt in Russian letters whose BGN/PCGN romanisation is one of `names` (the GeoNames names).

    Empty when none is, and also when two different spellings are (Russian
    Казань and Tatar Казан both romanise to Kazan): the import never picks one.
    """
    targets = {romanisation_key(name) for name in names} - {""}
    matches = {
        alternate
        for alternate in alternate_names
        if is_russian_spelling(alternate) and romanisation_key(bgn_pcgn(alternate)) in targets
    }
    return matches.pop() if len(matches) == 1 else ""


def _pinyin_key(text: str) -> str:
    # Pinyin's ü is written u, v or ü by GeoNames (Lüliang, Lvliang, Luliang).
    return romanisation_key(text).replace("v", "u")


def is_simplified_chinese(text: str) -> bool:
    """Whether `text` is two or more Han characters, all in GB 2312, which has simplified forms, not traditional."""
    if len(text) < 2 or not all("CJK UNIFIED IDEOGRAPH" in unicodedata.name(char, "") for char in text):
        return False
    try:
        text.encode("gb2312")
    except UnicodeEncodeError:
        return False
    return True


def _without_suffix(text: str) -> str:
    return text[:-1] if len(text) > 2 and text[-1] in CHINESE_SUFFIXES else text


def pinyin_readings(text: str) -> set[str]:
    """Every reading of `text` in pinyin without tones, as `_pinyin_key` folds it (重庆: "chongqing")."""
    syllables = pinyin(text, style=Style.NORMAL, heteronym=True, v_to_u=True)
    return {
        _pinyin_key("".join(reading))
        for reading in itertools.islice(itertools.product(*syllables), MAX_PINYIN_READINGS)
    }


def _chinese_targets(names: Iterable[str]) -> set[str]:
    """The GeoNames names as pinyin keys, each also without a spelt-out suffix ("Maqin County": "maqin")."""
    suffix_words = {word for words in CHINESE_SUFFIXES.values() for word in words}
    targets = set()
    for name in names:
        targets.add(_pinyin_key(name))
        words = name.replace("-", " ").split()
        if len(words) > 1 and words[-1].casefold() in suffix_words:
            targets.add(_pinyin_key(" ".join(words[:-1])))
    return targets - {""}


def verified_chinese_name(names: Iterable[str], alternate_names: Iterable[str]) -> str:
    """The alternate name in simplified characters whose pinyin is one of `names` (the GeoNames names).

    An administrative suffix (市, 县, 区, 镇) is ignored on either side; of the
    forms that pass, the shortest listed one is kept (拉萨 rather than 拉萨市).
    Empty when none passes, and also when two different names do (新余 and 新喻
    both read Xinyu): the import never picks one.
    """
    targets = _chinese_targets(names)
    matches = [
        alternate
        for alternate in dict.fromkeys(alternate_names)
        if is_simplified_chinese(alternate) and pinyin_readings(_without_suffix(alternate)) & targets
    ]
    if len({_without_suffix(match) for match in matches}) != 1:
        return ""
    return min(matches, key=len)


def pycities_rows(query: str) -> list[tuple[Any, ...]]:
    """The rows of a query on the GeoNames file the pycities package ships, opened read-only."""
    uri = f"{Path(pycities_config.DEFAULT_DATA_SOURCE).as_uri()}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as connection:
        return connection.execute(query).fetchall()


@functools.cache
def _geonames_russian_names() -> dict[int, str]:
    rows = pycities_rows("SELECT geonames_id, name_ru FROM city WHERE name_ru IS NOT NULL")
    return {geonameid: name for geonameid, name in rows if is_russian_spelling(name)}


def geonames_russian_names(geonameids: Iterable[int]) -> dict[int, str]:
    """GeoNames' names labelled Russian for these cities, as the pycities package ships them (pinned, read-only).

    pycities keeps, per city of 15,000 people or more, GeoNames' preferred
    non-historic alternate name labelled `ru`. A few such labels hold a Latin
    spelling (Homyel': "Gomel’"); only names in Russian letters are kept.
    """
    names = _geonames_russian_names()
    return {geonameid: names[geonameid] for geonameid in geonameids if geonameid in names}
