from django.db import migrations

# Chinese has no word breaks for PostgreSQL's full text, so a Chinese query is a substring match.
# On PostgreSQL it reads this stored, lower-cased text of the four searched fields through a
# trigram GIN index (pg_trgm, a trusted extension); SQLite scans, as it does for every search.
SEARCH_TEXT = (
    "lower(coalesce(title, '') || ' ' || coalesce(summary, '') || ' ' "
    "|| coalesce(problem, '') || ' ' || coalesce(solution, ''))"
)


def add_search_text(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(
        f"ALTER TABLE practices_practice ADD COLUMN search_text text GENERATED ALWAYS AS ({SEARCH_TEXT}) STORED"
    )
    schema_editor.execute(
        "CREATE INDEX practice_search_text ON practices_practice USING gin (search_text gin_trgm_ops)"
    )


def drop_search_text(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("ALTER TABLE practices_practice DROP COLUMN search_text")


class Migration(migrations.Migration):
    dependencies = [("practices", "0002_library_export")]

    operations = [migrations.RunPython(add_search_text, drop_search_text)]
