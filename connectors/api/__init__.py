"""The token API for services outside this process (/api/v1/, django-ninja): API keys per
consumer, RFC 9457 problem answers, a rate limit per key, an OpenAPI document."""
