from django.contrib import admin

from .models import Alarm, AlarmCode


@admin.register(AlarmCode)
class AlarmCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "kind", "meaning_fr"]


@admin.register(Alarm)
class AlarmAdmin(admin.ModelAdmin):
    list_display = ["code", "plant", "started_at", "cleared_at"]
    list_filter = ["code__kind"]
