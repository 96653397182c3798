"""Payment runs and slips: payment date, who started a run, totals; slips numbered, dated,
counted, with the instant they become visible; one slip per (run, partner).

The run's status gains `running` and `done` (and loses `paid`, which no code ever wrote): the
column is the same VARCHAR(7), so the AlterField only tells Tortoise's state.
"""
from tortoise import migrations
from tortoise.migrations import operations as ops
from ppas.models.payment import RunStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index
from tortoise.migrations.constraints import UniqueConstraint

class AlterFieldState(ops.AlterField):
    """An AlterField for Tortoise's state only (the column does not change)."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


class Migration(migrations.Migration):
    dependencies = [('ppas', '0010_back_office')]

    initial = False

    operations = [
        ops.AlterModelOptions(
            name='PaymentRun',
            options={'table': 'payment_run', 'app': 'ppas', 'indexes': [Index(fields=['caisse_id', 'paid_on'])], 'pk_attr': 'id', 'table_description': 'One payment run of a caisse: every payable line of the caisse, one slip per partner.'},
        ),
        AlterFieldState(
            model_name='PaymentRun',
            name='status',
            field=fields.CharEnumField(default=RunStatus.PLANNED, description='PLANNED: planned\nRUNNING: running\nDONE: done', enum_type=RunStatus, max_length=7),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='line_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='paid_on',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='slip_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='started_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='started_by',
            field=fields.ForeignKeyField('ppas.User', source_field='started_by_id', null=True, db_constraint=True, to_field='id', related_name='payment_runs', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='PaymentRun',
            name='total_amount',
            field=fields.DecimalField(default=0, db_default=0, max_digits=14, decimal_places=2),
        ),
        ops.AddIndex(
            model_name='PaymentRun',
            index=Index(fields=['caisse_id', 'paid_on']),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='available_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='caisse',
            field=fields.ForeignKeyField('ppas.Caisse', source_field='caisse_id', null=True, db_constraint=True, to_field='id', related_name='payment_slips', on_delete=OnDelete.RESTRICT),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='created_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='line_count',
            field=fields.IntField(default=0, db_default=0),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='number',
            field=fields.CharField(null=True, unique=True, max_length=24),
        ),
        ops.AddField(
            model_name='PaymentSlip',
            name='paid_on',
            field=fields.DateField(null=True),
        ),
        ops.AddIndex(
            model_name='PaymentSlip',
            index=Index(fields=['partner_id', 'published_at']),
        ),
        ops.AddIndex(
            model_name='PaymentSlip',
            index=Index(fields=['published_at', 'available_at']),
        ),
        ops.AddConstraint(
            model_name='PaymentSlip',
            constraint=UniqueConstraint(fields=('run', 'partner'), name=None),
        ),
    ]
