"""A unique key per spent captcha challenge; the uses already in the audit log are carried over."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ppas', '0002_lookup_indexes')]

    initial = False

    operations = [
        ops.CreateModel(
            name='SpentCaptcha',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('key', fields.CharField(unique=True, max_length=50)),
                ('spent_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'spent_captcha', 'app': 'ppas', 'pk_attr': 'id', 'table_description': 'A solved challenge already used (keyed by the first 50 characters of its signature).'},
            bases=['Model'],
        ),
        # Challenges spent before this migration stay spent (they live 20 minutes).
        ops.RunSQL(
            'INSERT INTO "spent_captcha" ("key", "spent_at") SELECT "object_id", MIN("at") '
            'FROM "audit_event" WHERE "action" = \'captcha_used\' GROUP BY "object_id"',
            reverse_sql='DELETE FROM "spent_captcha"',
        ),
    ]
