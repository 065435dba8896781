"""One reach rule for every service: who may act on which organisations."""

from __future__ import annotations

import pytest

from shared.access import OrganizationTree, Reach, ancestor_ids, reach_from, subtree_ids
from shared.identity import Identity

# federation → two associations; one has a branch
TREE = {"lhh": None, "hoi-tin-hoc": "lhh", "chi-hoi-1": "hoi-tin-hoc", "hoi-y-hoc": "lhh"}


def who(
    sub: str = "staff:lan", roles: tuple[str, ...] = (), org: str | None = None, scopes: tuple[str, ...] = ()
) -> Identity:
    return Identity(sub=sub, roles=roles, organization_id=org, scopes=scopes)


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        (who(roles=("admin",)), Reach.all()),
        (who(roles=("admin",), org="hoi-y-hoc"), Reach.all()),
        (who(roles=("manager",), org="hoi-tin-hoc"), Reach(False, frozenset({"hoi-tin-hoc", "chi-hoi-1"}))),
        (who(roles=("manager",)), Reach.none()),
        (who(roles=("manager",), org="dissolved"), Reach.none()),
        (who("key:a1b2c3d4", scopes=("members:read",), org="hoi-y-hoc"), Reach(False, frozenset({"hoi-y-hoc"}))),
        (who("key:a1b2c3d4", scopes=("members:read",)), Reach.all()),
        (who(roles=("judge",), org="hoi-tin-hoc"), Reach.none()),
        (who("anonymous"), Reach.none()),
    ],
)
def test_reach_of_each_kind_of_caller(identity, expected):
    assert reach_from(identity, TREE) == expected


def test_reach_answers_the_questions_services_ask():
    branch = reach_from(who(roles=("manager",), org="hoi-tin-hoc"), TREE)
    assert branch.covers("chi-hoi-1") and not branch.covers("lhh") and not branch.covers(None)
    assert branch.covers_any(["hoi-y-hoc", "chi-hoi-1"]) and not branch.covers_all(["hoi-y-hoc", "chi-hoi-1"])
    assert branch.within(["hoi-y-hoc", "chi-hoi-1"]) == {"chi-hoi-1"}
    assert branch.within(None) == {"hoi-tin-hoc", "chi-hoi-1"}
    assert Reach.all().within(None) is None and Reach.all().as_list() is None
    assert branch.as_list() == ["chi-hoi-1", "hoi-tin-hoc"] and Reach.none().nothing


def test_subtree_and_ancestors_survive_a_cycle():
    looped = {"a": "b", "b": "a", "c": "a"}
    assert subtree_ids("a", looped) == {"a", "b", "c"}
    assert ancestor_ids("c", looped) == ["c", "a", "b"]
    assert ancestor_ids("chi-hoi-1", TREE) == ["chi-hoi-1", "hoi-tin-hoc", "lhh"]


async def test_the_tree_is_read_once_per_ttl_and_again_after_a_change_here():
    reads = []

    async def load():
        reads.append(1)
        return TREE

    tree = OrganizationTree(load, ttl_seconds=60)
    manager = who(roles=("manager",), org="hoi-tin-hoc")
    assert await tree.reach(manager) == await tree.reach(manager)
    assert await tree.subtree("hoi-tin-hoc") == {"hoi-tin-hoc", "chi-hoi-1"} and await tree.subtree("x") == set()
    assert len(reads) == 1
    tree.invalidate()
    await tree.ancestors("chi-hoi-1")
    assert len(reads) == 2
    await tree.reach(who(roles=("admin",)))  # admins need no tree
    assert len(reads) == 2
