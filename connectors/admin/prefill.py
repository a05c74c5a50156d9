"""Fields a provider fills from the network before the admin's form is validated: the generic
provider's discovery of blank endpoints from the issuer (Provider.discover).

Run on the submitted values before the admin opens its transaction (never hold a database
transaction while a partner answers); the filled values then go through the form and the
model's rules like typed ones, and stay visible and editable on the page.
"""


def fill(post, provider):
    """(the submitted values with blank fields filled, {field: sentence} where that failed)."""
    filled, errors = provider.discover(post)
    if not filled:
        return post, errors
    post = post.copy()
    for name, value in filled.items():
        post[name] = value
    return post, errors
