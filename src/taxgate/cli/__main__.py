"""``python -m taxgate.cli``: the same command line as the ``taxgate`` script."""

from taxgate.cli import main

if __name__ == "__main__":
    main()
