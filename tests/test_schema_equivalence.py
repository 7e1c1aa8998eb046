"""The fast and the thorough validator accept exactly the same bodies.

Valid bodies are checked only by the compiled fastjsonschema validator, so
any body it accepts that jsonschema would reject would slip through.
"""

from __future__ import annotations

import string

import email_validator
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from personsvc.validation import CREATE_VALIDATOR, REPLACE_VALIDATOR, is_plain_email

EDGY_TEXT = st.one_of(
    st.text(max_size=5),
    st.text(alphabet=" \t\n\r\x00\x1f\x7f\x85\u00a0\u2028\u3000aZé😀", min_size=0, max_size=4),
    st.builds(lambda n, c: c * n, st.sampled_from([0, 1, 199, 200, 201]), st.sampled_from(["x", "é", "😀", " "])),
    st.builds(lambda text: text + "\n", st.text(alphabet=string.ascii_letters, min_size=1, max_size=3)),
)
EMAILS = st.one_of(
    st.emails(),
    st.sampled_from(["a@b", "a@example.com", "a@@example.com", "a" * 65 + "@example.com", "@example.com",
                     "a@example.com\n", "ü@exämple.com", "a b@example.com", "a@[127.0.0.1]", ""]),
    EDGY_TEXT,
)
ANY_JSON = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=3),
    st.lists(st.integers(), max_size=2), st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
)
AGES = st.one_of(
    st.sampled_from([-1, 0, 1, 36, 36.0, 36.5, 150, 150.0, 151, -0.0, True, False, "36", None]),
    st.integers(-1000, 1000),
    ANY_JSON,
)
IDS = st.one_of(st.uuids().map(str), st.uuids().map(lambda u: str(u).upper()), st.uuids().map(lambda u: u.hex), EDGY_TEXT)

FIELDS = {
    "first_name": st.one_of(EDGY_TEXT, ANY_JSON),
    "middle_name": st.one_of(EDGY_TEXT, st.none(), ANY_JSON),
    "last_name": st.one_of(EDGY_TEXT, ANY_JSON),
    "email": st.one_of(EMAILS, ANY_JSON),
    "age": AGES,
    "id": IDS,
    "version": st.one_of(st.integers(-2, 3), ANY_JSON),
    "updated_at": ANY_JSON,
    "nickname": ANY_JSON,
}
BODIES = st.one_of(
    st.fixed_dictionaries({}, optional=FIELDS),
    # A valid person with some fields replaced or added, so that most
    # bodies are one rule away from valid.
    st.builds(
        lambda changes: {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com", "age": 36, **changes},
        st.fixed_dictionaries({}, optional=FIELDS),
    ),
    ANY_JSON,
)


def accepts_thoroughly(validator, body) -> bool:
    return not list(validator.thorough.iter_errors(body))


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(BODIES)
@example({"first_name": "Ada\n", "last_name": "L", "email": "a@example.com", "age": 1})
@example({"first_name": "A", "last_name": "L", "email": "a@example.com", "age": 36.0})
@example({"first_name": "A", "last_name": "L", "email": "a@example.com", "age": True, "id": "x"})
def test_fast_and_thorough_agree(body):
    for validator in (CREATE_VALIDATOR, REPLACE_VALIDATOR):
        assert validator.is_valid(body) == accepts_thoroughly(validator, body), body


EMAIL_LIKE = st.one_of(
    st.emails(),
    st.from_regex(r"[a-z0-9.+_-]{0,70}@[a-z0-9.-]{0,70}\.[a-z0-9-]{1,10}", fullmatch=True),
    st.builds(
        lambda local, labels, tld: f"{local}@{'.'.join(labels)}.{tld}",
        st.text(alphabet=string.ascii_letters + string.digits + "!#$%&'*+/=?^_`{|}~.-", min_size=1, max_size=70),
        st.lists(st.text(alphabet=string.ascii_lowercase + string.digits + "-", min_size=1, max_size=70), min_size=1, max_size=4),
        st.sampled_from(["com", "test", "local", "onion", "arpa", "invalid", "localhost", "c", "co", "xn--p1ai", "COM"]),
    ),
)


@settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(EMAIL_LIKE)
@example("a@ex--ample.com")
@example("a@xn--bcher-kva.ch")
@example("a@foo.test")
@example("a." + "b" * 63 + "@example.com")
def test_plain_email_shortcut_is_safe(address):
    if is_plain_email(address):
        email_validator.validate_email(address, check_deliverability=False, strict=True)
