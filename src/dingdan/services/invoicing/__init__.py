"""Invoicing: invoices, credit notes and allowances, Taiwan e-invoice numbers and centres."""
