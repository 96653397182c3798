"""Evaluations: order reference, version and reservation end; accepted evaluations keyed by the
client's UUID; conflicts kept for review; the offline packages of each browser."""
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from ppas.models.evaluation import ConflictStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ppas', '0007_event_mail_preference')]

    initial = False

    operations = [
        ops.CreateModel(
            name='OfflinePackage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('user', fields.ForeignKeyField('ppas.User', source_field='user_id', db_constraint=True, to_field='id', related_name='offline_packages', on_delete=OnDelete.CASCADE)),
                ('browser_id', fields.CharField(max_length=64)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('orders', fields.JSONField(default=list, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('definitions_version', fields.CharField(default='', max_length=40)),
                ('superseded_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('last_synchronised_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'offline_package', 'app': 'ppas', 'indexes': [Index(fields=['user_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'The orders a browser took offline, with their versions.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='EvaluationConflict',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('client_id', fields.UUIDField(db_index=True)),
                ('order', fields.ForeignKeyField('ppas.EvaluationOrder', source_field='order_id', db_constraint=True, to_field='id', related_name='conflicts', on_delete=OnDelete.CASCADE)),
                ('evaluator', fields.ForeignKeyField('ppas.User', source_field='evaluator_id', db_constraint=True, to_field='id', related_name='evaluation_conflicts', on_delete=OnDelete.CASCADE)),
                ('package', fields.ForeignKeyField('ppas.OfflinePackage', source_field='package_id', null=True, db_constraint=True, to_field='id', related_name='conflicts', on_delete=OnDelete.CASCADE)),
                ('order_version', fields.IntField()),
                ('answers', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('content_digest', fields.CharField(max_length=64)),
                ('gir', fields.IntField(null=True)),
                ('visited_on', fields.DateField(null=True)),
                ('reason', fields.CharField(max_length=500)),
                ('received_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('status', fields.CharEnumField(default=ConflictStatus.PENDING, description='PENDING: pending\nACCEPTED: accepted\nSET_ASIDE: set_aside', enum_type=ConflictStatus, max_length=9)),
                ('resolved_by', fields.ForeignKeyField('ppas.User', source_field='resolved_by_id', null=True, db_constraint=True, to_field='id', related_name='resolved_conflicts', on_delete=OnDelete.CASCADE)),
                ('resolved_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'evaluation_conflict', 'app': 'ppas', 'unique_together': (('client_id', 'content_digest'),), 'indexes': [Index(fields=['status', 'received_at'])], 'pk_attr': 'id', 'table_description': "An evaluation the portal could not accept as is: kept whole for the caisse's review."},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Evaluation',
            name='client_id',
            field=fields.UUIDField(null=True, unique=True),
        ),
        ops.AddField(
            model_name='Evaluation',
            name='content_digest',
            field=fields.CharField(default='', db_default='', max_length=64),
        ),
        ops.AddField(
            model_name='Evaluation',
            name='order_version',
            field=fields.IntField(null=True),
        ),
        ops.AddField(
            model_name='Evaluation',
            name='package',
            field=fields.ForeignKeyField('ppas.OfflinePackage', source_field='package_id', null=True, db_constraint=True, to_field='id', related_name='evaluations', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='EvaluationOrder',
            name='created_by',
            field=fields.ForeignKeyField('ppas.User', source_field='created_by_id', null=True, db_constraint=True, to_field='id', related_name='created_orders', on_delete=OnDelete.CASCADE),
        ),
        ops.AddField(
            model_name='EvaluationOrder',
            name='reference',
            field=fields.CharField(null=True, unique=True, max_length=20),
        ),
        ops.AddField(
            model_name='EvaluationOrder',
            name='reserved_until',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddField(
            model_name='EvaluationOrder',
            name='version',
            field=fields.IntField(default=1, db_default=1),
        ),
        ops.AddIndex(
            model_name='EvaluationOrder',
            index=Index(fields=['partner_id', 'status']),
        ),
    ]
