"""``cust check``: see what the loader makes of your exports."""

from .common import run
from .main import app
from .options import GlobalOptions, command


@command(app, "check")
def check(g: GlobalOptions) -> None:
    """Check exports: formats, encodings, matched columns, rows read and rejected.

    Run it first on a new export to see which header became which column and why
    rows were rejected.

    Example: cust check --orders sample_data/订单导出.csv --rejects rejects.csv
    """
    from cust.pipelines.io import check_inputs

    run(g, lambda inputs, _config: check_inputs(inputs))
