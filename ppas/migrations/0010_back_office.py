"""Care plans: one plan per beneficiary, convention and start date (the natural key the
caisse's CSV import updates instead of duplicating)."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.migrations.constraints import UniqueConstraint

class Migration(migrations.Migration):
    dependencies = [('ppas', '0009_jobs')]

    initial = False

    operations = [
        ops.AddConstraint(
            model_name='CarePlan',
            constraint=UniqueConstraint(fields=('beneficiary', 'convention', 'start_date'), name=None),
        ),
    ]
