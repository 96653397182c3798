"""Which webhook addresses may be registered (ppas/domain/webhook_urls.py)."""
from __future__ import annotations

import pytest

from ppas.domain.webhook_urls import forbidden_address, url_problem


@pytest.mark.parametrize("url", [
    "https://logiciel.exemple.fr/ppas/notifications",
    "https://logiciel.exemple.fr:8443/hook?partenaire=1",
    "https://93.184.216.34/hook",
])
def test_public_https_addresses_are_accepted(url):
    assert url_problem(url, development=False) is None


@pytest.mark.parametrize("url, words", [
    ("", "Indiquez"),
    ("http://logiciel.exemple.fr/hook", "https://"),
    ("ftp://logiciel.exemple.fr/hook", "https://"),
    ("https://moi:secret@logiciel.exemple.fr/hook", "identifiant"),
    ("https://moi@logiciel.exemple.fr/hook", "identifiant"),
    ("https://127.0.0.1/hook", "serveur du portail"),
    ("https://localhost/hook", "serveur du portail"),
    ("https://x.localhost/hook", "serveur du portail"),
    ("https://10.1.2.3/hook", "réseau privé"),
    ("https://192.168.0.10/hook", "réseau privé"),
    ("https://169.254.169.254/latest/meta-data", "réseau privé"),
    ("https://[::1]/hook", "serveur du portail"),
    ("https://[fd00::1]/hook", "réseau privé"),
    ("https://[::ffff:10.0.0.1]/hook", "réseau privé"),
    ("https://0.0.0.0/hook", "réseau privé"),
    ("https://intranet/hook", "nom de serveur complet"),
    ("https://logiciel.exemple.fr/hook#x", "fragment"),
    ("https://logiciel.exemple.fr:99999/hook", "illisible"),
    ("https://logiciel.exemple.fr/ hook", "espace"),
    ("https://" + "a" * 500 + ".fr/", "500 caractères"),
    ("https:///hook", "nommer un serveur"),
])
def test_other_addresses_are_refused_in_words(url, words):
    problem = url_problem(url, development=False)
    assert problem is not None and words in problem, problem


def test_development_allows_a_receiver_on_this_machine():
    assert url_problem("http://127.0.0.1:8081/hook", development=True) is None
    assert url_problem("http://localhost:8081/hook", development=True) is None
    assert url_problem("http://127.0.0.1:8081/hook", development=False) is not None
    assert url_problem("http://10.0.0.1/hook", development=True) is not None  # only this machine


@pytest.mark.parametrize("address, forbidden", [
    ("8.8.8.8", False), ("2001:4860:4860::8888", False), ("127.0.0.1", True),
    ("10.0.0.1", True), ("172.16.0.1", True), ("100.64.0.1", True), ("224.0.0.1", True),
    ("fe80::1%eth0", True), ("::ffff:192.168.1.1", True), ("pas une adresse", True),
])
def test_forbidden_addresses(address, forbidden):
    assert forbidden_address(address) is forbidden
