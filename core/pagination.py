"""A paginator that reads a page in the second half of a list from its end: the last pages of a long
list cost what the first ones do (a short OFFSET on the reversed order, the same index), instead of
an OFFSET over nearly every row."""

from typing import Any

from django.core.paginator import Page, Paginator


class FromEitherEndPaginator(Paginator):
    """For querysets with a total order (e.g. by name then pk): `.reverse()` must be its mirror."""

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = min(bottom + self.per_page, self.count)
        rows: Any = self.object_list
        if bottom <= self.count // 2:
            return Page(rows[bottom:top], number, self)
        mirrored = rows.reverse()[self.count - top : self.count - bottom]
        return Page(list(mirrored)[::-1], number, self)
