"""The DL/T 645-2007 codec: frames built by hand from the standard's layout, the published
read of total energy, every kind of garbage with its reason, and round trips."""

from __future__ import annotations

import contextlib
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.dlt645.codec import (
    STANDARD,
    WILDCARD,
    AbnormalReply,
    Frame,
    FrameError,
    ValueFormat,
    WrongAddress,
    WrongDataIdentifier,
    address_bytes,
    decode_frame,
    decode_values,
    encode_values,
    error_names,
    frame_extent,
    parse_address_reply,
    parse_di,
    parse_read_reply,
    read_address_request,
    read_request,
)

ADDRESS = "000012345678"
ADDRESS_FIELD = [0x78, 0x56, 0x34, 0x12, 0x00, 0x00]  # low byte first


def by_hand(address: list[int], control: int, data: list[int]) -> bytes:
    """68 A0..A5 68 C L DATA+33 CS 16, checksum summed here, not by the codec."""
    body = [0x68, *address, 0x68, control, len(data)] + [(b + 0x33) & 0xFF for b in data]
    return bytes([*body, sum(body) % 256, 0x16])


def reply(control: int, data: list[int], address: list[int] = ADDRESS_FIELD) -> Frame:
    return decode_frame(by_hand(address, control, data))


# ---------------------------------------------------------------- vectors

def test_read_request_matches_the_standard_layout_byte_for_byte() -> None:
    expected = by_hand(ADDRESS_FIELD, 0x11, [0x00, 0x00, 0x01, 0x00])  # DI0 first
    assert read_request(ADDRESS, 0x00010000, wake_up=False) == expected
    assert read_request(ADDRESS, 0x00010000) == b"\xfe\xfe\xfe\xfe" + expected


def test_published_read_of_total_energy_is_reproduced() -> None:
    # A capture published with DL/T 645-2007 tutorials: meter 000000000161, total energy.
    request = bytes.fromhex("FE FE FE FE 68 61 01 00 00 00 00 68 11 04 33 33 34 33 14 16")
    assert read_request("000000000161", parse_di("00 01 00 00")) == request
    answer = decode_frame(bytes.fromhex("68 61 01 00 00 00 00 68 91 08 33 33 34 33 59 33 33 "
                                        "33 8A 16"))
    payload = parse_read_reply(answer, address="000000000161", di=0x00010000)
    assert decode_values(payload, STANDARD[0x00010000].format) == (Decimal("0.26"),)


@pytest.mark.parametrize(("di", "value_bytes", "expected"), [
    (0x00010000, [0x78, 0x56, 0x34, 0x12], (Decimal("123456.78"),)),        # XXXXXX.XX kWh
    (0x02010100, [0x14, 0x23], (Decimal("231.4"),)),                         # XXX.X V
    (0x02020100, [0x23, 0x51, 0x00], (Decimal("5.123"),)),                   # XXX.XXX A
    (0x02020100, [0x23, 0x51, 0x80], (Decimal("-5.123"),)),                  # sign bit set
    (0x02030000, [0x56, 0x34, 0x02], (Decimal("2.3456"),)),                  # XX.XXXX kW
    (0x02030000, [0x00, 0x50, 0x81], (Decimal("-1.5000"),)),
    (0x0201FF00, [0x00, 0x22, 0x05, 0x22, 0x98, 0x21],
     (Decimal("220.0"), Decimal("220.5"), Decimal("219.8"))),                # voltage block
])
def test_normal_replies_decode_to_exact_values(di: int, value_bytes: list[int],
                                               expected: tuple[Decimal, ...]) -> None:
    frame = reply(0x91, [*di.to_bytes(4, "little"), *value_bytes])
    payload = parse_read_reply(frame, address=ADDRESS, di=di)
    assert decode_values(payload, STANDARD[di].format) == expected
    assert encode_values(expected, STANDARD[di].format) == bytes(value_bytes)


def test_wake_up_bytes_before_a_reply_are_tolerated() -> None:
    raw = by_hand(ADDRESS_FIELD, 0x91, [0x00, 0x01, 0x01, 0x02, 0x14, 0x23])
    for lead in (b"", b"\xfe", b"\xfe\xfe\xfe\xfe"):
        assert decode_frame(lead + raw).data[4:] == bytes([0x14, 0x23])
        assert frame_extent(lead + raw) == len(lead) + len(raw)


def test_address_discovery_uses_the_wildcard_and_reads_the_answer() -> None:
    assert read_address_request(wake_up=False) == by_hand([0xAA] * 6, 0x13, [])
    answer = reply(0x93, ADDRESS_FIELD)
    assert parse_address_reply(answer) == ADDRESS
    assert decode_frame(read_address_request()).address == WILDCARD


def test_frame_extent_waits_for_the_header_then_names_the_size() -> None:
    raw = by_hand(ADDRESS_FIELD, 0x91, [0, 0, 1, 0, 1, 2, 3, 4])
    assert [frame_extent(raw[:n]) for n in (0, 1, 9)] == [None, None, None]
    assert frame_extent(raw[:10]) == len(raw)
    assert frame_extent(b"\xfe\xfe") is None


# ---------------------------------------------------------------- garbage and its reasons

GOOD = by_hand(ADDRESS_FIELD, 0x91, [0x00, 0x00, 0x01, 0x00, 0x78, 0x56, 0x34, 0x12])


def _changed(at: int, value: int) -> bytes:
    raw = bytearray(GOOD)
    raw[at] = value
    return bytes(raw)


@pytest.mark.parametrize(("raw", "reason"), [
    (b"\x12" + GOOD[1:], "bad start byte 0x12 at offset 0 (expected 0x68)"),
    (b"\xfe\xfe\x12" + GOOD[1:], "bad start byte 0x12 at offset 2 (expected 0x68 after the FE "
                                 "wake-up bytes)"),
    (_changed(7, 0x00), "bad second start byte 0x00 (expected 0x68 after the six address "
                        "bytes)"),
    (GOOD[:-3] + GOOD[-2:], "length mismatch: L = 8 announces a 20-byte frame, got 19 bytes"),
    (GOOD + b"\x00", "length mismatch: L = 8 announces a 20-byte frame, got 21 bytes"),
    (GOOD[:8], "truncated frame: 8 bytes, a frame has at least 12"),
    (_changed(-2, (GOOD[-2] + 1) % 256),
     f"checksum expected 0x{GOOD[-2]:02X} got 0x{(GOOD[-2] + 1) % 256:02X}"),
    (_changed(-1, 0x61), "missing end byte 0x16 (got 0x61)"),
    (b"", "no frame: no bytes at all"),
    (b"\xfe\xfe", "no frame: 2 bytes, all FE wake-up bytes"),
])
def test_broken_frames_are_refused_with_what_was_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(raw)
    assert reason in caught.value.reason


def test_a_non_bcd_address_byte_is_named() -> None:
    raw = by_hand([0x78, 0x5C, 0x34, 0x12, 0, 0], 0x91, [0, 0, 1, 0])
    with pytest.raises(FrameError, match="address byte 0x5C is not BCD"):
        decode_frame(raw)


def test_a_huge_length_byte_is_refused_before_waiting_for_it() -> None:
    raw = bytearray(GOOD[:10])
    raw[9] = 201
    with pytest.raises(FrameError, match="L = 201 exceeds the 200 data bytes"):
        frame_extent(raw)


def test_non_bcd_digit_in_data_is_named_with_the_value_bytes() -> None:
    frame = reply(0x91, [0x00, 0x00, 0x01, 0x00, 0x78, 0x5A, 0x34, 0x12])
    payload = parse_read_reply(frame, address=ADDRESS, di=0x00010000)
    with pytest.raises(FrameError) as caught:
        decode_values(payload, STANDARD[0x00010000].format)
    assert caught.value.reason == ("non-BCD digit in data: byte 0x5A in value bytes "
                                   "12 34 5A 78 (high byte first)")


def test_a_value_of_the_wrong_length_is_named() -> None:
    with pytest.raises(FrameError, match=r"value length mismatch: expected 4 bytes "
                                         r"\(1 x XXXXXX.XX\), got 3"):
        decode_values(b"\x00\x00\x00", STANDARD[0x00010000].format)


def test_unexpected_control_code_is_named_with_its_meaning() -> None:
    frame = reply(0x94, [0x00, 0x00, 0x01, 0x00])
    with pytest.raises(FrameError) as caught:
        parse_read_reply(frame, address=ADDRESS, di=0x00010000)
    assert caught.value.reason == ("unexpected control code 0x94 (reply: write data) "
                                   "(expected 0x91 normal reply or 0xD1 abnormal reply to a "
                                   "read)")


def test_a_reply_to_another_data_identifier_is_told_apart() -> None:
    frame = reply(0x91, [0x00, 0x01, 0x01, 0x02, 0x14, 0x23])
    with pytest.raises(WrongDataIdentifier) as caught:
        parse_read_reply(frame, address=ADDRESS, di=0x00010000)
    assert caught.value.reason == ("reply to another data identifier 02010100 "
                                   "(asked for 00010000)")


def test_a_reply_from_another_meter_is_told_apart() -> None:
    frame = reply(0x91, [0x00, 0x00, 0x01, 0x00, 0, 0, 0, 0], address=[0x79, 0x56, 0x34, 0x12,
                                                                         0, 0])
    with pytest.raises(WrongAddress) as caught:
        parse_read_reply(frame, address=ADDRESS, di=0x00010000)
    assert caught.value.reason == ("wrong address: reply from meter 000012345679, the request "
                                   "went to 000012345678")


def test_abnormal_reply_names_its_error_bits() -> None:
    with pytest.raises(AbnormalReply) as caught:
        parse_read_reply(reply(0xD1, [0x06]), address=ADDRESS, di=0x00010000)
    assert caught.value.error == 0x06
    assert caught.value.reason == ("abnormal reply from meter 000012345678: error byte 0x06 "
                                   "(no requested data, wrong password or not authorised)")
    assert error_names(0x7F)[-1] == "too many tariffs"


def test_following_frames_are_refused_clearly() -> None:
    frame = reply(0xB1, [0x00, 0x00, 0x01, 0x00, 0x78, 0x56, 0x34, 0x12])
    with pytest.raises(FrameError, match=r"announced following frames \(control 0xB1\) for "
                                         r"00010000; reading them \(control 0x12\) is not "
                                         "supported"):
        parse_read_reply(frame, address=ADDRESS, di=0x00010000)


def test_data_identifiers_and_addresses_are_checked_on_the_way_in() -> None:
    assert parse_di("02 01 FF 00") == 0x0201FF00
    with pytest.raises(ValueError, match="8 hex digits"):
        parse_di("0001000")
    assert address_bytes("0000123456AA")[0] == 0xAA
    with pytest.raises(ValueError, match="'1x' is not two decimal digits"):
        address_bytes("00001234561x")


# ---------------------------------------------------------------- properties

addresses = st.text("0123456789", min_size=12, max_size=12)
formats = st.builds(
    lambda size, frac, signed, count: ValueFormat(size, round(frac * 2 * size), signed, count),
    st.integers(1, 6), st.floats(0, 1), st.booleans(), st.integers(1, 4))


@given(addresses, st.integers(0, 255), st.binary(max_size=200), st.booleans())
def test_frames_survive_encode_then_decode(address: str, control: int, data: bytes,
                                           wake_up: bool) -> None:
    frame = Frame(address, control, data)
    raw = frame.encode(wake_up=wake_up)
    assert decode_frame(raw) == frame
    assert frame_extent(raw) == len(raw)


@given(formats, st.data())
def test_values_survive_encode_then_decode(fmt: ValueFormat, data: st.DataObject) -> None:
    top = 8 * 10 ** (2 * fmt.size - 1) if fmt.signed else 10 ** (2 * fmt.size)
    low = -(top - 1) if fmt.signed else 0
    units = data.draw(st.lists(st.integers(low, top - 1), min_size=fmt.count,
                               max_size=fmt.count))
    values = tuple(Decimal(u).scaleb(-fmt.decimals) for u in units)
    assert decode_values(encode_values(values, fmt), fmt) == values


@given(addresses, st.integers(0, 0xFFFFFFFF))
def test_read_requests_carry_their_identifier(address: str, di: int) -> None:
    frame = decode_frame(read_request(address, di))
    assert (frame.address, frame.control, int.from_bytes(frame.data, "little")) == \
        (address, 0x11, di)


@given(st.binary(max_size=64))
def test_arbitrary_bytes_raise_nothing_but_frame_error(raw: bytes) -> None:
    try:
        frame_extent(raw)
        frame = decode_frame(raw)
        payload = parse_read_reply(frame, address=frame.address, di=0x00010000)
        decode_values(payload, STANDARD[0x00010000].format)
        parse_address_reply(frame)
    except FrameError:
        pass


@given(st.binary(max_size=40), formats)
def test_arbitrary_value_bytes_raise_nothing_but_frame_error(payload: bytes,
                                                             fmt: ValueFormat) -> None:
    with contextlib.suppress(FrameError):
        decode_values(payload, fmt)


@given(addresses, st.integers(0, 255), st.binary(max_size=60), st.integers(0, 79),
       st.integers(0, 255))
def test_a_single_corrupted_byte_never_escapes_as_another_error(
        address: str, control: int, data: bytes, where: int, value: int) -> None:
    raw = bytearray(Frame(address, control, data).encode(wake_up=False))
    raw[where % len(raw)] = value
    try:
        frame = decode_frame(raw)
        parse_read_reply(frame, address=address, di=0)
    except FrameError:
        pass
