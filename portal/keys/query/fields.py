"""The key search's fields, the kind of value each takes, and its methods, variables and operators."""

NUMBER, CUSTOMER, BATCH, TEXT, DATE, FLAG = "number", "customer", "batch", "text", "date", "flag"
# The fields a key may have none of: `customer = none`, `batch = none`.
NULLABLE = (CUSTOMER, BATCH)

FIELD_KINDS = {
    "id": NUMBER, "period": NUMBER, "customer": CUSTOMER, "key": TEXT, "notes": TEXT,
    "created": DATE, "expires": DATE, "block": FLAG, "trial": FLAG, "batch": BATCH,
    **{f"f{n}": FLAG for n in range(1, 9)},
}
FIELD_LIST = "id, key, created, expires, period, F1 to F8, notes, block, customer, trial or batch"
EXPECTED_VALUE = {
    NUMBER: "a whole number",
    CUSTOMER: "a customer number or none",
    BATCH: "a batch number (from its page) or none",
    TEXT: 'a string in double quotes, like "ABC"',
    DATE: "a date such as DateTime(2015,1,31), DateTime(2015,1,31,12,0,0) or today",
    FLAG: "true or false",
}
METHODS = ("contains", "startswith")
VARIABLES = ("today", "tomorrow", "monthback", "monthforward")
ORDERING = ("<", "<=", ">", ">=")
CANONICAL_OPERATOR = {"==": "=", "<>": "!="}
