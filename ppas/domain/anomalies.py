"""The stable catalog of billing and report anomalies (codes F01–F08, L01–L08, R01–R04)."""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "CATALOG",
    "AnomalyKind",
    "Level",
    "Phase",
    "anomaly",
    "format_message",
    "heading",
]

Phase = Literal["billing", "report"]
Level = Literal["file", "line"]


@dataclass(frozen=True, slots=True)
class AnomalyKind:
    """One anomaly motive; `rebillable` means the refused line may be billed again through the portal."""

    code: str
    phase: Phase
    level: Level
    title: str
    explanation: str
    what_to_do: str
    rebillable: bool
    # The title without placeholders, for every place that names the kind rather than one
    # anomaly (report group headings, the CSV's « Intitulé », the documentation): the title
    # keeps the placeholders that format_message fills for one anomaly's message.
    heading: str = ""

    def __post_init__(self) -> None:
        if not self.heading:
            object.__setattr__(self, "heading", self.title)
        if "{" in self.heading or "}" in self.heading:
            raise ValueError(f"anomaly {self.code}: the heading must not hold placeholders")

    @property
    def params(self) -> frozenset[str]:
        """Return the names of the placeholders that format_message must fill in the title."""
        return frozenset(
            name for _, name, _, _ in string.Formatter().parse(self.title) if name is not None
        )


_RESEND = "puis envoyez de nouveau le fichier corrigé : un fichier refusé ne bloque pas son nom."
_REBILL = "puis facturez de nouveau la ligne depuis le portail."
_REPORT_NOT_REBILLABLE = "Une ligne en anomalie de report ne peut pas être refacturée par le portail."


def _file(code: str, title: str, explanation: str, what_to_do: str, *,
          heading: str = "") -> AnomalyKind:
    """Build a file-level anomaly found at upload: the whole file is refused."""
    return AnomalyKind(code, "billing", "file", title, explanation, what_to_do, rebillable=False,
                       heading=heading)


def _line(
    code: str, title: str, explanation: str, what_to_do: str, *, rebillable: bool = True,
    heading: str = "",
) -> AnomalyKind:
    """Build a line-level anomaly found at upload."""
    return AnomalyKind(code, "billing", "line", title, explanation, what_to_do, rebillable,
                       heading=heading)


def _report(code: str, title: str, explanation: str, what_to_do: str) -> AnomalyKind:
    """Build a line-level anomaly found at integration (D+2/D+3), never rebillable."""
    return AnomalyKind(code, "report", "line", title, explanation, what_to_do, rebillable=False)


_KINDS = (
    _file(
        "F01",
        "Nom de fichier non conforme",
        "Le nom du fichier ne suit aucun des deux modèles acceptés : "
        "CC_SSSSSSSS_AAAAMM.xml pour l'aide ménagère à domicile (par exemple 03_21231300_201010.xml), "
        "CC_JJMMAA_PPP_SSSSSSSS.xml pour les autres prestations (par exemple 03_171110_014_21231300.xml).",
        "Renommez le fichier selon le modèle de votre prestation, avec l'extension .xml en minuscules, "
        "reportez ce nom dans la balise rf-borfact de l'en-tête, " + _RESEND,
    ),
    _file(
        "F02",
        "Nom de fichier déjà utilisé",
        "Un fichier de même nom a déjà été accepté lors d'un envoi précédent ; "
        "chaque envoi doit porter un nom qui n'a encore jamais servi.",
        "Vérifiez d'abord dans l'historique de vos envois que ce fichier n'a pas déjà été transmis : "
        "dans ce cas, il n'y a rien à renvoyer. Sinon, donnez au fichier un nom nouveau, "
        "reportez-le dans la balise rf-borfact et envoyez-le.",
    ),
    _file(
        "F03",
        "Référence interne différente du nom du fichier",
        "La balise rf-borfact de l'en-tête doit contenir exactement le nom du fichier envoyé, "
        "extension comprise ; ici, les deux ne sont pas identiques.",
        "Corrigez la balise rf-borfact ou renommez le fichier pour qu'ils concordent, " + _RESEND,
    ),
    _file(
        "F04",
        "Fichier XML illisible",
        "Le contenu du fichier n'est pas un document XML correct : balise non refermée, "
        "caractère interdit, encodage autre que UTF-8, fichier tronqué, "
        "ou déclaration DOCTYPE (refusée par sécurité).",
        "Générez de nouveau le fichier avec votre logiciel de facturation et envoyez-le. "
        "Si l'erreur se reproduit, transmettez-la à l'éditeur de votre logiciel.",
    ),
    _file(
        "F05",
        "Fichier non conforme au cahier des charges (ligne {line}, colonne {column})",
        "Le fichier est bien du XML mais ne respecte pas le schéma facturation-1.xsd : "
        "élément absent, en trop ou mal placé, valeur mal écrite (date, montant avec plus de "
        "2 décimales…) ou numéro d'enregistrement présent sur deux lignes.",
        "Comparez l'endroit indiqué avec le cahier des charges du fichier de facturation, "
        "corrigez-le (ou faites-le corriger par l'éditeur de votre logiciel), " + _RESEND,
        heading="Fichier non conforme au cahier des charges",
    ),
    _file(
        "F06",
        "Nom du fichier, en-tête et compte en désaccord",
        "Le code caisse, l'identifiant de structure, le code prestation ou l'échéance ne sont pas "
        "les mêmes dans le nom du fichier, dans son en-tête et dans le compte qui l'envoie.",
        "Vérifiez que vous êtes connecté avec le compte de la structure qui facture, "
        "mettez le nom et l'en-tête en accord, " + _RESEND,
    ),
    _file(
        "F07",
        "Aucune convention active pour cette prestation",
        "Votre structure n'a pas de convention en cours avec la caisse pour la prestation facturée, "
        "ou le numéro de convention de l'en-tête ne désigne aucune convention active.",
        "Vérifiez le numéro de convention inscrit dans l'en-tête. S'il est exact, "
        "contactez votre caisse pour connaître l'état de votre convention.",
    ),
    _file(
        "F08",
        "Totaux de l'en-tête incohérents, fichier vide ou trop volumineux",
        "Le nombre de lignes (nb-lignes) ou le montant total (montant-total) indiqué dans l'en-tête "
        "ne correspond pas aux lignes du fichier, ou bien le fichier est vide ou dépasse "
        "la taille acceptée par le portail.",
        "Faites recalculer les totaux de l'en-tête à partir des lignes et vérifiez le contenu "
        "du fichier exporté par votre logiciel, " + _RESEND,
    ),
    _line(
        "L01",
        "Dossier sans prise en charge de votre structure",
        # The same answer whether the caisse knows the file number or not: telling the two
        # apart would let any partner probe which file numbers exist at the caisse.
        "Le numéro de dossier indiqué sur la ligne ne correspond à aucun bénéficiaire pour lequel "
        "la caisse a notifié une prise en charge à votre structure, au titre de la convention "
        "du fichier. Le portail ne dit pas si ce numéro existe par ailleurs.",
        "Contrôlez le numéro de dossier (10 chiffres) sur la notification de prise en charge "
        "reçue de la caisse et la convention de l'en-tête ; sans notification pour ce "
        "bénéficiaire, contactez votre caisse. Une fois la ligne corrigée, "
        + _REBILL,
    ),
    _line(
        "L02",
        "Pas de prise en charge notifiée pour la période",
        "Aucune prise en charge notifiée de ce bénéficiaire ne couvre la période d'intervention facturée.",
        "Comparez les dates de la ligne avec celles de la notification. Si une prise en charge "
        "est en attente, patientez jusqu'à sa notification par la caisse, " + _REBILL,
    ),
    _line(
        "L03",
        "Heures supérieures à la prise en charge",
        "Le nombre d'heures facturé dépasse le volume d'heures accordé par la prise en charge "
        "pour cette période.",
        "Ramenez le nombre d'heures au volume notifié ou en dessous, " + _REBILL,
    ),
    _line(
        "L04",
        "Période de plus de 12 mois",
        "La période d'intervention remonte à plus de 12 mois : elle ne peut plus être facturée "
        "par le portail, ni par fichier ni par formulaire.",
        "Établissez une facture individuelle pour cette période et envoyez-la à votre caisse, "
        "qui la traitera manuellement.",
        rebillable=False,
    ),
    _line(
        "L05",
        "Ligne déjà envoyée ou période déjà facturée (enregistrement n°{record})",
        "Cette ligne reprend une facturation déjà reçue, ou la période d'intervention de ce "
        "bénéficiaire a déjà été facturée ; l'enregistrement cité est celui reçu auparavant.",
        "S'il s'agit d'un doublon, il n'y a rien à faire. Si ce paiement est réellement dû, "
        "adressez cette facturation par courrier à votre caisse pour un traitement manuel : "
        "cette ligne ne peut jamais être refacturée par le portail.",
        rebillable=False,
        heading="Ligne déjà envoyée ou période déjà facturée",
    ),
    _line(
        "L06",
        "Montant ou taux horaire incorrect",
        "Le montant de la ligne n'est pas égal au nombre d'heures multiplié par la différence "
        "entre le taux horaire et la participation, ou le taux horaire n'est pas celui de "
        "la prise en charge.",
        "Recalculez le montant avec le taux horaire et la participation de la prise en charge, "
        "corrigez-le, " + _REBILL,
    ),
    _line(
        "L07",
        "Période dans le futur ou dates invalides",
        "La période d'intervention n'est pas encore écoulée, ou ses dates sont incohérentes "
        "(par exemple une fin antérieure au début).",
        "Corrigez les dates de début et de fin ; pour une période à venir, attendez qu'elle "
        "soit terminée, " + _REBILL,
    ),
    _line(
        "L08",
        "Prise en charge barrée ou clôturée",
        "La prise en charge de ce bénéficiaire a été barrée dans un formulaire ou est clôturée "
        "pour la période facturée.",
        "Vérifiez auprès de votre caisse que la prise en charge couvre bien cette période. "
        "Si elle a été barrée ou clôturée par erreur, faites régulariser la situation par la caisse, "
        + _REBILL,
    ),
    _report(
        "R01",
        "Dossier clos ou bénéficiaire décédé",
        "Lors de l'intégration, le dossier du bénéficiaire était clos ou son décès avait été "
        "enregistré depuis l'envoi : la ligne n'a pas été mise en paiement.",
        "Comparez les dates d'intervention avec la date de clôture ou de décès ; pour les heures "
        "réellement dues, contactez votre caisse. " + _REPORT_NOT_REBILLABLE,
    ),
    _report(
        "R02",
        "Convention suspendue",
        "La convention de cette facturation a été suspendue entre l'envoi et l'intégration : "
        "la ligne n'a pas été mise en paiement.",
        "Contactez votre caisse pour connaître le motif de la suspension et la manière de "
        "régulariser cette facturation. " + _REPORT_NOT_REBILLABLE,
    ),
    _report(
        "R03",
        "Période déjà payée par l'autre canal",
        "Cette période a déjà été payée pour ce bénéficiaire au titre d'une facturation reçue "
        "par l'autre canal (formulaire en ligne ou fichier).",
        "Consultez votre bordereau de paiement : si la période y figure, il n'y a rien à faire ; "
        "sinon, contactez votre caisse. " + _REPORT_NOT_REBILLABLE,
    ),
    _report(
        "R04",
        "Prise en charge modifiée depuis l'envoi",
        "La caisse a modifié la prise en charge (heures, taux, participation ou dates) après l'envoi : "
        "la ligne ne correspond plus à ses conditions.",
        "Consultez la prise en charge à jour, puis contactez votre caisse pour régulariser "
        "la facturation de cette ligne. " + _REPORT_NOT_REBILLABLE,
    ),
)

CATALOG: dict[str, AnomalyKind] = {kind.code: kind for kind in _KINDS}


def anomaly(code: str) -> AnomalyKind:
    """Return the catalog entry for `code`, raising KeyError for an unknown code."""
    try:
        return CATALOG[code]
    except KeyError:
        raise KeyError(f"unknown anomaly code {code!r}") from None


def format_message(code: str, **params: object) -> str:
    """Return the French title of `code` with its placeholders (e.g. record, line, column) filled."""
    kind = anomaly(code)
    missing = kind.params - params.keys()
    if missing:
        raise ValueError(f"anomaly {code} needs parameter(s): {', '.join(sorted(missing))}")
    return kind.title.format(**params)


def heading(code: str) -> str:
    """The heading of `code` (no placeholders), or the code itself when it is unknown."""
    kind = CATALOG.get(code)
    return kind.heading if kind else code
