"""The token API at the path README documents ("From code"): it lives in the engine
(`connectors/engine/tokens.py`); this module only re-exports it for code that imported it here."""

from connectors.engine.tokens import access_token_for, get_access_token, session

__all__ = ["access_token_for", "get_access_token", "session"]
