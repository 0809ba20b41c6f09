"""Masks for personal data shown to people or written to logs.

ID numbers and cards keep their first 6 and last 4 characters, mobiles their
first 3 and last 4, names their first character. Text too short to keep those
is masked whole, so a mask never gives back the whole value.

``scrub`` is the last line of defence on every log line: any run of digits that
is shaped like an ID number, a mobile or a card, and is not part of a longer
run of digits, is replaced by its mask. It knows shapes, not check digits, so
it also masks a mistyped number (and, say, a 13-digit millisecond timestamp).
"""
from __future__ import annotations

import re

_MASK = "*"

# One pass over the text, finding each whole run of 11 or more digits (a match always starts at
# the first digit of a run and takes all of it), with an X right after it that no digit follows.
# Which runs are masked is decided per run (_mask_run): simpler and about 3x faster than lookarounds
# and alternatives in the pattern.
_DIGIT_RUN = re.compile(r"[0-9]{11,}(?:[Xx](?![0-9]))?")


def _keep(text: str, head: int, tail: int) -> str:
    text = str(text)
    if len(text) <= head + tail:
        return _MASK * len(text)
    return text[:head] + _MASK * (len(text) - head - tail) + text[-tail:]


def mask_id_number(number: str) -> str:
    """"110101199003074514" -> "110101********4514"."""
    return _keep(number, 6, 4)


def mask_mobile(mobile: str) -> str:
    """"13800138000" -> "138****8000"."""
    return _keep(mobile, 3, 4)


def mask_card(card_number: str) -> str:
    """"6222020200112233446" -> "622202*********3446"."""
    return _keep(card_number, 6, 4)


def mask_name(name: str) -> str:
    """"张三" -> "张*", "欧阳娜娜" -> "欧***"; a one-character name is masked whole."""
    name = str(name)
    if len(name) <= 1:
        return _MASK * len(name)
    return name[0] + _MASK * (len(name) - 1)


def _mask_run(match: re.Match[str]) -> str:
    run = match.group()
    if run[-1] in "Xx":
        if len(run) == 18:  # a resident ID number ending in X
            return _keep(run, 6, 4)
        run, x = run[:-1], run[-1]  # the X is no part of a number: look at the digits alone
    else:
        x = ""
    if len(run) == 11 and run[0] == "1":  # mobile-shaped
        return mask_mobile(run) + x
    if 13 <= len(run) <= 19:  # card-shaped; an 18-digit ID number too (same mask)
        return _keep(run, 6, 4) + x
    return run + x


def scrub(text: str) -> str:
    """``text`` with every ID-, mobile- and card-shaped digit run masked."""
    return _DIGIT_RUN.sub(_mask_run, text)
