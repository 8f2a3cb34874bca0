from __future__ import annotations

import datetime
import unicodedata

from django.db import models
from django.db.models import Case, Q, Value, When
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _


def _in_reader_language(english: str, russian: str, chinese: str) -> str:
    """The text in the active language's script, falling back to English."""
    language = (get_language() or "en").lower()
    if language.startswith("ru") and russian:
        return russian
    if language.startswith("zh") and chinese:
        return chinese
    return english


class Country(models.Model):
    """A member state or partner of the SCO; its SCO status is a dated history."""

    code = models.CharField(_("ISO code"), max_length=2, unique=True)
    name = models.CharField(_("name"), max_length=100)
    name_ru = models.CharField(_("name in Russian"), max_length=100, blank=True)
    name_zh = models.CharField(_("name in Chinese"), max_length=100, blank=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("country")
        verbose_name_plural = _("countries")
        constraints = [
            models.CheckConstraint(condition=Q(code__regex=r"^[A-Z]{2}$"), name="country_code_is_iso_alpha2"),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _in_reader_language(self.name, self.name_ru, self.name_zh)

    def status_on(self, day: datetime.date | None = None) -> CountryStatus | None:
        """The status in force on `day` (today by default); uses prefetched history when present."""
        day = day or timezone.localdate()
        history = sorted(self.status_history.all(), key=lambda entry: entry.since)
        current = None
        for entry in history:
            if entry.since <= day:
                current = entry
        return current

    @property
    def current_status(self) -> CountryStatus | None:
        return self.status_on()


class CountryStatus(models.Model):
    """One step in a country's SCO status history, effective from `since` (decided at a summit)."""

    class Status(models.TextChoices):
        MEMBER = "member", _("Member state")
        OBSERVER = "observer", _("Observer")
        DIALOGUE_PARTNER = "dialogue_partner", _("Dialogue partner")
        PARTNER = "partner", _("SCO partner")

    country = models.ForeignKey(Country, on_delete=models.CASCADE, related_name="status_history")
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    since = models.DateField(_("since"))
    note = models.CharField(_("note"), max_length=300, blank=True)

    class Meta:
        ordering = ["country", "since"]
        verbose_name = _("SCO status")
        verbose_name_plural = _("SCO status history")
        constraints = [
            models.UniqueConstraint(fields=["country", "since"], name="one_country_status_per_date"),
        ]

    def __str__(self) -> str:
        return f"{self.country.code}: {self.get_status_display()} since {self.since:%Y-%m-%d}"


class Topic(models.Model):
    """A cooperation topic (public transport, waste management, ...) kept by SCO coordinators."""

    slug = models.SlugField(_("slug"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=100, unique=True)
    name_ru = models.CharField(_("name in Russian"), max_length=100, blank=True)
    name_zh = models.CharField(_("name in Chinese"), max_length=100, blank=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return _in_reader_language(self.name, self.name_ru, self.name_zh)


class NameSource(models.TextChoices):
    """Where a city's Russian or Chinese name came from, best first; a name no source proves is left empty.

    GEONAMES names the package and version it reads (requirements.txt pins it), so the label changes with them.
    """

    REVIEWED = "reviewed", _("reviewed list (data/city_names.csv)")
    CLDR = "cldr", _("Unicode CLDR")
    GEONAMES = "geonames", _("GeoNames name labelled with its language (pycities 0.2.0, data CC BY 4.0)")
    ROMANISED = "romanised", _("GeoNames alternate name that romanises to the GeoNames name (BGN/PCGN or pinyin)")
    NONE = "", _("no name: the GeoNames name is shown")


class CityQuerySet(models.QuerySet["City"]):
    def search(self, text: str) -> CityQuerySet:
        """Cities known, in any script the data has, by a name that contains `text`, best matches first.

        A city known by exactly that name comes first, then one with a name that
        starts with it, then the others; the largest first within each. Matching
        is on `search_keys`, where spaces and punctuation are gone ("Xian" is
        Xi'an's name) and case is folded in Python: SQLite folds the case of ASCII
        letters only, so `icontains` would miss "алматы". On PostgreSQL the trigram
        index of migration 0002 serves the `LIKE '%key%'`.
        """
        key = City.search_key(text)
        if not key:
            return self
        # `search_keys` holds one key a line, each between line breaks: "\nkey\n" is a whole name, "\nkey" its start.
        exact = When(search_keys__contains=f"\n{key}\n", then=Value(0))
        prefix = When(search_keys__contains=f"\n{key}", then=Value(1))
        return (
            self.filter(search_keys__contains=key)
            .alias(search_rank=Case(exact, prefix, default=Value(2)))
            .order_by("search_rank", *City.DIRECTORY_ORDER)
        )


class City(models.Model):
    """A real city from GeoNames, plus the profile its municipal officers keep.

    The GeoNames fields are refreshed by `import_cities`; the profile fields
    (description, website, contact office, needs, expertise) belong to the
    city's officers and an import never touches them.
    """

    geonameid = models.PositiveIntegerField(_("GeoNames id"), unique=True)
    name = models.CharField(_("name"), max_length=200)
    ascii_name = models.CharField(_("ASCII name"), max_length=200, db_index=True)
    name_ru = models.CharField(_("name in Cyrillic"), max_length=200, blank=True)
    name_zh = models.CharField(_("name in Chinese characters"), max_length=200, blank=True)
    name_ru_source = models.CharField(
        _("source of the Russian name"), max_length=10, choices=NameSource.choices, blank=True, default=""
    )
    name_zh_source = models.CharField(
        _("source of the Chinese name"), max_length=10, choices=NameSource.choices, blank=True, default=""
    )
    search_names = models.TextField(
        _("names to search"), blank=True, help_text=_("Every known name of the city, case-folded, one a line.")
    )
    search_keys = models.TextField(
        _("search keys"),
        blank=True,
        help_text=_("Every known name of the city as the directory search compares it, each on a line of its own."),
    )
    country = models.ForeignKey(Country, on_delete=models.PROTECT, related_name="cities")
    population = models.PositiveBigIntegerField(_("population"))
    latitude = models.FloatField(_("latitude"))
    longitude = models.FloatField(_("longitude"))
    timezone = models.CharField(_("time zone"), max_length=60)
    is_capital = models.BooleanField(_("capital"), default=False)
    region_code = models.CharField(
        _("region code"),
        max_length=20,
        blank=True,
        help_text=_("GeoNames' code of the city's first-level division (oblast, province, state) in its country."),
    )
    feature_code = models.CharField(
        _("GeoNames feature code"),
        max_length=10,
        blank=True,
        help_text=_(
            "What GeoNames says the place is: PPLC a capital, PPLA the seat of a region, PPLA2 the seat of a "
            "district; empty when GeoNames' file in pycities does not list the city."
        ),
    )

    description = models.TextField(_("description"), blank=True)
    website = models.URLField(_("website"), blank=True)
    contact_office = models.CharField(_("contact office"), max_length=200, blank=True)
    contact_email = models.EmailField(_("contact e-mail"), blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    needs = models.ManyToManyField(
        Topic, blank=True, related_name="cities_in_need", verbose_name=_("topics it needs help with")
    )
    expertise = models.ManyToManyField(
        Topic, blank=True, related_name="cities_with_expertise", verbose_name=_("topics it has expertise in")
    )
    profile_updated_at = models.DateTimeField(_("profile updated at"), null=True, blank=True)

    objects = CityQuerySet.as_manager()

    # The directory's order when nobody asks for another: the largest cities first.
    DIRECTORY_ORDER = ("-population", "id")
    # What the officers keep; an import never writes these.
    PROFILE_FIELDS = ("description", "website", "contact_office", "contact_email", "contact_phone")
    # What the directory's lists do not show: the long ones cost more to load than the rest of a row.
    LIST_DEFERRED = ("search_names", "search_keys", *PROFILE_FIELDS, "profile_updated_at")

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("city")
        verbose_name_plural = _("cities")
        # On PostgreSQL, migration 0002 adds a trigram index on `search_keys` for the name search;
        # it is not declared here because SQLite, the embedded mode, has no such index.
        indexes = [
            models.Index(fields=["country", "-population"], name="city_country_population"),
            models.Index(fields=["-population", "id"], name="city_directory_order"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(latitude__gte=-90, latitude__lte=90, longitude__gte=-180, longitude__lte=180),
                name="city_coordinates_on_earth",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    def get_absolute_url(self) -> str:
        return reverse("cities:detail", args=[self.pk])

    @staticmethod
    def fold_names(*names: str) -> str:
        """The value of `search_names` for these names."""
        return "\n".join(dict.fromkeys(name.casefold() for name in names if name))

    @staticmethod
    def search_key(text: str) -> str:
        """`text` as the directory search compares names: case-folded, without spaces, punctuation or symbols.

        "Xi'an", "Xi’an", "xi an" and "XIAN" all give "xian"; letters, digits and
        the marks that some scripts write vowels with are kept.
        """
        folded = unicodedata.normalize("NFKC", text).casefold()
        return "".join(char for char in folded if unicodedata.category(char)[0] in "LMN")

    @classmethod
    def fold_keys(cls, *names: str) -> str:
        """The value of `search_keys` for these names: one a line, with a line break before the first too.

        Around every key is a line break, so that a search tells a whole name
        (`"\nxian\n"`) and a name's start (`"\nxian"`) with one `LIKE` each.
        """
        keys = "\n".join(dict.fromkeys(key for key in map(cls.search_key, names) if key))
        return f"\n{keys}\n" if keys else ""

    @property
    def display_name(self) -> str:
        """The name in the reader's script where the data has it, else the GeoNames name."""
        return _in_reader_language(self.name, self.name_ru, self.name_zh)

    @property
    def shows_geonames_name(self) -> bool:
        """Whether a Russian or Chinese reader sees the GeoNames name, no source giving one in their language."""
        language = (get_language() or "en").lower()
        return (language.startswith("ru") and not self.name_ru) or (language.startswith("zh") and not self.name_zh)
