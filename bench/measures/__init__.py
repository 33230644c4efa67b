"""One function per figure, each `(run, options, tmp) -> None`: it starts what it needs through
bench/harness/, records its results (or its problems) in the Run, and stops everything it
started. run.py calls them in options.FIGURES order."""
