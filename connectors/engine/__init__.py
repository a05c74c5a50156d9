"""The engine: getting tokens and keeping them alive.

The token API (`tokens`: `get_access_token`, `session`), renewal under a short claim on the
row (`claims`, `renewal`), when renewals are due (`schedule`), backoff and the per-host circuit
(`backoff`, `circuit`), the background tasks and the worker that runs them (`queue`, `tasks`,
`worker`), Generate and the callback's token exchange (`authorization`, `state`), revocation
(`revocation`), Test Connection (`diagnostics`), concurrent and bulk runs (`runner`, `bulk`),
event retention (`retention`) and alert mails (`alerts`). It uses the store and the partners
below it, and never holds a transaction open while a partner answers.
"""
