# Dates as the admin shows them in English: one compact form on every page (events, API keys,
# lists), "2026-12-04 13:25", rather than Django's "Dec. 4, 2026, 1:25 p.m." beside it.
DATE_FORMAT = "Y-m-d"
DATETIME_FORMAT = "Y-m-d H:i"
SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
