"""Signed receipts carried through a redirect (ppas/web/receipts.py)."""
from ppas.web import receipts


def test_a_receipt_reads_back_only_with_its_key_and_purpose():
    token = receipts.sign("clé", "preinscription", {"reference": "PRE-03-000001", "n": 1})
    assert receipts.read("clé", "preinscription", token) == {"reference": "PRE-03-000001", "n": 1}
    assert receipts.read("autre clé", "preinscription", token) is None
    assert receipts.read("clé", "autre usage", token) is None
    body, signature = token.split(".")
    assert receipts.read("clé", "preinscription", body[:-2] + "AA." + signature) is None
    for junk in (None, "", "a.b.c", "!!!.???", "x" * 5000):
        assert receipts.read("clé", "preinscription", junk) is None


async def test_non_ascii_tokens_are_refused_not_crashed(client):
    """hmac.compare_digest raises on non-ASCII text: a crafted value must be a refusal."""
    page = await client.get("/inscription/terminee",
                            headers={"Cookie": "ppas_preinscription=e30.\xc3\xa9".encode("latin-1")})
    assert page.status_code == 200 and "PRE-" not in page.text
    refused = await client.post("/facturation/ouvrir", headers={"X-CSRF-Token": b"\xe9"},
                                data={"period": "2026-01"})
    assert refused.status_code in (401, 403)
