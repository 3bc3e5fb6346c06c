"""大写金额 (engine.documents.amounts) against 《会计基础工作规范》第五十二条 and the worked examples of
《支付结算办法》附件 (with 整 after 角, which 第五十二条 requires)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.documents.amounts import integer_upper, money, rmb_upper, to_cents

CASES = [
    # the brief's cases
    ("0.05", "人民币伍分"),
    ("10.00", "人民币壹拾元整"),
    ("100000.00", "人民币壹拾万元整"),
    ("1005.50", "人民币壹仟零伍元伍角整"),
    ("120000.07", "人民币壹拾贰万元零柒分"),
    ("35200000.00", "人民币叁仟伍佰贰拾万元整"),
    ("1050.00", "人民币壹仟零伍拾元整"),
    # 《支付结算办法》 examples (first form where two are allowed; 整 after 角 per 第五十二条（四）)
    ("1409.50", "人民币壹仟肆佰零玖元伍角整"),
    ("6007.14", "人民币陆仟零柒元壹角肆分"),
    ("1680.32", "人民币壹仟陆佰捌拾元零叁角贰分"),
    ("107000.53", "人民币壹拾万柒仟元零伍角叁分"),
    ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
    # below one 元
    ("0.50", "人民币伍角整"),
    ("0.55", "人民币伍角伍分"),
    ("0.01", "人民币壹分"),
    ("0", "人民币零元整"),
    ("0.00", "人民币零元整"),
    # 到元 / 到角 / 有分
    ("1", "人民币壹元整"),
    ("1.01", "人民币壹元零壹分"),
    ("1.10", "人民币壹元壹角整"),
    ("1.11", "人民币壹元壹角壹分"),
    ("20.10", "人民币贰拾元零壹角整"),
    ("15.00", "人民币壹拾伍元整"),
    # zeros inside and across 万 / 亿
    ("101", "人民币壹佰零壹元整"),
    ("1001", "人民币壹仟零壹元整"),
    ("1100", "人民币壹仟壹佰元整"),
    ("10001", "人民币壹万零壹元整"),
    ("10010", "人民币壹万零壹拾元整"),
    ("10100", "人民币壹万零壹佰元整"),
    ("11000", "人民币壹万壹仟元整"),
    ("100500", "人民币壹拾万零伍佰元整"),
    ("110010", "人民币壹拾壹万零壹拾元整"),
    ("1000000", "人民币壹佰万元整"),
    ("10000001", "人民币壹仟万零壹元整"),
    ("100000000", "人民币壹亿元整"),
    ("100005000", "人民币壹亿零伍仟元整"),
    ("100050000", "人民币壹亿零伍万元整"),
    ("1000010000", "人民币壹拾亿零壹万元整"),
    ("1200345678.90", "人民币壹拾贰亿零叁拾肆万伍仟陆佰柒拾捌元玖角整"),
    ("1286450.60", "人民币壹佰贰拾捌万陆仟肆佰伍拾元零陆角整"),
    ("999999999999.99", "人民币玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
]


@pytest.mark.parametrize(("amount", "expected"), CASES)
def test_rmb_upper(amount: str, expected: str) -> None:
    assert rmb_upper(Decimal(amount)) == expected
    assert rmb_upper(amount) == expected


def test_accepts_int_and_trailing_zeros_and_separators() -> None:
    assert rmb_upper(1005) == "人民币壹仟零伍元整"
    assert rmb_upper(Decimal("1005.5000")) == "人民币壹仟零伍元伍角整"
    assert rmb_upper("1,005.50") == "人民币壹仟零伍元伍角整"
    assert rmb_upper(" 10 ") == "人民币壹拾元整"


def test_shape_rules_over_a_range() -> None:
    """Invariants of the rule for every amount 0.00–20.99 and a sample of larger ones."""
    samples = [Decimal(c) / 100 for c in range(0, 2100)]
    samples += [Decimal(n) + Decimal(c) / 100 for n in (10, 100, 1000, 10000, 100000, 10**8) for c in (0, 5, 50, 55)]
    for amount in samples:
        text = rmb_upper(amount)
        assert text.startswith("人民币")
        assert "零零" not in text
        cents = int(amount * 100)
        if cents % 10:
            assert text.endswith("分") and "整" not in text, text
        else:
            assert text.endswith("整"), text
        if cents >= 100:
            assert "元" in text
        assert not text.startswith("人民币零") or cents == 0, text
        assert not text.startswith("人民币拾"), text  # always 壹拾


def test_integer_upper() -> None:
    assert integer_upper(0) == "零"
    assert integer_upper(10) == "壹拾"
    assert integer_upper(1005) == "壹仟零伍"
    assert integer_upper(100000) == "壹拾万"
    assert integer_upper(10**8 + 1) == "壹亿零壹"
    with pytest.raises(ValueError):
        integer_upper(-1)
    with pytest.raises(ValueError):
        integer_upper(10**12)


@pytest.mark.parametrize("bad", ["-0.01", Decimal("-5"), "12.345", Decimal("0.001"), "1000000000000", "abc", "",
                                 "NaN", "Infinity"])
def test_rejects_bad_amounts(bad: object) -> None:
    with pytest.raises(ValueError):
        rmb_upper(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", [1.5, True, None, [1]])
def test_rejects_non_decimal_types(bad: object) -> None:
    with pytest.raises(TypeError):
        rmb_upper(bad)  # type: ignore[arg-type]


def test_to_cents() -> None:
    assert to_cents("1005.50") == 100550
    assert to_cents(Decimal("0.05")) == 5


@pytest.mark.parametrize(
    ("amount", "expected"),
    [
        (Decimal("12345.6"), "12,345.60"),
        (Decimal("0"), "0.00"),
        ("1286450.60", "1,286,450.60"),
        (1000, "1,000.00"),
        (Decimal("35200000.00"), "35,200,000.00"),
        (Decimal("0.05"), "0.05"),
    ],
)
def test_money(amount: Decimal | str | int, expected: str) -> None:
    assert money(amount) == expected


def test_money_rejects_fractions_of_a_fen() -> None:
    with pytest.raises(ValueError):
        money(Decimal("1.005"))
    with pytest.raises(TypeError):
        money(1.5)  # type: ignore[arg-type]
