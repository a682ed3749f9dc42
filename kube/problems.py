"""Input that cannot be used, as one located line per problem: the exception every room raises for bad input.

Each reader collects into a plain `list[str]` while it walks (so it reports every problem, not the first) and
raises once at the end with `raise_if_any`. A line starts with where the problem is: a config path
(`tenancy:tenants[1].apps[0].name: ...`) or a file and document (`build/dev/acme.yaml doc 3: ...`). Front ends
print the lines and exit 2; nothing above them needs to know which reader failed.
"""

from __future__ import annotations

from typing import Iterable


class InputProblems(Exception):
    """`problems` holds one line per problem, each naming where it is."""

    def __init__(self, problems: Iterable[str]):
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


def raise_if_any(problems: list[str], error: type[InputProblems] = InputProblems) -> None:
    if problems:
        raise error(problems)
