"""Report labels in English and Chinese (``--lang en|zh``)."""

LABELS: dict[str, dict[str, str]] = {
    "en": {
        "locale": "en-US", "title": "Weekly report", "title_month": "Monthly report",
        "edition": "Period",
        "headline": "Headline figures", "metric": "Figure", "current": "This period",
        "previous": "Previous", "change": "Change", "average_4": "4-period average",
        "change_vs_average": "vs average", "orders": "Orders", "customers": "Customers",
        "new_customers": "New customers", "revenue": "Revenue", "gross_profit": "Gross profit",
        "gross_margin": "Gross margin", "aov": "Average order value",
        "conversion": "Conversion (first to last step)",
        "bands": "Order-value bands", "band": "Band", "order_share": "Share of orders",
        "funnel": "Funnel", "entered": "Units entering the step", "alerts": "Drift alerts",
        "rate": "Conversion", "no_alerts": "No drift alerts.", "since": "Since", "alert": "Alert",
        "step": "Step", "segment": "Segment", "expected": "Expected",
        "price_rises": "Price rises in the window", "cohorts": "New-customer cohorts",
        "period_index": "Months since the first order", "payback": "First-order offer payback",
        "segments": "Customer segments", "abc": "ABC classes", "rfm": "RFM segments",
        "profile": "Customer type, role and tier (last 52 weeks)",
        "promo": "Promotion what-ifs", "net_effect": "Net gross profit effect",
        "quality": "Data quality", "left_out": "Left out", "source": "Source",
        "rows_read": "Rows read",
        "rows_rejected": "Rows rejected", "reasons": "Reasons", "no_events":
        "No click-stream export: the funnel is left out.",
        "generated": "Computed from the exports listed under data quality; as of",
    },
    "zh": {
        "locale": "zh-CN", "title": "周报", "title_month": "月报", "edition": "周期",
        "headline": "核心指标", "metric": "指标", "current": "本期", "previous": "上期",
        "change": "环比", "average_4": "前4期均值", "change_vs_average": "对比均值",
        "orders": "订单数", "customers": "下单客户", "new_customers": "新客户",
        "revenue": "销售额", "gross_profit": "毛利", "gross_margin": "毛利率",
        "aov": "客单价", "conversion": "转化率(首步到末步)",
        "bands": "订单金额区间", "band": "区间", "order_share": "订单占比",
        "funnel": "转化漏斗", "entered": "进入该步的单位", "alerts": "转化异常",
        "rate": "转化率", "no_alerts": "无转化异常。", "since": "开始于", "alert": "异常",
        "step": "步骤", "segment": "细分", "expected": "预期",
        "price_rises": "期间涨价", "cohorts": "新客留存", "period_index": "首单后月数",
        "payback": "首单优惠回本", "segments": "客户分层", "abc": "ABC分类",
        "rfm": "RFM分群",
        "profile": "客户类型、角色与等级(近52周)",
        "promo": "满减活动模拟", "net_effect": "净毛利影响",
        "quality": "数据质量", "left_out": "未计算", "source": "数据", "rows_read": "读取行数",
        "rows_rejected": "拒绝行数", "reasons": "原因",
        "no_events": "未提供行为数据:不含漏斗。",
        "generated": "根据数据质量中列出的导出文件计算;截至",
    },
}

# Column headers of the section tables in Chinese; English shows the JSON key with spaces.
COLUMNS_ZH: dict[str, str] = {
    "label": "区间", "orders": "订单数", "customers": "客户数", "revenue": "销售额",
    "gross_profit": "毛利", "order_share": "订单占比", "revenue_share": "销售额占比",
    "gross_margin": "毛利率", "avg_lines": "平均行数", "avg_units": "平均件数",
    "cohort": "批次", "group": "分组", "offer_cost": "优惠成本",
    "repeat_gross_profit": "复购毛利", "payback_period": "回本期", "class": "类别",
    "value": "贡献", "value_share": "贡献占比", "customer_share": "客户占比",
    "segment": "分群", "share": "占比", "avg_days_since_last": "距上次下单平均天数",
    "avg_orders": "平均订单数", "avg_monetary": "平均金额", "step": "步骤",
    "entered": "进入", "conversion_from_previous": "较上一步转化率",
    "conversion_from_first": "较首步转化率", "drop_off": "流失", "rank": "排名",
    "name": "方案", "qualifying_orders": "达标订单", "qualifying_share": "达标占比",
    "subsidy_cost": "补贴成本", "incremental_revenue": "增量销售额",
    "net_gross_profit_effect": "净毛利影响", "roi": "投入产出比",
    "break_even_uptake": "盈亏平衡参与率", "dimension": "维度", "aov": "客单价",
    "orders_per_customer_month": "每客户每月订单", "skus_per_order": "每单型号数",
}


def column_label(name: str, lang: str) -> str:
    """The header shown for a table column."""
    if lang == "zh":
        return COLUMNS_ZH.get(name, name)
    return name.replace("_", " ")
