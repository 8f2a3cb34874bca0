from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class User(AbstractUser):
    """A person using the portal, with one role and the city or country it is tied to.

    A municipal officer belongs to one city, a national coordinator to one
    country; an SCO coordinator (the secretariat) works for every country.
    Staff (`is_staff`) run the Django admin whatever their role.
    """

    class Role(models.TextChoices):
        VISITOR = "visitor", _("Visitor")
        OFFICER = "officer", _("Municipal officer")
        NATIONAL_COORDINATOR = "national_coordinator", _("National coordinator")
        SCO_COORDINATOR = "sco_coordinator", _("SCO coordinator")

    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.VISITOR)
    city = models.ForeignKey(
        "cities.City",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="officers",
        verbose_name=_("city"),
    )
    country = models.ForeignKey(
        "cities.Country",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="coordinators",
        verbose_name=_("country"),
    )
    language = models.CharField(
        _("language"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    class Meta(AbstractUser.Meta):
        constraints = [
            models.CheckConstraint(
                name="user_role_matches_city_and_country",
                condition=(
                    Q(role="officer", city__isnull=False, country__isnull=True)
                    | Q(role="national_coordinator", city__isnull=True, country__isnull=False)
                    | Q(role__in=["visitor", "sco_coordinator"], city__isnull=True, country__isnull=True)
                ),
                violation_error_message=_(
                    "An officer needs a city, a national coordinator a country, and other roles neither."
                ),
            ),
        ]

    @property
    def display_name(self) -> str:
        """How pages, e-mails and the API name a person to others: their full name and role,
        or the role alone. Never the login name, which is half of what a password guesser needs."""
        full_name = self.get_full_name()
        role = self.get_role_display()
        return f"{full_name} ({role})" if full_name else str(role)

    @property
    def is_officer(self) -> bool:
        return self.role == self.Role.OFFICER

    @property
    def is_national_coordinator(self) -> bool:
        return self.role == self.Role.NATIONAL_COORDINATOR

    @property
    def is_sco_coordinator(self) -> bool:
        return self.role == self.Role.SCO_COORDINATOR
