from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .models import Company, ProAccountRequest, User


@admin.register(User)
class PortalUserAdmin(UserAdmin):
    list_display = ["username", "email", "role", "company", "is_active"]
    list_filter = ["role", "is_active"]
    fieldsets = UserAdmin.fieldsets + (
        ("AURA", {"fields": ["role", "company", "phone", "language", "email_warnings"]}),
    )


@admin.register(Company)
class CompanyAdmin(admin.ModelAdmin):
    list_display = ["name", "agency", "is_active"]
    search_fields = ["name", "email"]


@admin.register(ProAccountRequest)
class ProAccountRequestAdmin(admin.ModelAdmin):
    list_display = ["company_name", "login", "status", "created_at"]
    list_filter = ["status"]
