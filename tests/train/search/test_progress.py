"""The progress bar counts trials with --trials and seconds with --budget."""

from train.search import SearchConfig
from train.search.progress import Progress


class Bar:
    def __init__(self, total):
        self.total, self.n, self.postfix, self.closed = total, 0, None, False

    def update(self, k):
        self.n += k

    def set_postfix(self, postfix):
        self.postfix = postfix

    def set_description(self, text):
        self.description = text

    def close(self):
        self.closed = True


def test_with_trials_the_bar_counts_trials_and_shows_the_best():
    progress = Progress(Bar, SearchConfig(["logreg"], ["none"], trials=3), started=0.0)
    progress.trial_done(1, float("nan"))
    progress.trial_done(2, 0.81234)
    assert progress.bar.total == 3 and progress.bar.n == 2
    assert progress.bar.postfix == {"trials": 2, "best": "0.8123"}
    progress.close()
    assert progress.bar.closed


def test_with_a_budget_the_bar_counts_seconds_and_time_left():
    import time

    progress = Progress(Bar, SearchConfig(["logreg"], ["none"], budget=5.0), time.perf_counter())
    progress.trial_done(1, 0.5)
    assert progress.bar.total == 5 and progress.bar.n <= 5
    assert progress.bar.postfix["left"].endswith("s")


def test_no_factory_no_bar():
    progress = Progress(None, SearchConfig(["logreg"], ["none"]), 0.0)
    progress.trial_done(1, 0.5)
    progress.describe("anything")
    progress.close()
    assert progress.bar is None
