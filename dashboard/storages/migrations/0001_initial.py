from django.db import migrations, models
import django.utils.timezone


class Migration(migrations.Migration):
    initial = True
    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Submission",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("token", models.CharField(max_length=64, unique=True)),
                ("action", models.CharField(max_length=64)),
                ("storage_uuid", models.CharField(max_length=64)),
                ("storage_name", models.CharField(blank=True, max_length=255)),
                ("actor", models.JSONField(default=dict)),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                ("deadline", models.DateTimeField(blank=True, null=True)),
                (
                    "status",
                    models.CharField(
                        choices=[("running", "Running"), ("done", "Done")], default="running", max_length=16
                    ),
                ),
                ("attempt_sequence", models.BigIntegerField(blank=True, null=True)),
                ("changes", models.JSONField(default=list)),
                ("parts", models.JSONField(default=list)),
                ("lease_until", models.DateTimeField(blank=True, null=True)),
                ("lease_owner", models.CharField(blank=True, max_length=64)),
                ("finished_at", models.DateTimeField(blank=True, null=True)),
                ("outcome", models.CharField(blank=True, max_length=16)),
            ],
            options={
                "indexes": [
                    models.Index(fields=["storage_uuid", "status"], name="submission_storage_status"),
                    models.Index(fields=["status", "lease_until"], name="submission_status_lease"),
                ],
            },
        ),
    ]
