"""The ``recviz`` command: a thin shell over the library (data, train, evaluate, explain, report).

Each command parses arguments, calls one library function and prints; errors a user can cause
(:class:`RecvizError`) are printed as one clear line with exit code 2, never as a traceback.
"""

from __future__ import annotations

import sys

import typer

from recviz.errors import RecvizError

app = typer.Typer(add_completion=False, no_args_is_help=True, help="recviz: explain multi-interest recommenders.")
data_app = typer.Typer(no_args_is_help=True, help="Inspect interaction data sets.")
app.add_typer(data_app, name="data")


# --- commands are added below, one section per layer ------------------------------------------------------


def main() -> None:
    """Console-script entry point: run the app, turning project errors into a clear message."""
    try:
        app(standalone_mode=False)
    except RecvizError as exc:
        typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(1)
    except Exception as exc:  # click usage errors carry their own exit code
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        raise


if __name__ == "__main__":
    main()
