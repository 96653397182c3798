"""Integration: when a line re-billed through the portal was sent (the report delay counts from there)."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ppas', '0007_event_mail_preference')]

    initial = False

    operations = [
        ops.AddField(
            model_name='BillingLine',
            name='sent_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
