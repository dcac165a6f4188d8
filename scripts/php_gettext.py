"""Reads the gettext calls of PHP source the way WordPress's tools do (for scripts/plugin_i18n.py).

A small tokenizer: PHP strings (single and double quoted, with their escapes), comments (kept, for
the ``/* translators: */`` ones), heredocs and nowdocs (skipped whole), names and parentheses. A call
counts when its text domain is therapy-sidecar and its msgid is a literal.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

DOMAIN = "therapy-sidecar"
# Each keyword's arguments: which are the msgid, the plural and the context (None: absent).
KEYWORDS: dict[str, tuple[int, int | None, int | None]] = {
    "__": (0, None, None),
    "esc_html__": (0, None, None),
    "esc_attr__": (0, None, None),
    "_e": (0, None, None),
    "esc_html_e": (0, None, None),
    "esc_attr_e": (0, None, None),
    "_x": (0, None, 1),
    "_ex": (0, None, 1),
    "esc_html_x": (0, None, 1),
    "esc_attr_x": (0, None, 1),
    "_n": (0, 1, None),
    "_nx": (0, 1, 3),
}
TOKEN = re.compile(
    r"""
    (?P<heredoc><<<[ \t]*(?P<q>['"]?)(?P<label>[A-Za-z_]\w*)(?P=q)\n.*?\n[ \t]*(?P=label)\b)
    | (?P<comment>/\*.*?\*/|(?://|\#)[^\n]*)
    | (?P<single>'(?:[^'\\]|\\.)*')
    | (?P<double>"(?:[^"\\]|\\.)*")
    | (?P<name>[A-Za-z_\\][\w\\]*)
    | (?P<punct>[(),])
    | (?P<other>[^\s])
    """,
    re.S | re.X,
)


@dataclass
class Token:
    """One token of PHP source: its kind, its value and the line it ends on."""

    kind: str
    value: str
    line: int


@dataclass
class Found:
    """One translatable call: msgid, plural, context, line and translators comment."""

    msgid: str
    plural: str | None
    context: str | None
    line: int
    comment: str


def php_string(token: Token) -> str | None:
    """Return the value of a PHP string literal token (None for anything else)."""
    body = token.value[1:-1]
    if token.kind == "single":
        return re.sub(r"\\([\\'])", r"\1", body)
    if token.kind == "double":
        escapes = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "$": "$"}
        return re.sub(r"\\(.)", lambda m: escapes.get(m.group(1), m.group(0)), body)
    return None


def tokens(source: str) -> Iterator[Token]:
    """Yield the tokens of PHP source (heredocs and nowdocs are skipped whole)."""
    for match in TOKEN.finditer(source):
        kind = match.lastgroup or "other"
        if kind in ("q", "label"):
            kind = "heredoc"
        line = source.count("\n", 0, match.end()) + 1
        yield Token(kind, match.group(kind if kind != "heredoc" else "heredoc"), line)


def call_arguments(toks: list[Token], start: int) -> list[Token | None]:
    """Return the arguments of the call whose "(" is toks[start]: a string token or None each."""
    args: list[list[Token]] = [[]]
    depth = 0
    for tok in toks[start:]:
        if tok.kind == "comment":
            continue
        if tok.value == "(":
            depth += 1
            if depth == 1:
                continue
        elif tok.value == ")":
            depth -= 1
            if depth == 0:
                break
        elif tok.value == "," and depth == 1:
            args.append([])
            continue
        args[-1].append(tok)
    return [
        arg[0] if len(arg) == 1 and arg[0].kind in ("single", "double") else None for arg in args
    ]


def extract_source(source: str) -> Iterator[Found]:
    """Yield the calls of ``source`` that translate a literal in the therapy-sidecar domain."""
    toks = [tok for tok in tokens(source) if tok.kind != "heredoc"]
    comment: Token | None = None
    for index, tok in enumerate(toks):
        if tok.kind == "comment" and "translators:" in tok.value:
            comment = tok
            continue
        if tok.kind != "name" or tok.value.lstrip("\\") not in KEYWORDS:
            continue
        if index + 1 >= len(toks) or toks[index + 1].value != "(":
            continue
        msgid_at, plural_at, context_at = KEYWORDS[tok.value.lstrip("\\")]
        args = call_arguments(toks, index + 1)
        strings = [php_string(arg) if arg is not None else None for arg in args]
        if not strings or strings[-1] != DOMAIN or strings[msgid_at] is None:
            continue
        note = ""
        if comment is not None and tok.line - 2 <= comment.line <= tok.line:
            note = clean_comment(comment.value)
            comment = None
        yield Found(
            msgid=str(strings[msgid_at]),
            plural=strings[plural_at] if plural_at is not None else None,
            context=strings[context_at] if context_at is not None else None,
            line=tok.line,
            comment=note,
        )


def clean_comment(text: str) -> str:
    """Return a translators comment as one line of text ("translators: ..." kept)."""
    text = re.sub(r"^(/\*+|//|#)|\*+/$", "", text.strip())
    return " ".join(part.strip(" *") for part in text.splitlines()).strip()
