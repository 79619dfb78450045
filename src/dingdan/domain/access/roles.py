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
    DRIVER = "driver"  # the seller's own delivery: delivery runs (sees addresses, not emails)


class Action(StrEnum):
    READ = "read"
    MANAGE_USERS = "manage_users"  # users and API tokens
    MANAGE_SETTINGS = "manage_settings"  # locations, channels, carriers, taxes
    MANAGE_CATALOG = "manage_catalog"  # products
    PRICING = "pricing"  # a product's price; an order line priced below its product's
    MANAGE_STOCK = "manage_stock"  # receipts, adjustments, transfers, imports
    MANAGE_ORDERS = "manage_orders"  # create, edit, cancel, notes
    FULFIL = "fulfil"  # pick, pack, ship, deliver
    MANAGE_RETURNS = "manage_returns"  # request, approve, reject returns; disputes
    RECEIVE_RETURNS = "receive_returns"
    RECORD_PAYMENTS = "record_payments"  # money received: a bank transfer, cash
    MANAGE_PAYMENTS = "manage_payments"  # refunds, card authorizations, COD remittances
    VIEW_AUDIT = "view_audit"
    EXPORT_CUSTOMERS = "export_customers"  # a customer's personal data, whole
    ERASE_CUSTOMERS = "erase_customers"
    MANAGE_PURCHASING = "manage_purchasing"  # suppliers, purchase orders and their receipts
    # Own delivery: deliver the stops of a run and hand in the cash; a driver, only on their
    # own runs (services/fulfilment/delivery_runs.py). Planning runs is ``fulfil``, closing
    # them (COD payments) ``manage_payments``.
    DELIVER_RUNS = "deliver_runs"


_ALL = frozenset(Action)

# The defaults; an admin may change any role's in settings, where only the differences from
# this table are stored (services/access/permissions.py). Beyond the core's table: prices
# need `pricing` (admin, manager), and customer service records the bank transfers and
# cash it is told of (in a shop of three, it is the one who checks the bank account).
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: _ALL,
    Role.MANAGER: _ALL - {Action.MANAGE_USERS, Action.ERASE_CUSTOMERS},
    Role.CUSTOMER_SERVICE: frozenset(
        {
            Action.READ,
            Action.MANAGE_ORDERS,
            Action.MANAGE_RETURNS,
            Action.RECORD_PAYMENTS,
            Action.EXPORT_CUSTOMERS,
        }
    ),
    Role.WAREHOUSE: frozenset(
        {
            Action.READ,
            Action.MANAGE_CATALOG,
            Action.MANAGE_STOCK,
            Action.MANAGE_PURCHASING,
            Action.FULFIL,
            Action.RECEIVE_RETURNS,
        }
    ),
    Role.FINANCE: frozenset({Action.READ, Action.RECORD_PAYMENTS, Action.MANAGE_PAYMENTS}),
    Role.VIEWER: frozenset({Action.READ}),
    # A driver delivers the stops of their own runs and hands in the day's cash.
    Role.DRIVER: frozenset({Action.READ, Action.DELIVER_RUNS}),
}


# What no setting takes away: every role may read, and an admin may always manage users
# (and so set permissions again); without it a wrong click could lock everyone out.
KEPT: dict[Role, frozenset[Action]] = {
    role: frozenset({Action.READ, Action.MANAGE_USERS} if role is Role.ADMIN else {Action.READ})
    for role in Role
}


def may(role: Role | str, action: Action) -> bool:
    try:
        return action in PERMISSIONS[Role(role)]
    except ValueError:
        return False


def effective(role: Role, changes: dict[str, bool]) -> frozenset[Action]:
    """The role's permissions: its defaults with the stored differences applied (an action
    name mapped to granted or taken away); unknown names and what is kept are ignored."""
    allowed = set(PERMISSIONS[role])
    for name, granted in changes.items():
        if name not in Action.__members__.values():
            continue
        action = Action(name)
        if granted:
            allowed.add(action)
        elif action not in KEPT[role]:
            allowed.discard(action)
    return frozenset(allowed)


def differences(role: Role, allowed: set[Action]) -> dict[str, bool]:
    """What to store for ``allowed``: only the actions that differ from the defaults."""
    allowed = allowed | KEPT[role]
    defaults = PERMISSIONS[role]
    return {a.value: a in allowed for a in Action if (a in allowed) != (a in defaults)}
