"""Request bodies are capped as they arrive: a chunked upload (no Content-Length) cannot fill the
disk before the size refusal, and an oversized declared length is refused unread."""
from __future__ import annotations

from dataclasses import replace

import httpx
import pytest

from ppas.models import BillingFile
from tests.billing_file_support import PASSWORD, make_provider
from tests.conftest import sign_in_as

CAP = 100_000
BOUNDARY = "ppas-test-boundary"


class Body:
    """A streamed body of `size` bytes in chunks; it counts what the server read."""

    def __init__(self, head: bytes, size: int, tail: bytes, chunk: int = 8192) -> None:
        self.head, self.size, self.tail, self.chunk = head, size, tail, chunk
        self.sent = 0

    async def __aiter__(self):
        yield self.head
        while self.sent < self.size:
            piece = min(self.chunk, self.size - self.sent)
            self.sent += piece
            yield b"x" * piece
        yield self.tail


def multipart_file(size: int, name: str = "03_12345678_202611.xml") -> Body:
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"{name}\"\r\nContent-Type: text/xml\r\n\r\n").encode()
    return Body(head, size, f"\r\n--{BOUNDARY}--\r\n".encode())


@pytest.fixture
async def small_client(settings, db):
    from ppas.app import create_app

    app = create_app(replace(settings, max_upload_bytes=CAP), manage_database=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def signed(small_client):
    provider = await make_provider()
    csrf = await sign_in_as(small_client, provider.login, PASSWORD)
    return provider, csrf


def upload_headers(csrf: str) -> dict:
    return {"HX-Request": "true", "X-CSRF-Token": csrf,
            "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def test_a_chunked_upload_past_the_cap_is_stopped_with_the_size_message(small_client, signed):
    provider, csrf = signed
    body = multipart_file(10 * CAP)
    response = await small_client.post("/fichiers/envoyer", headers=upload_headers(csrf),
                                       content=body)
    assert response.status_code == 200 and 'role="alert"' in response.text
    assert "dépasse la taille acceptée" in response.text and "F08" in response.text
    assert body.sent < 2 * CAP  # reading stopped at the cap, not at the end of the body
    assert await BillingFile.filter(partner_id=provider.partner.id).count() == 0


async def test_a_declared_length_past_the_cap_is_refused_before_any_byte_is_read(small_client,
                                                                                  signed):
    _, csrf = signed
    body = Body(b"", 10 * CAP, b"")
    response = await small_client.post(
        "/facturation/lignes/1", content=body,
        headers={"X-CSRF-Token": csrf, "Content-Length": str(10 * CAP),
                 "Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "dépasse" in response.text and "plus petit" in response.text
    assert body.sent == 0


async def test_graphql_multipart_past_the_cap_answers_413_with_a_graphql_error(small_client,
                                                                            signed):
    _, csrf = signed
    operations = ('{"query": "mutation($f: Upload!) { submitBillingFile(file: $f) '
                  '{ __typename } }", "variables": {"f": null}}')
    head = (f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"operations\"\r\n\r\n"
            f"{operations}\r\n--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"map\"\r\n\r\n"
            '{"0": ["variables.f"]}\r\n'
            f"--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"0\"; filename=\"f.xml\"\r\n"
            "Content-Type: text/xml\r\n\r\n").encode()
    body = Body(head, 10 * CAP, f"\r\n--{BOUNDARY}--\r\n".encode())
    response = await small_client.post("/graphql", content=body, headers={
        "X-CSRF-Token": csrf, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"})
    assert response.status_code == 413
    assert "dépasse" in response.json()["errors"][0]["message"]
    assert body.sent < 2 * CAP


async def test_a_file_under_the_cap_still_goes_through(small_client, signed):
    _, csrf = signed
    response = await small_client.post("/fichiers/envoyer", headers=upload_headers(csrf),
                                       content=multipart_file(1000))
    assert response.status_code == 200
    assert "dépasse la taille acceptée" not in response.text
