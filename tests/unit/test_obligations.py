from datetime import date

from engine.services.obligations import for_group


def test_instalments_are_paid_in_due_order_and_judged_per_obligation():
    data = {"remedy": "compensation", "obligations": [
        {"kind": "payment", "description": "第二期", "amount": "500000.00", "due_on": "2027-06-30", "account": "treasury"},
        {"kind": "payment", "description": "第一期", "amount": "750000.00", "due_on": "2026-12-31", "account": "treasury"},
        {"kind": "apology", "description": "公开赔礼道歉", "due_on": "2026-10-01"}],
        "payments": [{"paid_amount": "800000.00"}]}
    items = for_group(data, date(2027, 1, 15))
    assert [(i["description"], i["status"], i["paid"]) for i in items] == [
        ("公开赔礼道歉", "overdue", "0.00"), ("第一期", "done", "750000.00"), ("第二期", "open", "50000.00")]


def test_remedy_without_a_list_still_yields_its_obligations():
    items = for_group({"remedy": "both", "compensation_amount": "100.00", "payment_due_on": "2026-12-31",
                       "restoration_due_on": "2027-06-30", "target_met": True, "paid_amount": "100.00"}, date(2027, 1, 1))
    assert {(i["kind"], i["status"]) for i in items} == {("payment", "done"), ("restoration", "done")}
