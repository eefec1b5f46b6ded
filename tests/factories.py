import factory
from django.conf import settings
from django.utils import timezone

from catalog.models import Product
from orders.models import Order, OrderLine

PASSWORD = "correct-horse-battery-9"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = settings.AUTH_USER_MODEL
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"shopper{n}@example.com")
    password = factory.PostGenerationMethodCall("set_password", PASSWORD)

    @factory.post_generation
    def save_password(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    description = "A thing."
    unit_amount = 1999
    currency = "usd"
    stock = 10
    active = True


class OrderFactory(factory.django.DjangoModelFactory):
    """An order as create_order would leave it (reserved stock is not touched here)."""

    class Meta:
        model = Order
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    email = factory.SelfAttribute("user.email")
    currency = "usd"
    subtotal = 1999
    total = 1999
    reserved_until = factory.LazyFunction(lambda: timezone.now() + timezone.timedelta(minutes=30))

    @factory.post_generation
    def with_line(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            product = ProductFactory(
                unit_amount=obj.total, currency=obj.currency, stock=0, reserved=1
            )
            OrderLine.objects.create(
                order=obj,
                product=product,
                sku=product.sku,
                name=product.name,
                unit_amount=product.unit_amount,
                quantity=1,
                line_total=product.unit_amount,
            )


def token_for(user) -> str:
    """A new API token for `user` (its clear key), as `POST auth/token/` would issue."""
    from accounts.tokens import issue_token

    return issue_token(user)
