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
