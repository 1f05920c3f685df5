"""Write indexnet/reading/fonts/math.woff2: the glyphs the pages' MathML uses, from DejaVu Math
TeX Gyre.

The pages embed this font so that subscripts, superscripts and stretchy operators are laid out
from a real OpenType MATH table on every reader's machine: without one, MathML layout falls back
to near-zero script shifts. Run it when the pages need characters the subset lacks (a test in
tests/test_showcase.py says which). Needs fontTools and brotli; the font is Debian's
fonts-dejavu-extra (Bitstream Vera licence, math extensions public domain: see
indexnet/reading/fonts/LICENSE).

    python tools/subset_math_font.py [/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf]
"""

import sys
from pathlib import Path

from fontTools import subset

SOURCE = "/usr/share/fonts/truetype/dejavu/DejaVuMathTeXGyre.ttf"
TARGET = Path(__file__).resolve().parent.parent / "indexnet" / "fonts" / "math.woff2"

RANGES = [
    (0x20, 0x7E),  # ASCII
    (0xA0, 0xA0),  # no-break space
    (0xAC, 0xAC),  # ¬
    (0xB1, 0xB1),  # ±
    (0xB7, 0xB7),  # ·
    (0xD7, 0xD7),  # ×
    (0xF7, 0xF7),  # ÷
    (0x391, 0x3C9),  # Greek
    (0x3D1, 0x3D1),  # ϑ
    (0x3D5, 0x3D5),  # ϕ
    (0x3F5, 0x3F5),  # ϵ
    (0x2016, 0x2016),  # ‖
    (0x2022, 0x2022),  # •
    (0x2026, 0x2026),  # …
    (0x2032, 0x2034),  # primes
    (0x2061, 0x2064),  # invisible operators (function application, times, separator, plus)
    (0x210E, 0x210E),  # ℎ, the math italic h
    (0x2113, 0x2113),  # ℓ
    (0x2190, 0x2194),  # arrows
    (0x21A6, 0x21A6),  # ↦
    (0x21D2, 0x21D4),  # ⇒ ⇔
    (0x2200, 0x223C),  # ∀ ... ∼: ∂ ∇ ∈ ∏ ∑ − ∓ ∘ √ ∝ ∞ ∣ ∥ ∧ ∨ ∩ ∪ ∫
    (0x2248, 0x2248),  # ≈
    (0x2260, 0x2265),  # ≠ ≡ ≤ ≥
    (0x2282, 0x2287),  # ⊂ ⊃ ⊆ ⊇
    (0x2295, 0x2299),  # ⊕ ⊗ ⊙
    (0x22A4, 0x22A5),  # ⊤ ⊥
    (0x22C5, 0x22C5),  # ⋅
    (0x22EE, 0x22F1),  # ⋮ ⋯ ⋰ ⋱
    (0x2308, 0x230B),  # ceilings, floors
    (0x27E8, 0x27E9),  # angle brackets
    (0x1D434, 0x1D467),  # math italic Latin: what <mi>x</mi> is drawn with
    (0x1D6A4, 0x1D6A5),  # dotless italic i, j
    (0x1D6E2, 0x1D71B),  # math italic Greek
]


def main(source: str = SOURCE) -> None:
    options = subset.Options()
    options.flavor = "woff2"
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["FFTM"]
    font = subset.load_font(source, options)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[u for lo, hi in RANGES for u in range(lo, hi + 1)])
    subsetter.subset(font)
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    subset.save_font(font, str(TARGET), options)
    print(f"{TARGET}: {TARGET.stat().st_size} bytes, {len(font.getGlyphOrder())} glyphs")


if __name__ == "__main__":
    main(*sys.argv[1:])
