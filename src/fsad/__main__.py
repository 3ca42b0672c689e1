"""`python -m fsad`: the `fsad` command through a given interpreter (Snakemake's rules use
it, so they need no `fsad` on PATH)."""

from fsad.cli import main

main()
