from django.urls import path

from . import views

# In the plants namespace (portal.urls), before devices' `commission/<step>/`: the stepper's last
# step ("finish") is the checklist.
plant_urlpatterns = [
    path("<id:pk>/commission/finish/", views.checklist, name="checklist"),
    path("<id:pk>/commission/finish/tick/<slug:item>/", views.tick, name="checklist_tick"),
    path("<id:pk>/commission/finish/untick/<slug:item>/", views.untick, name="checklist_untick"),
    path("<id:pk>/commission/finish/site/", views.site, name="checklist_site"),
    path("<id:pk>/commission/finish/apply/", views.apply_recommendation, name="checklist_apply"),
    path("<id:pk>/commission/finish/done/", views.finish, name="commissioning_finish"),
    path("<id:pk>/reports/", views.report_issue, name="report_issue"),
    path("<id:pk>/reports/<id:report_pk>.pdf", views.report_file, name="report"),
]
