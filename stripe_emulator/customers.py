"""Customers: Stripe's shape at this API version, sources included only when expanded."""

from stripe_emulator.errors import missing_resource
from stripe_emulator.state import Store, merge_metadata, new_id, now
from stripe_emulator.test_clocks import check_attachable


class Customers:
    def __init__(self, store: Store):
        self.store = store
        # Since 2020-08-27 `sources` is sent only when expanded. Payment methods are
        # attached to PaymentIntents here, never saved as sources, so the list is empty.
        store.virtual_fields[("customer", "sources")] = self._sources

    def create(self, params: dict) -> dict:
        if params.get("test_clock"):  # then it lives in that clock's time (test_clocks.py)
            check_attachable(self.store, params["test_clock"], param="test_clock")
        customer = {
            "id": new_id("cus", 14),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": now(),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "discount": None,
            "email": params.get("email"),
            "invoice_prefix": new_id("X", 6)[2:].upper(),
            "invoice_settings": {
                "custom_fields": None,
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": merge_metadata({}, params.get("metadata") or {}),
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": params.get("phone"),
            "preferred_locales": params.get("preferred_locales") or [],
            "shipping": None,
            "tax_exempt": params.get("tax_exempt", "none"),
            "test_clock": params.get("test_clock") or None,
        }
        return self.store.add(customer)

    def update(self, customer: dict, params: dict) -> dict:
        if params.get("default_source"):  # a customer here never has a source to name
            raise missing_resource("source", params["default_source"], "default_source")
        for key, value in params.items():
            if key == "metadata":
                customer["metadata"] = merge_metadata(customer["metadata"], value)
            elif key in customer and key not in ("id", "object"):
                customer[key] = value if value != "" else None
        return customer

    def _sources(self, customer: dict) -> dict:
        return {
            "object": "list",
            "data": [],
            "has_more": False,
            "url": f"/v1/customers/{customer['id']}/sources",
        }
