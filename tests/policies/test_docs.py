"""policies/README.md is generated from the rules and must not drift."""

from __future__ import annotations

import pytest

from policies import docs
from policies.errors import DocsDriftError
from policies.registry import ALL_RULES


def test_readme_matches_the_rules() -> None:
    docs.verify()  # fails with the command to run when a rule changed without regenerating


def test_readme_lists_every_rule() -> None:
    text = docs.current()
    assert all(f"| {r.id} | `{r.name}` |" in text for r in ALL_RULES)


def test_drift_is_detected(tmp_path: pytest.TempPathFactory) -> None:
    stale = tmp_path / "README.md"  # type: ignore[operator]
    stale.write_text(docs.current().replace("NET-03", "NET-99"), encoding="utf-8")
    with pytest.raises(DocsDriftError, match="agatha policy docs --write"):
        docs.verify(stale)
