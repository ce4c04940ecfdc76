"""Two published Bitrix24 client libraries, used as they are, against the fake.

bitrix24-rest sends GET requests with PHP-bracket query strings to `<method>.json`;
fast_bitrix24 POSTs JSON bodies to `<method>` (no suffix) and uses `batch` for get_all.
Usage: python check.py <webhook base URL>   (exit 0 and prints "ok" when all checks pass)
"""

import sys
import warnings

from bitrix24 import Bitrix24
from fast_bitrix24 import Bitrix

warnings.simplefilter("ignore")
webhook = sys.argv[1]

rest = Bitrix24(webhook)
contact = rest.callMethod(
    "crm.contact.add",
    {"fields": {"NAME": "Irina", "ASSIGNED_BY_ID": 1, "PHONE": [{"VALUE": "89164569812", "VALUE_TYPE": "MOBILE"}]}},
)
assert isinstance(contact, int), contact
got = rest.callMethod("crm.contact.get", {"id": contact})
assert got["ID"] == str(contact) and got["PHONE"][0]["VALUE"] == "89164569812", got
found = rest.callMethod("crm.duplicate.findbycomm", {"type": "PHONE", "values": ["89164569812"]})
assert found == {"CONTACT": [contact]}, found

# bitrix24-rest closed the event loop it made; fast_bitrix24 needs one of its own.
import asyncio

asyncio.set_event_loop(asyncio.new_event_loop())
fast = Bitrix(webhook, verbose=False)
# A list of items goes as `batch` requests of 50.
fast.call("crm.lead.add", [{"fields": {"TITLE": f"lead {i}"}} for i in range(120)])
leads = fast.get_all("crm.lead.list", {"select": ["ID", "TITLE"]})
assert len(leads) == 120, len(leads)
deal = fast.call("crm.deal.add", {"fields": {"TITLE": "Deal", "CONTACT_ID": contact}})
comment = fast.call(
    "crm.timeline.comment.add", {"fields": {"ENTITY_ID": deal, "ENTITY_TYPE": "deal", "COMMENT": "hello"}}
)
assert comment, comment
print("ok")
