"""The search's progress bar."""

from __future__ import annotations

import math
import sys
import time


class Progress:
    """tqdm over trials (with --trials) or seconds (with --budget): trials run,
    best score so far, time left. `factory(total)` makes the bar; None: no bar."""

    def __init__(self, factory, config, started: float):
        self.config, self.started = config, started
        total = config.trials if config.trials is not None else int(math.ceil(config.budget))
        self.bar = factory(total) if factory else None
        self.done = 0

    def trial_done(self, n: int, best: float) -> None:
        if self.bar is None:
            return
        elapsed = time.perf_counter() - self.started
        if self.config.trials is not None:
            self.bar.update(1)
        else:
            target = min(int(elapsed), self.bar.total)
            self.bar.update(max(0, target - self.done))
            self.done = max(self.done, target)
        left = max(0.0, self.config.budget - elapsed) if self.config.trials is None else None
        postfix = {"trials": n, "best": f"{best:.4f}" if not math.isnan(best) else "-"}
        if left is not None:
            postfix["left"] = f"{left:.0f}s"
        self.bar.set_postfix(postfix)

    def describe(self, text: str) -> None:
        if self.bar is not None:
            self.bar.set_description(text)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def note(self, text: str) -> None:
        """A line for the user, above the bar."""
        if self.bar is not None and hasattr(self.bar, "write"):
            self.bar.write(text, file=sys.stderr)
        else:
            print(text, file=sys.stderr, flush=True)
