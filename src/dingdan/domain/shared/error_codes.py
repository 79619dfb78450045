"""The codes of field errors and their English messages.

Every field error names one of these codes (shared/CONTRACT.md, "Errors carry codes per
field"); the API answers ``{"field", "code", "message"}`` with the message below filled with
the error's parameters, and the pages show the same template translated (the templates are
msgids of the back office's catalogs: ``N_`` marks them for Babel). A code is a promise to
clients: rename none; add one when a rule says something none of these says.
"""

from __future__ import annotations

from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the marker Babel extracts
    return message


FIELD_ERRORS: dict[str, str] = {
    # presence and text
    "required": N_("is required"),
    "required_text": N_("is required (at most %(max)s characters)"),
    "too_long": N_("must be text of at most %(max)s characters"),
    "text_length": N_("must be text of 1 to %(max)s characters"),
    "at_most_characters": N_("must be at most %(max)s characters"),
    "not_empty": N_("must not be empty"),
    "not_text": N_("must be text"),
    "control_characters": N_("must not contain control characters"),
    "invisible_text": N_("must contain visible characters, not only blanks or invisible marks"),
    "not_an_object": N_("must be an object"),
    "not_a_list": N_("must be a list"),
    "not_a_field": N_("is not a field of this request"),
    "invalid_json": N_("is not valid JSON: %(reason)s"),
    "invalid": N_("is invalid: %(reason)s"),
    # message templates
    "template_syntax": N_("is not a valid template: %(reason)s (line %(line)s)"),
    "template_unknown_variable": N_("uses %(name)s, which is not one of the documented variables"),
    "template_not_allowed": N_("uses %(what)s, which a message template may not use"),
    "template_fails": N_("cannot be rendered: %(reason)s"),
    "unreadable_body": N_("could not be read: %(reason)s"),
    "too_short": N_("must be at least %(min)s characters"),
    "too_many_items": N_("must list at most %(max)s items"),
    "too_few_items": N_("must list at least %(min)s items"),
    # numbers
    "not_a_number": N_('must be a decimal string such as "1299.00"'),
    "too_many_decimals": N_("%(currency)s allows at most %(places)s decimal places"),
    "must_not_be_negative": N_("must not be negative"),
    "must_be_positive": N_("must be greater than zero"),
    "too_large": N_("is too large"),
    "too_small": N_("must be at least %(min)s"),
    "not_at_most": N_("must be at most %(max)s"),
    "not_greater_than": N_("must be greater than %(min)s"),
    "out_of_range": N_("must be between %(min)s and %(max)s"),
    "not_a_whole_number": N_("must be a whole number"),
    "below_one": N_("must be a whole number of at least 1"),
    "below_zero": N_("must be a whole number, zero or more"),
    "zero_delta": N_("must be a whole number other than 0"),
    "invalid_hours": N_("must be a number of hours from 1 to 8760"),
    "invalid_days": N_("must be a whole number of days from 0 to 3650"),
    "invalid_percent": N_(
        'must be a percent as a decimal string with at most 4 decimals, such as "5.0"'
    ),
    "not_a_boolean": N_("must be true or false"),
    "not_a_yes_no": N_("must be true/false, yes/no, 1/0 or 是/否"),
    "not_a_date": N_("must be a date such as 2026-12-31"),
    "not_a_resource": N_("must be a type and an id such as order:DD001001"),
    "not_a_time": N_("must be a date and time such as 2026-12-07T14:30:00+08:00"),
    "not_a_webhook_secret": N_("must be a secret of the form whsec_ and base64"),
    "before_start": N_("must not be before the start date"),
    "in_future": N_("must not be after today"),
    "no_purchases": N_("no customer bought anything on or before this day"),
    "currency_required": N_("is required: orders in %(currencies)s fall in the range"),
    "range_too_long": N_("must be at most %(days)s days before the end date"),
    # choices and codes
    "not_one_of": N_("must be one of %(choices)s"),
    "unknown_value": N_("is not one of the choices"),
    "unknown_role": N_("is not a known role"),
    "unknown_payment_method": N_("is not a known payment method"),
    "unknown_provider": N_("is not a known payment provider"),
    "invalid_cursor": N_("is not a cursor this list gave out"),
    "invalid_sku": N_(
        "must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "invalid_location_code": N_(
        "must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "invalid_code": N_(
        "must be 1-%(max)s lower-case letters, digits, '.', '_' or '-', "
        "starting with a letter or digit"
    ),
    "invalid_reason_code": N_("must be a code of lower-case letters, digits and _"),
    "invalid_currency": N_("must be an ISO 4217 currency code such as TWD"),
    "invalid_country": N_("must be an ISO 3166-1 two-letter country code such as TW"),
    "card_fingerprint_format": N_(
        "must be the gateway's card fingerprint: 8 to 64 letters, digits, - or _ (never the "
        "card number)"
    ),
    "invalid_region": N_(
        "'%(value)s' is not an ISO 3166-1 country or ISO 3166-2 subdivision code such as TW"
        " or TW-TPE"
    ),
    "use_gb": N_('must be an ISO 3166-1 two-letter country code: use "GB" for the United Kingdom'),
    "already_exists": N_("is already taken"),
    # what the request names
    "unknown_sku": N_("no product with SKU '%(sku)s'"),
    "unknown_location": N_("no location with code '%(location)s'"),
    "inactive_location": N_("location '%(location)s' is deactivated"),
    "same_as_from": N_("must be another location than '%(location)s'"),
    "nothing_allocated": N_("the order has nothing allocated at '%(location)s'"),
    "more_than_allocated": N_("only %(allocated)s × %(sku)s are allocated there"),
    "barcode_taken": N_("is already the barcode of another product"),
    # styles and variants (issue 21, part 9)
    "duplicate_option": N_("appears twice"),
    "option_characters": N_("must not contain = or ;"),
    "not_one_per_option": N_("must give one value for each option: %(options)s"),
    "unknown_option": N_("is not an option of this style (its options are %(options)s)"),
    "duplicate_combination": N_("is the same combination of options as another variant"),
    "in_another_style": N_("%(sku)s is already a variant of style %(style)s"),
    "unknown_style": N_("no style with code '%(style)s'"),
    "style_code_is_sku": N_("is the SKU of a product; a style needs a code of its own"),
    "unknown_order": N_("no order numbered '%(number)s'"),
    "inactive_sku": N_("%(sku)s is not active"),
    "price_required": N_("is required: the product is priced in %(currency)s"),
    "below_list_price": N_(
        "is below the product's price (%(list_price)s): that needs the pricing permission"
    ),
    # lines and lists
    "no_lines": N_("must list at least one line"),
    "no_reasons": N_("must list at least one reason"),
    "no_orders": N_("must name at least one order"),
    "no_units": N_("choose at least one unit"),
    "choose_reason": N_("choose a reason"),
    "duplicate_sku": N_("appears twice; give each SKU once"),
    "duplicate_line": N_("appears twice with the same condition"),
    "too_many_texts": N_("must be a list of at most %(max)s texts"),
    "too_many_orders": N_("may name at most %(max)s orders"),
    "not_order_numbers": N_("must be a list of order numbers"),
    "nothing_to_change": N_("names nothing to change"),
    "already_on_order": N_("is already on the order; change its quantity above"),
    "below_shipped": N_("cannot be less than what has shipped (%(shipped)s)"),
    "last_line": N_("an order needs at least one line; cancel it instead"),
    # money
    "exceeds_balance": N_("is more than the balance due (%(due)s)"),
    "nothing_due": N_("nothing is due on this order"),
    "ecpay_whole_twd": N_("ECPay takes whole New Taiwan dollars only"),
    "exceeds_refundable": N_("is more than paid minus refunded (%(left)s)"),
    "exceeds_authorized": N_("is more than was authorized"),
    "exceeds_store_credit": N_("is more than the store credit balance (%(balance)s)"),
    "not_cod": N_("is not a COD order"),
    "exceeds_return_value": N_(
        "is more than the returned goods are worth (%(max)s); a manager may refund more with a"
        " reason"
    ),
    "exceeds_open_authorizations": N_(
        "with what is already authorized (%(held)s) is more than the balance due (%(due)s)"
    ),
    "exceeds_reshippable": N_(
        "%(sku)s: only %(left)s can be sent again (shipped, less what was reshipped or"
        " refunded); more needs a new order"
    ),
    "nothing_to_reship": N_(
        "are required: everything shipped has already been reshipped or refunded"
    ),
    # stock, picking, packing, shipping
    "insufficient": N_("only %(available)s of %(sku)s available, %(short)s short"),
    "short": N_("%(short)s short of stock"),
    "same_location": N_("must differ from from_location"),
    "held_elsewhere": N_("is required: the order is held at %(locations)s"),
    "not_allocated_here": N_("%(sku)s is not allocated at this location"),
    "only_allocated": N_("only %(allocated)s allocated here"),
    "order_not_open": N_("%(number)s is %(status)s"),
    "order_not_paid": N_("%(number)s is not paid in full"),
    "nothing_to_pick": N_("%(number)s has nothing to pick at %(location)s"),
    "order_held": N_("%(number)s is held for a risk review"),
    "nothing_to_pack": N_("%(number)s has nothing left to pack"),
    "too_many_scans": N_("must be a list of at most %(max)s scanned codes"),
    "invalid_scan": N_("must be a code of 1-%(max)s characters"),
    "not_a_location_code": N_("must be a location code"),
    "scan_missing": N_("missing %(quantity)s × %(sku)s"),
    "scan_extra": N_("extra %(quantity)s × %(sku)s"),
    "scan_unknown": N_("unknown code %(scan)s"),
    "scan_unknown_times": N_("unknown code %(scan)s (%(times)s scans)"),
    # carriers and tracking
    "unknown_carrier": N_("'%(carrier)s' is not a known carrier code"),
    "inactive_carrier": N_("'%(carrier)s' is not active"),
    "tracking_not_text": N_("must be text for %(carrier)s"),
    "tracking_required": N_("is required for %(carrier)s"),
    "bad_check_digit": N_(
        "is not a valid %(carrier)s tracking number: its check digit does not match, "
        "so it probably has a typo"
    ),
    "invalid_tracking_number": N_(
        "is not a valid %(carrier)s tracking number (expected %(expected)s)"
    ),
    "invalid_webhook_url": N_("must be an http:// or https:// URL of at most %(max)s characters"),
    "private_address": N_(
        "points at %(address)s, a loopback, private or link-local address, where webhooks "
        "are not sent"
    ),
    "invalid_tracking_url": N_(
        "must be an http:// or https:// link of at most 300 characters containing {number}"
    ),
    # returns
    "reason_required": N_("is required: a reason code of the return policy"),
    "override_reason_required": N_("is required when overriding the return policy"),
    "not_on_order": N_("%(sku)s is not on order %(number)s"),
    "not_returnable_quantity": N_(
        "only %(left)s of %(sku)s can be returned (shipped %(shipped)s, "
        "earlier returns cover %(covered)s)"
    ),
    "return_window": N_("the %(days)s-day return window closed on %(date)s"),
    "non_returnable_sku": N_("%(sku)s cannot be returned"),
    "non_returnable_category": N_("products of category '%(category)s' cannot be returned"),
    "not_in_return": N_("%(sku)s is not part of this return"),
    "more_than_requested": N_("more than the %(requested)s requested"),
    "too_many_photos": N_("at most %(max)s photos"),
    # disputes
    "owner_or_due_date": N_("or due_date is required"),
    "resolution_required": N_("is required to resolve: refund, reshipment or reject"),
    "resolution_not_resolving": N_("is only given when resolving"),
    "amount_required": N_("is required for a refund"),
    "nothing_shipped": N_("are required: nothing of the order has shipped"),
    # people
    "customer_required": N_("is required: an email or a phone"),
    "invalid_email": N_("is not a valid e-mail address: %(reason)s"),
    "password_too_short": N_("must be at least %(min)s characters"),
    "wrong_password": N_("is not your current password"),
    "password_blank": N_("must not be only spaces"),
    "phone_country_code": N_(
        "must start with + and the country code (for example +886 912 345 678)"
    ),
    "not_a_phone_number": N_("is not a phone number"),
    "phone_too_short": N_("is too short"),
    "phone_too_long": N_("is too long"),
    "phone_extension": N_("must not include an extension"),
    "invalid_phone": N_("is not a valid phone number"),
    "no_postal_codes": N_("must be empty: %(country)s does not use postal codes"),
    "postal_code_tw": N_(
        "must be a Taiwan postal code of 3, 5 or 6 digits, such as 110, 11001 or 110208"
    ),
    "postal_code_six_digits": N_("must be six digits, such as %(example)s"),
    "postal_code_us": N_("must be a ZIP code such as 12345 or 12345-6789"),
    "postal_code_jp": N_("must be seven digits such as 123-4567"),
    "postal_code_gb": N_("must be a UK postcode such as SW1A 1AA"),
    "postal_code_ca": N_("must be a Canadian postal code such as K1A 0B1"),
    "postal_code": N_("must be at most 12 letters, digits, spaces or dashes"),
    "invalid_ubn": N_("is not a valid Taiwan unified business number (統一編號)"),
    "invalid_uscc": N_("is not a valid unified social credit code (统一社会信用代码)"),
    # named by the contract for the e-invoice carrier (手機條碼) the invoicing context will check
    "invalid_carrier_id": N_("is not a valid e-invoice carrier ID (載具)"),
    "invalid_donation_code": N_("is not a valid donation code (愛心碼): 3 to 7 digits"),
    "invoice_carrier_and_donation": N_(
        "cannot be given with a carrier: an invoice is either kept on a carrier or donated"
    ),
    "invoice_b2b_no_carrier": N_("cannot be given for a company (B2B) invoice"),
    # e-invoice number ranges (字軌) and invoices
    "invalid_einvoice_period": N_(
        "must be the first month of a two-month period, an odd month such as 2026-11"
    ),
    "invalid_track_prefix": N_("must be two capital letters, such as AB"),
    "invalid_track_number": N_("must be eight digits ending in %(endings)s"),
    "track_end_before_start": N_("must not be before the start of the range"),
    # carriers' pre-assigned label numbers (T-cat, HCT)
    "invalid_label_number": N_("must be a number of %(lengths)s digits as the carrier printed it"),
    "label_check_digit": N_("does not end in its check digit (the rest divided by 7)"),
    "label_range_length": N_("must have as many digits as the start of the range"),
    # store pickup
    "wrong_pickup_code": N_("is not this order's pickup code"),
    "void_window_closed": N_(
        "the invoice can no longer be voided (the window closed on %(closed)s); "
        "an allowance is given instead"
    ),
    "invoice_not_voidable": N_("an invoice that is %(status)s cannot be voided"),
    "allowance_not_voidable": N_("an allowance that is %(status)s cannot be voided"),
    "allowance_invoice_not_issued": N_(
        "an invoice that is %(status)s cannot be given an allowance"
    ),
    "einvoice_whole_twd": N_("must be whole New Taiwan dollars: e-invoice amounts have no cents"),
    "allowance_beyond_invoice": N_("is more than the invoice has left for allowances (%(left)s)"),
    "invoice_already_issued": N_(
        "the invoice is issued already: it is voided and reissued, or given an allowance"
    ),
    "einvoice_blanks_at_centre": N_(
        "the numbers of this period are assigned by %(centre)s, which reports the blank ones"
    ),
    # files
    "empty_file": N_("is empty"),
    "file_too_large": N_("is larger than %(max)s bytes"),
    "document_too_large": N_("must be a document of at most 20 MB"),
    "not_an_image": N_("is not an image that can be read"),
    "image_too_large": N_("is an image of more than %(max)s pixels"),
    "wrong_file_type": N_("must be a %(kinds)s file"),
    "file_name": N_("needs a file name of at most 255 characters"),
    "not_uploaded": N_("was not uploaded; choose the file again"),
    "not_csv_or_xlsx": N_("must be a .csv or .xlsx file, not '%(name)s'"),
    "file_not_found": N_("%(name)s does not exist"),
    "unreadable_file": N_("%(name)s cannot be read: %(reason)s"),
    "not_utf8": N_("%(name)s is not UTF-8 text (bad byte at %(position)s); save the CSV as UTF-8"),
    "invalid_csv": N_("%(name)s is not valid CSV: %(reason)s"),
    "invalid_xlsx": N_("%(name)s is not a readable .xlsx workbook: %(reason)s"),
    "too_many_rows": N_("has more than %(max)s rows; split it into smaller files"),
    "too_many_columns": N_("has more than %(max)s columns; keep only the import's columns"),
    "xlsx_too_large": N_(
        "%(name)s unpacks to more than %(max)s MB or is packed unusually tightly; "
        "save it again with only the data, or as CSV"
    ),
    "file_too_slow": N_(
        "took more than %(seconds)s seconds to read; save it again with only the data, or as CSV"
    ),
    "duplicate_column": N_("column %(columns)s appears twice"),
    "no_data_rows": N_("has no data rows"),
    "missing_columns": N_("is missing the column(s) %(columns)s"),
    "unknown_columns": N_("has unknown column(s) %(columns)s; the columns are %(expected)s"),
    "appears_again": N_("%(key)s appears again (first on row %(row)s)"),
    "below_reserved": N_("the count %(count)s is below the %(reserved)s reserved there for orders"),
    # convenience-store pickup (ECPay logistics)
    "invalid_store_id": N_("must be the store's number: 1 to 10 letters or digits"),
    "no_cvs_store": N_("the order has no convenience store to ship to; choose one first"),
    "cvs_needs_twd": N_("convenience-store parcels are in TWD, not %(currency)s"),
    "cvs_amount_range": N_("must be 1 to %(max)s TWD for a convenience-store parcel"),
    "not_a_tw_mobile": N_("must be a Taiwan mobile number (09 and 8 digits)"),
    "ecpay_refused": N_("ECPay refused it: %(answer)s"),
    "missing_columns_any": N_("needs one of the columns %(columns)s"),
    # purchasing
    "invalid_supplier_code": N_(
        "must be 1-32 letters, digits, '.', '_' or '-', starting with a letter or digit"
    ),
    "unknown_supplier": N_("no supplier with code '%(supplier)s'"),
    "inactive_supplier": N_("supplier '%(supplier)s' is deactivated"),
    "not_on_purchase_order": N_("%(sku)s is not on this purchase order"),
    "exceeds_outstanding": N_("is more than ordered minus received (%(left)s)"),
    "below_other_threshold": N_("must not be below %(other)s (%(value)s)"),
    # own delivery
    "not_a_driver": N_("must be the email of an active user with the driver role"),
    "not_own_delivery": N_("order %(number)s has no own-delivery shipment waiting for a run"),
    "on_another_run": N_("order %(number)s is already on delivery run %(run)s"),
    "run_currency": N_("order %(number)s is in %(currency)s; the run is in %(run_currency)s"),
    "not_on_run": N_("order %(number)s is not on this run"),
    "proof_required": N_("is required: a photo or a signature"),
    "more_than_due": N_("must be at most the %(due)s due"),
    "unknown_reason": N_("must be one of %(reasons)s"),
    "signature_data": N_("must be a PNG image as a data URL"),
    "difference_needs_note": N_(
        "is required: the cash differs from what was collected by %(difference)s"
    ),
    # cycle counts
    "no_skus_due": N_("no SKU is due for counting at %(location)s"),
    "not_on_count_sheet": N_("%(sku)s is not on this count sheet"),
    "nothing_counted": N_("no line of this count has been counted yet"),
}

# Parameters whose value is itself a code (a status): the pages show its label.
CODE_PARAMS = frozenset({"status"})
# Parameters whose value is an English phrase marked for translation (a tracking format).
PHRASE_PARAMS = frozenset({"expected"})


# A code said more precisely: the same code (a client's test stays true), another message,
# chosen by the error's ``variant`` parameter.
VARIANTS: dict[tuple[str, str], str] = {
    ("invalid_carrier_id", "unknown_at_centre"): N_(
        "is not known to the e-invoice centre: no such mobile barcode (手機條碼) is registered"
    ),
    ("invalid_donation_code", "unknown_at_centre"): N_(
        "is not known to the e-invoice centre: no such donation code (愛心碼) is registered"
    ),
}


def template(code: str, params: dict[str, Any]) -> str:
    """The English template of ``code`` (its variant's when the params name one); a
    ``KeyError`` for a code that is not listed."""
    variant = params.get("variant")
    if isinstance(variant, str) and (code, variant) in VARIANTS:
        return VARIANTS[(code, variant)]
    return FIELD_ERRORS[code]


def message(code: str, params: dict[str, Any]) -> str:
    """The English message of ``code`` (a ``KeyError`` for a code that is not listed)."""
    return template(code, params) % params
