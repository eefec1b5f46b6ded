from catalog.models import Product


def active_products():
    return Product.objects.filter(active=True).order_by("name", "id")
