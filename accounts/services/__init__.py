"""The rules of accounts: sign-up, sign-in with throttling, passwords, sessions, roles.

One module per topic: checking what people type (``validation``), finding and creating
users (``users``), signing in and sessions (``sign_in``), slowing password guessing
(``throttle``), a user's own account (``own_account``), staff administration (``admin``)
and the one-time links of password reset and invitations (``links``).

Each function takes a session and plain values and commits its own unit of work,
so the HTML views, the JSON API and the CLI share exactly the same behaviour.
"""

from accounts.services.admin import names_by_id, search_users, set_active, set_roles
from accounts.services.links import (
    INVITATION_LIFETIME,
    RESET_LIFETIME,
    InvitationState,
    LinkUnusable,
    accept_invitation,
    invitation_for_token,
    invitation_state,
    invite,
    open_invitations,
    password_reset_user,
    request_password_reset,
    require_invitation,
    reset_password,
    withdraw_invitation,
)
from accounts.services.own_account import change_password, sign_out_everywhere
from accounts.services.sign_in import (
    AccountDeactivated,
    InvalidCredentials,
    authenticate,
    end_sign_in,
    open_sign_in,
    user_for_session,
)
from accounts.services.throttle import SignInThrottled, ThrottlePolicy
from accounts.services.users import (
    create_user,
    get_user,
    get_user_by_email,
    require_user,
    sign_up_candidate,
)
from accounts.services.validation import (
    EMAIL_MAX,
    NAME_MAX,
    AccountError,
    check_password,
    check_roles,
    clean_name,
    email_key,
    normalise_email,
)

__all__ = [
    "EMAIL_MAX",
    "INVITATION_LIFETIME",
    "NAME_MAX",
    "RESET_LIFETIME",
    "AccountDeactivated",
    "AccountError",
    "InvalidCredentials",
    "InvitationState",
    "LinkUnusable",
    "SignInThrottled",
    "ThrottlePolicy",
    "accept_invitation",
    "authenticate",
    "change_password",
    "check_password",
    "check_roles",
    "clean_name",
    "create_user",
    "email_key",
    "end_sign_in",
    "get_user",
    "get_user_by_email",
    "invitation_for_token",
    "invitation_state",
    "invite",
    "names_by_id",
    "normalise_email",
    "open_invitations",
    "open_sign_in",
    "password_reset_user",
    "request_password_reset",
    "require_invitation",
    "require_user",
    "reset_password",
    "search_users",
    "set_active",
    "set_roles",
    "sign_out_everywhere",
    "sign_up_candidate",
    "user_for_session",
    "withdraw_invitation",
]
