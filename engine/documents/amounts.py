"""Amounts of money in Chinese capital numerals (大写金额).

The rule follows 《会计基础工作规范》第五十二条 (and, for the placement of 零, the worked examples of
《支付结算办法》附件《正确填写票据和结算凭证的基本规定》):

* The currency name comes first with no gap: "人民币…".
* Digits: 零壹贰叁肆伍陆柒捌玖, units 拾佰仟, sections 万 and 亿; a leading 拾 is written 壹拾
  (10.00 → 人民币壹拾元整, 100000.00 → 人民币壹拾万元整).
* Zeros between significant digits are written as one 零, however many there are
  (1005.50 → 人民币壹仟零伍元伍角整, 1050.00 → 人民币壹仟零伍拾元整); a run of zeros at the end of the
  integer part is not written (35200000.00 → 人民币叁仟伍佰贰拾万元整). Across a 万/亿 boundary 零 is
  written when the lower section starts with zeros or a whole section is zero
  (100500.00 → 人民币壹拾万零伍佰元整, 100005000.00 → 人民币壹亿零伍仟元整), but not when the higher section
  merely ends with zeros (107000.53 → 人民币壹拾万柒仟元零伍角叁分).
* 到元为止 or 到角为止 → "整" after 元 or 角 (1005.50 → …伍元伍角整); with 分 nothing follows
  (120000.07 → 人民币壹拾贰万元零柒分).
* 角位是 0 but 分 is not → 零 after 元 (required: 120000.07 → …元零柒分).
  元位是 0 and 角 is not 0 → the regulation allows 零 or nothing; this module writes 零, as in the
  first form of the official example (1680.32 → 人民币壹仟陆佰捌拾元零叁角贰分).
* Amounts below one 元 start with the first non-zero unit (0.05 → 人民币伍分, 0.50 → 人民币伍角整);
  zero is 人民币零元整.

Negative amounts, amounts with more than two decimal places (other than trailing zeros) and amounts of
one 万亿 or more are rejected with ValueError rather than rounded.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_UNITS_IN_SECTION = ("仟", "佰", "拾", "")
_SECTION_UNITS = ("亿", "万", "")
_LIMIT = Decimal(10) ** 12  # 壹万亿元


def to_decimal(amount: Decimal | str | int) -> Decimal:
    """Parse an amount of money exactly; floats are refused to avoid binary rounding."""
    if isinstance(amount, bool) or not isinstance(amount, Decimal | str | int):
        raise TypeError(f"金额必须是 Decimal、字符串或整数，而不是 {type(amount).__name__}")
    try:
        value = Decimal(amount.replace(",", "").strip()) if isinstance(amount, str) else Decimal(amount)
    except InvalidOperation:
        raise ValueError(f"无法识别的金额：{amount!r}") from None
    if not value.is_finite():
        raise ValueError(f"无法识别的金额：{amount!r}")
    return value


def to_cents(amount: Decimal | str | int) -> int:
    """The amount as a whole number of 分; refuses negatives and fractions of a 分."""
    value = to_decimal(amount)
    if value < 0:
        raise ValueError(f"金额不能为负数：{amount!r}")
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"金额最多保留两位小数（到分）：{amount!r}")
    if value >= _LIMIT:
        raise ValueError(f"金额过大（须小于壹万亿元）：{amount!r}")
    return int(cents)


def _section(number: int) -> str:
    """A number 1..9999 in capitals, without leading 零 (the caller places the section's 零)."""
    digits = f"{number:04d}"
    out: list[str] = []
    pending_zero = False
    for digit, unit in zip(digits, _UNITS_IN_SECTION, strict=True):
        if digit == "0":
            pending_zero = bool(out)
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[int(digit)] + unit)
    return "".join(out)


def integer_upper(number: int) -> str:
    """A whole number 0 ≤ n < 10¹² in financial capitals: 1005 → 壹仟零伍, 100000 → 壹拾万."""
    if number < 0 or number >= 10**12:
        raise ValueError(f"超出范围：{number}")
    if number == 0:
        return "零"
    sections = (number // 10**8, number // 10**4 % 10**4, number % 10**4)
    out: list[str] = []
    zero_gap = False  # a whole zero section after something was written
    for value, unit in zip(sections, _SECTION_UNITS, strict=True):
        if value == 0:
            zero_gap = zero_gap or bool(out)
            continue
        if out and (zero_gap or value < 1000):
            out.append("零")
        out.append(_section(value) + unit)
        zero_gap = False
    return "".join(out)


def rmb_upper(amount: Decimal | str | int) -> str:
    """Amount in words for a document: Decimal("1005.50") → "人民币壹仟零伍元伍角整"."""
    cents = to_cents(amount)
    yuan, rest = divmod(cents, 100)
    jiao, fen = divmod(rest, 10)
    if cents == 0:
        return "人民币零元整"
    out = ["人民币"]
    if yuan:
        out.append(integer_upper(yuan) + "元")
    if jiao:
        if yuan and yuan % 10 == 0:
            out.append("零")
        out.append(DIGITS[jiao] + "角")
    elif fen and yuan:
        out.append("零")
    if fen:
        out.append(DIGITS[fen] + "分")
    else:
        out.append("整")
    return "".join(out)


def money(amount: Decimal | str | int) -> str:
    """Figures with thousands separators and two decimals: Decimal("12345.6") → "12,345.60"."""
    value = to_decimal(amount)
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"金额最多保留两位小数（到分）：{amount!r}")
    return f"{value.quantize(Decimal('0.01')):,.2f}"
