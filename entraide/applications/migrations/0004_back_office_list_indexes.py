"""The back office's lists of applications at a million per fund (issue 7).

Each order of the list (submission, name, reference; one status's applications by submission)
is read from an index ending with the id, as keyset pages need. On PostgreSQL, searching gets
its own: the words of the folded name, ``entraide_name_words(first_name, last_name)`` (a
text-search vector of the name in lower case without accents, from the ``unaccent`` extension)
in a GIN index, for the start of any word of a name; and the lower-cased e-mail for its start.
SQLite has neither: it gets the same function from Python on each connection
(entraide.applications.search) and reads every row, which is enough at its sizes.
"""

from django.db import migrations, models

SEARCH_INDEXES = ("application_name_search", "application_email_prefix")


def create_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent'"
        )
        schema = schema_editor.quote_name(cursor.fetchone()[0])
    # Immutable (unaccent is only stable: its dictionary could change), so that an index may
    # store it; the dictionary is named with its schema, whatever the search path. Its cost
    # says that it is dear to compute row by row (about 3 µs): a count of the matches then
    # reads the index rather than walking a list's order computing it for every row.
    schema_editor.execute(
        "CREATE OR REPLACE FUNCTION entraide_name_words(first_name text, last_name text) "
        "RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT COST 1000 AS $$ "
        f"SELECT to_tsvector('pg_catalog.simple', lower({schema}.unaccent("
        f"'{schema}.unaccent'::regdictionary, first_name || ' ' || last_name))) $$"
    )
    schema_editor.execute(
        "CREATE INDEX application_name_search ON applications_application USING gin "
        "(entraide_name_words(first_name, last_name))"
    )
    schema_editor.execute(
        "CREATE INDEX application_email_prefix ON applications_application "
        "(lower(email) text_pattern_ops)"
    )


def drop_search(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for index in SEARCH_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {index}")
    schema_editor.execute("DROP FUNCTION IF EXISTS entraide_name_words(text, text)")


class Migration(migrations.Migration):
    dependencies = [
        ("applications", "0003_review_clock"),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="application",
            name="application_fund_id_c2f80b_idx",
        ),
        migrations.RemoveIndex(
            model_name="application",
            name="application_fund_id_7a50ba_idx",
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                fields=["fund", "status", "submitted_at", "id"], name="application_status_order"
            ),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                fields=["fund", "submitted_at", "id"], name="application_submitted_order"
            ),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(
                fields=["fund", "last_name", "first_name", "id"], name="application_name_order"
            ),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["fund", "reference"], name="application_reference_order"),
        ),
        migrations.RunPython(create_search, drop_search, elidable=False),
    ]
