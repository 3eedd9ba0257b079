"""``python -m recviz.train ARGS``: ``recviz train ARGS`` by another name, the entry point torchrun starts
on each process (``torchrun --nproc-per-node 4 -m recviz.train --data DIR --out DIR``); the same flags."""

from recviz.cli import main as cli_main


def main() -> None:
    import sys

    sys.argv = ["recviz", "train", *sys.argv[1:]]
    cli_main()


if __name__ == "__main__":
    main()
