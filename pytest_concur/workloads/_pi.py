"""Pi to many decimal places: the notes' own example of CPU-bound work, computed two ways.

``pi_digits`` is the Rabinowitz-Wagon spigot: nested pure-Python loops of small-integer
arithmetic, about 0.4 s for 1000 places on CPython 3.11 on a 2 GHz core. It is what the
notes mean by CPU-bound ("loops and computation"): it never waits, and under the GIL
only one thread at a time can run it.

``pi_machin`` is Machin's formula (pi = 16 arctan 1/5 - 4 arctan 1/239) in big-integer
arithmetic, about 1000 times faster. Its arctangent series is the "trigonometry" the
notes mention. Being a different algorithm, it checks the spigot (``is_pi``); the unit
tests check both against published values (the first 50 decimals, the six 9s from
decimal place 762, the 1000th decimal) and the SHA-256 below.
"""

from __future__ import annotations

import hashlib
from typing import Final

#: SHA-256 of ``"3."`` followed by the first 1000 decimal places of pi.
PI_1000_SHA256: Final = "823a2e34f63c5d5f30a27733976df5a1ab57feaab505f40d95d3dd3fefa425cc"
#: The first 50 decimal places, as printed in any table of pi.
PI_50: Final = "3.14159265358979323846264338327950288419716939937510"
_GUARD_DIGITS: Final = 10


def _check_places(places: int) -> None:
    if isinstance(places, bool) or not isinstance(places, int) or places < 1:
        raise ValueError(f"places must be a positive integer, got {places!r}")


def pi_digits(places: int = 1000) -> str:
    """Pi as ``"3.1415..."`` with ``places`` decimal places, by the spigot (CPU-bound loops).

    The digits are produced left to right from a table of ``10 * places / 3`` small
    integers; held-back 9s are released when the next digit is known (the "predigit"
    rule), so every digit returned is final.
    """
    _check_places(places)
    wanted = places + 1  # the leading 3 counts as a digit
    # extra table room so the digits still held back at the end can be released exactly
    size = 10 * (wanted + _GUARD_DIGITS) // 3 + 1
    table = [2] * size
    digits: list[int] = []  # digits[0] is the initial predigit, a 0 that is not part of pi
    nines = 0
    predigit = 0
    while len(digits) <= wanted:
        carry = 0
        for i in range(size, 0, -1):
            value = 10 * table[i - 1] + carry * i
            denominator = 2 * i - 1
            table[i - 1] = value % denominator
            carry = value // denominator
        table[0] = carry % 10
        carry //= 10
        if carry == 9:
            nines += 1
        elif carry == 10:
            digits.append(predigit + 1)
            digits.extend([0] * nines)
            predigit, nines = 0, 0
        else:
            digits.append(predigit)
            digits.extend([9] * nines)
            predigit, nines = carry, 0
    text = "".join(map(str, digits[1 : wanted + 1]))  # digits[0] is the initial predigit 0
    return f"{text[0]}.{text[1:]}"


def _arccot(x: int, unity: int) -> int:
    """arctan(1/x) scaled by ``unity``: the alternating series in integer arithmetic."""
    total = term = unity // x
    x_squared = x * x
    n = 3
    sign = -1
    while term:
        term //= x_squared
        total += sign * (term // n)
        sign = -sign
        n += 2
    return total


def pi_machin(places: int = 1000) -> str:
    """Pi as ``"3.1415..."`` with ``places`` decimal places, by Machin's formula."""
    _check_places(places)
    unity = 10 ** (places + _GUARD_DIGITS)
    scaled = 4 * (4 * _arccot(5, unity) - _arccot(239, unity))
    text = str(scaled // 10**_GUARD_DIGITS)
    return f"{text[0]}.{text[1:]}"


def is_pi(text: str) -> bool:
    """Whether ``text`` is pi to ``len(text) - 2`` decimal places (checked by Machin's formula)."""
    if not text.startswith("3.") or len(text) < 3:
        return False
    return text == pi_machin(len(text) - 2)


def sha256(text: str) -> str:
    """Hex SHA-256 of ``text`` (UTF-8): compare ``pi_digits(1000)`` with PI_1000_SHA256."""
    return hashlib.sha256(text.encode()).hexdigest()
