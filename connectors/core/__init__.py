"""The core: what every other layer stands on, with no model of ours and no network.

Settings access (`app_settings`), text cleaning (`text`), the translatable sentences and the
failures that carry them (`sentences`, `failures`), the URL and host validators (`validators`),
the encryption keys and the secret model fields (`encryption`, `fields`), what a token answer
means for a connection's token fields (`token_state`), the public callback URL (`callback`) and
error reports without secrets (`reporting`). It imports nothing else of the app.
"""
