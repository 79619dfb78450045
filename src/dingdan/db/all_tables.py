"""Imports every table module so that Base.metadata knows the whole schema (Alembic, tests)."""

import dingdan.db.channel_tables  # noqa: F401
import dingdan.db.consent_tables  # noqa: F401
import dingdan.db.crm_tables  # noqa: F401
import dingdan.db.cvs_logistics_tables  # noqa: F401
import dingdan.db.cycle_count_tables  # noqa: F401
import dingdan.db.delivery_tables  # noqa: F401
import dingdan.db.document_tables  # noqa: F401
import dingdan.db.ecpay_tables  # noqa: F401
import dingdan.db.einvoice_exchange_tables  # noqa: F401
import dingdan.db.forecast_tables  # noqa: F401
import dingdan.db.inbound_tables  # noqa: F401
import dingdan.db.invoice_tables  # noqa: F401
import dingdan.db.label_tables  # noqa: F401
import dingdan.db.linepay_tables  # noqa: F401
import dingdan.db.live_tables  # noqa: F401
import dingdan.db.message_tables  # noqa: F401
import dingdan.db.notification_tables  # noqa: F401
import dingdan.db.payment_tables  # noqa: F401
import dingdan.db.purchasing_tables  # noqa: F401
import dingdan.db.report_tables  # noqa: F401
import dingdan.db.return_tables  # noqa: F401
import dingdan.db.risk_tables  # noqa: F401
import dingdan.db.style_tables  # noqa: F401
import dingdan.db.tracking_tables  # noqa: F401
import dingdan.db.webhook_tables  # noqa: F401
from dingdan.db import order_tables, tables

__all__ = ["order_tables", "tables"]
