"""What a claim's check receives: the profile, the seed, a cache for shared experiments, progress.

One Context serves one task (a group of claims on one seed, ``verify.tasks``): ``shared`` results
live as long as the task."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

PROFILES = ("quick", "full")


@dataclass
class Context:
    profile: str = "quick"
    seed: int = 0
    progress: Callable[[int, int, str], None] = lambda done, total, info="": None
    cache: dict = field(default_factory=dict)

    def pick(self, quick: Any, full: Any) -> Any:
        """The value of a setting under the current profile."""
        return quick if self.profile == "quick" else full

    def settings(self, settings: Any) -> Any:
        """A :class:`verify.experiments.settings.Settings` object resolved under the current profile."""
        return settings.resolve(self.profile)

    def shared(self, key: tuple, compute: Callable[[], Any]) -> Any:
        """Compute once per run: experiments shared by several claims (one training population, the
        max-margin solutions of one data set) are keyed by everything that determines them."""
        full_key = (self.profile, self.seed) + tuple(key)
        if full_key not in self.cache:
            self.cache[full_key] = compute()
        return self.cache[full_key]

    def experiment(self, exp) -> Any:
        """The result of a :class:`verify.tasks.Experiment` under this profile and seed, run once
        per task."""
        return self.shared(("experiment", exp.name), lambda: exp.run(exp.settings(self.profile), self.seed))
