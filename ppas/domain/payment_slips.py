"""Payment slips: when one becomes visible, its readable number, its CSV columns. No I/O."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from ppas.domain.periods import PARIS

__all__ = ["CSV_COLUMNS", "slip_available_at", "slip_number", "slip_number_prefix"]


def slip_available_at(paid_on: date, delay_hours: int) -> datetime:
    """The instant (UTC) a slip paid on `paid_on` is published: that day at 00:00 in Paris,
    plus `delay_hours` hours of real time (a change of clock in between counts as it is)."""
    if delay_hours < 0:
        raise ValueError("the slip delay cannot be negative")
    midnight = datetime.combine(paid_on, time(0, 0), tzinfo=PARIS)
    return midnight.astimezone(timezone.utc) + timedelta(hours=delay_hours)


def slip_number_prefix(caisse_code: str, paid_on: date) -> str:
    """The start of a slip's number: caisse code and year of payment ("03-2026-")."""
    return f"{caisse_code}-{paid_on.year:04d}-"


def slip_number(caisse_code: str, paid_on: date, slip_id: int) -> str:
    """A slip's readable number, unique because its last part is the slip's id: "03-2026-000123"."""
    return f"{slip_number_prefix(caisse_code, paid_on)}{slip_id:06d}"


# The slip's CSV for accounting software: (header, meaning), in order. The vendor API page
# and the help page list them from here.
CSV_COLUMNS: tuple[tuple[str, str], ...] = (
    ("numero_bordereau", "Numéro du bordereau (caisse-année-numéro, ex. 03-2026-000123)"),
    ("date_paiement", "Date du paiement (JJ/MM/AAAA)"),
    ("identifiant_structure", "Identifiant de la structure payée (8 chiffres)"),
    ("n_dossier", "Numéro de dossier du bénéficiaire (10 chiffres)"),
    ("nom", "Nom du bénéficiaire"),
    ("prenom", "Prénom du bénéficiaire"),
    ("debut_periode", "Début de la période facturée (JJ/MM/AAAA)"),
    ("fin_periode", "Fin de la période facturée (JJ/MM/AAAA)"),
    ("heures", "Heures en semaine (virgule décimale)"),
    ("heures_dimanche", "Heures les dimanches et jours fériés (virgule décimale)"),
    ("taux_horaire", "Taux horaire en euros (virgule décimale)"),
    ("participation", "Participation horaire du bénéficiaire en euros (virgule décimale)"),
    ("montant", "Montant payé en euros (virgule décimale, sans séparateur de milliers)"),
    ("origine", "FICHIER ou FORMULAIRE"),
    ("fichier", "Nom du fichier de facturation (origine FICHIER)"),
    ("n_enregistrement", "Numéro d'enregistrement de la ligne dans le fichier (origine FICHIER)"),
    ("convention", "Numéro de convention du formulaire (origine FORMULAIRE)"),
    ("echeance", "Échéance du formulaire, AAAA-MM (origine FORMULAIRE)"),
    ("ligne_formulaire", "Position de la ligne dans le formulaire (origine FORMULAIRE)"),
)
