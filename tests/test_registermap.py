"""The register map's own rules, at their edges: setting ranges, hex-coded times, words written back,
sanity limits, the alarm words' bits. Golden words from the public definition are in test_transport."""

import pytest
from django.utils import translation

from devices import registermap
from devices.registermap import (
    BY_KEY,
    DERIVED_BY_KEY,
    MAX_BLOCK,
    REGISTERS,
    SETTINGS,
    Group,
    Kind,
    Register,
    alarm_bit,
    alarm_word,
    describe,
    live_values,
    plan,
    sanitise,
)

RANGED = [r for r in SETTINGS if r.writable and r.setting.minimum is not None]


@pytest.mark.parametrize("register", RANGED, ids=[r.key for r in RANGED])
def test_a_setting_takes_its_range_edges_and_nothing_one_step_beyond(register):
    low, high = register.setting.minimum, register.setting.maximum
    assert register.allows(low) and register.allows(high)
    assert not register.allows(low - 1) and not register.allows(high + 1)
    assert not register.allows(None)


def test_the_published_ranges_are_the_ones_offered():
    """1–100 % for the charge and discharge limits, 20–100 % for the grid-charge SOC (public file)."""
    ranges = {r.key: (r.setting.minimum, r.setting.maximum) for r in RANGED}
    assert ranges["grid_charge_max_soc"] == (20, 100)
    assert ranges["discharge_limit"] == ranges["charge_limit"] == (1, 100)


def test_a_choice_setting_takes_only_its_choices():
    mode = BY_KEY["working_mode"]
    assert all(mode.allows(value) for value in mode.choices)
    assert not mode.allows(max(mode.choices) + 1)


@pytest.mark.parametrize(("text", "word"), [("00:00", 0x0000), ("02:00", 0x0200), ("23:59", 0x2359)])
def test_a_grid_charge_time_is_written_as_the_hex_coded_hhmm_it_reads_back(text, word):
    register = BY_KEY["grid_charge_start"]
    assert register.encode(text) == [word]
    assert register.decode([word]) == text


@pytest.mark.parametrize("word", [0x2400, 0x2360, 0x12AB, 0x0960])
def test_a_word_that_is_no_time_of_day_decodes_to_nothing(word):
    assert BY_KEY["grid_charge_end"].decode([word]) is None


@pytest.mark.parametrize(
    ("key", "value"),
    [("discharge_limit", 1), ("discharge_limit", 100), ("grid_charge_max_soc", 20),
     ("battery_temperature", -4.5), ("pv_energy_total", 12345.6), ("grid_power_l1", 2750),
     ("firmware_arm", "1.2.3")],
)  # fmt: skip
def test_every_value_written_reads_back_the_same(key, value):
    register = BY_KEY[key]
    assert register.decode(register.encode(value)) == value


def test_values_at_their_sanity_limits_are_kept_and_one_beyond_is_dropped():
    low, high = BY_KEY["battery_soc"].limits
    values = {"battery_soc": high, "pv_energy_today": 0, "battery_temperature": None}
    assert sanitise(values) == ["battery_temperature"] and values["battery_soc"] == high
    values = {"battery_soc": high + 0.1, "grid_frequency": low - 1}
    assert sorted(sanitise(values)) == ["battery_soc", "grid_frequency"]
    assert values == {"battery_soc": None, "grid_frequency": None}


def test_the_live_values_carry_the_sums_and_leave_the_identity_out():
    values = {"pv1_power": 1000, "pv2_power": 500, "serial_number": "AU1", "battery_soc": 50}
    live = live_values(values)
    assert live["pv_power"] == 1500 and live["battery_soc"] == 50 and "serial_number" not in live


@pytest.mark.parametrize(("code", "bit"), [("F00", 0), ("W04", 4), ("F31", 31), ("F32", 31), ("W29", 29)])
def test_each_guide_code_has_its_bit_in_its_word(code, bit):
    assert alarm_bit(code) == bit
    assert alarm_word([code, "W01" if code.startswith("F") else "F01"], code[0]) == 1 << bit


def test_values_are_shown_in_words_with_their_unit_in_french():
    with translation.override("fr"):
        assert BY_KEY["working_mode"].display(2) == "Priorité batterie"
        assert BY_KEY["working_mode"].display(9) == "inconnu (9)"
        assert BY_KEY["battery_soc"].display(87.5) == "87,5\u00a0%"
        assert BY_KEY["grid_charge_start"].display("02:00") == "02:00"
        assert BY_KEY["battery_soc"].display(None) == "—"
        assert DERIVED_BY_KEY["pv_power"].display(1500) == "1500\u00a0W"
        assert DERIVED_BY_KEY["pv_power"].display(None) == "—"


def test_a_bit_word_reads_as_the_codes_of_its_bits_up(monkeypatch):
    faults = BY_KEY["fault_bits"]
    with translation.override("fr"):
        assert faults.display(0) == "aucune"
        assert (
            faults.display(1 << 1 | 1 << 2)
            == "F01 Court-circuit tension onduleur (OND), F02 Défaut capteur GFCI"
        )
        assert faults.display(1 << 31).startswith("F32 ")  # the word's last bit
    with translation.override("en"):
        assert faults.display(1 << 2) == "F02 GFCI sensor fault"
    # The device layer without the alarm catalogue's names: a bit reads as its number.
    monkeypatch.setattr(registermap, "BIT_NAMES", {})
    assert faults.display(1 << 3 | 1 << 5) == "bit 3, bit 5"


def test_a_read_is_at_most_a_block_long_and_a_block_may_be_exactly_that():
    def at(address):
        return Register(f"r{address}", address, Kind.U16, "")

    assert [block.count for block in plan([at(3000), at(3000 + MAX_BLOCK - 1)])] == [MAX_BLOCK]
    assert [block.count for block in plan([at(3000), at(3000 + MAX_BLOCK)])] == [1, 1]


def test_the_inverter_page_lists_the_live_values_in_the_maps_order_with_sums():
    values = {
        "battery_soc": 50.0,
        "pv2_power": 500,
        "pv1_power": 1000,
        "working_mode": 0,
        "serial_number": "X",
    }
    with translation.override("en"):
        rows = describe(live_values(values))
    keys = [row["key"] for row in rows]
    assert (
        keys.index("pv_power") < keys.index("pv1_power") < keys.index("pv2_power") < keys.index("battery_soc")
    )
    assert "serial_number" not in keys
    pv = next(row for row in rows if row["key"] == "pv_power")
    assert (pv["label"], pv["value"], pv["text"], pv["unit"]) == ("PV power", 1500, "1500\u00a0W", "W")
    assert next(row for row in rows if row["key"] == "working_mode")["text"] == "Self-use"


def _reads(blocks):
    return [(str(block.table), block.start, block.count) for block in blocks]


def test_a_poll_reads_the_live_values_in_the_three_documented_requests():
    """3000–3122, 3137–3260 (the inverter serial 3228–3238 inside), 3292–3318: at most 125 registers
    each, as docs/architecture/devices.md says."""
    live = plan([*(r for r in REGISTERS if r.group == Group.LIVE), BY_KEY["serial_number"]])
    assert _reads(live) == [("input", 3000, 123), ("input", 3137, 124), ("input", 3292, 27)]
    assert all(block.count <= MAX_BLOCK for block in live)
    assert BY_KEY["serial_number"] in live[1].registers


def test_the_identity_is_read_from_both_tables():
    identity = plan([r for r in REGISTERS if r.group == Group.INFO])
    assert _reads(identity) == [("input", 3228, 11), ("holding", 3200, 18)]


def test_a_block_decodes_each_register_from_its_own_words():
    (block,) = plan([BY_KEY["pv_energy_total"], BY_KEY["battery_soc"]])
    words = [0] * block.count
    start = block.start
    words[3066 - start] = 0x0369
    words[BY_KEY["pv_energy_total"].address - start : BY_KEY["pv_energy_total"].address - start + 2] = [
        1,
        0xE240,
    ]
    assert block.decode(words) == {"pv_energy_total": 12345.6, "battery_soc": 87.3}


def _grid(current, power, voltage=230.0):
    values = {"grid_current": current, "grid_power_l1": power, "grid_voltage": voltage}
    return values, sanitise(values)


@pytest.mark.parametrize(
    ("current", "power", "voltage", "kept"),
    [(8.0, 2300, 230.0, None),  # under 0.9 × P / V − 0.5 A (10 A at cos φ 1): not this power's current
     (8.5, 2300, 230.0, 8.5), (20.5, 2300, 230.0, 20.5),  # within: cos φ down to 0.5, ±0.5 A
     (20.6, 2300, 230.0, None),
     (28.464, -8500, 230.0, -37.072),  # exporting 37 A reads back wrapped the other way
     (0.0, 50, 230.0, None),  # no current under 50 W imported: the two disagree
     (-3.0, 50, 230.0, None),  # at 50 W the sign is checked
     (-3.0, 49, 230.0, -3.0),  # under 50 W it says little: kept as read
     (0.5, 100, 230.0, 0.5),  # under 1 A, importing: the same sign
     (5.0, 2300, 0.0, 5.0)],  # no voltage: nothing to check against
)  # fmt: skip
def test_the_grid_current_is_kept_unwrapped_or_dropped_by_its_phases_power(current, power, voltage, kept):
    values, dropped = _grid(current, power, voltage)
    assert values["grid_current"] == kept
    assert dropped == ([] if kept is not None else ["grid_current"])


def test_a_grid_current_or_power_not_read_leaves_the_other_as_read():
    assert _grid(None, 2300)[0] == {"grid_current": None, "grid_power_l1": 2300, "grid_voltage": 230.0}
    assert _grid(5.0, None)[0] == {"grid_current": 5.0, "grid_power_l1": None, "grid_voltage": 230.0}


def test_a_dropped_grid_current_is_logged_with_what_contradicts_it(caplog):
    _grid(5.0, -2750)
    assert caplog.messages == ["Grid current 5.0 A disagrees with grid power -2750 W at 230.0 V: not stored"]


def test_text_registers_fill_their_words_and_a_byte_that_is_no_ascii_shows_as_such():
    serial = BY_KEY["serial_number"]
    words = serial.encode("AU1")
    assert len(words) == serial.count == 11 and words[:2] == [0x4155, 0x3100]
    assert serial.decode(words) == "AU1"
    assert serial.decode([0x41C3, *[0] * 10]) == "A\ufffd"
    assert len(serial.encode("A" * 30)) == 11  # cut to its 22 bytes


def test_a_whole_number_register_decodes_to_a_whole_number():
    pv1 = BY_KEY["pv1_power"]
    assert pv1.decode([2300]) == 2300 and isinstance(pv1.decode([2300]), int)
    assert pv1.decode([0xFFF6]) == -10  # a signed word
    with translation.override("fr"):
        assert pv1.display(pv1.decode([2300])) == "2300\u00a0W"
