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
        "clv": "Customer lifetime value (cust clv)",
        "clv_note": "Expected value over the next 52 weeks by ABC class (BG/NBD and Gamma-Gamma "
        "fitted to the orders up to this period's end); p alive: the chance a customer has "
        "not left for good.",
        "clv_b_to_a": "B customers on their way to A",
        "clv_at_risk": "Valuable customers slipping away",
        "profile": "Customer type, role and tier (last 52 weeks)",
        "promo": "Promotion what-ifs", "net_effect": "Net gross profit effect",
        "quality": "Data quality", "left_out": "Left out", "source": "Source",
        "rows_read": "Rows read",
        "rows_rejected": "Rows rejected", "reasons": "Reasons", "no_events":
        "No click-stream export: the funnel is left out.",
        "generated": "Computed from the exports listed under data quality; as of",
        "from_first": "Conversion from the first step",
        "band_legend": "Expected band (tested weeks)",
        "lower": "Band from", "upper": "Band to", "cohort": "Cohort", "retention": "Retention",
        "gain": "Gains gross profit", "loss": "Loses gross profit", "scenario": "Scenario",
        "rank": "Rank", "trend": "Revenue and orders, last 13 periods",
        "contents": "Contents", "kpis": "Key figures", "breakdown": "Breakdown",
        "band_range": "Expected band", "units": "Units", "p_value": "p-value",
        "contributors": "Contributors", "promo_builtin": "cust.toml has no [promo.scenarios]: "
        "the built-in scenarios of cust promo compare are shown.",
        "drill": "Open the breakdown", "vs": "vs",
        "no_promo": "No promotion scenario could be simulated.",
        "sort_hint": "Click a header to sort.",
        "reading_trend": "Revenue {current} this period, {change} on the previous one and "
        "{vs_avg} on the 4-period average; {orders} orders.",
        "reading_bands": "Most orders fall in the {band} band: {share} of them "
        "({before} the period before).",
        "reading_funnel": "{conversion} of the units entering {first} reach {last}; the "
        "largest loss is at {step} ({lost} of the units before it).",
        "reading_drift": "The line is the conversion per week; the grey band is the range the "
        "drift test expected from the weeks before, drawn at the weeks it tested; red points "
        "are alerts. Since {since}: {rate} against {expected} expected.",
        "reading_cohorts": "Each row is the customers whose first order fell in that month; "
        "{share} of the {cohort} cohort bought again in the next month ({avg} on average "
        "over the cohorts shown).",
        "reading_promo": "Best: {best}, net gross profit effect {net}; {losing} of {n} "
        "scenarios lose gross profit.",
        "paths_heading": "Behaviour paths", "times": "Time to convert, per step",
        "time_band": "Time from the step before",
        "converted_share": "Share of the units that converted", "median": "Median",
        "paths": "Paths this period ({depth} steps, the top {top})",
        "path_from": "From", "path_to": "To", "path_count": "Paths",
        "reading_times": "Slowest step: {from_step} → {step}, median {median} (p90 {p90}); "
        "{within_1h} of the units at {from_step} took it within 1 h, {within_1d} within 1 d.",
        "reading_paths": "{occurrences} visits to {anchor} this period; the most common next "
        "{depth} steps: {path} ({share}). {ended} of the visits ended within {depth} steps.",
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
        "clv": "客户终身价值", "clv_note": "按ABC分类的未来52周预期价值(BG/NBD与Gamma-Gamma模型,"
        "以截至本期末的订单拟合);存活概率:客户尚未永久流失的概率。",
        "clv_b_to_a": "有望升为A类的B类客户", "clv_at_risk": "正在流失的重要客户",
        "rfm": "RFM分群",
        "profile": "客户类型、角色与等级(近52周)",
        "promo": "满减活动模拟", "net_effect": "净毛利影响",
        "quality": "数据质量", "left_out": "未计算", "source": "数据", "rows_read": "读取行数",
        "rows_rejected": "拒绝行数", "reasons": "原因",
        "no_events": "未提供行为数据:不含漏斗。",
        "generated": "根据数据质量中列出的导出文件计算;截至",
        "from_first": "较首步转化率", "band_legend": "预期区间(检验周)",
        "lower": "区间下限", "upper": "区间上限", "cohort": "批次", "retention": "留存率",
        "gain": "增加毛利", "loss": "减少毛利", "scenario": "方案",
        "rank": "排名", "trend": "近13期销售额与订单数",
        "contents": "目录", "kpis": "关键指标", "breakdown": "明细",
        "band_range": "预期区间", "units": "单位数", "p_value": "p值",
        "contributors": "主要来源", "promo_builtin": "cust.toml 未设置 [promo.scenarios]:"
        "显示 cust promo compare 的内置方案。",
        "drill": "查看明细", "vs": "对比", "no_promo": "没有可模拟的满减方案。",
        "sort_hint": "点击表头排序。",
        "reading_trend": "本期销售额 {current},环比 {change},对比前4期均值 {vs_avg};"
        "订单 {orders} 笔。",
        "reading_bands": "订单最多的区间是 {band}:占 {share}(上期 {before})。",
        "reading_funnel": "进入「{first}」的单位中有 {conversion} 到达「{last}」;流失最多的是"
        "「{step}」(流失上一步的 {lost})。",
        "reading_drift": "折线为每周转化率;灰色区间是漂移检验根据此前各周得出的预期范围,"
        "只画在检验过的周;红点为异常。自 {since} 起:{rate},预期 {expected}。",
        "reading_cohorts": "每一行是首单落在该月的客户;{cohort} 批次中有 {share} 在下个月再次"
        "购买(所示批次平均 {avg})。",
        "reading_promo": "最佳方案:{best},净毛利影响 {net};{n} 个方案中有 {losing} 个减少毛利。",
        "paths_heading": "行为路径", "times": "各步转化用时", "time_band": "距上一步的时间",
        "converted_share": "已转化单位占比",
        "median": "中位数", "paths": "本期路径({depth} 步,前 {top} 条)",
        "path_from": "来自", "path_to": "去往", "path_count": "路径数",
        "reading_times": "最慢的一步:{from_step} → {step},中位数 {median}(p90 {p90});"
        "到达 {from_step} 的单位中 {within_1h} 在 1 小时内完成,{within_1d} 在 1 天内完成。",
        "reading_paths": "本期共 {occurrences} 次访问「{anchor}」;其后最常见的 {depth} 步:"
        "{path}({share})。{ended} 的访问在 {depth} 步内结束。",
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
    "one_order_customers": "仅一单客户", "repeat_customers": "复购客户",
    "repeat_share": "复购占比", "offer_cost_one_order": "仅一单客户的优惠成本",
    "first_order_gross_profit": "首单毛利", "cumulative_gross_profit": "累计毛利",
    "net_gross_profit": "净毛利", "repeat_gross_profit_to_date": "至今复购毛利",
    "net_gross_profit_to_date": "至今净毛利", "payback_ratio": "回本比例",
    "offers_paid_per_repeat_customer": "每个复购客户的优惠数", "loss_making": "亏损客户",
    "revenue_before": "活动前销售额", "revenue_after": "活动后销售额",
    "gross_profit_before": "活动前毛利", "gross_profit_after": "活动后毛利",
    "cost_share_of_revenue": "成本占销售额", "cost_share_of_gross_profit": "成本占毛利",
    "customers_near_threshold": "接近门槛的客户", "best": "最佳", "days": "天数",
    "monetary": "金额", "frequency": "频次", "recency": "最近", "customer_type": "客户类型",
    "role": "角色", "tier": "等级", "source": "数据",
    "abc_class": "ABC分类", "mean_p_alive": "平均存活概率",
    "mean_expected_purchases": "平均预期购买次数", "clv": "终身价值", "mean_clv": "平均终身价值",
    "customer_id": "客户编号", "expected_contribution": "预期贡献", "p_alive": "存活概率",
    "expected_purchases": "预期购买次数", "a_threshold": "A类门槛",
    "days_since_last": "距上次购买天数", "revenue_at_risk": "风险销售额",
}

# Values from a fixed vocabulary (segment, customer type, role, tier, offer group, source)
# shown in Chinese; values from the data itself (step and category names) stay as they are.
VALUES_ZH: dict[str, str] = {
    "champions": "重要价值客户", "loyal": "忠诚客户", "potential_loyalists": "潜力客户",
    "new": "新客户", "promising": "有潜力的新客", "need_attention": "需要关注",
    "about_to_sleep": "即将沉睡", "at_risk": "流失风险", "cant_lose_them": "不能失去的客户",
    "hibernating": "沉睡客户", "lost": "已流失", "others": "其他",
    "enterprise": "企业", "individual": "个人", "student": "学生", "other": "其他",
    "purchaser": "采购", "engineer": "工程师",
    "regular": "普通", "silver": "白银", "gold": "黄金", "platinum": "铂金", "diamond": "钻石",
    "offer": "使用首单优惠", "no_offer": "未使用首单优惠", "all": "全部",
    "customer_type": "客户类型", "role": "角色", "tier": "等级", "category": "品类",
    "platform": "平台", "channel": "渠道",
    "orders": "订单", "customers": "客户", "events": "行为数据", "prices": "价格变动",
    "up": "上升", "down": "下降",
}


def value_label(value: str, lang: str) -> str:
    """A value of a fixed vocabulary (an RFM segment, a customer type) in ``lang``."""
    if lang == "zh":
        return VALUES_ZH.get(value, value)
    return value.replace("_", " ")



def column_label(name: str, lang: str) -> str:
    """The header shown for a table column."""
    if lang == "zh":
        return COLUMNS_ZH.get(name, name)
    return name.replace("_", " ")


def segment_label(segment: dict[str, object], lang: str) -> str:
    """An alert's segment, ``category=mcu, platform=app`` (zh: ``品类=mcu, 平台=app``).

    The values are data and stay as they are; in English it is the funnel's own text.
    """
    if lang != "zh":
        from cust.pipelines.funnel import segment_text

        return segment_text(segment)
    return ", ".join(f"{VALUES_ZH.get(k, k)}={v}" for k, v in segment.items()) or "全部"
