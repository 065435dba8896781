import pytest

from services.membership.tree import (
    InvalidPlacement,
    OrganizationIn,
    check_move,
    check_placement,
    depth_of,
    import_order,
    subtree_ids,
)

FED = {"_id": "f", "kind": "federation"}
ASSOC = {"_id": "a", "kind": "association"}
BRANCH = {"_id": "b", "kind": "branch"}
SME = {"_id": "e", "kind": "enterprise"}
PARENTS = {"f": None, "a": "f", "b": "a", "c": "f", "a2": "f", "b2": "a2"}


@pytest.mark.parametrize(
    "kind, parent",
    [
        ("association", FED),
        ("centre", FED),
        ("centre", ASSOC),
        ("branch", ASSOC),
        ("enterprise", FED),
    ],
)
def test_allowed_places(kind, parent):
    check_placement(kind, parent, has_root=True)


@pytest.mark.parametrize(
    "kind, parent",
    [
        ("branch", FED),
        ("branch", BRANCH),
        ("association", ASSOC),
        ("centre", BRANCH),
        ("branch", SME),
        ("association", None),
        ("federation", FED),
    ],
)
def test_refused_places(kind, parent):
    with pytest.raises(InvalidPlacement):
        check_placement(kind, parent, has_root=True)


def test_only_one_federation_at_the_root():
    check_placement("federation", None, has_root=False)
    with pytest.raises(InvalidPlacement):
        check_placement("federation", None, has_root=True)


def test_a_node_never_moves_under_itself_or_its_descendants():
    with pytest.raises(InvalidPlacement):
        check_move("a", "b", PARENTS)
    with pytest.raises(InvalidPlacement):
        check_move("a", "a", PARENTS)
    check_move("b", "a2", PARENTS)


def test_subtrees_and_depths():
    assert subtree_ids("a", PARENTS) == {"a", "b"}
    assert subtree_ids("f", PARENTS) == set(PARENTS)
    assert (depth_of("f", PARENTS), depth_of("b2", PARENTS)) == (0, 2)


def test_import_places_parents_before_children_whatever_the_file_order():
    rows = [
        {"code": "B", "parent_code": "A"},
        {"code": "A", "parent_code": "F"},
        {"code": "F", "parent_code": None},
        {"code": "X", "parent_code": "X"},
    ]
    assert [r["code"] for r in import_order(rows)] == ["F", "A", "B", "X"]


def test_organisation_input_is_cleaned_and_strict():
    org = OrganizationIn.model_validate(
        {
            "code": " hoi-tin-hoc ",
            "name": " Hội  Tin học ",
            "kind": "association",
            "parent_id": "f",
            "contact_phone": "0274.3822.222",
        }
    )
    assert (org.code, org.name, org.contact_phone) == ("HOI-TIN-HOC", "Hội Tin học", "+842743822222")
    with pytest.raises(ValueError):
        OrganizationIn.model_validate({"code": "HỘI", "name": "x", "kind": "association", "$where": 1})
