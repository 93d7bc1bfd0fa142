"""The strict walk: one iterative pass that refuses what supported.py does not list.

It runs before any compiler, and also learns each field's data type and every category
value compared with a field, so the vocabulary is complete before compilation starts.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

from ...errors import InvalidPmmlError, UnsupportedElement
from ...pmml.fields import child, children, local
from .dates import DATE_FUNCTIONS
from .supported import CATEGORIES, DATA_TYPES, KINDS, SPECS, Spec, parse_number

MAX_NESTING = 200  # elements inside each other, Nodes excepted (trees are flattened without recursion)
Link = tuple[Element, "Link | None"]  # (element, its parent's link): a path kept without strings


@dataclass
class Prescan:
    """What the walk learnt: each field's data type and the category values compared with it."""

    types: dict[str, str] = field(default_factory=dict)
    categories: list[tuple[str, str]] = field(default_factory=list)
    reads: dict[str, Link] = field(default_factory=dict)  # field -> path of its first reader


def check_document(root: Element) -> Prescan:
    """Refuse anything the native compiler does not implement; one iterative pass, no recursion.

    Each stack entry carries its element's link (element, parent link): paths are spelled out
    only when an error names one, so a tree of 300,000 nodes costs no strings.
    """
    scan = Prescan()
    functions = _functions(root)
    allowed_of: dict[str, set[str]] = {}
    local_of: dict[str, str] = {}  # tag -> local name: tags repeat, splitting them is the walk's cost
    # (element, link, nesting, inside a Segment?)
    stack: list[tuple[Element, Link, int, bool]] = [(root, (root, None), 0, False)]
    while stack:
        el, link, depth, nested = stack.pop()
        name = local_of[el.tag] if el.tag in local_of else local_of.setdefault(el.tag, local(el.tag))
        spec = SPECS[name]
        if spec.informational:
            continue
        if el.attrib:
            _check_attributes(el, name, spec, link)
        if name == "Apply" and el.get("function") not in functions:
            raise UnsupportedElement(f"Apply function={el.get('function')!r}", _path(link), sorted(functions))
        if nested and name == "MiningField":
            _check_nested_mining_field(el, link)
        _check_text(el, name, spec, link)
        _scan(el, name, scan, link)
        if len(el):
            allowed = allowed_of.get(name)
            if allowed is None:
                allowed = allowed_of[name] = _allowed_children(spec)
            inner = nested or name == "Segment"
            for c in reversed(el):
                if not isinstance(c.tag, str):
                    continue  # a comment or processing instruction
                cname = local_of[c.tag] if c.tag in local_of else local_of.setdefault(c.tag, local(c.tag))
                if cname not in allowed:
                    raise UnsupportedElement(cname, _path((c, link)), sorted(allowed))
                if cname == "Node":
                    stack.append((c, (c, link), depth, inner))
                elif depth >= MAX_NESTING:
                    raise UnsupportedElement(f"elements nested more than {MAX_NESTING} deep", _path(link))
                else:
                    stack.append((c, (c, link), depth + 1, inner))
    for name, link in scan.reads.items():
        if scan.types.get(name) in _DATES:
            raise UnsupportedElement(f"a {scan.types[name]} field ({name!r}) read by the model", _path(link),
                                     sorted(DATA_TYPES.split()))
    return scan


_DATES = ("date", "dateTime")
_READER_ATTRS = {"NumericPredictor": "name", "CategoricalPredictor": "name", "PPCell": "predictorName"}  # else "field"


def _functions(root: Element) -> set[str]:
    from . import functions  # the registry of implemented Apply functions is the one truth
    td = child(root, "TransformationDictionary")  # the one place a DefineFunction may stand
    defined = children(td, "DefineFunction") if td is not None else []
    return set(functions.FUNCTIONS) | {d.get("name", "") for d in defined}


def _allowed_children(spec: Spec) -> set[str]:
    out: set[str] = set()
    for c in spec.children:
        out |= KINDS[c[1:-1]] if c.startswith("<") else {c}
    return out


def _check_attributes(el: Element, name: str, spec: Spec, link: Link) -> None:
    for attr, value in el.attrib.items():
        allowed = spec.enums.get(attr)
        if allowed is not None:
            if value not in allowed:
                raise UnsupportedElement(f"{name} {attr}={value!r}", _path(link), sorted(allowed))
        elif attr not in spec.attrs:
            raise UnsupportedElement(f"{name} attribute {attr!r}", _path(link),
                                     sorted(spec.attrs | set(spec.enums)))
        elif attr in spec.numbers:
            _number(value, f"attribute {attr}", link)


def _check_nested_mining_field(el: Element, link: Link) -> None:
    """Inside a Segment only the native compiler treats values (the input contract is top-level)."""
    for attr, implemented in (("missingValueTreatment", ("asIs", "asMean", "asMode", "asMedian", "asValue")),
                              ("invalidValueTreatment", ("returnInvalid", "asIs"))):
        value = el.get(attr)
        if value is not None and value not in implemented:
            raise UnsupportedElement(f"MiningField {attr}={value!r} inside a Segment", _path(link), implemented)


def _check_text(el: Element, name: str, spec: Spec, link: Link) -> None:
    if spec.text_numbers or (name == "Array" and el.get("type") in ("int", "real")):
        for token in (el.text or "").split():
            _number(token, f"{name} text", link)
    elif name == "Constant" and el.get("dataType") in ("integer", "float", "double") and el.get("missing") != "true":
        _number((el.text or "").strip(), "Constant text", link)


def _number(text: str, what: str, link: Link) -> None:
    """parse_number, the path spelled out only when the text is no number (a forest holds 100,000s)."""
    try:
        parse_number(text, what, "")
    except InvalidPmmlError:
        parse_number(text, what, _path(link))


def _date_argument(el: Element, name: str, link: Link) -> bool:
    """A FieldRef that is a date function's first argument: the one way native reads a date field."""
    parent = link[1][0] if link[1] is not None else None
    return (name == "FieldRef" and parent is not None and local(parent.tag) == "Apply"
            and parent.get("function") in DATE_FUNCTIONS and parent[0] is el)


_DEFAULT_TYPES = {"DataField": "string", "DerivedField": "double", "OutputField": "string"}


def _scan(el: Element, name: str, scan: Prescan, link: Link) -> None:
    read = el.get(_READER_ATTRS.get(name, "field"))
    if read is not None and read not in scan.reads and not _date_argument(el, name, link):
        scan.reads[read] = link
    if name in _DEFAULT_TYPES:
        scan.types.setdefault(el.get("name", ""), el.get("dataType", _DEFAULT_TYPES[name]))
    if name == "DataField":
        scan.categories += [(el.get("name", ""), v.get("value", "")) for v in el
                            if local(v.tag) == "Value" and v.get("property", "valid") == "valid"]
    found = CATEGORIES.get(name)
    if found is not None:
        scan.categories += found(el)


def _step(el: Element, parent: Element | None) -> str:
    """One step of a path: named fields by name, repeated elements by position (1-based)."""
    name = local(el.tag)
    if el.get("name") is not None:
        return f"{name}[@name={el.get('name')!r}]"
    same = [c for c in parent if c.tag == el.tag] if parent is not None else [el]
    return f"{name}[{same.index(el) + 1}]" if len(same) > 1 else name


def _path(link: Link | None) -> str:
    """The path of an element, spelled out only when an error names it."""
    steps = []
    while link is not None:
        el, link = link
        steps.append(_step(el, link[0] if link is not None else None))
    return "/".join(reversed(steps))
