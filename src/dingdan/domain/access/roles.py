"""Roles and the one permission table that decides the API, the pages and the CLI."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"  # everything, users and tokens included
    MANAGER = "manager"  # everything but users and tokens
    CUSTOMER_SERVICE = "customer_service"  # orders, returns, disputes
    WAREHOUSE = "warehouse"  # products, stock, pick/pack/ship/deliver, receiving returns
    FINANCE = "finance"  # payments and refunds
    VIEWER = "viewer"  # read only


class Action(StrEnum):
    READ = "read"
    MANAGE_USERS = "manage_users"  # users and API tokens
    MANAGE_SETTINGS = "manage_settings"  # locations, channels, carriers, taxes
    MANAGE_CATALOG = "manage_catalog"  # products
    MANAGE_STOCK = "manage_stock"  # receipts, adjustments, transfers, imports
    MANAGE_ORDERS = "manage_orders"  # create, edit, cancel, notes
    FULFIL = "fulfil"  # pick, pack, ship, deliver
    MANAGE_RETURNS = "manage_returns"  # request, approve, reject returns; disputes
    RECEIVE_RETURNS = "receive_returns"
    MANAGE_PAYMENTS = "manage_payments"  # payments and refunds
    VIEW_AUDIT = "view_audit"
    PRICING = "pricing"  # order lines priced below their product's price (CONTRACT.md)


_ALL = frozenset(Action)

PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: _ALL,
    Role.MANAGER: _ALL - {Action.MANAGE_USERS},
    Role.CUSTOMER_SERVICE: frozenset({Action.READ, Action.MANAGE_ORDERS, Action.MANAGE_RETURNS}),
    Role.WAREHOUSE: frozenset(
        {
            Action.READ,
            Action.MANAGE_CATALOG,
            Action.MANAGE_STOCK,
            Action.FULFIL,
            Action.RECEIVE_RETURNS,
        }
    ),
    Role.FINANCE: frozenset({Action.READ, Action.MANAGE_PAYMENTS}),
    Role.VIEWER: frozenset({Action.READ}),
}


def may(role: Role | str, action: Action) -> bool:
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False
