"""Which addresses a webhook may be sent to (pure: no DNS here, the service resolves names).

HTTPS only, no user or password in the address, and no address of the portal's own network
(loopback, private, link-local, multicast, reserved…): a webhook must not become a way to
reach machines behind the portal. In development (and tests), http://127.0.0.1 and
http://localhost are allowed, for a receiver on the developer's machine.
"""
from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

MAX_URL_LENGTH = 500
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def forbidden_address(address: str) -> bool:
    """True for an IP address a webhook may not reach (any that is not public)."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return True
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def url_problem(url: str, *, development: bool) -> str | None:
    """What is wrong with a webhook address, in French; None when it may be registered.

    Host names are checked again once resolved (services/webhooks.py), at registration and
    before every delivery.
    """
    if not url:
        return "Indiquez l'adresse (URL) qui recevra les notifications."
    if len(url) > MAX_URL_LENGTH:
        return f"L'adresse ne doit pas dépasser {MAX_URL_LENGTH} caractères."
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return "L'adresse ne doit contenir ni espace ni caractère de contrôle."
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "L'adresse est illisible : écrivez-la sous la forme https://exemple.fr/chemin."
    host = (parts.hostname or "").lower()
    if parts.username is not None or parts.password is not None:
        return ("L'adresse ne doit contenir ni identifiant ni mot de passe : la signature des "
                "messages authentifie le portail.")
    if not host:
        return "L'adresse doit nommer un serveur, par exemple https://exemple.fr/webhooks."
    if parts.fragment:
        return "L'adresse ne doit pas contenir de fragment (#…)."
    local = host in LOCAL_HOSTS
    if parts.scheme == "http" and development and local:
        return None
    if parts.scheme != "https":
        return "Seules les adresses https:// sont acceptées."
    if port == 0:
        return "Le port de l'adresse est invalide."
    if local and development:
        return None
    if local or host.endswith(".localhost"):
        return "L'adresse ne doit pas désigner le serveur du portail lui-même."
    try:
        ipaddress.ip_address(host)
    except ValueError:
        if "." not in host:
            return "Indiquez un nom de serveur complet, par exemple webhooks.exemple.fr."
        return None
    if forbidden_address(host):
        return ("L'adresse désigne un réseau privé ou réservé : seules les adresses publiques "
                "sont acceptées.")
    return None
