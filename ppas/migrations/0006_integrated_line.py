"""Integration: accepted lines once integrated (payable, rejected, paid) in one table."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from ppas.models.integration import IntegrationStatus
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ppas', '0005_restrict_billing_history')]

    initial = False

    operations = [
        ops.CreateModel(
            name='IntegratedLine',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('caisse', fields.ForeignKeyField('ppas.Caisse', source_field='caisse_id', db_constraint=True, to_field='id', related_name='integrated_lines', on_delete=OnDelete.RESTRICT)),
                ('partner', fields.ForeignKeyField('ppas.Partner', source_field='partner_id', db_constraint=True, to_field='id', related_name='integrated_lines', on_delete=OnDelete.RESTRICT)),
                ('convention', fields.ForeignKeyField('ppas.Convention', source_field='convention_id', db_constraint=True, to_field='id', related_name='integrated_lines', on_delete=OnDelete.RESTRICT)),
                ('care_plan', fields.ForeignKeyField('ppas.CarePlan', source_field='care_plan_id', null=True, db_constraint=True, to_field='id', related_name='integrated_lines', on_delete=OnDelete.RESTRICT)),
                ('billing_line', fields.OneToOneField('ppas.BillingLine', source_field='billing_line_id', null=True, db_constraint=True, to_field='id', related_name='integration', on_delete=OnDelete.RESTRICT)),
                ('form_line', fields.OneToOneField('ppas.FormLine', source_field='form_line_id', null=True, db_constraint=True, to_field='id', related_name='integration', on_delete=OnDelete.RESTRICT)),
                ('period_start', fields.DateField()),
                ('period_end', fields.DateField()),
                ('hours', fields.DecimalField(max_digits=6, decimal_places=2)),
                ('sunday_hours', fields.DecimalField(default=0, max_digits=6, decimal_places=2)),
                ('hourly_rate', fields.DecimalField(max_digits=8, decimal_places=2)),
                ('participation', fields.DecimalField(max_digits=8, decimal_places=2)),
                ('amount', fields.DecimalField(max_digits=10, decimal_places=2)),
                ('status', fields.CharEnumField(description='PAYABLE: payable\nREJECTED: rejected\nPAID: paid', enum_type=IntegrationStatus, max_length=8)),
                ('sent_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('integrated_at', fields.DatetimeField(auto_now=False, auto_now_add=False)),
                ('slip', fields.ForeignKeyField('ppas.PaymentSlip', source_field='slip_id', null=True, db_constraint=True, to_field='id', related_name='lines', on_delete=OnDelete.RESTRICT)),
            ],
            options={'table': 'integrated_line', 'app': 'ppas', 'indexes': [Index(fields=['caisse_id', 'status']), Index(fields=['slip_id'])], 'pk_attr': 'id', 'table_description': 'One accepted line (from a file or a validated form) after integration.'},
            bases=['Model'],
        ),
    ]
