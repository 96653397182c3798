"""Jobs: the `job` table (background work as rows) and the workers' heartbeats."""
from tortoise import migrations
from tortoise.migrations import operations as ops
import functools
from json import dumps, loads
from ppas.models.job import JobState
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ppas', '0008_integration')]

    initial = False

    operations = [
        ops.CreateModel(
            name='Job',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('kind', fields.CharField(max_length=64)),
                ('payload', fields.JSONField(default=dict, encoder=functools.partial(dumps, separators=(',', ':')), decoder=loads)),
                ('state', fields.CharEnumField(default=JobState.QUEUED, description='QUEUED: queued\nRUNNING: running\nDONE: done\nFAILED: failed', enum_type=JobState, max_length=7)),
                ('run_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('attempts', fields.IntField(default=0)),
                ('max_attempts', fields.IntField(default=5)),
                ('last_error', fields.TextField(default='', unique=False)),
                ('locked_by', fields.CharField(null=True, max_length=100)),
                ('locked_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
                ('key', fields.CharField(null=True, unique=True, max_length=200)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('finished_at', fields.DatetimeField(null=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'job', 'app': 'ppas', 'indexes': [Index(fields=['state', 'run_at']), Index(fields=['state', 'locked_at'])], 'pk_attr': 'id', 'table_description': 'One piece of background work, run by the handler of its `kind`.'},
            bases=['Model'],
        ),
        ops.CreateModel(
            name='WorkerHeartbeat',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('worker', fields.CharField(unique=True, max_length=100)),
                ('started_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('beat_at', fields.DatetimeField(db_index=True, auto_now=False, auto_now_add=False)),
            ],
            options={'table': 'worker_heartbeat', 'app': 'ppas', 'pk_attr': 'id', 'table_description': 'The last sign of life of one worker process (for /readyz).'},
            bases=['Model'],
        ),
    ]
