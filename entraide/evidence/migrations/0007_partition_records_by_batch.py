"""On PostgreSQL, each evidence table becomes partitioned by batch (see evidence/partitions.py):
the same columns, constraints, NIR index and id sequence; existing rows move into one partition
per batch. Elsewhere nothing changes."""

from django.db import migrations

# (table, its NIR index as the models name it)
TABLES = (
    ("evidence_employerdeclaration", "evidence_declaration_nir"),
    ("evidence_rightsrecord", "evidence_rights_nir"),
    ("evidence_benefitrecord", "evidence_benefit_nir"),
    ("evidence_cancellationrecord", "evidence_cancellation_nir"),
)


def partition_by_batch(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, index in TABLES:
        old = f"{table}_unpartitioned"
        schema_editor.execute(f'ALTER TABLE "{table}" RENAME TO "{old}"')
        schema_editor.execute(f'ALTER INDEX "{index}" RENAME TO "{index}_unpartitioned"')
        schema_editor.execute(
            f'ALTER TABLE "{old}" RENAME CONSTRAINT "{table}_pkey" TO "{old}_pkey"'
        )
        schema_editor.execute(f'ALTER SEQUENCE "{table}_id_seq" RENAME TO "{old}_id_seq"')
        schema_editor.execute(
            f'CREATE TABLE "{table}" (LIKE "{old}" INCLUDING DEFAULTS INCLUDING CONSTRAINTS) '
            f"PARTITION BY LIST (batch_id)"
        )
        # A partitioned table has no identity column (PostgreSQL < 17): a sequence instead.
        schema_editor.execute(f'CREATE SEQUENCE "{table}_id_seq" OWNED BY "{table}".id')
        schema_editor.execute(
            f"SELECT setval('\"{table}_id_seq\"', "
            f'COALESCE((SELECT max(id) FROM "{old}"), 0) + 1, false)'
        )
        schema_editor.execute(
            f'ALTER TABLE "{table}" ALTER COLUMN id SET DEFAULT nextval(\'"{table}_id_seq"\')'
        )
        schema_editor.execute(f'ALTER TABLE "{table}" ADD PRIMARY KEY (id, batch_id)')
        schema_editor.execute(f'CREATE INDEX "{index}" ON "{table}" (nir)')
        with schema_editor.connection.cursor() as cursor:
            cursor.execute(f'SELECT DISTINCT batch_id FROM "{old}" ORDER BY batch_id')
            batches = [row[0] for row in cursor.fetchall()]
        for batch in batches:
            schema_editor.execute(
                f'CREATE TABLE "{table}_b{int(batch)}" PARTITION OF "{table}" '
                f"FOR VALUES IN ({int(batch)})"
            )
        schema_editor.execute(f'INSERT INTO "{table}" SELECT * FROM "{old}"')
        schema_editor.execute(f'DROP TABLE "{old}"')


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0006_verification_task"),
    ]

    operations = [
        migrations.RunPython(partition_by_batch, migrations.RunPython.noop, elidable=False),
    ]
