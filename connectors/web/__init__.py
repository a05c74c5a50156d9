"""The web interface outside the admin: the one OAuth callback URL registered at providers
(`views`, `urls`). Like the other interfaces (admin, API, management commands) it builds on the
engine and the layers below, and never imports another interface.
"""
