"""One account per name whatever its case: a unique index on LOWER(username).

The sign-up form checked case-insensitive uniqueness, but twenty concurrent sign-ups with
case variants made three accounts. The index makes the database refuse the second one.
The user model belongs to django.contrib.auth, so the index is made here, in SQL that
PostgreSQL and SQLite both understand, with its reverse.
"""

from django.conf import settings
from django.db import migrations

INDEX = "courseware_username_lower_uniq"


def _table(apps) -> str:
    app_label, model_name = settings.AUTH_USER_MODEL.split(".")
    return apps.get_model(app_label, model_name)._meta.db_table


def create_index(apps, schema_editor):
    qn = schema_editor.quote_name
    table = _table(apps)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            f"SELECT LOWER(username) FROM {qn(table)} GROUP BY LOWER(username)"  # noqa: S608  # nosec B608
            " HAVING COUNT(*) > 1"
        )
        clashes = [row[0] for row in cursor.fetchall()]
    if clashes:
        raise RuntimeError(
            "These usernames exist in more than one case; rename all but one of each before"
            f" migrating: {', '.join(sorted(clashes)[:20])}"
        )
    schema_editor.execute(f"CREATE UNIQUE INDEX {qn(INDEX)} ON {qn(table)} (LOWER(username))")


def drop_index(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(INDEX)}")


class Migration(migrations.Migration):
    dependencies = [
        ("courseware", "0006_page_texts"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
