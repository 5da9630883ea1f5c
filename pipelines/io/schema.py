"""Canonical columns of every export, their types and their header aliases.

Headers are matched case-insensitively, ignoring surrounding spaces (and a UTF-8 byte
order mark), first through an explicit mapping (``--map`` or ``[columns.*]`` in
``cust.toml``), then through the canonical name, then through the aliases below in
order. See ``CONTRACT.md`` section 1.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """How a column's text is parsed and validated."""

    ID = "id"  # text, required non-empty when the column is required
    TEXT = "text"
    TIME = "time"
    MONEY = "money"  # decimal, currency signs and thousands separators allowed
    INT = "int"  # whole number, never negative
    NUMBER = "number"
    STATUS = "status"  # order status, mapped to paid/refunded/cancelled


@dataclass(frozen=True)
class Column:
    """One canonical column of an export."""

    name: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    values: tuple[tuple[str, tuple[str, ...]], ...] = ()  # canonical value -> aliases


STATUS_VALUES = (
    ("paid", ("paid", "已支付", "已付款", "支付成功", "已完成", "完成", "交易成功", "success")),
    ("refunded", ("refunded", "refund", "已退款", "退款", "退款成功", "退货")),
    ("cancelled", ("cancelled", "canceled", "cancel", "已取消", "取消", "已关闭", "关闭")),
)

CUSTOMER_TYPE_VALUES = (
    ("enterprise", ("enterprise", "企业", "公司", "企业客户")),
    ("individual", ("individual", "个人", "个人客户")),
    ("student", ("student", "学生")),
)

ROLE_VALUES = (
    ("purchaser", ("purchaser", "采购", "采购员")),
    ("engineer", ("engineer", "工程师", "研发")),
    ("other", ("other", "其他", "其它")),
)

ORDERS = (
    Column(
        "order_id", Kind.ID, True, ("订单号", "订单编号", "order id", "order_no", "order number")
    ),
    Column(
        "customer_id",
        Kind.ID,
        True,
        ("客户编号", "客户ID", "用户ID", "会员ID", "customer", "customer id", "buyer_id"),
    ),
    Column("order_time", Kind.TIME, True, ("下单时间", "订单时间", "创建时间", "order date")),
    Column("amount", Kind.MONEY, True, ("实付金额", "金额", "订单金额", "paid_amount")),
    Column("cost", Kind.MONEY, False, ("成本", "成本金额")),
    Column("sku", Kind.TEXT, False, ("型号", "商品编号", "SKU", "part_number")),
    Column("quantity", Kind.INT, False, ("数量", "qty")),
    Column("discount", Kind.MONEY, False, ("优惠金额", "折扣金额")),
    Column("promo", Kind.TEXT, False, ("活动", "优惠券", "coupon")),
    Column("status", Kind.STATUS, False, ("状态", "订单状态"), STATUS_VALUES),
    Column("channel", Kind.TEXT, False, ("渠道", "来源")),
)

CUSTOMERS = (
    Column("customer_id", Kind.ID, True, ("客户编号", "客户ID", "用户ID", "会员ID")),
    Column("registered_at", Kind.TIME, False, ("注册时间", "注册日期")),
    Column("customer_type", Kind.TEXT, False, ("客户类型", "类型"), CUSTOMER_TYPE_VALUES),
    Column("role", Kind.TEXT, False, ("角色", "身份", "职位"), ROLE_VALUES),
    Column("industry", Kind.TEXT, False, ("行业",)),
    Column("points", Kind.NUMBER, False, ("积分",)),
    Column("region", Kind.TEXT, False, ("地区", "区域")),
    Column("channel", Kind.TEXT, False, ("渠道", "来源")),
    Column("service_cost", Kind.MONEY, False, ("服务成本",)),
)

EVENTS = (
    Column("user_id", Kind.ID, True, ("用户ID", "访客ID", "会员ID", "客户编号")),
    Column("event", Kind.ID, True, ("事件", "事件名", "event_name")),
    Column("event_time", Kind.TIME, True, ("事件时间", "时间", "timestamp")),
    Column("session_id", Kind.TEXT, False, ("会话ID", "session")),
)

PRICES = (
    Column("sku", Kind.ID, True, ("型号", "商品编号", "SKU")),
    Column("changed_at", Kind.TIME, True, ("调价时间", "变更时间")),
    Column("old_price", Kind.MONEY, True, ("原价", "调整前价格")),
    Column("new_price", Kind.MONEY, True, ("新价", "调整后价格")),
    Column("category", Kind.TEXT, False, ("类目", "分类")),
)

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "orders": ORDERS,
    "customers": CUSTOMERS,
    "events": EVENTS,
    "prices": PRICES,
}

# Sources whose columns beyond the canonical ones are kept (as text) for breakdowns.
KEEPS_EXTRA_COLUMNS = frozenset({"events", "customers"})


def normalise_header(name: str) -> str:
    """Fold a header for matching: strip spaces and a BOM, lower-case."""
    return name.replace("\ufeff", "").strip().casefold()


def match_headers(
    source: str, headers: list[str], explicit: dict[str, str]
) -> tuple[dict[str, str], list[str]]:
    """Map the headers of one file to canonical names.

    Parameters
    ----------
    source
        ``orders``, ``customers``, ``events`` or ``prices``.
    headers
        The file's headers as found.
    explicit
        Canonical name -> header, from ``--map`` or ``cust.toml`` (takes precedence).

    Returns
    -------
    tuple
        ``(mapping, missing)``: header as found -> canonical name, and the required
        canonical columns that matched no header.
    """
    by_norm: dict[str, str] = {}
    for header in headers:
        by_norm.setdefault(normalise_header(header), header)
    mapping: dict[str, str] = {}
    used: set[str] = set()

    def take(canonical: str, candidate: str) -> bool:
        found = by_norm.get(normalise_header(candidate))
        if found is None or found in used:
            return False
        mapping[found] = canonical
        used.add(found)
        return True

    columns = SCHEMAS[source]
    missing: list[str] = []
    for column in columns:
        if column.name in explicit and take(column.name, explicit[column.name]):
            continue
        if any(take(column.name, c) for c in (column.name, *column.aliases)):
            continue
        if column.required:
            missing.append(column.name)
    if source in KEEPS_EXTRA_COLUMNS:
        canonical = {c.name for c in columns}
        taken = set(mapping.values())
        for header in headers:
            name = normalise_header(header)
            if header not in used and name and name not in canonical and name not in taken:
                mapping[header] = name
                taken.add(name)
    return mapping, missing
