"""Message templates: Jinja in a sandbox, checked when saved so that a template that is
saved always renders.

A template sees only the documented variables (``VARIABLES``): plain dicts, lists and
strings, never an object of ours. Two guards: the sandbox
(``ImmutableSandboxedEnvironment``: no ``__class__``, no private attribute, no mutating
call) at render time, and, at save time, a walk of the template's syntax tree that refuses
any name or attribute path not documented (``order.items()`` would reach a dict method),
any attribute of a literal (``''.__class__``), and the statements that reach outside the
template (include, import, extends, macro, set). Then the template is rendered once with a
sample of every variable, so a runtime error shows at save time as well.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

from jinja2 import TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, TemplateError
from jinja2.sandbox import ImmutableSandboxedEnvironment

from dingdan.domain.shared.errors import FieldErrors
from dingdan.services.messaging.shapes import MessageContext, OrderLineContext, TemplateFields

LOCALES = ("zh-Hant", "zh-Hans", "en")
FIELDS = ("subject", "text", "html")

# The kinds of customer messages, in the order the back office lists them.
KINDS = (
    "order_confirmation",
    "payment_received",
    "payment_reminder",
    "shipped",
    "out_for_delivery",
    "delivery_exception",
    "choose_store",
    "delivered",
    "ready_for_pickup",
    "return_approved",
    "return_received",
    "refund_issued",
    "store_credit_issued",
    "order_cancelled",
)

_LINE = {"sku": None, "name": None, "quantity": None, "unit_price": None, "amount": None}
# Every variable a template may use; None is a value, a dict has fields, a one-item list
# is a list of such items. The same for every kind (one that does not apply is empty).
VARIABLES: dict[str, Any] = {
    "shop": {
        "name": None,
        "logo_url": None,
        "email": None,
        "phone": None,
        "line_id": None,
        "address": None,
        "return_policy": None,
        "return_address": None,
    },
    "bank": {"bank_name": None, "bank_code": None, "account_name": None, "account_number": None},
    "order": {
        "number": None,
        "created_at": None,
        "customer_name": None,
        "currency": None,
        "subtotal": None,
        "shipping": None,
        "tax": None,
        "total": None,
        "paid": None,
        "payment_method": None,
        "is_bank_transfer": None,
        "lines": [_LINE],
        "city": None,
        "country": None,
    },
    "tracking_url": None,
    # The customer's pay page while something is due (empty once paid, cancelled or COD).
    "pay_url": None,
    "rating_url": None,
    "shipment": {
        "carrier": None,
        "tracking_number": None,
        "carrier_tracking_url": None,
        "exception": None,
    },
    "rma": {"id": None, "status": None},
    "refund": {"amount": None, "reason": None},
    "credit": {"amount": None, "currency": None},
    "cancel": {"reason": None, "deadline": None},
    "pickup": {"code": None, "location": None, "address": None, "phone": None},
}
_LOOP = {k: None for k in ("index", "index0", "first", "last", "length", "revindex")}
_REFUSED = {
    nodes.Extends: "extends",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "import",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Assign: "set",
    nodes.AssignBlock: "set",
    nodes.Block: "block",
}
_REFUSED_FILTERS = {"attr", "map", "selectattr", "rejectattr", "groupby", "sort", "unique"}


@cache
def environment(html: bool) -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(autoescape=html, keep_trailing_newline=True)


class _Problem(Exception):
    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code, self.params = code, params


def _resolve(expr: nodes.Node, scope: dict[str, Any]) -> tuple[str, Any]:
    """The dotted path an expression names and its documented shape, or a _Problem."""
    if isinstance(expr, nodes.Name):
        if expr.name in scope:
            return expr.name, scope[expr.name]
        raise _Problem("template_unknown_variable", name=expr.name)
    if isinstance(expr, nodes.Getattr | nodes.Getitem):
        path, shape = _resolve(expr.node, scope)
        key = expr.attr if isinstance(expr, nodes.Getattr) else None
        if isinstance(expr, nodes.Getitem) and isinstance(expr.arg, nodes.Const):
            key = expr.arg.value
        if isinstance(shape, list) and isinstance(key, int) and not isinstance(key, bool):
            return f"{path}[{key}]", shape[0]
        if isinstance(shape, dict) and isinstance(key, str) and key in shape:
            return f"{path}.{key}", shape[key]
        raise _Problem("template_unknown_variable", name=f"{path}.{key}")
    raise _Problem("template_not_allowed", what="an attribute of an expression")


def _walk(node: nodes.Node, scope: dict[str, Any]) -> None:
    for kind, what in _REFUSED.items():
        if isinstance(node, kind):
            raise _Problem("template_not_allowed", what=what)
    if isinstance(node, nodes.Filter | nodes.Test) and node.name in _REFUSED_FILTERS:
        raise _Problem("template_not_allowed", what=f"the {node.name} filter")
    if isinstance(node, nodes.Name | nodes.Getattr | nodes.Getitem):
        _resolve(node, scope)
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const):
            _walk(node.arg, scope)
        return
    if isinstance(node, nodes.For):
        _walk(node.iter, scope)
        _, shape = _resolve(node.iter, scope)
        if not isinstance(node.target, nodes.Name) or not isinstance(shape, list):
            raise _Problem("template_not_allowed", what="a loop over something not a list")
        inner = {**scope, node.target.name: shape[0], "loop": _LOOP}
        for child in [*node.body, *([node.test] if node.test else [])]:
            _walk(child, inner)
        for child in node.else_:
            _walk(child, scope)
        return
    for child in node.iter_child_nodes():
        _walk(child, scope)


def check(fields: Mapping[str, object]) -> None:
    """Raise ValidationFailed naming each bad field (syntax, an undocumented variable, a
    refused construct, or an error when rendered with sample values)."""
    errors = FieldErrors()
    for name in FIELDS:
        source = fields.get(name)
        if not isinstance(source, str) or not source.strip():
            errors.add(name, "required")
            continue
        env = environment(name == "html")
        try:
            _walk(env.parse(source), dict(VARIABLES))
            env.from_string(source).render(sample())
        except TemplateSyntaxError as exc:
            errors.add(name, "template_syntax", reason=exc.message or "", line=exc.lineno)
        except _Problem as exc:
            errors.add(name, exc.code, **exc.params)
        except SecurityError as exc:
            errors.add(name, "template_not_allowed", what=str(exc)[:200])
        except (TemplateError, TypeError, ValueError, ArithmeticError, LookupError) as exc:
            errors.add(name, "template_fails", reason=str(exc)[:200])
    errors.raise_if_any("The template has errors.")


def render(fields: TemplateFields, context: MessageContext) -> TemplateFields:
    """Subject, text and html of one message; the subject on one line."""
    subject = environment(False).from_string(fields["subject"]).render(context)
    text = environment(False).from_string(fields["text"]).render(context)
    html = environment(True).from_string(fields["html"]).render(context)
    return {"subject": " ".join(subject.split()), "text": text, "html": html}


@cache
def _defaults_of(kind: str) -> dict[str, dict[str, str]]:
    text = resources.files("dingdan.services.messaging").joinpath(f"templates/{kind}.toml")
    return tomllib.loads(text.read_text(encoding="utf-8"))


def default(kind: str, locale: str) -> TemplateFields:
    """The template that ships with the code for ``kind`` in ``locale``."""
    d = _defaults_of(kind)[locale]
    return {"subject": d["subject"], "text": d["text"], "html": d["html"]}


@cache
def layout() -> str:
    return (
        resources.files("dingdan.services.messaging")
        .joinpath("templates/layout.html")
        .read_text(encoding="utf-8")
    )


def sample() -> MessageContext:
    """A value for every documented variable (the check renders with it)."""
    line: OrderLineContext = {
        "sku": "TEA-001",
        "name": "烏龍茶 Oolong",
        "quantity": 2,
        "unit_price": "350.00",
        "amount": "700.00",
    }
    return {
        "shop": {
            "name": "Dingdan Tea",
            "logo_url": "https://shop.example.com/logo.png",
            "email": "hello@example.com",
            "phone": "+886 2 1234 5678",
            "line_id": "@dingdantea",
            "address": "台北市信義路五段7號",
            "return_policy": "七天鑑賞期 7 days to return unused items.",
            "return_address": "台北市信義路五段7號 退貨組",
        },
        "bank": {
            "bank_name": "Bank",
            "bank_code": "012",
            "account_name": "Dingdan Tea",
            "account_number": "1234567890",
        },
        "order": {
            "number": "DD000001",
            "created_at": "2026-12-07 10:00",
            "customer_name": "王小明",
            "currency": "TWD",
            "subtotal": "700.00",
            "shipping": "60.00",
            "tax": "0.00",
            "total": "760.00",
            "paid": "0.00",
            "payment_method": "bank_transfer",
            "is_bank_transfer": True,
            "lines": [line],
            "city": "台北市",
            "country": "TW",
        },
        "tracking_url": "https://shop.example.com/track/abc",
        "pay_url": "https://shop.example.com/pay/abc",
        "rating_url": "https://shop.example.com/track/abc#rating",
        "shipment": {
            "carrier": "tcat",
            "tracking_number": "123456789012",
            "carrier_tracking_url": "https://carrier.example.com/?n=123456789012",
            "exception": None,
        },
        "rma": {"id": "1", "status": "approved"},
        "refund": {"amount": "760.00", "reason": "Return"},
        "credit": {"amount": "760.00", "currency": "TWD"},
        "cancel": {"reason": "Unpaid", "deadline": "2026-12-10 10:00"},
        "pickup": {
            "code": "K7HM4Q",
            "location": "信義門市",
            "address": "110 台北市信義路五段7號",
            "phone": "+886 2 1234 5678",
        },
    }
