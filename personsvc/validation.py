"""Parse request bodies and check them against the person JSON Schema.

The schema file ``schemas/person.json`` is the single source of the field
rules. This module adds the checks on the raw text that JSON Schema cannot express
(strict JSON, UTF-8) and turns schema errors into messages that name the fix.
"""

from __future__ import annotations

import datetime
import decimal
import json
import math
import re
import unicodedata
import uuid
from collections.abc import Iterator
from importlib import resources
from typing import Any

import email_validator
import fastjsonschema
import jsonschema
from jsonschema.exceptions import ValidationError as SchemaError

from personsvc.errors import FieldError, InvalidJson, ValidationFailed

SCHEMA: dict[str, Any] = json.loads(
    (resources.files("personsvc") / "schemas" / "person.json").read_text(encoding="utf-8")
)

FORMAT_CHECKER = jsonschema.FormatChecker(formats=("uuid",))


# A plain ASCII address (dot-atom before the @, letters-digits-hyphens host
# names with an alphabetic top-level domain) that email-validator always
# accepts. Matching it first skips email-validator, which costs about 20 us
# per address. Anything else, valid or not, goes to email-validator, and a
# test checks that this pattern accepts nothing that email-validator rejects.
_ATEXT = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PLAIN_EMAIL = re.compile(rf"(?P<local>{_ATEXT}(?:\.{_ATEXT})*)@(?P<domain>(?:{_LABEL}\.)+(?P<tld>[A-Za-z]{{2,63}}))")


def is_plain_email(value: str) -> bool:
    """Return True if ``value`` is a plain ASCII address that email-validator would accept."""
    match = _PLAIN_EMAIL.fullmatch(value)
    return (
        match is not None
        and len(value) <= 254
        and len(match["local"]) <= 64
        and "--" not in match["domain"]  # xn-- and other reserved label forms
        and match["tld"].lower() not in email_validator.SPECIAL_USE_DOMAIN_NAMES
    )


@FORMAT_CHECKER.checks("email", raises=email_validator.EmailNotValidError)
def _is_email(value: object) -> bool:
    # strict=True adds the RFC 5321 limit of 64 characters before the @.
    # A string over 254 characters already breaks maxLength, so it is not
    # also parsed, which takes seconds for a string of megabytes.
    if isinstance(value, str) and len(value) <= 254 and not is_plain_email(value):
        email_validator.validate_email(value, check_deliverability=False, strict=True)
    return True


def _is_email_quietly(value: str) -> bool:
    try:
        return _is_email(value)
    except email_validator.EmailNotValidError:
        return False


class _Validator:
    """The schema of one definition, compiled twice: fast for valid bodies, thorough for invalid ones.

    fastjsonschema compiles the schema to Python code and checks a valid body
    about five times faster than jsonschema, but it stops at the first
    error. Only a body that it rejects goes through jsonschema, which lists
    every error with its path. Both read the same schema file; a test checks
    that they accept the same bodies.
    """

    def __init__(self, definition: str) -> None:
        schema = {"$schema": SCHEMA["$schema"], "$defs": SCHEMA["$defs"], "$ref": f"#/$defs/{definition}"}
        validator_class = jsonschema.validators.validator_for(schema)
        validator_class.check_schema(schema)
        self.thorough = validator_class(schema, format_checker=FORMAT_CHECKER)
        # fastjsonschema 2.x implements drafts 4 to 7, which call $defs
        # "definitions"; the keywords this schema uses mean the same there.
        draft7 = json.loads(json.dumps(schema).replace("#/$defs/", "#/definitions/"))
        draft7["definitions"] = draft7.pop("$defs")
        draft7["$schema"] = "http://json-schema.org/draft-07/schema#"
        formats = {"email": _is_email_quietly, "uuid": lambda value: FORMAT_CHECKER.conforms(value, "uuid")}
        self.fast = fastjsonschema.compile(draft7, formats=formats)

    def is_valid(self, instance: Any) -> bool:
        try:
            self.fast(instance)
        except fastjsonschema.JsonSchemaException:
            return False
        return True

    def iter_errors(self, instance: Any) -> Iterator[SchemaError]:
        if self.is_valid(instance):
            return iter(())
        return self.thorough.iter_errors(instance)


CREATE_VALIDATOR = _Validator("PersonCreate")
REPLACE_VALIDATOR = _Validator("PersonReplace")

SERVER_ASSIGNED = ("id", "version")

# Fields beyond which an object is reported as a whole: a person has 8.
MAX_FIELDS = 32
# Errors listed for one bulk create before validation stops.
MAX_ERRORS = 1000

# A person is one level deep; a bulk body two. Deeper values can only be
# errors, and much deeper ones would make schema validation recurse.
MAX_DEPTH = 32
_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


# -- strict JSON ------------------------------------------------------------


def _reject_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidJson(f"duplicate key {key!r} in one object; each key may appear once")
        result[key] = value
    return result


def _reject_constant(name: str) -> float:
    raise InvalidJson(f"{name} is not valid JSON; send a finite number")


def _parse_float(text: str) -> float:
    """Parse a JSON number with a fraction or exponent, rejecting what a float would silently change.

    A float rounds 1e-400 to 0 and 36.00000000000000001 to 36.0, which would
    make a fractional number look whole.
    """
    value = float(text)
    if math.isinf(value):
        raise InvalidJson(f"number {text[:40]} is too large; send a finite number")
    # Above 2**53 every float is whole anyway; no rule here takes such numbers.
    if value.is_integer() and abs(value) < 2**53 and decimal.Decimal(text) != int(value):
        raise InvalidJson(f"number {text[:40]} cannot be represented exactly; send at most 15 significant digits")
    return value


def _check_surrogates(value: Any) -> None:
    """Reject strings and keys with unpaired surrogates, which cannot be encoded as UTF-8 for storage."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            strings = [item]
        elif isinstance(item, dict):
            strings = list(item)
            stack.extend(item.values())
        elif isinstance(item, list):
            strings = []
            stack.extend(item)
        else:
            continue
        for text in strings:
            if _SURROGATE.search(text):
                raise InvalidJson("a string contains an unpaired UTF-16 surrogate escape such as \\ud800")


_JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
_NOT_BRACKETS = bytes(set(range(256)) - set(b"[]{}"))
_INNERMOST_PAIR = re.compile(rb"\[\]|\{\}")


def _check_depth_before_parsing(body: bytes) -> None:
    """Reject nesting deeper than MAX_DEPTH before json.loads recurses into it.

    Keeps only the brackets outside strings, then strips innermost pairs
    level by level; pairs left after MAX_DEPTH rounds are nested deeper.
    Unbalanced brackets are left for json.loads to report.
    """
    if body.count(b"[") + body.count(b"{") <= MAX_DEPTH:
        return
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    for _ in range(MAX_DEPTH):
        brackets, removed = _INNERMOST_PAIR.subn(b"", brackets)
        if not removed:
            return
    if _INNERMOST_PAIR.search(brackets):
        raise InvalidJson(f"the body is nested too deeply; at most {MAX_DEPTH} levels are allowed")


def parse_json(body: bytes) -> Any:
    """Decode a request body as strict JSON in UTF-8, or raise InvalidJson."""
    if not body.strip():
        raise InvalidJson("the request body is empty; send a JSON object")
    if body.startswith(b"\xef\xbb\xbf"):
        raise InvalidJson("the body starts with a UTF-8 byte order mark; remove it")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidJson(f"the body is not valid UTF-8 (byte {error.start}); encode it as UTF-8") from None
    _check_depth_before_parsing(body)
    try:
        value = json.loads(
            text,
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
            parse_float=_parse_float,
        )
    except json.JSONDecodeError as error:
        # The stdlib message "Invalid control character at" ends in a dangling "at".
        message = error.msg.removesuffix(" at")
        raise InvalidJson(f"{message} (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise InvalidJson(f"the body is nested too deeply; at most {MAX_DEPTH} levels are allowed") from None
    except ValueError:  # an integer longer than Python's digit limit
        raise InvalidJson("invalid number: an integer has too many digits") from None
    # Only an escape can put a surrogate in a string, since the body decoded
    # as strict UTF-8; bodies without one skip the walk.
    if _SURROGATE_ESCAPE.search(text):
        _check_surrogates(value)
    return value


# -- schema errors as messages ------------------------------------------------


def _pointer(path: Any) -> str:
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _short(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _name_pattern_detail(value: str) -> str:
    for char in value:
        if unicodedata.category(char) == "Cc":
            return f"contains the control character U+{ord(char):04X}; remove it"
    return "is blank; send at least one non-space character"


def _details(error: SchemaError) -> Iterator[tuple[str, str]]:
    """Yield (pointer, detail) pairs for one schema error."""
    pointer = _pointer(error.absolute_path)
    value = error.instance
    keyword = error.validator

    if keyword == "required":
        for field in error.validator_value:
            if field not in value:
                yield f"{pointer}/{field}", "is required"
    elif keyword == "additionalProperties":
        for field in value:
            if field in error.schema.get("properties", {}):
                continue
            if field in SERVER_ASSIGNED:
                yield f"{pointer}/{field}", "is assigned by the server; remove it from a create"
            else:
                allowed = ", ".join(name for name in error.schema["properties"] if name != "updated_at")
                yield f"{pointer}/{field}", f"is not a known field; the fields are {allowed}"
    elif keyword == "type":
        expected = error.validator_value
        if expected == "object":
            yield pointer, f"must be a JSON object, got {_json_type(value)}"
        elif expected == "integer" and isinstance(value, float):
            yield pointer, f"must be a whole number, got {_short(value)}"
        else:
            yield pointer, f"must be {'an' if expected == 'integer' else 'a'} {expected}, got {_json_type(value)}"
    elif keyword == "minLength":
        yield pointer, "must not be empty"
    elif keyword == "maxLength":
        yield pointer, f"must be at most {error.validator_value} characters, got {len(value)}"
    elif keyword in ("minimum", "maximum"):
        low, high = error.schema.get("minimum"), error.schema.get("maximum")
        bounds = f"from {low} to {high}" if high is not None else f"at least {low}"
        yield pointer, f"must be {bounds}, got {_short(value)}"
    elif keyword == "pattern":
        if value:  # an empty string already failed minLength
            yield pointer, _name_pattern_detail(value)
    elif keyword == "format" and error.validator_value == "email":
        reason = str(error.cause) if error.cause else "invalid syntax"
        yield pointer, f"is not a valid e-mail address: {reason}"
    elif keyword == "format" and error.validator_value == "uuid":
        yield pointer, "must be a UUID"
    elif keyword == "anyOf":
        # middle_name: null, or a string that breaks a name rule. Report the
        # string rule, since a string was clearly meant.
        if isinstance(value, str):
            for sub_error in error.context or []:
                if sub_error.validator != "type":
                    yield from _details(sub_error)
        else:
            yield pointer, f"must be a string or null, got {_json_type(value)}"
    else:
        yield pointer, error.message


def _too_many_fields(instance: Any, prefix: str) -> list[FieldError]:
    """Report an object with far more fields than a person has, without validating each one."""
    if isinstance(instance, dict) and len(instance) > MAX_FIELDS:
        return [FieldError(prefix, f"has {len(instance)} fields; a person has at most 8 (see the schema)")]
    return []


def _collect(validator: _Validator, instance: Any, prefix: str = "") -> list[FieldError]:
    """Return one error per JSON Pointer: the first rule broken, in schema order.

    A value often breaks several rules at once (a 300-character e-mail is
    both too long and malformed); the first one is enough to fix it.
    """
    too_many = _too_many_fields(instance, prefix)
    if too_many:
        return too_many
    found: dict[str, FieldError] = {}
    errors = sorted(validator.iter_errors(instance), key=lambda error: list(map(str, error.absolute_path)))
    for error in errors:
        for pointer, detail in _details(error):
            found.setdefault(prefix + pointer, FieldError(prefix + pointer, detail))
    return list(found.values())


def _normalized(body: dict[str, Any]) -> dict[str, Any]:
    """Return the writable fields of a valid body, with middle_name filled in and 36.0 as 36."""
    fields = {name: body.get(name) for name in ("first_name", "middle_name", "last_name", "email", "age")}
    fields["age"] = int(fields["age"])
    return fields


def _id_mismatch(body: Any, person_id: str) -> list[FieldError]:
    """Return an error if the body's id (any letter case) names another person than the path."""
    body_id = body.get("id") if isinstance(body, dict) else None
    if not isinstance(body_id, str) or body_id.lower() == person_id:
        return []
    return [FieldError("/id", f"must equal the id in the path, {person_id}, or be left out")]


def validate_create(body: Any) -> dict[str, Any]:
    """Return the normalized fields of a create body, or raise ValidationFailed."""
    errors = _collect(CREATE_VALIDATOR, body)
    if errors:
        raise ValidationFailed(errors)
    return _normalized(body)


def validate_bulk(items: list[Any]) -> list[dict[str, Any]]:
    """Return the normalized fields of every item of a bulk create, or raise with all errors.

    Pointers carry the item's index, such as ``/3/email``.
    """
    errors: list[FieldError] = []
    for index, item in enumerate(items):
        errors += _collect(CREATE_VALIDATOR, item, prefix=f"/{index}")
        if len(errors) >= MAX_ERRORS:
            # Validating the rest would only make the response longer.
            errors = errors[:MAX_ERRORS]
            errors.append(FieldError(f"/{index}", f"validation stopped after {MAX_ERRORS} errors; fix these and retry"))
            break
    if errors:
        raise ValidationFailed(errors)
    return [_normalized(item) for item in items]


def is_timestamp(value: Any) -> bool:
    """Return True for a real time in the form the service writes, such as 2026-12-04T19:20:00.123Z."""
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        return False
    try:
        datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return False
    return True


def validate_import(body: Any) -> tuple[str, dict[str, Any], Any]:
    """Return (id, fields, updated_at) of an imported line, as export writes them.

    A line may carry the fields of a person as served. ``version`` is
    ignored, a line without ``id`` gets a new one, and a line without
    ``updated_at`` gets None (the caller uses the import time).
    """
    errors = _collect(REPLACE_VALIDATOR, body)
    if isinstance(body, dict) and not any(error.pointer == "/id" for error in errors) and "id" in body:
        if uuid.UUID(body["id"]).version != 4:
            errors.append(FieldError("/id", "must be a version 4 UUID, as the service assigns them"))
    updated_at = body.get("updated_at") if isinstance(body, dict) else None
    if updated_at is not None and not is_timestamp(updated_at):
        errors.append(FieldError("/updated_at", "must be an RFC 3339 UTC time with milliseconds, such as "
                                                "2026-12-04T19:20:00.123Z, or be left out"))
    if errors:
        raise ValidationFailed(errors)
    person_id = body["id"].lower() if "id" in body else str(uuid.uuid4())
    return person_id, _normalized(body), updated_at


def validate_replace(body: Any, person_id: str) -> tuple[dict[str, Any], int | None]:
    """Return (fields, version precondition) of a replace body, or raise ValidationFailed."""
    errors = _collect(REPLACE_VALIDATOR, body)
    if not any(error.pointer == "/id" for error in errors):
        errors += _id_mismatch(body, person_id)
    if errors:
        raise ValidationFailed(errors)
    return _normalized(body), _version(body)


def _version(body: dict[str, Any]) -> int | None:
    version = body.get("version")
    return None if version is None else int(version)


def apply_merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7396 JSON merge patch to ``target`` and return the result."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = apply_merge_patch(result.get(key), value)
    return result


# Any stored record is valid, and a merge patch replaces whole fields, so
# whether a merged result is valid depends only on the patch. Merging into
# this stand-in record finds the same errors before the record is read.
_VALID_STAND_IN = {"first_name": "A", "middle_name": None, "last_name": "B", "email": "a@example.com", "age": 1}


def check_patch(patch: Any, person_id: str) -> None:
    """Raise ValidationFailed if merging ``patch`` into any valid record gives an invalid one."""
    validate_patch(_VALID_STAND_IN, patch, person_id)


def validate_patch(current: dict[str, Any], patch: Any, person_id: str) -> tuple[dict[str, Any], int | None]:
    """Merge ``patch`` into the current record and validate the result as a whole.

    Returns (fields, version precondition). A null for a required field is
    reported at that field, since it is the patch that removed it.
    """
    if not isinstance(patch, dict):
        raise ValidationFailed([FieldError("", f"must be a JSON object (a merge patch), got {_json_type(patch)}")])
    base = {name: value for name, value in current.items() if name not in ("id", "version", "updated_at")}
    merged = apply_merge_patch(base, patch)
    for name in SERVER_ASSIGNED:
        if name in patch and patch[name] is not None:
            merged[name] = patch[name]

    errors = _collect(REPLACE_VALIDATOR, merged)
    for error in errors:
        field = error.pointer.lstrip("/")
        if error.detail == "is required" and field in patch:
            error.detail = "is required; null removes a field, so it cannot be used here"
    if not any(error.pointer == "/id" for error in errors):
        errors += _id_mismatch(merged, person_id)
    if errors:
        raise ValidationFailed(errors)
    return _normalized(merged), _version(merged)


def encode_fields(fields: dict[str, Any]) -> str:
    """Encode the writable fields as the inside of a JSON object, in document order."""
    return json.dumps(fields, ensure_ascii=False, separators=(",", ":"))[1:-1]
