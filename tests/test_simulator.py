"""The simulator follows the real device and the sun: rating, hemisphere, solar noon."""

from datetime import UTC, datetime

from devices.registermap import BY_KEY
from devices.simulator import SimulatedInverter


def pv_at(device, moment):
    device.step(moment)
    return device.values()["pv1_power"] + device.values()["pv2_power"]


def test_pv_follows_the_sun_in_the_southern_hemisphere():
    sydney = SimulatedInverter(1, "S", tz="Australia/Sydney", latitude=-33.87, longitude=151.21)
    assert pv_at(sydney, datetime(2026, 12, 21, 2, 0, tzinfo=UTC)) > 3000  # 13:00 local, summer
    assert pv_at(sydney, datetime(2026, 12, 21, 14, 0, tzinfo=UTC)) == 0  # 01:00 local


def test_solar_noon_comes_from_the_longitude():
    brest = SimulatedInverter(2, "B", latitude=48.39, longitude=-4.49)
    strasbourg = SimulatedInverter(3, "S", latitude=48.57, longitude=7.75)
    # At 07:30 UTC in winter the sun is up in Strasbourg and not yet in Brest.
    morning = datetime(2026, 12, 21, 7, 45, tzinfo=UTC)
    assert pv_at(strasbourg, morning) > 0 and pv_at(brest, morning) == 0


def test_ac_power_stays_within_the_bluE_s_rating_so_the_grid_current_never_wraps():
    big = SimulatedInverter(4, "X", kwp=12.0, battery_kwh=25.0, model_code=9)  # BluE-S 3680D
    big.soc = 100.0
    for hour in range(6, 18):
        big.step(datetime(2026, 6, 21, hour, 0, tzinfo=UTC))
        values = big.values()
        assert values["pv1_power"] + values["pv2_power"] + values["battery_power"] <= 3680
        word = BY_KEY["grid_current"].encode(values["grid_current"])[0]
        assert BY_KEY["grid_current"].decode([word]) == values["grid_current"]
