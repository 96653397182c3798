"""Accounts: a partner administrator may turn off the e-mails about report anomalies and slips."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ppas', '0006_integrated_line')]

    initial = False

    operations = [
        ops.AddField(
            model_name='User',
            name='event_mail',
            field=fields.BooleanField(default=True, db_default=True),
        ),
    ]
