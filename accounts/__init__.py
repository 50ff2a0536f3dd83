"""Users, roles, sign-up/sign-in/out, password change, staff user admin, API tokens."""
