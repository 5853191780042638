"""The one word-expansion engine for Dockerfiles: BuildKit's shell-word lexer, iterative and bounded.

A port of BuildKit's `frontend/dockerfile/shell/lex.go` (`Lex.process`, `shellWord.processStopOn`,
`processSingleQuote`, `processDoubleQuote`, `processDollar`, `processName`, `processPossibleHeredoc`):
quotes, the escape character (`\\` or the `# escape=` directive's), `$X`, `${X}`, `${X:-w}`, `${X-w}`,
`${X:+w}`, `${X+w}`, `${X:?w}`, `${X#p}`/`${X%p}` (and `##`/`%%`), `${X/p/r}`, positional and special
parameters (always unset), word splitting (`ProcessWords`), and the `RawQuotes`/`RawEscapes`/`SkipUnsetEnv`
modes BuildKit's parser uses to find heredocs. Everything that reads a Dockerfile word goes through here:
the parser (heredoc names) and the stage model (ARG, ENV, FROM, USER, `--from`).

Where BuildKit recurses (a `${…}` inside a `${…}`), this keeps an explicit stack, so no input can deepen
Python's recursion. Work is bounded: a value grows to at most `Budget.max_value` characters and one
document spends at most `Budget.max_work` characters of output in total; past either the value is
*unknown* (`Expansion.unknown` says why), never computed. A variable can also be unknown by nature (an
ARG without a default, whose value comes from `--build-arg`; an ENV of the base image): `UNSET_ARG`
(`None` in a scope) and `Unknown` values propagate the same way.

Size: over 400 lines because it is one port of one Go file, kept function for function beside its source so
that a BuildKit change can be followed here; splitting it would scatter the lexer's shared state.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Final


class Unknown:
    """A value that cannot be known from the file; `reason` says why (shown in hovers and diagnostics)."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"


#: What a scope maps a name to: a value, None (an ARG declared without a default: unset for `${X:-…}`,
#: unknown when used directly) or Unknown.
ScopeValue = str | None | Unknown
Scope = Mapping[str, ScopeValue]

#: Largest expanded value kept (characters); a longer one is unknown. An image reference, a user or a path
#: is far shorter; a value this size only comes from growth by substitution.
MAX_VALUE: Final = 1 << 16
#: Characters of expansion output one document may produce in total (all words together).
MAX_WORK: Final = 1 << 23


@dataclass
class Budget:
    """The expansion allowance of one document, shared by every word expanded in it."""

    max_value: int = MAX_VALUE
    max_work: int = MAX_WORK
    used: int = 0
    exhausted: str | None = None
    """Why expansion stopped (set once the total work cap is reached)."""

    def spend(self, n: int) -> bool:
        self.used += n
        if self.used > self.max_work and self.exhausted is None:
            self.exhausted = (
                f"expanding variables in this file needs more than {self.max_work:,} characters of work"
            )
        return self.exhausted is None


@dataclass(frozen=True)
class Expansion:
    value: str | None
    """The expanded word; None when `error` or `unknown` is set."""
    words: tuple[str, ...] = ()
    """Word splitting of the result (only when asked for, as BuildKit's `ProcessWords`)."""
    error: str | None = None
    """BuildKit's error for this word (`bad substitution`, unterminated quote, …): the build would fail."""
    unknown: str | None = None
    """Why the value cannot be known from the file (a variable without a known value, a limit reached)."""
    limited: bool = False
    """True when `unknown` comes from a size or work limit (a diagnostic says so), not from the file."""


@dataclass(frozen=True)
class Lexer:
    """Options as BuildKit's `Lex` fields; `undefined` is what a name absent from the scope is."""

    escape: str = "\\"
    raw_quotes: bool = False
    raw_escapes: bool = False
    skip_unset: bool = False
    undefined: str | Unknown = ""
    """`""` as BuildKit (a name nobody declared is empty), or Unknown when the scope is incomplete (a stage
    inherits its base image's ENV, which the file does not show): then `$X` is unknown and the operators
    treat X as unset, as for an ARG without a default."""


class _LimitReached(Exception):
    pass


class _SyntaxError(Exception):
    pass


_SPECIAL_PARAMS = frozenset("@*#?-$!0")
_ABSENT: Final = Unknown("absent")
_WS = re.compile(r"\s+")
_ASCII_NAME = re.compile(r"[A-Za-z0-9_]+")


@dataclass(eq=False, slots=True)
class _Frame:
    """One activation of BuildKit's `processStopOn` (kind "word") or `processDoubleQuote` ("dquote")."""

    kind: str
    stop: str | None
    raw_escapes: bool
    out: list[str] = field(default_factory=list)
    size: int = 0
    unknown: str | None = None
    limited: bool = False
    # For the frame of a `${name<op>word}` waiting for its word: the name and operator, else "".
    name: str = ""
    op: str = ""
    null_is_unset: bool = False
    pattern: str | None = None
    """`${X/pattern/…}`: the pattern once read (the frame then reads the replacement)."""
    replace_all: bool = False
    dollar_in_dquote: bool = False


class _Words:
    """BuildKit's `wordsStruct` (word splitting as characters arrive); `buf` is shared as in BuildKit."""

    __slots__ = ("buf", "in_word", "size", "words")

    def __init__(self) -> None:
        self.buf: list[str] = []
        self.size = 0
        self.words: list[str] = []
        self.in_word = False

    def clear(self) -> None:
        self.buf.clear()
        self.size = 0

    def add_text(self, text: str) -> None:
        """`addChar` for each character: unquoted text and `$` results split on whitespace."""
        for k, part in enumerate(_WS.split(text)):
            if k > 0 and self.in_word and self.size:
                self.words.append("".join(self.buf))
                self.clear()
                self.in_word = False
            if part:
                self.add_raw(part)

    def add_raw(self, text: str) -> None:
        """`addRawString`: quoted text joins the current word as is (an empty `''` adds no word)."""
        self.buf.append(text)
        self.size += len(text)
        self.in_word = True

    def result(self) -> list[str]:
        if self.size:
            self.words.append("".join(self.buf))
            self.clear()
            self.in_word = False
        return self.words


_SPECIAL: dict[tuple[str, str, str], re.Pattern[str]] = {}


def _special(escape: str, chars: str, stop: str) -> re.Pattern[str]:
    key = (escape, chars, stop)
    pat = _SPECIAL.get(key)
    if pat is None:
        pat = _SPECIAL[key] = re.compile("[" + re.escape(chars + stop + escape) + "]")
    return pat


class _Run:
    """One `process` call: the explicit-stack form of BuildKit's mutually recursive shellWord methods."""

    def __init__(self, text: str, scope: Scope, lexer: Lexer, budget: Budget, split: bool) -> None:
        self.text = text
        self.n = len(text)
        self.i = 0
        self.scope = scope
        self.lx = lexer
        self.budget = budget
        self.max_value = max(budget.max_value, len(text))
        self.words = _Words() if split else None
        self._special_dq = _special(lexer.escape, '"$', "")

        # The next character that needs attention in a word (everything before it is copied at once).
        self._word_chars = "$'\"" + ("<" if split else "")
        self._special_top = _special(lexer.escape, self._word_chars, "")
        self._special_brace = _special(lexer.escape, self._word_chars, "}")

    def _special(self, stop: str | None) -> re.Pattern[str]:
        if stop is None:
            return self._special_top
        if stop == "}":
            return self._special_brace
        return _special(self.lx.escape, self._word_chars, stop)

    # -- output ---------------------------------------------------------------------------------------

    def _emit(self, frame: _Frame, s: str, unknown: str | None = None, limited: bool = False) -> None:
        if unknown is not None and frame.unknown is None:
            frame.unknown, frame.limited = unknown, limited
        if not s or frame.unknown is not None:
            return
        frame.size += len(s)
        if frame.size > self.max_value:
            frame.unknown = f"its value would be longer than {self.budget.max_value:,} characters"
            frame.limited = True
            frame.out.clear()
            return
        if not self.budget.spend(len(s)):
            frame.unknown, frame.limited = self.budget.exhausted, True
            frame.out.clear()
            return
        frame.out.append(s)

    # -- lookups --------------------------------------------------------------------------------------

    def _get(self, name: str) -> tuple[str, bool, str | None]:
        """(value, set, unknown reason) as BuildKit's `getEnv`, with debugbox's unknowns."""
        v = self.scope.get(name, _ABSENT)
        if v is _ABSENT:
            if not isinstance(self.lx.undefined, Unknown):
                return "", False, None
            # Unknown when used as is, unset for `${X:-…}` and `${X:+…}` (as an ARG without a default).
            return "", False, self.lx.undefined.reason.replace("{name}", name)
        if v is None:
            # An ARG without a default: unset unless `--build-arg` gives it a value.
            return "", False, f"${name} has no default value (it comes from --build-arg)"
        if isinstance(v, Unknown):
            return "", True, v.reason
        return v, True, None

    def _name(self) -> str:
        """BuildKit's `processName`."""
        t, i, n = self.text, self.i, self.n
        if i < n and t[i].isdecimal():
            j = i
            while j < n and t[j].isdecimal():
                j += 1
            self.i = j
            return t[i:j]
        if i < n and t[i] in _SPECIAL_PARAMS:
            self.i = i + 1
            return t[i]
        m = _ASCII_NAME.match(t, i)
        j = m.end() if m else i
        # Go's unicode.IsLetter/IsDigit: continue past the ASCII run for other letters and digits.
        while j < n and (t[j].isalpha() or t[j].isdecimal() or t[j] == "_"):
            j += 1
        self.i = j
        return t[i:j]

    # -- the machine ----------------------------------------------------------------------------------

    def run(self) -> Expansion:
        stack: list[_Frame] = [_Frame("word", None, self.lx.raw_escapes)]
        try:
            result = self._loop(stack)
        except _SyntaxError as exc:
            return Expansion(None, error=f"failed to process {self.text!r}: {exc}")
        top = result
        words = tuple(self.words.result()) if self.words is not None else ()
        if top.unknown is not None:
            return Expansion(None, words=(), unknown=top.unknown, limited=top.limited)
        return Expansion("".join(top.out), words=words)

    def _loop(self, stack: list[_Frame]) -> _Frame:
        t, n = self.text, self.n
        esc = self.lx.escape
        words = self.words
        while True:
            frame = stack[-1]
            top_level = len(stack) == 1
            if frame.kind == "dquote":
                if self._dquote_step(frame, stack):
                    continue
                # closed: hand the quoted text to the parent
                stack.pop()
                parent = stack[-1]
                s = "".join(frame.out)
                self._emit(parent, s, frame.unknown, frame.limited)
                if len(stack) == 1 and words is not None:
                    words.add_raw(s)
                continue
            # kind == "word": BuildKit's processStopOn
            if self.i >= n:
                if frame.stop is not None:
                    # `${X:-…` never closed: BuildKit reports "missing '}'" (or "missing '/'")
                    raise _SyntaxError(
                        "syntax error: missing '/' in ${}"
                        if frame.stop == "/"
                        else "syntax error: missing '}'"
                    )
                return frame
            m = self._special(frame.stop).search(t, self.i)
            j = m.start() if m else n
            if j > self.i:
                chunk = t[self.i : j]
                self._emit(frame, chunk)
                if top_level and words is not None:
                    words.add_text(chunk)
                self.i = j
                continue
            ch = t[j]
            if frame.stop is not None and ch == frame.stop:
                self.i = j + 1
                self._close_dollar(stack)
                continue
            if ch == "$":
                self._dollar(stack, in_dquote=False)
                continue
            if ch == "'" or ch == '"':
                if ch == "'":
                    s = self._single_quote()
                    self._emit(frame, s)
                    if top_level and words is not None:
                        words.add_raw(s)
                else:
                    self.i = j + 1
                    dq = _Frame("dquote", None, frame.raw_escapes)
                    if self.lx.raw_quotes:
                        self._emit(dq, '"')
                    stack.append(dq)
                continue
            if ch == "<":
                # processPossibleHeredoc: `<<` and the blanks after it stay one word (`<<  EOF`)
                k = j + 1
                if k < n and t[k] == "<":
                    k += 1
                    while k < n and t[k] in " \t":
                        k += 1
                s = t[j:k]
                self.i = k
                self._emit(frame, s)
                if top_level and words is not None:
                    words.add_raw(s)
                continue
            # the escape character
            self.i = j + 1
            if frame.raw_escapes:
                self._emit(frame, esc)
                if top_level and words is not None:
                    words.add_raw(esc)
            if self.i >= n:
                continue  # an escape at the very end is dropped
            c = t[self.i]
            self.i += 1
            self._emit(frame, c)
            if top_level and words is not None:
                words.add_raw(c)

    def _single_quote(self) -> str:
        """BuildKit's `processSingleQuote`: everything up to the next `'`, as is."""
        t = self.text
        k = t.find("'", self.i + 1)
        if k < 0:
            raise _SyntaxError("unexpected end of statement while looking for matching single-quote")
        s = t[self.i : k + 1] if self.lx.raw_quotes else t[self.i + 1 : k]
        self.i = k + 1
        return s

    def _dquote_step(self, frame: _Frame, stack: list[_Frame]) -> bool:
        """Advance inside double quotes; False once the closing quote is read."""
        t, n = self.text, self.n
        m = self._special_dq.search(t, self.i)
        if m is None:
            raise _SyntaxError("unexpected end of statement while looking for matching double-quote")
        j = m.start()
        if j > self.i:
            self._emit(frame, t[self.i : j])
            self.i = j
        ch = t[j]
        if ch == '"':
            self.i = j + 1
            if self.lx.raw_quotes:
                self._emit(frame, '"')
            return False
        if ch == "$":
            self._dollar(stack, in_dquote=True)
            return True
        # the escape character: only `"`, `$` and the escape itself are escaped; others stay literal
        self.i = j + 1
        if frame.raw_escapes:
            self._emit(frame, self.lx.escape)
        if self.i >= n:
            raise _SyntaxError("unexpected end of statement while looking for matching double-quote")
        c = t[self.i]
        if c in ('"', "$", self.lx.escape):
            self.i += 1
            self._emit(frame, c)
        else:
            self._emit(frame, self.lx.escape)
        return True

    def _deliver(
        self, stack: list[_Frame], value: str, unknown: str | None, limited: bool, in_dq: bool
    ) -> None:
        """Hand a `$…` result to the frame that asked for it (words split it at top level)."""
        frame = stack[-1]
        self._emit(frame, value, unknown, limited)
        if not in_dq and len(stack) == 1 and self.words is not None:
            self.words.add_text(value)

    def _dollar(self, stack: list[_Frame], in_dquote: bool) -> None:
        """BuildKit's `processDollar`, up to the point where a nested word must be read."""
        t, n = self.text, self.n
        self.i += 1
        if self.i >= n or t[self.i] != "{":
            name = self._name()
            if not name:
                self._deliver(stack, "$", None, False, in_dquote)
                return
            value, found, unknown = self._get(name)
            if not found and self.lx.skip_unset:
                self._deliver(stack, "$" + name, None, False, in_dquote)
                return
            self._deliver(stack, value, unknown, False, in_dquote)
            return
        self.i += 1
        if self.i >= n:
            raise _SyntaxError("syntax error: missing '}'")
        if t[self.i] in "{}:":
            raise _SyntaxError("syntax error: bad substitution")
        name = self._name()
        if self.i >= n:
            raise _SyntaxError("syntax error: missing '}'")
        ch = t[self.i]
        self.i += 1
        if ch == "}":
            value, found, unknown = self._get(name)
            if not found and self.lx.skip_unset:
                self._deliver(stack, "${" + name + "}", None, False, in_dquote)
                return
            self._deliver(stack, value, unknown, False, in_dquote)
            return
        null_is_unset = False
        chs = ch
        if ch == ":":
            null_is_unset = True
            if self.i >= n:
                raise _SyntaxError("syntax error: missing '}'")
            ch = t[self.i]
            self.i += 1
            chs += ch
        elif ch == "/":
            replace_all = self.i < n and t[self.i] == "/"
            if replace_all:
                self.i += 1
            self._push_nested(stack, "/", True, name, "/", False, in_dquote, replace_all=replace_all)
            return
        elif ch not in "+-?#%":
            raise _SyntaxError(f"unsupported modifier ({chs}) in substitution")
        raw = ch in "#%"
        if null_is_unset and raw:
            raise _SyntaxError(f"unsupported modifier ({chs}) in substitution")
        self._push_nested(stack, "}", raw, name, chs, null_is_unset, in_dquote)

    def _push_nested(
        self,
        stack: list[_Frame],
        stop: str,
        raw_escapes: bool,
        name: str,
        op: str,
        null_is_unset: bool,
        in_dquote: bool,
        replace_all: bool = False,
    ) -> None:
        if self.words is not None:
            # BuildKit's nested processStopOn resets the shared words buffer (`sw.wordsBuffer.Reset()`).
            self.words.clear()
        stack.append(
            _Frame(
                "word",
                stop,
                raw_escapes,
                name=name,
                op=op,
                null_is_unset=null_is_unset,
                replace_all=replace_all,
                dollar_in_dquote=in_dquote,
            )
        )

    def _close_dollar(self, stack: list[_Frame]) -> None:
        """The nested word of `${name<op>word}` is complete: compute the substitution (processDollar's end)."""
        frame = stack.pop()
        word = "".join(frame.out)
        name, op = frame.name, frame.op
        if op == "/" and frame.pattern is None:
            # the pattern is read; now the replacement, up to `}`
            frame.pattern = word
            frame.stop = "}"
            frame.out = []
            frame.size = 0
            stack.append(frame)
            return
        value, found, unknown = self._get(name)
        in_dq = frame.dollar_in_dquote
        base = op[-1]
        if frame.null_is_unset and base not in "-+?":
            raise _SyntaxError(f"unsupported modifier ({op}) in substitution")
        if not found and self.lx.skip_unset:
            if op == "/":
                literal = "${" + name + "/" + (frame.pattern or "") + "/" + word + "}"
            else:
                literal = "${" + name + op + word + "}"
            self._deliver(stack, literal, frame.unknown, frame.limited, in_dq)
            return
        unset = not found or (frame.null_is_unset and found and unknown is None and value == "")
        if base in "-+" and unknown is not None and found:
            # the variable has a value we cannot know: so has the result
            self._deliver(stack, "", unknown, False, in_dq)
            return
        if base == "-":
            if unset:
                self._deliver(stack, word, frame.unknown, frame.limited, in_dq)
            else:
                self._deliver(stack, value, None, False, in_dq)
            return
        if base == "+":
            if unset:
                self._deliver(stack, "", None, False, in_dq)
            else:
                self._deliver(stack, word, frame.unknown, frame.limited, in_dq)
            return
        if base == "?":
            if unknown is not None:
                self._deliver(stack, "", unknown, False, in_dq)
                return
            if not found or (frame.null_is_unset and value == ""):
                message = word or (
                    "is not allowed to be unset" if not found else "is not allowed to be empty"
                )
                raise _SyntaxError(f"{name}: {message}")
            self._deliver(stack, value, None, False, in_dq)
            return
        if base in "#%/":
            reason = unknown or frame.unknown
            if reason is not None:
                self._deliver(stack, "", reason, frame.limited, in_dq)
                return
            if base == "/":
                out = _replace(value, frame.pattern or "", word, frame.replace_all)
            else:
                greedy = word.startswith(base)
                pattern = word[1:] if greedy else word
                out = (
                    _trim_suffix(pattern, value, greedy)
                    if base == "%"
                    else _trim_prefix(pattern, value, greedy)
                )
            if out is None:
                self._deliver(stack, "", "the pattern is too costly to evaluate", True, in_dq)
            else:
                self._deliver(stack, out, None, False, in_dq)
            return
        raise _SyntaxError(f"unsupported modifier ({op}) in substitution")


# -- ${X#pattern}, ${X%pattern}, ${X/pattern/replacement} (BuildKit: convertShellPatternToRegex) ---------

#: Python's regex engine backtracks (BuildKit's RE2 does not): a value of n characters against a pattern of
#: k wildcards may cost n^k steps, so such a pattern is evaluated only while n^k stays below this.
_PATTERN_STEPS: Final = 2_000_000


def _pattern_regex(pattern: str, greedy: bool, anchored: bool) -> re.Pattern[str]:
    out = ["^"] if anchored else []
    star = ".*" if greedy else ".*?"
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            out.append(star)
        elif c == "?":
            out.append(".")
        elif c == "\\":
            if i < n and pattern[i] in "}/":
                continue
            if i >= n or pattern[i] not in "*?\\":
                raise _SyntaxError(f"invalid pattern ({pattern}) in substitution")
            out.append("\\" + pattern[i])
            i += 1
        else:
            out.append(re.escape(c))
    return re.compile("".join(out), re.DOTALL)


def _affordable(pattern: str, value: str) -> bool:
    stars = pattern.count("*") + pattern.count("?")
    return len(value) ** max(stars, 1) <= _PATTERN_STEPS or stars == 0


def _trim_prefix(pattern: str, value: str, greedy: bool) -> str | None:
    if not _affordable(pattern, value):
        return None
    m = _pattern_regex(pattern, greedy, True).match(value)
    return value[m.end() :] if m else value


def _reverse_pattern(pattern: str) -> str:
    """BuildKit's `reversePattern`: reverse, keeping each `\\x` escape in front of its character."""
    tokens: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        if pattern[i] == "\\" and i != n - 1:
            tokens.append(pattern[i : i + 2])
            i += 2
        else:
            tokens.append(pattern[i])
            i += 1
    return "".join(reversed(tokens))


def _trim_suffix(pattern: str, value: str, greedy: bool) -> str | None:
    out = _trim_prefix(_reverse_pattern(pattern), value[::-1], greedy)
    return None if out is None else out[::-1]


def _replace(value: str, pattern: str, replacement: str, replace_all: bool) -> str | None:
    if not _affordable(pattern, value):
        return None
    rx = _pattern_regex(pattern, True, False)
    return rx.sub(lambda _m: replacement, value, count=0 if replace_all else 1)


def process_word(word: str, scope: Scope, budget: Budget | None = None, lexer: Lexer = Lexer()) -> Expansion:
    """BuildKit's `ProcessWord`: `word` with quotes removed and variables substituted."""
    if "'" not in word and '"' not in word and lexer.escape not in word:
        if "$" not in word:
            return Expansion(word)
        if word.isascii():
            simple = _simple(word, scope, budget or Budget(), lexer)
            if simple is not None:
                return simple
    return _Run(word, scope, lexer, budget or Budget(), split=False).run()


_SIMPLE_REF = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))")


def _simple(word: str, scope: Scope, budget: Budget, lexer: Lexer) -> Expansion | None:
    """The common case without the machine: only `$NAME`/`${NAME}` (ASCII, no quotes or escapes).

    Same result as `_Run` (the conformance tests cover both paths); None when the word needs the full lexer.
    """
    refs = list(_SIMPLE_REF.finditer(word))
    if word.count("$") != len(refs) or lexer.skip_unset:
        return None
    out: list[str] = []
    last = 0
    size = 0
    for m in refs:
        name = m.group(1) or m.group(2)
        value = scope.get(name, _ABSENT)
        if value is _ABSENT:
            if isinstance(lexer.undefined, Unknown):
                return Expansion(None, unknown=lexer.undefined.reason.replace("{name}", name))
            value = ""
        elif value is None:
            return Expansion(None, unknown=f"${name} has no default value (it comes from --build-arg)")
        elif isinstance(value, Unknown):
            return Expansion(None, unknown=value.reason)
        assert isinstance(value, str)
        out.append(word[last : m.start()])
        out.append(value)
        size += m.start() - last + len(value)
        last = m.end()
    out.append(word[last:])
    size += len(word) - last
    if size > max(budget.max_value, len(word)):
        return Expansion(
            None, unknown=f"its value would be longer than {budget.max_value:,} characters", limited=True
        )
    if not budget.spend(size):
        return Expansion(None, unknown=budget.exhausted, limited=True)
    return Expansion("".join(out))


def process_words(word: str, scope: Scope, budget: Budget | None = None, lexer: Lexer = Lexer()) -> Expansion:
    """BuildKit's `ProcessWords`: as `process_word`, then split into words (quotes keep blanks)."""
    return _Run(word, scope, lexer, budget or Budget(), split=True).run()


__all__ = [
    "MAX_VALUE",
    "MAX_WORK",
    "Budget",
    "Expansion",
    "Lexer",
    "Scope",
    "ScopeValue",
    "Unknown",
    "process_word",
    "process_words",
]
