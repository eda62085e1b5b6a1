from django.contrib import admin

from .models import Datalogger, Inverter


@admin.register(Datalogger)
class DataloggerAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "plant", "protocol", "host", "port", "status", "last_seen_at"]
    list_filter = ["status", "protocol"]
    search_fields = ["serial_number"]


@admin.register(Inverter)
class InverterAdmin(admin.ModelAdmin):
    list_display = ["serial_number", "datalogger", "model_name", "status", "last_seen_at"]
    search_fields = ["serial_number"]
