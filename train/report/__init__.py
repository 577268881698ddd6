"""The run's report: data overview, leaderboard, search trajectory, ensemble,
serving cost against quality, curves, feature importance and a model card, as
one self-contained report.html (images embedded) and a report.md with the same
figures as PNG files beside it.

It reads what the search computed and the run folder's files; the only extra
fits are the runner-up's refit (for its test curves) and the permutation
importance's predictions. Overview figures, the runner-up's refit and the
importance use bounded samples, so a table of millions of rows costs no
more than one of a hundred thousand.

- `sections`: what the report says, in order (`build`, `write`)
- `figures`, `search_figures`: the pictures; `stats`: the numbers behind them
- `card`: the model card; `render`: HTML and Markdown from one document
- `run_files`: the optional run-folder inputs
"""

from train.report.sections import build, write

__all__ = ["build", "write"]
