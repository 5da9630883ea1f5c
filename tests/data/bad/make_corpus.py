"""Write the bad-input corpus next to this file (run: python tests/data/bad/make_corpus.py).

Every file is small and reproducible (fixed bytes, no randomness without a seed).
"""

from __future__ import annotations

import gzip
import random
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
HEAD = "order_id,customer_id,order_time,amount,cost,status\n"
GOOD = "o1,C1,2024-03-01 10:00,100,60,paid\no2,C2,2024-03-02,50,20,paid\n"
EVIL = "\x1b[2J\x1b[H\x1b[32mOK\x01\x0b\x1f\r\x08\x7f\x9b\u202e[red]x[/][link=y]z"


def text_cases() -> dict[str, str]:
    """Orders exports as text."""
    long_id = "C" + "x" * 100_000
    return {
        "empty.csv": "",
        "header_only.csv": HEAD,
        "semicolons.csv": HEAD.replace(",", ";") + GOOD.replace(",", ";"),
        "mixed_delimiters.csv": HEAD + GOOD + "o3;C3;2024-03-03;10;5;paid\n",
        "ragged.csv": HEAD + GOOD + "o3,C3,2024-03-03,10\no4,C4,2024-03-04,10,5,paid,extra,x\n",
        "quoted_newlines.csv": HEAD + GOOD + 'o3,"C3\nstill C3",2024-03-03,10,5,paid\n',
        "numbers.csv": HEAD + GOOD + "o3,C3,2024-03-03,NaN,5,paid\no4,C4,2024-03-03,inf,5,paid\n"
        "o5,C5,2024-03-03,1e300,5,paid\no6,C6,2024-03-03,\"¥1,234.50\",5,paid\n"
        "o7,C7,2024-03-03,\"1,5\",1,paid\no8,C8,2024-03-03,-0,0,paid\n",
        "negative_quantity.csv": "order_id,customer_id,order_time,amount,quantity\n"
        "o1,C1,2024-03-01,10,2\no2,C2,2024-03-01,10,-3\no3,C3,2024-03-01,10,1.5\n",
        "refunds.csv": HEAD + GOOD + "o3,C3,2024-03-03,70,20,refunded\n"
        "o4,C4,2024-03-03,70,20,已退款\no5,C5,2024-03-03,70,20,已取消\n"
        "o6,C6,2024-03-03,70,20,lost in space\n",
        "mixed_customers.csv": HEAD + GOOD + "o3,C3,2024-03-03,10,5,paid\n"
        "o3,C9,2024-03-03,10,5,paid\n",
        "duplicate_headers.csv": "order_id,customer_id,order_time,amount,amount\n"
        "o1,C1,2024-03-01,1,2\n",
        "duplicate_lines.csv": HEAD + GOOD + GOOD,
        "dates.csv": HEAD + "o1,C1,2024/03/01,1,0,paid\no2,C2,20240302,1,0,paid\n"
        "o3,C3,2024-03-03T10:00:00+08:00,1,0,paid\no4,C4,2024-03-04T02:00:00Z,1,0,paid\n"
        "o5,C5,03/05/2024,1,0,paid\no6,C6,yesterday,1,0,paid\no7,C7,2024-02-30,1,0,paid\n",
        "unicode_ids.csv": HEAD + "订单1,客户甲,2024-03-01,10,5,paid\no2,🙂,2024-03-02,20,5,paid\n",
        "long_strings.csv": HEAD + GOOD + f"o3,{long_id},2024-03-03,10,5,paid\n",
        "formulas.csv": HEAD + GOOD + 'o3,"=HYPERLINK(""http://x"",""y"")",2024-03-03,10,5,paid\n'
        "o4,+cmd|' /C calc'!A0,2024-03-03,10,5,paid\no5,@SUM(A1),2024-03-03,10,5,paid\n",
        "missing_column.csv": "order_id,customer_id,order_time,price\no1,C1,2024-03-01,10\n",
        # Terminal escapes, C0/C1 controls, a bidi override and Rich markup in every text
        # field and a header (shown escaped in tables and messages, never acted on).
        "control_chars.csv": f'{HEAD.strip()},channel,"{EVIL}"\n'
        f'o1,C1,2024-03-01,10,5,paid,"{EVIL}",x\n"o2{EVIL}","C2{EVIL}",2024-03-02,20,5,paid,'
        f'web,"{EVIL}"\n',
    }


def main() -> None:
    """Write every case."""
    for name, text in text_cases().items():
        (HERE / name).write_text(text, encoding="utf-8")
    rng = random.Random(7)
    (HERE / "random_bytes.csv").write_bytes(bytes(rng.randrange(256) for _ in range(4096)))
    (HERE / "bad_utf8.csv").write_bytes(
        (HEAD + GOOD).encode() + b"o3,C\xff\xfe3,2024-03-03,10,5,paid\n"
    )
    (HERE / "gbk.csv").write_bytes(
        "订单号,客户编号,下单时间,实付金额,成本,订单状态\n"
        "o1,C1,2024-03-01 10:00,100,60,已支付\no2,客户乙,2024-03-02,50,20,已退款\n".encode("gbk")
    )
    (HERE / "not_gzip.csv.gz").write_bytes(b"this is not gzip at all\n")
    (HERE / "real.csv.gz").write_bytes(gzip.compress((HEAD + GOOD).encode(), mtime=0))
    (HERE / "corrupt.parquet").write_bytes(b"PAR1" + bytes(range(200)) + b"PAR1")
    pl.DataFrame({
        "order_id": ["o1", "o2"], "customer_id": ["C1", "C2"], "order_time": [1, 2],
        "amount": ["abc", "12"],
    }).write_parquet(HERE / "wrong_types.parquet")
    mixed = HERE / "mixed_dir"
    mixed.mkdir(exist_ok=True)
    (mixed / "a.csv").write_text(HEAD + GOOD, encoding="utf-8")
    (mixed / "b.csv").write_text(
        "订单号,客户编号,下单时间,实付金额\no9,C9,2024-03-09,30\n", encoding="utf-8")
    (HERE / "events_control_chars.csv").write_text(
        "user_id,session_id,event,event_time,category,page\n" + "".join(
            f'u{i},s{i},"{step}",2024-03-01 10:0{j},"{EVIL}","{EVIL}"\n'
            for i in range(3)
            for j, step in enumerate(["product_view", f"add{EVIL}", "purchase", EVIL])),
        encoding="utf-8")
    (HERE / "events_no_steps.csv").write_text(
        "user_id,event,event_time\nu1,login,2024-03-01 10:00\nu1,logout,2024-03-01 10:05\n",
        encoding="utf-8")
    (HERE / "events_garbage.csv").write_text(
        "user_id,event,event_time\nu1,product_view,not a time\n,add_to_cart,2024-03-01\n"
        "u2,product_view,2024-03-01 10:00\nu2,add_to_cart,2024-03-01 09:00\n", encoding="utf-8")


if __name__ == "__main__":
    main()
