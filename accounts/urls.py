from django.urls import path

from accounts.admin_login import admin_login
from accounts.api import LogoutApi, RegisterApi, TokenApi

# Mounted under api/v1/.
urlpatterns = [
    path("auth/register/", RegisterApi.as_view(), name="auth-register"),
    path("auth/token/", TokenApi.as_view(), name="auth-token"),
    path("auth/logout/", LogoutApi.as_view(), name="auth-logout"),
]

# Mounted under admin/, ahead of the admin site: its login behind the failed-login throttle.
admin_urlpatterns = [
    path("login/", admin_login, name="admin-login"),
]
