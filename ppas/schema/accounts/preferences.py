"""« Mon compte »: the caller's own preferences (event e-mails of partner administrators)."""
from __future__ import annotations

from typing import Annotated

import strawberry

from ppas.schema.context import Info
from ppas.schema.errors import AccountErrorCode, UserError
from ppas.schema.permissions import PARTNER_ADMINISTRATION, NotWithApiToken, SignedIn
from ppas.services import account_preferences


@strawberry.type(description="Les préférences du compte connecté.")
class AccountPreferences:
    event_mail: bool = strawberry.field(
        description="Vrai si le compte reçoit par courriel les avis de sa structure (anomalies "
                    "de report, bordereaux en ligne).")
    event_mail_offered: bool = strawberry.field(
        description="Vrai si ces avis concernent ce compte (administrateur d'une structure).")


@strawberry.type(description="Préférence enregistrée.")
class SetEventMailSuccess:
    preferences: AccountPreferences


@strawberry.type(description="Préférence refusée.")
class SetEventMailError(UserError):
    code_enum = AccountErrorCode
    code: AccountErrorCode = strawberry.field(description="Code stable du refus.")


SetEventMailResult = Annotated[SetEventMailSuccess | SetEventMailError,
                               strawberry.union("SetEventMailResult")]


def _preferences(user) -> AccountPreferences:
    offered = account_preferences.event_mail_offered(user)
    return AccountPreferences(event_mail=bool(user.event_mail) and offered,
                              event_mail_offered=offered)


@strawberry.type
class AccountPreferenceQueries:
    @strawberry.field(description="« Mon compte » : les préférences du compte connecté.",
                      permission_classes=[SignedIn, NotWithApiToken])
    def account_preferences(self, info: Info) -> AccountPreferences:
        return _preferences(info.context.user)


@strawberry.type
class AccountPreferenceMutations:
    @strawberry.mutation(description="Recevoir ou non par courriel les avis de sa structure "
                                     "(administrateurs d'une structure).",
                         permission_classes=PARTNER_ADMINISTRATION)
    async def set_event_mail(self, info: Info, enabled: bool) -> SetEventMailResult:
        user = info.context.user
        await account_preferences.set_event_mail(user, enabled)
        return SetEventMailSuccess(preferences=_preferences(user))
