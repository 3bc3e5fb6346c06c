"""The obligation list (义务清单) of an obligor group's agreement or judgment, each judged done, open or overdue.

Payments recorded for the group are applied to its money obligations in due-date order, so instalments and
partial payments show what is still owed.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.common.dates import as_date

MONEY_KINDS = {"payment"}


def _amount(value: Any) -> Decimal:
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except ArithmeticError:
        return Decimal("0")


def for_group(data: dict[str, Any], today: date) -> list[dict[str, Any]]:
    """``data``: what the group's tasks recorded (obligations of the agreement or judgment, payments, completion)."""
    items = list(data.get("obligations") or [])
    if not items and data.get("compensation_amount") and data.get("remedy") in ("compensation", "both"):
        items.append({"kind": "payment", "description": "缴纳生态环境损害赔偿金", "amount": data.get("compensation_amount"),
                      "due_on": data.get("payment_due_on"), "account": "treasury"})
    if not any(i.get("kind") == "restoration" for i in items) and data.get("remedy") in ("restoration", "both"):
        items.append({"kind": "restoration", "description": data.get("restoration_plan") or "生态环境修复",
                      "due_on": data.get("restoration_due_on")})
    paid_total = sum((_amount(p.get("paid_amount", p.get("amount"))) for p in data.get("payments") or []), Decimal("0"))
    if not data.get("payments") and data.get("paid_amount"):
        paid_total = _amount(data.get("paid_amount"))
    restored = bool(data.get("target_met"))
    out = []
    for index, item in enumerate(sorted(items, key=lambda i: str(i.get("due_on") or "9999"))):
        due = as_date(item["due_on"]) if item.get("due_on") else None
        paid = Decimal("0")
        if item.get("kind") in MONEY_KINDS:
            owed = _amount(item.get("amount"))
            paid = min(owed, paid_total)
            paid_total -= paid
            done = owed > 0 and paid >= owed
        elif item.get("kind") == "restoration":
            done = restored
        else:
            done = bool(item.get("done"))
        status = "done" if done else ("overdue" if due is not None and today > due else "open")
        out.append({"id": index + 1, "kind": item.get("kind"), "obligors": item.get("obligors"),
                    "description": item.get("description"),
                    "amount": f"{_amount(item.get('amount')):.2f}" if item.get("amount") not in (None, "") else None,
                    "quantity": item.get("quantity"), "due_on": due.isoformat() if due else None,
                    "account": item.get("account"), "status": status, "paid": f"{paid:.2f}"})
    return out
