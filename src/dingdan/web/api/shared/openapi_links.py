"""OpenAPI links between operations: the value one answer returns (an order's number, a
return's id, a product's SKU) and the operations that take it. Clients read them as
documentation; schemathesis' stateful phase follows them, so that its generated requests
reach existing orders and returns instead of answering 404.

``install(app)`` adds them to the generated document; a link to an operation that does not
exist fails there (and in the tests), not silently.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI

from dingdan.web.api.shared import replays

V1 = "/api/v1"
ORDER = f"{V1}/orders/{{number}}"
RETURN = f"{V1}/returns/{{return_id}}"
DISPUTE = f"{V1}/disputes/{{dispute_id}}"
SHIPMENT = f"{V1}/shipments/{{shipment_id}}"
PAYMENT = f"{V1}/payments/{{payment_id}}"
PRODUCT = f"{V1}/products/{{sku}}"
LOCATION = f"{V1}/locations/{{code}}"

# A link: (name, method, path of the target, its parameters, its request body or None).
Link = tuple[str, str, str, dict[str, str], Any]


def _order_links(number: str, balance_due: str | None = None) -> list[Link]:
    """What an order's number leads to. ``balance_due``: where the answer holds it (a payment
    of exactly that is valid whatever the order)."""
    p = {"number": number}
    pay = {"amount": balance_due} if balance_due else None
    return [
        ("GetOrder", "get", ORDER, p, None),
        ("EditOrder", "patch", ORDER, p, None),
        ("OrderEvents", "get", f"{ORDER}/events", p, None),
        ("AddNote", "post", f"{ORDER}/notes", p, None),
        ("CancelOrder", "post", f"{ORDER}/cancel", p, None),
        ("RecordPayment", "post", f"{ORDER}/payments", p, pay),
        ("ListPayments", "get", f"{ORDER}/payments", p, None),
        ("RecordRefund", "post", f"{ORDER}/refunds", p, None),
        ("Authorize", "post", f"{ORDER}/authorizations", p, pay),
        ("CreateShipment", "post", f"{ORDER}/shipments", p, None),
        ("ListShipments", "get", f"{ORDER}/shipments", p, None),
        ("RequestReturn", "post", f"{ORDER}/returns", p, None),
        ("OpenDispute", "post", f"{ORDER}/disputes", p, None),
        ("PackOrder", "post", f"{ORDER}/pack", p, None),
        ("CheckPack", "post", f"{ORDER}/pack/check", p, None),
        ("PackRecords", "get", f"{ORDER}/pack-records", p, None),
    ]


def _order_body_links() -> list[Link]:
    """From an order's own answer: its number, and its first line's SKU."""
    body = "$response.body#"
    return [
        *_order_links(f"{body}/number", f"{body}/balance_due"),
        (
            "CancelLine",
            "post",
            f"{ORDER}/lines/{{sku}}/cancel",
            {"number": f"{body}/number", "sku": f"{body}/lines/0/sku"},
            None,
        ),
        ("ListReturnsOfOrder", "get", f"{V1}/returns", {"order": f"{body}/number"}, None),
        ("ListDisputesOfOrder", "get", f"{V1}/disputes", {"order": f"{body}/number"}, None),
    ]


def _return_links() -> list[Link]:
    p = {"return_id": "$response.body#/id"}
    lines = {
        "lines": [
            {
                "sku": "$response.body#/lines/0/sku",
                "quantity": "$response.body#/lines/0/quantity",
                "condition": "resellable",
            }
        ]
    }
    return [
        ("GetReturn", "get", RETURN, p, None),
        ("ApproveReturn", "post", f"{RETURN}/approve", p, None),
        ("RejectReturn", "post", f"{RETURN}/reject", p, None),
        ("ReceiveReturn", "post", f"{RETURN}/receive", p, lines),
        ("RefundReturn", "post", f"{RETURN}/refund", p, None),
        ("ExchangeReturn", "post", f"{RETURN}/exchange", p, None),
        ("ReturnPhotos", "get", f"{RETURN}/photos", p, None),
        ("GetOrderOfReturn", "get", ORDER, {"number": "$response.body#/order"}, None),
    ]


def _dispute_links() -> list[Link]:
    p = {"dispute_id": "$response.body#/id"}
    return [
        ("GetDispute", "get", DISPUTE, p, None),
        ("ReassignDispute", "patch", DISPUTE, p, None),
        ("AddMessage", "post", f"{DISPUTE}/messages", p, None),
        ("AddEvidence", "post", f"{DISPUTE}/evidence", p, None),
        ("TransitionDispute", "post", f"{DISPUTE}/transition", p, None),
    ]


def _shipment_links() -> list[Link]:
    p = {"shipment_id": "$response.body#/id"}
    number = {"number": "$response.body#/order"}
    shipped = {
        "lines": [
            {
                "sku": "$response.body#/lines/0/sku",
                "quantity": "$response.body#/lines/0/quantity",
                "reason": "damaged",
            }
        ]
    }
    return [
        ("MarkDelivered", "post", f"{SHIPMENT}/delivered", p, None),
        ("RecordException", "post", f"{SHIPMENT}/exceptions", p, None),
        ("GetOrderOfShipment", "get", ORDER, number, None),
        ("ReturnShipped", "post", f"{ORDER}/returns", number, shipped),
    ]


def _product_links() -> list[Link]:
    p = {"sku": "$response.body#/sku"}
    return [
        ("GetProduct", "get", PRODUCT, p, None),
        ("UpdateProduct", "patch", PRODUCT, p, None),
        ("DeactivateProduct", "post", f"{PRODUCT}/deactivate", p, None),
        ("ProductListings", "get", f"{PRODUCT}/listings", p, None),
        ("GetStock", "get", f"{V1}/inventory/{{sku}}", p, None),
        ("GetMovements", "get", f"{V1}/inventory/{{sku}}/movements", p, None),
    ]


def _location_links() -> list[Link]:
    p = {"code": "$response.body#/code"}
    return [
        ("GetLocation", "get", LOCATION, p, None),
        ("UpdateLocation", "patch", LOCATION, p, None),
        ("PickList", "get", f"{LOCATION}/pick-list", p, None),
        ("PickListPage", "get", f"{LOCATION}/pick-list.html", p, None),
        ("MarkPicked", "post", f"{LOCATION}/pick-list", p, None),
    ]


def _payment_links() -> list[Link]:
    p = {"payment_id": "$response.body#/id"}
    return [
        ("CapturePayment", "post", f"{PAYMENT}/capture", p, None),
        ("VoidPayment", "post", f"{PAYMENT}/void", p, None),
    ]


def _paid_links() -> list[Link]:
    """From a payment, refund or capture, with the order afterwards in ``order``."""
    body = "$response.body#/order"
    return [
        *_order_links(f"{body}/number"),
        (
            "RefundPayment",
            "post",
            f"{ORDER}/refunds",
            {"number": f"{body}/number"},
            {"amount": "$response.body#/amount"},
        ),
    ]


def _stock_links() -> list[Link]:
    first = {"sku": "$response.body#/lines/0/sku"}
    return [
        ("GetStock", "get", f"{V1}/inventory/{{sku}}", first, None),
        ("GetMovements", "get", f"{V1}/inventory/{{sku}}/movements", first, None),
    ]


# (method, path, status) of the answer → its links.
LINKS: dict[tuple[str, str, str], list[Link]] = {
    ("post", f"{V1}/orders", "201"): _order_body_links(),
    ("post", f"{V1}/orders", "200"): _order_body_links(),
    ("get", ORDER, "200"): _order_body_links(),
    ("patch", ORDER, "200"): _order_body_links(),
    ("post", f"{ORDER}/cancel", "200"): _order_body_links(),
    ("post", f"{ORDER}/notes", "201"): _order_body_links(),
    ("post", f"{ORDER}/lines/{{sku}}/cancel", "200"): _order_body_links(),
    ("post", f"{ORDER}/payments", "201"): _paid_links(),
    ("post", f"{ORDER}/refunds", "201"): _paid_links(),
    ("post", f"{PAYMENT}/capture", "201"): _paid_links(),
    ("post", f"{ORDER}/authorizations", "201"): _payment_links(),
    ("post", f"{ORDER}/shipments", "201"): _shipment_links(),
    ("post", f"{ORDER}/returns", "201"): _return_links(),
    ("post", f"{RETURN}/approve", "200"): _return_links(),
    ("post", f"{RETURN}/receive", "200"): _return_links(),
    ("get", RETURN, "200"): _return_links(),
    ("post", f"{ORDER}/disputes", "201"): _dispute_links(),
    ("post", f"{DISPUTE}/evidence", "201"): [
        (
            "GetEvidence",
            "get",
            f"{DISPUTE}/evidence/{{evidence_id}}",
            {"dispute_id": "$request.path.dispute_id", "evidence_id": "$response.body#/id"},
            None,
        )
    ],
    ("get", f"{RETURN}/photos", "200"): [
        (
            "GetPhoto",
            "get",
            f"{RETURN}/photos/{{photo_id}}",
            {"return_id": "$request.path.return_id", "photo_id": "$response.body#/items/0/id"},
            None,
        )
    ],
    ("post", f"{V1}/products", "201"): _product_links(),
    ("post", f"{V1}/inventory/receipts", "201"): _stock_links(),
    ("post", f"{V1}/inventory/transfers", "201"): _stock_links(),
    ("post", f"{V1}/locations", "201"): _location_links(),
    ("post", f"{V1}/tokens", "201"): [
        (
            "RevokeToken",
            "post",
            f"{V1}/tokens/{{token_id}}/revoke",
            {"token_id": "$response.body#/id"},
            None,
        )
    ],
    ("post", f"{V1}/channels", "201"): [
        (
            "UpdateChannel",
            "patch",
            f"{V1}/channels/{{code}}",
            {"code": "$response.body#/code"},
            None,
        )
    ],
    ("post", f"{V1}/carriers", "201"): [
        ("GetCarrier", "get", f"{V1}/carriers/{{code}}", {"code": "$response.body#/code"}, None),
        (
            "UpdateCarrier",
            "patch",
            f"{V1}/carriers/{{code}}",
            {"code": "$response.body#/code"},
            None,
        ),
    ],
    ("put", f"{V1}/tax-rates/{{country}}/{{tax_class}}", "200"): [
        (
            "DeleteTaxRate",
            "delete",
            f"{V1}/tax-rates/{{country}}/{{tax_class}}",
            {"country": "$response.body#/country", "tax_class": "$response.body#/tax_class"},
            None,
        )
    ],
    ("get", f"{V1}/tax-rates", "200"): [
        (
            "SetTaxRate",
            "put",
            f"{V1}/tax-rates/{{country}}/{{tax_class}}",
            {
                "country": "$response.body#/items/0/country",
                "tax_class": "$response.body#/items/0/tax_class",
            },
            None,
        )
    ],
}


def add_links(document: dict[str, Any]) -> dict[str, Any]:
    """Adds ``LINKS`` to the document's responses, in place; returns the document."""
    paths = document["paths"]
    for (method, path, status), links in LINKS.items():
        if not links:
            continue
        response = paths[path][method]["responses"][status]
        out = response.setdefault("links", {})
        for name, target_method, target_path, parameters, body in links:
            link: dict[str, Any] = {
                "operationId": paths[target_path][target_method]["operationId"],
                "parameters": parameters,
            }
            if body is not None:
                link["requestBody"] = body
            out[name] = link
    return document


def install(app: FastAPI) -> None:
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = replays.document(add_links(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
