# OutboxEmail belongs to notifications (its 0001): payments forgets the model, the table
# payments_outboxemail stays with its rows. Its content type follows the model, so
# permissions given on it stay given.

from django.db import migrations


def _move_content_type(apps, schema_editor, source, target):
    content_types = apps.get_model('contenttypes', 'ContentType').objects.using(
        schema_editor.connection.alias
    )
    if not content_types.filter(app_label=target, model='outboxemail').exists():
        content_types.filter(app_label=source, model='outboxemail').update(app_label=target)


def to_notifications(apps, schema_editor):
    _move_content_type(apps, schema_editor, 'payments', 'notifications')


def to_payments(apps, schema_editor):
    _move_content_type(apps, schema_editor, 'notifications', 'payments')


class Migration(migrations.Migration):

    dependencies = [
        ('payments', '0007_payment_declines'),
        ('notifications', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name='OutboxEmail')],
            database_operations=[],
        ),
        migrations.RunPython(to_notifications, to_payments),
    ]
