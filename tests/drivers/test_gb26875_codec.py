"""GB 26875.3 frames and data units: exact bytes against hand-worked frames, every check
named when it fails, a stream cut anywhere reassembled, and — for arbitrary bytes — a frame
or the codec's own FrameError, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.gb26875 import (
    Frame,
    FrameError,
    FrameReader,
    decode_frame,
    decode_unit,
    encode_unit,
    parse_address,
    parse_time_label,
    time_label,
)
from drivers.gb26875.codec import parse_offset
from drivers.gb26875.tables import (
    COMPONENT_TYPES,
    LAYOUTS,
    SYSTEM_STATE_BITS,
    UNIT_TYPES,
    set_bits,
)
from drivers.gb26875.units import object_size

CST = parse_offset("+08:00")
LABEL = bytes([7, 45, 13, 1, 5, 24])  # 2024-05-01 13:45:07 local
DEVICE = 100000000001  # 0x174876E801

# A confirm from the centre (address 0) to the device, serial 0x0102, worked by hand.
CONFIRM_HEX = ("4040 0201 0100 072d0d010518 000000000000 01e876481700 0000 03 24 2323")
# The device's system state: panel 1 of type 1 in fire (flags 0x0003), serial 1.
SYSTEM_STATE_HEX = ("4040 0100 0100 072d0d010518 01e876481700 000000000000 0c00 02 "
                    "0101 0101 0300 072d0d010518 93 2323")


def hexbytes(text: str) -> bytes:
    return bytes.fromhex(text.replace(" ", ""))


# ---------------------------------------------------------------- frames

def test_a_confirm_has_the_layout_of_the_standard_byte_for_byte() -> None:
    frame = Frame(0x0102, 3, 0, DEVICE, b"", LABEL)
    assert frame.encode() == hexbytes(CONFIRM_HEX)
    assert decode_frame(hexbytes(CONFIRM_HEX)) == frame


def test_a_system_state_report_decodes_to_its_fields() -> None:
    frame = decode_frame(hexbytes(SYSTEM_STATE_HEX))
    assert (frame.serial, frame.command, frame.source, frame.destination, frame.version) == \
        (1, 2, DEVICE, 0, (1, 0))
    assert parse_time_label(frame.time, CST) == datetime(2024, 5, 1, 13, 45, 7, tzinfo=CST)
    unit = decode_unit(frame.data, frame.command)
    assert (unit.type, unit.name, len(unit.objects)) == (1, "system_state", 1)
    obj = unit.objects[0]
    assert (obj["system_type"], obj["system_address"], obj["flags"]) == (1, 1, 3)
    assert set_bits(obj["flags"], SYSTEM_STATE_BITS) == ["normal_operation", "fire_alarm"]


def test_a_reply_keeps_the_serial_and_swaps_the_addresses() -> None:
    report = decode_frame(hexbytes(SYSTEM_STATE_HEX))
    reply = report.reply(3, source=0, time=LABEL)
    assert (reply.serial, reply.source, reply.destination, reply.data) == (1, 0, DEVICE, b"")


@pytest.mark.parametrize(("raw", "reason"), [
    (hexbytes(CONFIRM_HEX)[:-1], "truncated frame: 29 bytes"),
    (b"$$" + hexbytes(CONFIRM_HEX)[2:], "bad start 24 24 (expected 40 40, '@@')"),
    (hexbytes(CONFIRM_HEX)[:-2] + b"#!", "bad end 23 21 (expected 23 23, '##')"),
    (hexbytes(CONFIRM_HEX)[:-3] + b"\x25##", "checksum expected 0x24 got 0x25"),
    (hexbytes(CONFIRM_HEX) + b"\x00", "length mismatch: the length field announces 0 data "
                                      "bytes, a 30-byte frame; got 31 bytes"),
    (hexbytes(CONFIRM_HEX)[:24] + b"\x01\x04" + hexbytes(CONFIRM_HEX)[26:],
     "application data length 1025 exceeds the 1024 bytes"),
])
def test_a_bad_frame_is_refused_naming_what_is_wrong(raw: bytes, reason: str) -> None:
    with pytest.raises(FrameError) as caught:
        decode_frame(raw)
    assert caught.value.reason.startswith(reason)


def test_a_field_that_does_not_fit_is_refused_when_encoding() -> None:
    with pytest.raises(ValueError, match="source 281474976710656 does not fit"):
        Frame(1, 2, 1 << 48, 0).encode()
    with pytest.raises(ValueError, match="application data of 1025 bytes exceeds 1024"):
        Frame(1, 2, 0, 0, bytes(1025)).encode()


# ---------------------------------------------------------------- the stream

def test_frames_are_found_in_a_stream_fed_one_byte_at_a_time_behind_garbage() -> None:
    first, second = hexbytes(SYSTEM_STATE_HEX), hexbytes(CONFIRM_HEX)
    reader = FrameReader()
    got: list[Frame | FrameError] = []
    for byte in b"noise@" + first + b"@@@" + second:
        got += reader.feed(bytes([byte]))
    frames = [g for g in got if isinstance(g, Frame)]
    assert [f.encode() for f in frames] == [first, second]
    assert reader.pending == 0


def test_a_broken_frame_costs_only_itself() -> None:
    good = hexbytes(CONFIRM_HEX)
    broken = good[:-3] + b"\x00##"
    got = FrameReader().feed(broken + good)
    assert [type(g).__name__ for g in got] == ["FrameError", "Frame"]
    assert isinstance(got[0], FrameError) and "checksum" in got[0].reason


def test_garbage_never_piles_up_in_the_reader() -> None:
    reader = FrameReader()
    for _ in range(1000):
        assert reader.feed(b"x" * 1000 + b"#") == []
    assert reader.pending == 0 and reader.skipped == 1_001_000
    reader.feed(b"garbage@")
    assert reader.pending == 1  # a lone '@' may start the next frame


def test_a_false_start_does_not_hold_up_the_frame_behind_it() -> None:
    # Noise that looks like a header announcing 100 data bytes, then a real 42-byte frame.
    noise = b"@@" + bytes(22) + b"\x64\x00\x02"
    got = FrameReader().feed(noise + hexbytes(SYSTEM_STATE_HEX))
    assert isinstance(got[0], FrameError) and got[0].reason.startswith("false start: 27 byte")
    assert isinstance(got[1], Frame) and got[1].serial == 1


def test_a_false_start_with_a_huge_length_is_given_up_at_once() -> None:
    lie = b"@@" + bytes(22) + b"\xff\xff" + b"\x02"
    got = FrameReader().feed(lie + hexbytes(CONFIRM_HEX))
    assert isinstance(got[0], FrameError) and "65535 exceeds" in got[0].reason
    assert isinstance(got[-1], Frame) and got[-1].serial == 0x0102


# ---------------------------------------------------------------- data units

def test_a_component_state_carries_its_gb18030_description() -> None:
    data = encode_unit(2, [{"system_type": 1, "system_address": 2, "component_type": 42,
                            "component_address": 1 << 16 | 23, "flags": 0b11,
                            "description": "B栋3层电梯前室", "time": LABEL}], 2)
    assert len(data) == 2 + 46  # the standard's 46-byte object
    assert data[11:11 + 14] == "B栋3层电梯前室".encode("gb18030")
    (obj,) = decode_unit(data, 2).objects
    assert obj["description"] == "B栋3层电梯前室"
    assert obj["component_address"] == 0x00010017 and obj["component_type"] == 42


def test_object_sizes_are_the_standards() -> None:
    sizes = {name: object_size(name) for name in LAYOUTS}
    assert (sizes["system_state"], sizes["component_state"], sizes["analog_value"],
            sizes["system_operation"], sizes["system_version"], sizes["component_config"],
            sizes["system_time"], sizes["device_state"], sizes["device_operation"],
            sizes["device_time"]) == (10, 46, 16, 10, 4, 38, 8, 7, 8, 6)
    assert sizes["system_config"] is None and sizes["device_config"] is None
    assert COMPONENT_TYPES[42].title == "点型光电感烟火灾探测器"


def test_a_count_that_disagrees_with_the_bytes_is_refused() -> None:
    data = bytearray(encode_unit(21, [{"flags": 1, "time": LABEL}], 2))
    data[1] = 2
    with pytest.raises(FrameError, match=r"type 21 \(device_state\) announces 2 object\(s\) "
                                         r"of 7 bytes, 14 bytes, but carries 7"):
        decode_unit(bytes(data), 2)


def test_variable_text_is_read_by_its_length_byte() -> None:
    data = encode_unit(26, [{"description": "主机型号JB-QB"}, {"description": ""}], 2)
    assert [o["description"] for o in decode_unit(data, 2)] == ["主机型号JB-QB", ""]
    with pytest.raises(FrameError, match=r"object 0 ends inside field description \(3 of 9"):
        decode_unit(bytes([26, 1, 9]) + b"abc", 2)


def test_a_response_to_a_read_carries_what_was_read() -> None:
    request = encode_unit(61, [{"system_type": 1, "system_address": 2}], 4)
    assert request == bytes([61, 1, 1, 2])
    answer = encode_unit(61, [{"system_type": 1, "system_address": 2, "flags": 3,
                               "time": LABEL}], 5)
    (obj,) = decode_unit(answer, 5).objects
    assert obj.layout == "system_state" and obj["flags"] == 3


def test_a_user_defined_type_is_kept_unread() -> None:
    unit = decode_unit(bytes([200, 3, 1, 2, 3]), 2)
    assert (unit.known, unit.name, unit.raw, unit.objects) == (False, "user_defined",
                                                               b"\x01\x02\x03", ())


def test_tables_have_one_row_per_code() -> None:
    assert sorted(UNIT_TYPES) == [1, 2, 3, 4, 5, 6, 7, 8, 21, 24, 25, 26, 28, 61, 62, 63, 64,
                                  65, 66, 67, 68, 81, 84, 85, 86, 88, 89, 90, 91]
    assert all(u.layout in LAYOUTS and (not u.answer or u.answer in LAYOUTS)
               for u in UNIT_TYPES.values())
    assert len({b.bit for b in SYSTEM_STATE_BITS}) == len(SYSTEM_STATE_BITS) == 14


# ---------------------------------------------------------------- values

def test_time_labels_are_local_time_second_first() -> None:
    moment = datetime(2024, 5, 1, 5, 45, 7, tzinfo=UTC)
    assert time_label(moment, CST) == LABEL
    assert parse_time_label(LABEL, CST) == moment
    assert parse_time_label(bytes(6), CST) is None  # a clock never set
    assert parse_time_label(bytes([0, 0, 24, 1, 1, 24]), CST) is None


def test_addresses_and_offsets_are_checked() -> None:
    assert parse_address("100000000001") == DEVICE == parse_address("0x174876E801")
    with pytest.raises(ValueError, match="does not fit the protocol's 6 bytes"):
        parse_address("281474976710656")
    with pytest.raises(ValueError, match="must be a number"):
        parse_address("uitd-1")
    assert parse_offset("-03:30").utcoffset(None).total_seconds() == -12600
    with pytest.raises(ValueError, match="such as \\+08:00"):
        parse_offset("8")


# ---------------------------------------------------------------- properties

frames = st.builds(
    Frame, serial=st.integers(0, 0xFFFF), command=st.integers(0, 255),
    source=st.integers(0, (1 << 48) - 1), destination=st.integers(0, (1 << 48) - 1),
    data=st.binary(max_size=300), time=st.binary(min_size=6, max_size=6),
    version=st.tuples(st.integers(0, 255), st.integers(0, 255)))


@given(frames)
def test_any_frame_survives_encoding_and_decoding(frame: Frame) -> None:
    assert decode_frame(frame.encode()) == frame


@settings(max_examples=200)
@given(st.lists(frames, min_size=1, max_size=5), st.binary(max_size=20),
       st.lists(st.integers(1, 64), min_size=1, max_size=20))
def test_frames_cut_anywhere_come_back_in_order(sent: list[Frame], junk: bytes,
                                                cuts: list[int]) -> None:
    stream = junk + b"".join(f.encode() for f in sent)
    reader = FrameReader()
    got: list[Frame | FrameError] = []
    at = 0
    while at < len(stream):
        size = cuts[at % len(cuts)]
        got += reader.feed(stream[at:at + size])
        at += size
    assert [g for g in got if isinstance(g, Frame)][-len(sent):] == sent


@given(st.binary(max_size=2000))
def test_arbitrary_bytes_give_a_frame_or_a_frame_error(raw: bytes) -> None:
    try:
        frame = decode_frame(raw)
    except FrameError:
        pass
    else:
        assert frame.encode() == raw
    for got in FrameReader().feed(raw):
        assert isinstance(got, Frame | FrameError)


_WORDS = "AB3-号栋层楼回路消防探测器电梯前室手动报警按钮一二三"  # 1- and 2-byte GB 18030
_FIELD = {"u": lambda size: st.integers(0, (1 << (8 * size)) - 1),
          "s": lambda size: st.integers(-(1 << (8 * size - 1)), (1 << (8 * size - 1)) - 1),
          "time": lambda size: st.binary(min_size=6, max_size=6),
          "text": lambda size: st.text(_WORDS, max_size=size // 2),
          "ltext": lambda size: st.text(_WORDS, max_size=100)}


@st.composite
def units(draw: st.DrawFn) -> tuple[int, int, list[dict[str, object]]]:
    kind = draw(st.sampled_from(sorted(UNIT_TYPES)))
    command = draw(st.sampled_from([1, 2, 4, 5]))
    unit = UNIT_TYPES[kind]
    layout = unit.answer if command == 5 and unit.answer else unit.layout
    objects = draw(st.lists(st.fixed_dictionaries(
        {name: _FIELD[how](size) for name, size, how in LAYOUTS[layout]}), max_size=4))
    return kind, command, objects


@given(units())
def test_any_data_unit_survives_encoding_and_decoding(
        case: tuple[int, int, list[dict[str, object]]]) -> None:
    kind, command, objects = case
    unit = decode_unit(encode_unit(kind, objects, command), command)  # type: ignore[arg-type]
    assert unit.type == kind and [dict(o.fields) for o in unit.objects] == objects


@given(st.binary(max_size=400), st.sampled_from([1, 2, 4, 5]))
def test_arbitrary_data_units_give_objects_or_a_frame_error(raw: bytes, command: int) -> None:
    try:
        unit = decode_unit(raw, command)
    except FrameError:
        return
    assert unit.type == raw[0]
