"""billingFiles(since:, after:): a vendor synchronises a partner's files incrementally."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ppas.models import BillingFile
from ppas.services import api_tokens
from ppas.services.sync import SETTLE
from tests.billing_file_support import make_provider

SYNC = """query($since: DateTime, $after: String, $limit: Int! = 2, $offset: Int! = 0) {
  billingFiles(since: $since, after: $after, limit: $limit, offset: $offset) {
    totalCount hasMore hasNextPage nextCursor items { id name uploadedAt } } }"""


async def _files(provider, *ages_in_minutes: float) -> list[BillingFile]:
    """Files of the provider uploaded that many minutes ago (the same age twice: same instant)."""
    now = datetime.now(UTC)
    rows = []
    for n, age in enumerate(ages_in_minutes):
        row = await BillingFile.create(partner=provider.partner, name=f"sync{n}.xml", sha256="0",
                                       content=b"", status="refused")
        at = now - timedelta(minutes=age)
        await BillingFile.filter(id=row.id).update(uploaded_at=at)
        row.uploaded_at = at
        rows.append(row)
    return rows


@pytest.fixture
async def vendor(db):
    provider = await make_provider(1)
    token = await api_tokens.create_token(provider.user, "Logiciel qui synchronise")
    return provider, {"Authorization": f"Bearer {token.secret}"}


async def _sync(client, headers, **variables):
    answer = await client.post("/graphql", json={"query": SYNC, "variables": variables},
                               headers=headers)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_a_vendor_reads_everything_once_in_a_stable_order(client, vendor):
    provider, headers = vendor
    # Two files share one instant: the id orders them.
    rows = await _files(provider, 50, 40, 40, 30, 20)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    seen, pages, after = [], [], None
    while True:
        body = await _sync(client, headers, **({"after": after} if after else {"since": since}))
        page = body["data"]["billingFiles"]
        pages.append(page)
        seen += [item["id"] for item in page["items"]]
        after = page["nextCursor"]
        if not page["hasMore"]:
            break
    assert seen == [str(r.id) for r in sorted(rows, key=lambda r: (r.uploaded_at, r.id))]
    assert [p["totalCount"] for p in pages] == [5, 3, 1]
    assert [p["hasMore"] for p in pages] == [True, True, False] == [p["hasNextPage"] for p in pages]
    # Nothing new: an empty page, and the same cursor to come back with.
    idle = (await _sync(client, headers, after=after))["data"]["billingFiles"]
    assert idle["items"] == [] and idle["nextCursor"] == after and not idle["hasMore"]
    # A new send shows up after the cursor, and only it.
    (new,) = await _files(provider, 10)
    later = (await _sync(client, headers, after=after))["data"]["billingFiles"]
    assert [item["id"] for item in later["items"]] == [str(new.id)]


async def test_since_leaves_out_older_files_and_other_partners(client, vendor):
    provider, headers = vendor
    other = await make_provider(1)
    _old, recent = await _files(provider, 120, 15)
    await _files(other, 15)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    page = (await _sync(client, headers, since=since, limit=10))["data"]["billingFiles"]
    assert [item["id"] for item in page["items"]] == [str(recent.id)]
    assert page["totalCount"] == 1


async def test_a_send_still_settling_waits_for_the_next_poll(client, vendor):
    provider, headers = vendor
    settled, _fresh = await _files(provider, 5, SETTLE.total_seconds() / 120)
    since = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    page = (await _sync(client, headers, since=since, limit=10))["data"]["billingFiles"]
    assert [item["id"] for item in page["items"]] == [str(settled.id)]


async def test_without_since_or_after_the_list_is_unchanged(client, vendor):
    provider, headers = vendor
    older, newer = await _files(provider, 30, 0)
    page = (await _sync(client, headers, limit=10))["data"]["billingFiles"]
    assert [item["id"] for item in page["items"]] == [str(newer.id), str(older.id)]
    assert page["nextCursor"] is None and page["totalCount"] == 2 and not page["hasMore"]


@pytest.mark.parametrize("variables, field", [
    ({"after": "pas-un-curseur"}, "after"),
    ({"after": "djF8eHx5"}, "after"),  # base64 of "v1|x|y"
    ({"since": "2026-12-01T00:00:00"}, "since"),  # no zone
    ({"since": "2026-12-01T00:00:00Z", "offset": 20}, "offset"),
])
async def test_bad_arguments_are_refused_with_a_code(client, vendor, variables, field):
    _, headers = vendor
    body = await _sync(client, headers, **variables)
    assert body["data"] is None
    error = body["errors"][0]
    assert error["extensions"]["code"] == "INVALID", error
    assert field in error["message"]
