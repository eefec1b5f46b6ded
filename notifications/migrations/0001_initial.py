# The outbox's model, which payments held until its migration 0008: the table
# payments_outboxemail (payments 0006) is kept as it is, rows and all; only Django's
# record of which app owns the model changes.

from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('payments', '0006_outbox_email'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='OutboxEmail',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(max_length=32)),
                        ('order_id', models.BigIntegerField(blank=True, db_index=True, null=True)),
                        ('subject', models.CharField(max_length=255)),
                        ('body', models.TextField()),
                        ('recipients', models.JSONField(default=list)),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('sent_at', models.DateTimeField(blank=True, null=True)),
                        ('attempts', models.PositiveIntegerField(default=0)),
                        ('last_error', models.CharField(blank=True, max_length=500)),
                    ],
                    options={
                        'db_table': 'payments_outboxemail',
                        'ordering': ['-created_at', '-id'],
                        'indexes': [models.Index(condition=models.Q(('sent_at__isnull', True)), fields=['created_at'], name='outbox_email_unsent')],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
