from django.contrib import admin

from .models import Plant, PlantGrant


@admin.register(Plant)
class PlantAdmin(admin.ModelAdmin):
    list_display = ["name", "company", "city", "system_type", "archived_at"]
    list_filter = ["system_type", "company"]
    search_fields = ["name", "city"]


admin.site.register(PlantGrant)
