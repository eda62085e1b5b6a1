from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    """The customer's data rights (a copy of their data, erasure). It reads every domain app, so it
    sits above them; its one model, DataExport, belongs to the accounts app."""

    name = "privacy"
