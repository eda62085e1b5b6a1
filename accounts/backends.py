from django.contrib.auth.backends import ModelBackend


class ActiveCompanyBackend(ModelBackend):
    """Refuses the installers of a deactivated company, at login and on every later request."""

    def user_can_authenticate(self, user):
        return user.can_log_in
