"""Tracking-number data read by ``dingdan.domain.fulfilment.carriers``.

The JSON files are unchanged copies of courier files from jkeen/tracking_number_data
(MIT, see LICENSE in this folder): dhl.json, fedex.json, ups.json and s10.json.
"""
