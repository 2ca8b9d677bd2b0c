"""Words made from names and counts, the same in pages, mails and the command line."""


def possessive(name: str) -> str:
    """`Acme's`, but `Acme Tools'`: a name ending in s takes the apostrophe alone."""
    name = str(name)
    return f"{name}'" if name[-1:] in ("s", "S") else f"{name}'s"


def plural(count: int, one: str, many: str | None = None) -> str:
    """`1 customer`, `2 customers`, `1,200 keys`: the count with the word that goes with it."""
    return f"{count:,} {one if count == 1 else many or one + 's'}"


def customer_name(customer) -> str:
    """How the vendor's pages and messages name a customer: the name, else the company, else the e-mail, else
    its number (`customer` is a Customer or a row of its columns)."""
    return (customer.name or getattr(customer, "company_name", "") or getattr(customer, "email", "")
            or f"Customer #{customer.id}")
