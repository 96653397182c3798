"""Integration fixes (issue 10 review).

* form_line.billed_start / billed_end: the part of the month a form line bills, frozen at
  validation from the care plan's dates then; R04 checks the plan still covers it (a plan that
  starts or ends during the month is no longer always rejected).
* integrated_line.announced_at: a rejected line once its partner was told by e-mail; the mail
  is queued in the transaction that marks the lines, so it survives a run that stops after its
  batches. Lines rejected before this migration count as announced (their mails were sent by
  the run that rejected them).
* Exactly one of integrated_line.billing_line_id / form_line_id is set: a CHECK constraint on
  PostgreSQL; on SQLite (which cannot add a CHECK to an existing table without rebuilding it,
  and a rebuild loses indexes, see 0005) two triggers refuse an INSERT or UPDATE breaking it.
"""
from tortoise import fields, migrations
from tortoise.indexes import Index
from tortoise.migrations import operations as ops

_ONE_SOURCE = '(("billing_line_id" IS NULL) <> ("form_line_id" IS NULL))'
_SQLITE_TRIGGER = '''CREATE TRIGGER "integrated_line_one_source_{event}"
BEFORE {event} ON "integrated_line"
FOR EACH ROW WHEN NOT ((NEW."billing_line_id" IS NULL) <> (NEW."form_line_id" IS NULL))
BEGIN SELECT RAISE(ABORT, 'integrated_line_one_source: exactly one of billing_line_id and form_line_id'); END'''


async def forward(apps, editor) -> None:
    client = editor.client
    dialect = client.capabilities.dialect
    await client.execute_query(
        "UPDATE \"integrated_line\" SET \"announced_at\" = \"integrated_at\" "
        "WHERE \"status\" = 'rejected' AND \"announced_at\" IS NULL")
    if dialect == "postgres":
        await client.execute_query(
            f'ALTER TABLE "integrated_line" ADD CONSTRAINT "integrated_line_one_source" '
            f"CHECK {_ONE_SOURCE}")
    elif dialect == "sqlite":
        for event in ("INSERT", "UPDATE"):
            await client.execute_query(_SQLITE_TRIGGER.format(event=event))
    else:
        raise NotImplementedError(f"0014_integration_fixes has no SQL for {dialect}")


async def backward(apps, editor) -> None:
    client = editor.client
    if client.capabilities.dialect == "postgres":
        await client.execute_query(
            'ALTER TABLE "integrated_line" DROP CONSTRAINT IF EXISTS "integrated_line_one_source"')
    else:
        for event in ("INSERT", "UPDATE"):
            await client.execute_query(f'DROP TRIGGER IF EXISTS "integrated_line_one_source_{event}"')


class Migration(migrations.Migration):
    dependencies = [('ppas', '0013_evaluations')]

    initial = False

    operations = [
        ops.AddField(
            model_name='FormLine',
            name='billed_end',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='FormLine',
            name='billed_start',
            field=fields.DateField(null=True),
        ),
        ops.AddField(
            model_name='IntegratedLine',
            name='announced_at',
            field=fields.DatetimeField(null=True, auto_now=False, auto_now_add=False),
        ),
        ops.AddIndex(
            model_name='IntegratedLine',
            index=Index(fields=['status', 'announced_at']),
        ),
        ops.RunPython(forward, reverse_code=backward),
    ]
