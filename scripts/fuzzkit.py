"""What a fuzz target is, and byte-level mutations any decoder's fuzzer can reuse.

A target names one decoder of untrusted bytes, the error type it promises to answer
with, and a generator of inputs; `scripts.fuzz` runs them. Protocol-aware generators
(JSON envelopes, binary frames) live beside this in their own modules and use these
mutations on top of valid messages, because random bytes alone rarely get past a
decoder's first check.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field


def error_code(exc: BaseException) -> str:
    """The label a rejection is counted under: its `code` if it has one, else its type."""
    code = getattr(exc, "code", None)
    return code if isinstance(code, str) else type(exc).__name__


def no_notes(_: object) -> Iterable[str]:
    return ()


@dataclass(frozen=True)
class FuzzTarget:
    """One decoder under fuzz.

    `decode` takes the raw bytes as they arrive from the network; every input must end in a
    return value (accepted) or an instance of `expected` (rejected with the decoder's own
    error). Anything else is an unexpected exception, the bug the fuzzer hunts.
    `notes` lists labels worth counting about an accepted result (e.g. items rejected
    inside an accepted envelope), to show the inputs reach past the first checks.
    """

    name: str
    description: str
    decode: Callable[[bytes], object]
    expected: tuple[type[BaseException], ...]
    generate: Callable[[random.Random], bytes]
    default_count: int
    reason: Callable[[BaseException], str] = error_code
    notes: Callable[[object], Iterable[str]] = field(default=no_notes)


# Bytes that often sit on a decoder's boundaries.
INTERESTING_BYTES = (0x00, 0x01, 0x7F, 0x80, 0xFF, 0xFE, 0x20, 0x0A, 0x5C, 0x22)


def mutate_bytes(data: bytes, rng: random.Random, tokens: Sequence[bytes] = (),
                 partner: bytes = b"", rounds: int = 0) -> bytes:
    """`data` after 1-4 random edits: bit flips, interesting bytes, deletions, duplications,
    truncation, inserted `tokens`, or a splice with `partner` (another valid message)."""
    buf = bytearray(data)
    for _ in range(rounds or rng.randint(1, 4)):
        op = rng.randrange(9)
        at = rng.randint(0, len(buf))
        if op == 0 and buf:  # flip 1-8 bits
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(len(buf))
                buf[i] ^= 1 << rng.randrange(8)
        elif op == 1 and buf:
            buf[rng.randrange(len(buf))] = rng.choice(INTERESTING_BYTES)
        elif op == 2:  # delete a range
            del buf[at:at + rng.randint(1, 16)]
        elif op == 3:  # duplicate a range in place
            end = min(len(buf), at + rng.randint(1, 64))
            buf[at:at] = buf[at:end]
        elif op == 4:
            del buf[at:]
        elif op == 5 and tokens:
            buf[at:at] = rng.choice(tokens)
        elif op == 6 and tokens:  # overwrite with a token
            token = rng.choice(tokens)
            buf[at:at + len(token)] = token
        elif op == 7 and partner:  # head of one message, tail of another
            cut = rng.randint(0, len(partner))
            buf[at:] = partner[cut:]
        else:  # random bytes
            buf[at:at] = rng.randbytes(rng.randint(1, 8))
    return bytes(buf)


def random_bytes(rng: random.Random, max_length: int = 256) -> bytes:
    return rng.randbytes(rng.randint(0, max_length))


def soup(rng: random.Random, alphabet: bytes, max_length: int = 256) -> bytes:
    """Random bytes drawn from `alphabet` (e.g. JSON punctuation), more likely to parse."""
    return bytes(rng.choices(alphabet, k=rng.randint(0, max_length)))
