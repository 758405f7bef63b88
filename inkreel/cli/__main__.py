"""`python -m inkreel.cli`: the same as the `inkreel` command."""

from inkreel.cli import main

if __name__ == "__main__":
    main()
