"""Errors a use case reports to the user, in French, each with a stable code.

The message is for people and may be reworded; the code is for programs and never changes
meaning. The schema exposes the codes as GraphQL enums (ppas/schema/errors.py) and the vendor
documentation page lists them from there, so this file is the one written list.

The rule for refusals (see ppas/schema/errors.py for where it is applied):
* who the caller is — not signed in, password to change first, a role or an API token that
  may not take this action, too many requests — is a top-level GraphQL error whose
  `extensions.code` is one of TOP_LEVEL_CODES;
* what the caller asked — an object that does not exist *or* that the caller may not see
  (`NOT_FOUND`: the two are never told apart), a value to correct, a state that forbids the
  action — is data: the mutation's error type, with `code` from its feature's enum.
"""
from __future__ import annotations

from enum import StrEnum


class ErrorCode(StrEnum):
    """Every refusal code; the value is the name, so a code reads the same everywhere."""

    # Top-level (who asks)
    UNAUTHENTICATED = "UNAUTHENTICATED"
    PASSWORD_CHANGE_REQUIRED = "PASSWORD_CHANGE_REQUIRED"
    FORBIDDEN = "FORBIDDEN"
    TOO_MANY_REQUESTS = "TOO_MANY_REQUESTS"
    QUERY_TOO_COSTLY = "QUERY_TOO_COSTLY"
    FIELD_NOT_ALLOWED_IN_LIST = "FIELD_NOT_ALLOWED_IN_LIST"
    INTERNAL_ERROR = "INTERNAL_ERROR"
    # Data (what is asked), shared by the features
    NOT_FOUND = "NOT_FOUND"
    REQUIRED = "REQUIRED"
    INVALID = "INVALID"
    ALREADY_EXISTS = "ALREADY_EXISTS"
    # Accounts
    WRONG_CREDENTIALS = "WRONG_CREDENTIALS"
    ACCOUNT_LOCKED = "ACCOUNT_LOCKED"
    PASSWORD_EXPIRED = "PASSWORD_EXPIRED"
    TEMPORARY_PASSWORD_EXPIRED = "TEMPORARY_PASSWORD_EXPIRED"
    WRONG_PASSWORD = "WRONG_PASSWORD"
    PASSWORD_MISMATCH = "PASSWORD_MISMATCH"
    PASSWORD_REFUSED = "PASSWORD_REFUSED"
    TRY_AGAIN = "TRY_AGAIN"
    # Billing forms
    PERIOD_NOT_BILLABLE = "PERIOD_NOT_BILLABLE"
    CONVENTION_NOT_ACTIVE = "CONVENTION_NOT_ACTIVE"
    FORM_NOT_OPEN = "FORM_NOT_OPEN"
    LINE_CROSSED_OUT = "LINE_CROSSED_OUT"
    FORM_EMPTY = "FORM_EMPTY"
    FORM_INCOMPLETE = "FORM_INCOMPLETE"
    FORM_NOT_VALIDATED = "FORM_NOT_VALIDATED"
    CANCELLATION_CLOSED = "CANCELLATION_CLOSED"
    # Billing files
    FILE_MISSING = "FILE_MISSING"
    LINE_NOT_IN_ANOMALY = "LINE_NOT_IN_ANOMALY"
    LINE_NOT_REBILLABLE = "LINE_NOT_REBILLABLE"
    LINE_STILL_IN_ANOMALY = "LINE_STILL_IN_ANOMALY"
    # Partner administration and caisse decisions
    ALREADY_DONE = "ALREADY_DONE"
    LAST_ADMINISTRATOR = "LAST_ADMINISTRATOR"
    OWN_ACCOUNT = "OWN_ACCOUNT"
    # Registrations
    CAPTCHA_FAILED = "CAPTCHA_FAILED"
    CONVENTION_MISMATCH = "CONVENTION_MISMATCH"
    # Evaluations
    CONFLICT = "CONFLICT"
    ORDER_CLOSED = "ORDER_CLOSED"
    NOT_RESERVED = "NOT_RESERVED"


DESCRIPTIONS: dict[ErrorCode, str] = {
    ErrorCode.UNAUTHENTICATED: "Aucun utilisateur connecté, session expirée ou compte désactivé : "
                               "connectez-vous (ou utilisez un jeton valide).",
    ErrorCode.PASSWORD_CHANGE_REQUIRED: "Le compte doit d'abord changer son mot de passe "
                                        "temporaire (mutation changePassword).",
    ErrorCode.FORBIDDEN: "Le rôle de l'utilisateur, ou un jeton d'API, ne permet pas cette action.",
    ErrorCode.TOO_MANY_REQUESTS: "Trop de demandes depuis cette adresse : attendre "
                                 "`extensions.retryAfter` secondes (HTTP 429, Retry-After).",
    ErrorCode.QUERY_TOO_COSTLY: "Le document produirait trop de valeurs "
                                "(`extensions.cost` > `extensions.budget`) : paginer.",
    ErrorCode.FIELD_NOT_ALLOWED_IN_LIST: "Ce champ ne se demande que hors d'une liste "
                                         "(`extensions.path`).",
    ErrorCode.INTERNAL_ERROR: "Erreur inattendue du portail, journalisée ; réessayer plus tard.",
    ErrorCode.NOT_FOUND: "L'objet n'existe pas ou n'est pas accessible à l'appelant "
                         "(les deux cas ne sont jamais distingués).",
    ErrorCode.REQUIRED: "Une valeur obligatoire manque (`field`).",
    ErrorCode.INVALID: "Une valeur est à corriger (`field`, et `problems` quand il y en a "
                       "plusieurs).",
    ErrorCode.ALREADY_EXISTS: "Une valeur qui doit être unique est déjà prise (identifiant, "
                              "nom de jeton, numéro de convention, demande en cours).",
    ErrorCode.WRONG_CREDENTIALS: "Identifiant ou mot de passe incorrect (chaque essai compte "
                                 "pour le blocage).",
    ErrorCode.ACCOUNT_LOCKED: "Compte bloqué après trop d'essais : demander un nouveau mot "
                              "de passe.",
    ErrorCode.PASSWORD_EXPIRED: "Mot de passe expiré et connexions de grâce épuisées : "
                                "demander un nouveau mot de passe.",
    ErrorCode.TEMPORARY_PASSWORD_EXPIRED: "Mot de passe temporaire expiré : en demander un autre.",
    ErrorCode.WRONG_PASSWORD: "L'ancien mot de passe est incorrect.",
    ErrorCode.PASSWORD_MISMATCH: "La confirmation diffère du nouveau mot de passe.",
    ErrorCode.PASSWORD_REFUSED: "Le nouveau mot de passe ne respecte pas les règles "
                                "(`problems` les liste).",
    ErrorCode.TRY_AGAIN: "Une autre demande sur le même compte est en cours : réessayer.",
    ErrorCode.PERIOD_NOT_BILLABLE: "Échéance non facturable en ligne (future, ou de plus de "
                                   "12 mois : facture individuelle à la caisse).",
    ErrorCode.CONVENTION_NOT_ACTIVE: "La convention n'est pas active pour cette échéance.",
    ErrorCode.FORM_NOT_OPEN: "Le formulaire est déjà validé : plus aucune ligne ne se modifie.",
    ErrorCode.LINE_CROSSED_OUT: "La ligne est barrée : la rétablir avant d'y saisir des heures.",
    ErrorCode.FORM_EMPTY: "Le formulaire n'a aucune ligne : rien à valider.",
    ErrorCode.FORM_INCOMPLETE: "Des lignes ne sont ni remplies ni barrées (`lines` les liste).",
    ErrorCode.FORM_NOT_VALIDATED: "Le formulaire n'est pas validé : rien à annuler, ou pas "
                                  "encore de récapitulatif.",
    ErrorCode.CANCELLATION_CLOSED: "La validation ne s'annule plus : autre jour (heure de "
                                   "Paris) ou formulaire déjà payé.",
    ErrorCode.FILE_MISSING: "Aucun fichier joint à la requête multipart.",
    ErrorCode.LINE_NOT_IN_ANOMALY: "La ligne n'est pas en anomalie : rien à refacturer.",
    ErrorCode.LINE_NOT_REBILLABLE: "Motif L04 ou L05 : la ligne ne se refacture pas en ligne.",
    ErrorCode.LINE_STILL_IN_ANOMALY: "La ligne corrigée reste en anomalie (le message cite "
                                     "les anomalies).",
    ErrorCode.ALREADY_DONE: "L'action est déjà faite (compte déjà actif ou désactivé, jeton "
                            "déjà révoqué, demande déjà traitée).",
    ErrorCode.LAST_ADMINISTRATOR: "Le dernier administrateur actif de la structure ne perd "
                                  "ni son rôle ni son accès.",
    ErrorCode.OWN_ACCOUNT: "Un administrateur ne désactive pas son propre compte.",
    ErrorCode.CAPTCHA_FAILED: "La preuve de travail (captcha) manque, est invalide ou a déjà "
                              "servi.",
    ErrorCode.CONVENTION_MISMATCH: "La convention revendiquée ne correspond plus à la "
                                   "préinscription.",
    ErrorCode.CONFLICT: "La commande d'évaluation est réservée par un autre évaluateur "
                        "(le message dit qui, et jusqu'à quand).",
    ErrorCode.ORDER_CLOSED: "La commande d'évaluation est déjà évaluée ou annulée.",
    ErrorCode.NOT_RESERVED: "La commande d'évaluation n'est pas réservée par l'appelant : "
                            "rien à libérer.",
}

# The codes a top-level GraphQL error may carry in `extensions.code` (the others are data).
TOP_LEVEL_CODES = (
    ErrorCode.UNAUTHENTICATED, ErrorCode.PASSWORD_CHANGE_REQUIRED, ErrorCode.FORBIDDEN,
    ErrorCode.TOO_MANY_REQUESTS, ErrorCode.QUERY_TOO_COSTLY, ErrorCode.FIELD_NOT_ALLOWED_IN_LIST,
    ErrorCode.INTERNAL_ERROR,
)


class ServiceError(Exception):
    """A refusal the user can act on; `message` is shown as is, `code` is for programs."""

    default_code = ErrorCode.INVALID

    def __init__(self, message: str, field: str | None = None, *,
                 code: ErrorCode | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code or self.default_code

    @property
    def extensions(self) -> dict[str, object]:
        """Read by graphql-core when the refusal becomes a top-level error."""
        return {"code": self.code.value}


class AccessDenied(ServiceError):
    """The caller (who they are, not what they ask) may not do this: a top-level error."""

    default_code = ErrorCode.FORBIDDEN

    def __init__(self, message: str = "Vous n'avez pas accès à cette information.", *,
                 code: ErrorCode | None = None) -> None:
        super().__init__(message, code=code)


class FieldsRefused(ServiceError):
    """Some fields of a form must be corrected; `problems` maps each input field to what to fix.

    `refused` says what did not happen (« Le message n'est pas envoyé »); the summary adds
    how many fields to correct, in words.
    """

    def __init__(self, refused: str, problems: dict[str, str]) -> None:
        count = len(problems)
        summary = (f"{refused} : corrigez le champ signalé." if count == 1 else
                   f"{refused} : corrigez les {count} champs signalés.")
        super().__init__(summary, field=next(iter(problems), None), code=ErrorCode.INVALID)
        self.problems = problems


class NotFound(ServiceError):
    """The object does not exist or is not the caller's: never told apart (data, NOT_FOUND)."""

    default_code = ErrorCode.NOT_FOUND
