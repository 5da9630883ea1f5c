"""Same inputs, same bytes; ids masked for sharing; outputs never overwrite inputs; no
network at run time."""

import json
import socket

import polars as pl
import pytest
from typer.testing import CliRunner

from cust.cli.main import app

runner = CliRunner()
COMMANDS = [
    ["check"], ["segment", "buckets", "--trend", "month"], ["segment", "abc"],
    ["segment", "rfm"], ["segment", "profile"], ["cohort"], ["promo", "simulate"],
    ["promo", "compare"], ["funnel", "--drift", "--by", "category", "--period", "week"],
    ["paths"],
]


@pytest.mark.parametrize("fmt", ["json", "csv", "html"])
@pytest.mark.parametrize("args", COMMANDS, ids=lambda a: " ".join(a[:2]))
def test_byte_identical_outputs(args, fmt, tmp_path):
    outs = []
    for i in range(2):
        out = tmp_path / f"{i}.{fmt}"
        result = runner.invoke(app, [*args, "-f", fmt, "--out", str(out)])
        assert result.exit_code == 0, result.output
        outs.append(out.read_bytes())
    assert outs[0] == outs[1]


def test_mask_ids_everywhere(tmp_path):
    plain = runner.invoke(app, ["segment", "rfm", "-f", "csv"]).stdout
    masked = runner.invoke(app, ["segment", "rfm", "-f", "csv", "--mask-ids",
                                 "--mask-salt", "pepper"])
    assert masked.exit_code == 0, masked.output
    ids = pl.read_csv(plain.encode())["customer_id"].to_list()
    tokens = pl.read_csv(masked.stdout.encode())["customer_id"].to_list()
    assert len(set(tokens)) == len(set(ids))
    assert all(t.startswith("m_") and len(t) == 18 for t in tokens)
    assert not set(ids) & set(tokens)
    assert ids[0] not in masked.stdout
    again = runner.invoke(app, ["segment", "rfm", "-f", "csv", "--mask-ids", "--mask-salt",
                                "pepper"]).stdout
    assert again == masked.stdout
    other = runner.invoke(app, ["segment", "rfm", "-f", "csv", "--mask-ids", "--mask-salt",
                                "salt"]).stdout
    assert other != masked.stdout
    doc = json.loads(runner.invoke(app, ["segment", "abc", "-f", "json", "--mask-ids",
                                         "--mask-salt", "pepper"]).stdout)
    candidates = [r["customer_id"] for r in doc.get("b_to_a_candidates", [])]
    assert all(c.startswith("m_") for c in candidates)
    refused = runner.invoke(app, ["segment", "rfm", "--mask-ids"])
    assert refused.exit_code == 2
    assert "salt" in refused.output
    config = tmp_path / "cust.toml"
    config.write_text("[privacy]\nsalt = 5\n", encoding="utf-8")
    refused = runner.invoke(app, ["segment", "rfm", "--mask-ids", "--config", str(config)])
    assert refused.exit_code == 2
    assert "[privacy] salt must be a string, not int 5" in refused.output


def test_out_never_overwrites_an_input(tmp_path):
    orders = tmp_path / "orders.csv"
    orders.write_text("order_id,customer_id,order_time,amount\no1,C1,2024-01-01,5\n",
                      encoding="utf-8")
    before = orders.read_bytes()
    result = runner.invoke(app, ["segment", "buckets", "--orders", str(orders), "--out",
                                 str(orders)])
    assert result.exit_code == 2
    assert orders.read_bytes() == before


def test_no_network_at_run_time(monkeypatch, tmp_path):
    def refuse(*_args, **_kwargs):
        msg = "network access attempted"
        raise AssertionError(msg)

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    for args in [*COMMANDS, ["report", "weekly", "--out", str(tmp_path / "r.html")]]:
        result = runner.invoke(app, [*args, "-f", "json"])
        assert result.exit_code == 0, (args, result.output, result.exception)
