from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

from cities.models import City
from cities.services import import_cities, load_reference_data
from partnerships.models import Agreement

TWINNINGS = Path(settings.BASE_DIR) / "data" / "sco_twinnings.csv"


@pytest.fixture
def real_cities(db: None) -> None:
    load_reference_data()
    import_cities()


def test_real_partnerships_import_as_active_agreements_and_report_skipped_rows(
    real_cities: None, capsys: pytest.CaptureFixture[str]
) -> None:
    call_command("import_agreements", str(TWINNINGS))

    output = capsys.readouterr().out
    imported = Agreement.objects.filter(status=Agreement.Status.ACTIVE)
    assert imported.count() >= 400
    assert not imported.filter(source="").exists()
    almaty_bishkek = Agreement.objects.between(City.objects.get(geonameid=1526384), City.objects.get(geonameid=1528675))
    assert almaty_bishkek.filter(status="active").count() == 1
    skipped = [line for line in output.splitlines() if line.startswith("line ")]
    assert skipped, "the shared file has districts and unknown names; each must be reported"
    assert any("is a district, not a city" in line for line in skipped)
    assert any("is not in the city directory" in line for line in skipped)
    assert any("does not match GeoNames" in line for line in skipped)
    assert all(": skipped: " in line for line in skipped)
    assert f"{imported.count()} agreements imported" in output
    assert all(t.move == "import" for agreement in imported[:20] for t in agreement.transitions.all())


def test_reimport_creates_nothing_new(real_cities: None, capsys: pytest.CaptureFixture[str]) -> None:
    call_command("import_agreements", str(TWINNINGS))
    count = Agreement.objects.count()
    capsys.readouterr()

    call_command("import_agreements", str(TWINNINGS))

    assert Agreement.objects.count() == count
    assert f"0 agreements imported, {count} already there" in capsys.readouterr().out


def test_missing_file_is_a_clear_error(db: None) -> None:
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="no such file"):
        call_command("import_agreements", "data/nowhere.csv")
