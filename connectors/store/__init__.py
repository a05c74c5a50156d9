"""The store: what is kept about connections, beside `connectors/models.py` (where Django and
the migrations expect the models).

The models' rules (`rules`), the event log and its action names (`events`, `actions`), the one
health derived from a connection's facts (`health`, and `display` for how it reads in words and
badges), API keys (`apikeys`) and connection definitions as files (`definitions`). It imports the
core and the partners' provider data; it never calls a partner's network.
"""
