"""History columns as the register map defines them: the inverter's raw integers, not numerics.

A register scaled by 0.1 is stored as the integer the inverter sent (tenths) and read back as an exact
Decimal; a 16-bit value whose limits fit takes a smallint. That is the register's own resolution, so
nothing is rounded, and a history row is about a third smaller than with numeric columns.
"""

from decimal import Decimal

from django.db import models

from .registermap import BY_KEY, DERIVED_BY_KEY, Kind

INT16 = (-(2**15), 2**15 - 1)


class ScaledIntegerField(models.DecimalField):
    """A Decimal with `decimal_places` stored as a scaled integer (12.3 with one place is 123).

    Decimal to Python and in forms, serializers and Sum(); an integer column (smallint when `small`).
    Avg() over it must say `output_field=` this field, or it reads the raw integers.
    """

    def __init__(self, *args, small=False, **kwargs):
        self.small = small
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.small:
            kwargs["small"] = True
        return name, path, args, kwargs

    def db_type(self, connection):
        return "smallint" if self.small else "integer"

    def cast_db_type(self, connection):
        return self.db_type(connection)

    def get_db_prep_value(self, value, connection, prepared=False):
        if isinstance(value, float | int) and not isinstance(value, bool):  # a decoded register: fast
            return round(value * 10**self.decimal_places)
        if not prepared:
            value = self.get_prep_value(value)
        return None if value is None else int(value.scaleb(self.decimal_places).to_integral_value())

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        return (value if isinstance(value, Decimal) else Decimal(str(value))).scaleb(-self.decimal_places)


class Bits32Field(models.IntegerField):
    """32 fault or warning bits in a 4-byte integer column (bit 31 is the sign bit there)."""

    def get_db_prep_value(self, value, connection, prepared=False):
        if value is None:
            return None
        value = int(value)
        return value - 2**32 if value >= 2**31 else value

    def from_db_value(self, value, expression, connection):
        return None if value is None else value & 0xFFFFFFFF


class NarrowForeignKey(models.ForeignKey):
    """A foreign key to a big-integer id in a 4-byte column, for a table of billions of rows whose
    targets number thousands (PostgreSQL compares the two integer widths directly)."""

    def db_type(self, connection):
        return "integer"


def history_field(key):
    """The Reading column of a register map history value, typed from its register."""
    derived = DERIVED_BY_KEY.get(key)
    if derived is not None:  # a sum of registers: it may exceed one register's range
        return models.IntegerField(null=True, help_text=derived.unit)
    register = BY_KEY[key]
    if register.kind == Kind.BITS:
        return Bits32Field(null=True)
    low, high = register.limits
    small = register.count == 1 and INT16[0] <= low / register.scale and high / register.scale <= INT16[1]
    if register.scale == 1:
        field = models.SmallIntegerField if small else models.IntegerField
        return field(null=True, help_text=register.unit)
    digits = len(str(int(max(abs(low), abs(high)) / register.scale)))
    return ScaledIntegerField(
        max_digits=digits, decimal_places=register.decimals, small=small, null=True, help_text=register.unit
    )
