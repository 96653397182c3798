"""Indexes for the lookups that scanned whole tables: a file's lines and anomalies, a care plan's
earlier billings and form lines, a form's lines by position."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ppas', '0001_initial')]

    initial = False

    operations = [
        ops.AddIndex(
            model_name='Anomaly',
            index=Index(fields=['file_id', 'record_number']),
        ),
        ops.AddIndex(
            model_name='Anomaly',
            index=Index(fields=['line_id']),
        ),
        ops.AddIndex(
            model_name='BillingLine',
            index=Index(fields=['file_id', 'record_number']),
        ),
        ops.AddIndex(
            model_name='BillingLine',
            index=Index(fields=['care_plan_id', 'period_start']),
        ),
        ops.AddIndex(
            model_name='FormLine',
            index=Index(fields=['form_id', 'position']),
        ),
        ops.AddIndex(
            model_name='FormLine',
            index=Index(fields=['care_plan_id']),
        ),
    ]
