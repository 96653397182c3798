"""« Contact »: the caisse's assistance details, and the messages sent to its desk."""
from tortoise import migrations
from tortoise.migrations import operations as ops
from tortoise.fields.base import OnDelete
from tortoise import fields
from tortoise.indexes import Index

class Migration(migrations.Migration):
    dependencies = [('ppas', '0003_spent_captcha')]

    initial = False

    operations = [
        ops.CreateModel(
            name='ContactMessage',
            fields=[
                ('id', fields.IntField(generated=True, primary_key=True, unique=True, db_index=True)),
                ('caisse', fields.ForeignKeyField('ppas.Caisse', source_field='caisse_id', db_constraint=True, to_field='id', related_name='contact_messages', on_delete=OnDelete.CASCADE)),
                ('sender', fields.ForeignKeyField('ppas.User', source_field='sender_id', null=True, db_constraint=True, to_field='id', related_name='contact_messages', on_delete=OnDelete.CASCADE)),
                ('sender_name', fields.CharField(max_length=200)),
                ('sender_email', fields.CharField(max_length=200)),
                ('structure_id', fields.CharField(default='', max_length=8)),
                ('subject', fields.CharField(max_length=150)),
                ('body', fields.TextField(unique=False)),
                ('attachment_name', fields.CharField(default='', max_length=200)),
                ('attachment_type', fields.CharField(default='', max_length=100)),
                ('attachment_size', fields.IntField(default=0)),
                ('attachment', fields.BinaryField(null=True)),
                ('created_at', fields.DatetimeField(auto_now=False, auto_now_add=True)),
            ],
            options={'table': 'contact_message', 'app': 'ppas', 'indexes': [Index(fields=['caisse_id', 'created_at'])], 'pk_attr': 'id', 'table_description': 'A question to the caisse, with an optional attachment (no sender account when anonymous).'},
            bases=['Model'],
        ),
        ops.AddField(
            model_name='Caisse',
            name='assistance_address',
            field=fields.CharField(default='', db_default='', max_length=300),
        ),
        ops.AddField(
            model_name='Caisse',
            name='assistance_email',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Caisse',
            name='assistance_hours',
            field=fields.CharField(default='', db_default='', max_length=200),
        ),
        ops.AddField(
            model_name='Caisse',
            name='assistance_phone',
            field=fields.CharField(default='', db_default='', max_length=30),
        ),
    ]
