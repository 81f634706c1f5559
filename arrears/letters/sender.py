"""sender.yaml: who sends the notices, read with every mistake located.

```yaml
name: Nordlicht Handels GmbH
address: [Hafenstraße 12, 20457 Hamburg, Germany]   # or one string with line breaks
email: receivables@nordlicht.example
phone: +49 40 1234567
contact: Jana Meyer                                 # the person who signs
bank: Hamburger Sparkasse
iban: DE89 3704 0044 0532 0130 00                   # checked (ISO 13616 check digits)
bic: COBADEFFXXX
```
"""

from __future__ import annotations

import re
from email.errors import HeaderParseError
from email.headerregistry import Address
from pathlib import Path

from arrears.diagnostics import Diagnostic, InputError, Location, Position, did_you_mean
from arrears.letters.context import Sender
from arrears.rules.yaml_source import YNode, load_yaml

SENDER_FILE = "sender.yaml"
_TEXT_KEYS = ("name", "email", "phone", "contact", "website", "bank", "iban", "bic", "vat_id")
_KEYS = (*_TEXT_KEYS, "address")
_BIC = re.compile(r"^[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?$")


def load_sender(path: str | Path) -> Sender:
    """Read and check a sender file; InputError (exit 2) lists every problem with its place."""
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(Diagnostic(f"no such sender file: {file}", code="io")) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(Diagnostic(f"cannot read sender file {file}: {error}", code="io")) from None
    return parse_sender(text, file)


def parse_sender(text: str, file: str = "<sender>") -> Sender:
    root = load_yaml(text, file)
    if root is None:
        raise InputError(Diagnostic("the sender file is empty", Location(file, Position(1, 1)), code="sender"))
    if root.kind != "mapping":
        raise InputError(
            Diagnostic("the sender file must be a mapping of keys (name, address, ...)", root.location(), code="sender")
        )
    problems: list[Diagnostic] = []
    values: dict[str, str | None] = {}
    for key, (key_node, node) in root.entries.items():
        if key not in _KEYS:
            hint = did_you_mean(key, _KEYS) or f"the keys are {', '.join(_KEYS)}"
            problems.append(Diagnostic(f"unknown key `{key}` in the sender", key_node.location(), hint, code="sender"))
        elif key in _TEXT_KEYS:
            if node.kind != "scalar" or isinstance(node.value, bool | list | dict):
                problems.append(Diagnostic(f"`{key}` must be text", node.location(), code="sender"))
            elif node.value is not None:
                values[key] = str(node.text if node.text else node.value).strip() or None
    address = _address(root.get("address"), problems)
    _check(root, values, problems)
    if problems:
        raise InputError(problems)
    return Sender(
        name=values.get("name"),
        address=address,
        email=values.get("email"),
        phone=values.get("phone"),
        contact=values.get("contact"),
        website=values.get("website"),
        bank=values.get("bank"),
        iban=_group_iban(iban) if (iban := values.get("iban")) else None,
        bic=(values.get("bic") or "").replace(" ", "").upper() or None,
        vat_id=values.get("vat_id"),
    )


def _address(node: YNode | None, problems: list[Diagnostic]) -> tuple[str, ...]:
    if node is None or (node.kind == "scalar" and node.value is None):
        return ()
    if node.kind == "scalar" and isinstance(node.value, str):
        return tuple(line.strip() for line in node.value.splitlines() if line.strip())
    if node.kind == "sequence" and all(item.kind == "scalar" and item.value is not None for item in node.items):
        return tuple(str(item.text or item.value).strip() for item in node.items)
    problems.append(Diagnostic("`address` must be a list of lines or one text", node.location(), code="sender"))
    return ()


def _check(root: YNode, values: dict[str, str | None], problems: list[Diagnostic]) -> None:
    def at(key: str) -> Location | None:
        node = root.get(key)
        return node.location() if node is not None else None

    if not values.get("name"):
        problems.append(
            Diagnostic(
                "the sender needs a `name`",
                at("name") or root.location(),
                code="sender",
                hint="the company name that signs the notices",
            )
        )
    email = values.get("email")
    if email is not None and not _is_address(email):
        problems.append(Diagnostic(f"not an email address: {email!r}", at("email"), code="sender"))
    iban = values.get("iban")
    if iban is not None and not iban_ok(iban):
        problems.append(
            Diagnostic(
                f"not a valid IBAN: {iban!r}",
                at("iban"),
                code="sender",
                hint="check the country code and the two check digits",
            )
        )
    bic = values.get("bic")
    if bic is not None and not _BIC.match(bic.replace(" ", "").upper()):
        problems.append(Diagnostic(f"not a BIC (8 or 11 letters and digits): {bic!r}", at("bic"), code="sender"))


def _is_address(text: str) -> bool:
    try:
        address = Address(addr_spec=text)
    except (HeaderParseError, ValueError, IndexError):
        return False
    return bool(address.username and "." in address.domain)


def iban_ok(text: str) -> bool:
    """ISO 13616: letters become numbers (A=10 ... Z=35), and the number mod 97 is 1."""
    iban = text.replace(" ", "").upper()
    if not re.fullmatch(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}", iban):
        return False
    digits = "".join(str(int(ch, 36)) for ch in iban[4:] + iban[:4])
    return int(digits) % 97 == 1


def _group_iban(text: str) -> str:
    """Printed in groups of four, as banks print it."""
    iban = text.replace(" ", "").upper()
    return " ".join(iban[i : i + 4] for i in range(0, len(iban), 4))
