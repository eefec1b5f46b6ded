from django.urls import path

from demo_shop.views import shop_page

# Mounted at shop/.
urlpatterns = [
    path("", shop_page, name="shop"),
    # Checkout's success and cancel URLs.
    path("orders/<id:order_id>", shop_page, name="shop-order"),
]
