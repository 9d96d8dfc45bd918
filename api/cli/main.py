"""``absctl``: one command line for every party of the consortium.

Each party's commands live in their own module as a Typer sub-application and are added here.
Settings come from the environment (``ABS_*``, ``DATABASE_URL``; see ``api/settings.py``).
"""

from __future__ import annotations

import typer

from api.cli import bureau, chain_cmd, exchange, iot, members, model, monitor, pack, product
from api.cli import audit

app = typer.Typer(
    name="absctl",
    help="Risk-controlled asset securitization on a permissioned chain.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(chain_cmd.app, name="chain")
app.command("deploy")(chain_cmd.deploy)
app.add_typer(members.app, name="members")
# Sub-applications of later capabilities are added below, one line each.
app.add_typer(model.app, name="model")
app.add_typer(exchange.app, name="exchange")
app.add_typer(product.app, name="product")
app.add_typer(iot.app, name="iot")
app.add_typer(bureau.app, name="bureau")
app.add_typer(pack.app, name="pack")
app.add_typer(monitor.app, name="monitor")
members.app.command("api-key")(pack.issue_key)  # an orchestrator API key bound to a member
app.add_typer(audit.app, name="audit")

if __name__ == "__main__":  # pragma: no cover
    app()
