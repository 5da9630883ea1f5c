"""The hostile classes of the cache and scratch files (issue 20, items 5, 6 and 8), run by
every command that reads the source: a gzip bomb as any text source is exit 2 with a hint,
and a damaged or forged orders cache entry never changes a figure or the exit code."""

import gzip
import json

import pytest
from typer.testing import CliRunner

from cust.cli.main import app
from cust.pipelines.io import sources

runner = CliRunner()

ORDER_COMMANDS = {
    "check": ["check"],
    "segment buckets": ["segment", "buckets", "--trend", "week"],
    "segment abc": ["segment", "abc"],
    "segment rfm": ["segment", "rfm"],
    "segment profile": ["segment", "profile", "--by", "channel"],
    "cohort": ["cohort"],
    "promo simulate": ["promo", "simulate", "--threshold", "50", "--reward-amount", "5"],
    "promo compare": ["promo", "compare"],
    "report weekly": ["report", "weekly"],
}
EVENT_COMMANDS = {
    "funnel": ["funnel"],
    "paths": ["paths", "--from", "product_view"],
    "funnel paths": ["funnel", "paths", "--from", "product_view"],
}
CUSTOMER_COMMANDS = ("check", "segment profile")  # cohort does not read customer rows
HEADERS = {
    "orders": "order_id,customer_id,order_time,amount,cost,status\n",
    "events": "event_time,user_id,session_id,event,page\n",
    "customers": "customer_id,registered_at,customer_type,industry,region,channel\n",
}
LINES = {
    "orders": "O1,C1,2024-03-01 10:00:00,10.00,5,paid\n",
    "events": "2024-03-01 10:00:00,V1,S1,product_view,product\n",
    "customers": "C1,2022-11-07 17:40:07,enterprise,automotive,north,search\n",
}
GOOD_ORDERS = HEADERS["orders"] + "O1,C1,2024-03-01 10:00:00,10.00,5,paid\n" \
    "O2,C2,2024-03-02 10:00:00,60.00,20,paid\n"


@pytest.fixture(scope="module")
def bombs(tmp_path_factory):
    """One small bomb per source: about 400x, 24 MB expanded, tripping a 1 MiB bound."""
    folder = tmp_path_factory.mktemp("bombs")
    made = {}
    for source, header in HEADERS.items():
        path = folder / f"{source}.csv.gz"
        with gzip.open(path, "wb", compresslevel=9) as out:
            out.write(header.encode())
            chunk = LINES[source].encode() * (1 << 15)
            for _ in range((24 << 20) // len(chunk)):
                out.write(chunk)
        made[source] = path
    return made


def _cases():
    for name in ORDER_COMMANDS:
        yield name, "orders"
    for name in EVENT_COMMANDS:
        yield name, "events"
    for name in CUSTOMER_COMMANDS:
        yield name, "customers"


@pytest.mark.parametrize(("command", "source"), list(_cases()), ids=lambda v: str(v))
def test_a_gzip_bomb_is_exit_2_with_a_hint_in_every_command(
    bombs, tmp_path, monkeypatch, command, source
):
    monkeypatch.setattr(sources, "GZIP_FREE_BYTES", 1 << 20)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CUST_CACHE_DIR", str(tmp_path / "cache"))
    args = [*ORDER_COMMANDS.get(command, EVENT_COMMANDS.get(command, [])),
            f"--{source}", str(bombs[source])]
    if source == "customers":
        orders = tmp_path / "orders.csv"
        orders.write_text(GOOD_ORDERS, encoding="utf-8")
        args += ["--orders", str(orders)]
    report = command == "report weekly"
    out = tmp_path / ("report.html" if report else "out.json")
    result = runner.invoke(app, [*args, "--out", str(out), *([] if report else ["-f", "json"])])
    assert result.exit_code == 2, result.output
    assert "possible gzip bomb" in result.stderr
    assert "Hint:" in result.stderr
    assert "Traceback" not in result.output
    assert not out.exists()


def _damage(entry, how):
    if how == "bit flips":
        part = entry / "per_order-000.parquet"
        data = bytearray(part.read_bytes())
        for at in range(len(data) // 3, len(data) // 3 + 8):
            data[at] ^= 0xFF
        part.write_bytes(bytes(data))
    elif how == "meta a list":
        (entry / "meta.json").write_text("[]", encoding="utf-8")
    elif how == "world-writable, forged":
        import polars as pl

        part = entry / "per_order-000.parquet"
        pl.read_parquet(part).with_columns(pl.col("value") * 10).write_parquet(part)
        meta = json.loads((entry / "meta.json").read_text(encoding="utf-8"))
        from cust.pipelines.io.cache import _file_hash

        meta["hashes"][part.name] = _file_hash(part).hex()
        (entry / "meta.json").write_text(json.dumps(meta), encoding="utf-8")
        entry.parent.chmod(0o777)


@pytest.mark.parametrize("how", ["bit flips", "meta a list", "world-writable, forged"])
@pytest.mark.parametrize("command", [c for c in ORDER_COMMANDS if c != "report weekly"])
def test_a_damaged_or_forged_entry_changes_nothing_in_any_orders_command(
    tmp_path, monkeypatch, command, how
):
    """The sample's orders, through a damaged entry: the JSON of ``--no-cache``."""
    monkeypatch.chdir(tmp_path)
    root = tmp_path / "cache"
    monkeypatch.setenv("CUST_CACHE_DIR", str(root))
    args = [*ORDER_COMMANDS[command], "-f", "json"]
    cold = runner.invoke(app, ["--no-cache", *args])
    assert cold.exit_code == 0, cold.output
    assert runner.invoke(app, args).exit_code == 0
    (entry,) = [p for p in root.iterdir() if p.name.startswith("orders-")]
    _damage(entry, how)
    for _ in range(2):
        warm = runner.invoke(app, args)
        assert warm.exit_code == 0, warm.output
        assert "Traceback" not in warm.output
        assert json.loads(warm.stdout) == json.loads(cold.stdout)
