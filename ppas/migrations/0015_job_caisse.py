"""Jobs per caisse (NULL: the portal's own work, seen by every caisse) and the outbox's claim
(a message taken by one sender is left alone by the others while it is being sent)."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields

class Migration(migrations.Migration):
    dependencies = [('ppas', '0014_integration_fixes')]

    initial = False

    operations = [
        ops.AddField(
            model_name='Job',
            name='caisse',
            field=fields.ForeignKeyField('ppas.Caisse', source_field='caisse_id', null=True, db_constraint=True, to_field='id', related_name='jobs', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='OutboxMessage',
            name='claimed_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
    ]
