"""Everything that talks to a partner: the outbound policy (`http`, `deadline`, `answers`), every
OAuth request through requests-oauthlib (`oauth`), discovery documents (`discovery`), whom a token
acts for (`accounts`), the grant strategies (`grants/`) and the providers as data (`providers/`).

It works on connection objects it is handed and never reads or writes the database itself, so
the store above can use the providers' rules and the engine can call a partner outside any
transaction. It imports only the core.
"""
