"""Billing and payment history is no longer deletable by cascade: its foreign keys become RESTRICT.

Until now every foreign key was ON DELETE CASCADE, so deleting a partner, a convention, a care
plan, a caisse or an account silently erased billed lines, anomalies, files, forms and payment
slips. Every foreign key *of* a history table becomes ON DELETE RESTRICT, 16 in all:

  billing_file   partner_id, convention_id, uploaded_by_id (app_user)
  billing_line   file_id, care_plan_id
  anomaly        file_id, line_id, form_line_id
  billing_form   convention_id, validated_by_id (app_user), payment_run_id
  form_line      form_id, care_plan_id
  payment_run    caisse_id
  payment_slip   run_id, partner_id

The history tables' own links (a file's lines, a line's anomalies, a form's lines, a run's
forms and slips) are RESTRICT too: a billing file or a form is itself history, and no use case
deletes one; to remove history on purpose, delete it child first. An account that sent a file or
validated a form stays (deactivate it: `active`); SET NULL would keep the row but lose who did it.

CASCADE stays on every other foreign key, where the children are not history:
  * a user's sessions, password history and API tokens; a caisse's registrations and the
    user who decided one; an account's audit events (the audit log is not billing history;
    if it must outlive accounts, that is its own change);
  * care plans (of a beneficiary, partner or convention), conventions (of a partner), partners,
    beneficiaries and users (of a caisse or partner): these are reference data. Deleting one
    still removes its children, but as soon as a removed care plan, convention or partner has
    billing or payment history, the RESTRICT on that history refuses the whole DELETE
    (nothing is deleted). A beneficiary never billed still goes with its care plans;
  * evaluation orders and evaluations (not billing).

SQLite cannot change a foreign key in place: each history table is rebuilt by SQLite's own
procedure (https://sqlite.org/lang_altertable.html#otheralter): create `new_<table>` with the
new clauses, copy every row, drop the old table, rename, then recreate its indexes. The
CREATE TABLE statements below are the ones Tortoise generated for 0001, with only ON DELETE
changed, so the unique constraints (inline, with their sqlite_autoindex) come back identical;
the AUTOINCREMENT counter is carried over so no id is ever handed out twice. There are no
triggers or views on these tables. This runs with foreign keys off (`ppas migrate` does that
on SQLite; with them on, dropping billing_line would cascade into anomaly) and checks every
reference of the rebuilt tables before the migration's transaction commits.

PostgreSQL drops and re-adds each constraint under its name (`<table>_<column>_fkey`, as
created by 0001), in one ALTER TABLE per table; a constraint named otherwise makes the
migration fail and roll back, never leave a CASCADE beside the new RESTRICT.

Downgrade rebuilds (or re-adds) the same foreign keys with ON DELETE CASCADE.

Tortoise's state learns the change through AlterField operations that touch no database (the
SQL here does it), so `makemigrations` finds the models and the migrations in agreement and
never emits an AlterField, which Tortoise 1.1 would apply on SQLite by a rebuild that loses
indexes and unique constraints (see README).
"""
from __future__ import annotations

from tortoise import fields, migrations
from tortoise.fields.base import OnDelete
from tortoise.migrations import operations as ops

# Each history table: its CREATE TABLE (Tortoise's, from 0001, with `{on_delete}` for every
# foreign key), its columns, and its indexes (from 0001 and 0002). Referenced tables first.
TABLES: dict[str, dict[str, object]] = {
    "payment_run": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "status" VARCHAR(7) NOT NULL  /* PLANNED: planned\nPAID: paid */,
    "paid_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "caisse_id" INT NOT NULL REFERENCES "caisse" ("id") ON DELETE {on_delete}
)''',
        "columns": ["id", "status", "paid_at", "created_at", "caisse_id"],
        "indexes": [],
    },
    "payment_slip": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "published_at" TIMESTAMP,
    "pdf" BLOB,
    "partner_id" INT NOT NULL REFERENCES "partner" ("id") ON DELETE {on_delete},
    "run_id" INT NOT NULL REFERENCES "payment_run" ("id") ON DELETE {on_delete}
)''',
        "columns": ["id", "amount", "published_at", "pdf", "partner_id", "run_id"],
        "indexes": [],
    },
    "billing_file": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "name" VARCHAR(64) NOT NULL,
    "sha256" VARCHAR(64) NOT NULL,
    "content" BLOB NOT NULL,
    "status" VARCHAR(8) NOT NULL  /* ACCEPTED: accepted\nREFUSED: refused */,
    "period" VARCHAR(7),
    "line_count" INT NOT NULL,
    "accepted_count" INT NOT NULL,
    "total_amount" VARCHAR(40) NOT NULL,
    "idempotency_key" VARCHAR(100),
    "uploaded_at" TIMESTAMP NOT NULL,
    "convention_id" INT REFERENCES "convention" ("id") ON DELETE {on_delete},
    "partner_id" INT NOT NULL REFERENCES "partner" ("id") ON DELETE {on_delete},
    "uploaded_by_id" INT REFERENCES "app_user" ("id") ON DELETE {on_delete}
)''',
        "columns": ["id", "name", "sha256", "content", "status", "period", "line_count",
                    "accepted_count", "total_amount", "idempotency_key", "uploaded_at",
                    "convention_id", "partner_id", "uploaded_by_id"],
        "indexes": ['CREATE INDEX "idx_billing_fil_partner_0fcd48" ON "billing_file" '
                    '("partner_id", "name")'],
    },
    "billing_form": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "period" VARCHAR(7) NOT NULL,
    "status" VARCHAR(9) NOT NULL  /* OPEN: open\nVALIDATED: validated\nPAID: paid */,
    "version" INT NOT NULL,
    "validated_at" TIMESTAMP,
    "created_at" TIMESTAMP NOT NULL,
    "updated_at" TIMESTAMP NOT NULL,
    "convention_id" INT NOT NULL REFERENCES "convention" ("id") ON DELETE {on_delete},
    "payment_run_id" INT REFERENCES "payment_run" ("id") ON DELETE {on_delete},
    "validated_by_id" INT REFERENCES "app_user" ("id") ON DELETE {on_delete},
    CONSTRAINT "uid_billing_for_convent_c439f6" UNIQUE ("convention_id", "period")
)''',
        "columns": ["id", "period", "status", "version", "validated_at", "created_at",
                    "updated_at", "convention_id", "payment_run_id", "validated_by_id"],
        "indexes": [],
    },
    "billing_line": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "record_number" INT NOT NULL,
    "file_number" VARCHAR(10) NOT NULL,
    "last_name" VARCHAR(100) NOT NULL,
    "first_name" VARCHAR(100) NOT NULL,
    "period_start" DATE NOT NULL,
    "period_end" DATE NOT NULL,
    "hours" VARCHAR(40) NOT NULL,
    "sunday_hours" VARCHAR(40) NOT NULL,
    "hourly_rate" VARCHAR(40) NOT NULL,
    "participation" VARCHAR(40) NOT NULL,
    "amount" VARCHAR(40) NOT NULL,
    "status" VARCHAR(8) NOT NULL  /* ACCEPTED: accepted\nANOMALY: anomaly\nREBILLED: rebilled */,
    "care_plan_id" INT REFERENCES "care_plan" ("id") ON DELETE {on_delete},
    "file_id" INT NOT NULL REFERENCES "billing_file" ("id") ON DELETE {on_delete}
)''',
        "columns": ["id", "record_number", "file_number", "last_name", "first_name",
                    "period_start", "period_end", "hours", "sunday_hours", "hourly_rate",
                    "participation", "amount", "status", "care_plan_id", "file_id"],
        "indexes": ['CREATE INDEX "idx_billing_lin_file_id_152387" ON "billing_line" '
                    '("file_id", "record_number")',
                    'CREATE INDEX "idx_billing_lin_care_pl_dccc7e" ON "billing_line" '
                    '("care_plan_id", "period_start")'],
    },
    "form_line": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "position" INT NOT NULL,
    "hours" VARCHAR(40),
    "sunday_hours" VARCHAR(40),
    "amount" VARCHAR(40),
    "crossed_out" INT NOT NULL,
    "version" INT NOT NULL,
    "saved_at" TIMESTAMP,
    "care_plan_id" INT NOT NULL REFERENCES "care_plan" ("id") ON DELETE {on_delete},
    "form_id" INT NOT NULL REFERENCES "billing_form" ("id") ON DELETE {on_delete},
    CONSTRAINT "uid_form_line_form_id_e9d290" UNIQUE ("form_id", "care_plan_id")
)''',
        "columns": ["id", "position", "hours", "sunday_hours", "amount", "crossed_out",
                    "version", "saved_at", "care_plan_id", "form_id"],
        "indexes": ['CREATE INDEX "idx_form_line_form_id_e44b40" ON "form_line" '
                    '("form_id", "position")',
                    'CREATE INDEX "idx_form_line_care_pl_11fdb0" ON "form_line" '
                    '("care_plan_id")'],
    },
    "anomaly": {
        "create": r'''CREATE TABLE "{name}" (
    "id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL,
    "code" VARCHAR(3) NOT NULL,
    "phase" VARCHAR(7) NOT NULL  /* BILLING: billing\nREPORT: report */,
    "record_number" INT,
    "message" TEXT NOT NULL,
    "created_at" TIMESTAMP NOT NULL,
    "file_id" INT REFERENCES "billing_file" ("id") ON DELETE {on_delete},
    "form_line_id" INT REFERENCES "form_line" ("id") ON DELETE {on_delete},
    "line_id" INT REFERENCES "billing_line" ("id") ON DELETE {on_delete}
)''',
        "columns": ["id", "code", "phase", "record_number", "message", "created_at",
                    "file_id", "form_line_id", "line_id"],
        "indexes": ['CREATE INDEX "idx_anomaly_file_id_7ca74a" ON "anomaly" '
                    '("file_id", "record_number")',
                    'CREATE INDEX "idx_anomaly_line_id_1fb28f" ON "anomaly" ("line_id")'],
    },
}

# (table, column, referenced table): the same 16 foreign keys, for PostgreSQL.
FOREIGN_KEYS = [
    ("payment_run", "caisse_id", "caisse"),
    ("payment_slip", "partner_id", "partner"),
    ("payment_slip", "run_id", "payment_run"),
    ("billing_file", "convention_id", "convention"),
    ("billing_file", "partner_id", "partner"),
    ("billing_file", "uploaded_by_id", "app_user"),
    ("billing_form", "convention_id", "convention"),
    ("billing_form", "payment_run_id", "payment_run"),
    ("billing_form", "validated_by_id", "app_user"),
    ("billing_line", "care_plan_id", "care_plan"),
    ("billing_line", "file_id", "billing_file"),
    ("form_line", "care_plan_id", "care_plan"),
    ("form_line", "form_id", "billing_form"),
    ("anomaly", "file_id", "billing_file"),
    ("anomaly", "form_line_id", "form_line"),
    ("anomaly", "line_id", "billing_line"),
]


def sqlite_rebuild(table: str, on_delete: str) -> list[str]:
    """The statements that rebuild one table with ON DELETE `on_delete` on its foreign keys."""
    spec = TABLES[table]
    new = f"new_{table}"
    columns = ", ".join(f'"{column}"' for column in spec["columns"])
    return [
        str(spec["create"]).format(name=new, on_delete=on_delete),
        f'INSERT INTO "{new}" ({columns}) SELECT {columns} FROM "{table}"',
        # The copy set new_<table>'s counter to the highest id; the old counter may be higher
        # (rows deleted at the end) and ids are never to be reused.
        f"DELETE FROM sqlite_sequence WHERE name = '{new}'",
        f"INSERT INTO sqlite_sequence (name, seq) "
        f"SELECT '{new}', seq FROM sqlite_sequence WHERE name = '{table}'",
        f'DROP TABLE "{table}"',
        f'ALTER TABLE "{new}" RENAME TO "{table}"',
        *spec["indexes"],
    ]


def postgres_alter(table: str, on_delete: str) -> str:
    """One ALTER TABLE re-adding every foreign key of `table` with ON DELETE `on_delete`."""
    changes = []
    for name, column, referenced in FOREIGN_KEYS:
        if name == table:
            constraint = f"{table}_{column}_fkey"
            changes.append(f'DROP CONSTRAINT "{constraint}", ADD CONSTRAINT "{constraint}" '
                           f'FOREIGN KEY ("{column}") REFERENCES "{referenced}" ("id") '
                           f"ON DELETE {on_delete}")
    return f'ALTER TABLE "{table}" ' + ", ".join(changes)


async def _set_on_delete(editor, on_delete: str) -> None:
    client = editor.client
    dialect = client.capabilities.dialect
    if dialect == "postgres":
        for table in TABLES:
            await client.execute_query(postgres_alter(table, on_delete))
        return
    if dialect != "sqlite":
        raise NotImplementedError(f"0005_restrict_billing_history has no SQL for {dialect}")
    _, rows = await client.execute_query("PRAGMA foreign_keys")
    if rows[0][0]:
        # DROP TABLE with foreign keys on deletes (cascades) or refuses, in the referring tables.
        raise RuntimeError("0005_restrict_billing_history rebuilds tables: run it with "
                           "foreign keys off (`ppas migrate` does)")
    for table in TABLES:
        for statement in sqlite_rebuild(table, on_delete):
            await client.execute_query(statement)
    for table in TABLES:
        _, broken = await client.execute_query(f'PRAGMA foreign_key_check("{table}")')
        if broken:
            raise RuntimeError(f"{table} has {len(broken)} broken references after its rebuild, "
                               f"first: {tuple(broken[0])}")


async def restrict(apps, editor) -> None:
    await _set_on_delete(editor, "RESTRICT")


async def cascade(apps, editor) -> None:
    await _set_on_delete(editor, "CASCADE")


class AlterFieldState(ops.AlterField):
    """An AlterField for Tortoise's state only: this migration's RunPython changes the database."""

    async def database_forward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None

    async def database_backward(self, app_label, old_state, new_state, state_editor=None) -> None:
        return None


def _restricted(model: str, name: str, to: str, related_name: str, *, null: bool = False):
    return AlterFieldState(
        model_name=model, name=name,
        field=fields.ForeignKeyField(to, source_field=f"{name}_id", null=null,
                                     db_constraint=True, to_field="id",
                                     related_name=related_name, on_delete=OnDelete.RESTRICT))


class Migration(migrations.Migration):
    dependencies = [('ppas', '0004_contact')]

    initial = False

    operations = [
        ops.RunPython(restrict, reverse_code=cascade),
        _restricted("PaymentRun", "caisse", "ppas.Caisse", "payment_runs"),
        _restricted("PaymentSlip", "partner", "ppas.Partner", "payment_slips"),
        _restricted("PaymentSlip", "run", "ppas.PaymentRun", "slips"),
        _restricted("BillingFile", "convention", "ppas.Convention", "billing_files", null=True),
        _restricted("BillingFile", "partner", "ppas.Partner", "billing_files"),
        _restricted("BillingFile", "uploaded_by", "ppas.User", "billing_files", null=True),
        _restricted("BillingForm", "convention", "ppas.Convention", "billing_forms"),
        _restricted("BillingForm", "payment_run", "ppas.PaymentRun", "forms", null=True),
        _restricted("BillingForm", "validated_by", "ppas.User", "validated_forms", null=True),
        _restricted("BillingLine", "care_plan", "ppas.CarePlan", "billing_lines", null=True),
        _restricted("BillingLine", "file", "ppas.BillingFile", "lines"),
        _restricted("FormLine", "care_plan", "ppas.CarePlan", "form_lines"),
        _restricted("FormLine", "form", "ppas.BillingForm", "lines"),
        _restricted("Anomaly", "file", "ppas.BillingFile", "anomalies", null=True),
        _restricted("Anomaly", "form_line", "ppas.FormLine", "anomalies", null=True),
        _restricted("Anomaly", "line", "ppas.BillingLine", "anomalies", null=True),
    ]
