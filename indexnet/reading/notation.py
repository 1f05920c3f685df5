"""How the reading tools write what they show: every number to :data:`DIGITS` significant
digits, and a LaTeX formula as one line of Unicode. :mod:`indexnet.reading.explain` and its two
renderers share these, so the text, the page and its drawing print a number alike."""

import functools

DIGITS = 4
"""Significant digits of every printed number."""


def number(value: float, digits: int = DIGITS) -> str:
    """``value`` printed with ``digits`` significant digits, as every number on the pages is."""
    text = format(float(value), f".{digits}g")
    return "0" if text == "-0" else text


@functools.cache
def as_text(latex: str) -> str:
    """A LaTeX formula read as one line of Unicode (``showcase.latex_to_text``)."""
    from indexnet.reading.showcase import latex_to_text

    return latex_to_text(latex)
