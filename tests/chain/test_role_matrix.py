"""Every state-changing function of every platform contract refuses an outsider, by name.

The cases come from the compiled ABIs, not from a hand-kept list: a new function without a
row in ``role_matrix.DENIALS`` fails here until someone states how it must be denied.
"""

from __future__ import annotations

import pytest
from eth_utils import collapse_if_tuple
from role_matrix import DENIALS, dummy_args, function_key, is_state_changing

from chain.compile import compile_contracts
from chain.errors import ContractCustomError


def _platform_functions() -> list[tuple[str, dict]]:
    cases = []
    for name, artifact in sorted(compile_contracts().items()):
        if artifact.bytecode in ("", "0x"):  # interfaces and abstract contracts deploy nothing
            continue
        cases += [(name, entry) for entry in artifact.abi if is_state_changing(entry)]
    return cases


FUNCTIONS = _platform_functions()


def test_every_table_row_names_an_existing_function():
    existing = {function_key(contract, entry) for contract, entry in FUNCTIONS}
    stale = sorted(set(DENIALS) - existing)
    assert not stale, f"role_matrix.DENIALS rows for functions that no longer exist: {stale}"


def test_matrix_covers_the_consortium_contracts():
    covered = {contract for contract, _ in FUNCTIONS}
    assert {"MemberRegistry", "CreditRegistry", "ModelRegistry", "ScoreRegistry", "AssetPack"} <= covered


@pytest.mark.parametrize(
    ("contract", "entry"), FUNCTIONS, ids=[function_key(c, e) for c, e in FUNCTIONS]
)
def test_outsider_is_denied(consortium, contract, entry):
    key = function_key(contract, entry)
    denial = DENIALS.get(key)
    assert denial is not None, f"no denial row for {key}: add one to tests/chain/role_matrix.py"
    assert contract in consortium.contracts, f"{contract} is not deployed: add it to deploy.platform_specs"
    outsider = consortium.outsider
    args = denial.args(entry) if denial.args else dummy_args(entry)
    function = consortium.contract(contract).get_function_by_signature(_signature(entry))(*args)

    with pytest.raises(ContractCustomError) as denied:
        outsider.transact(function)

    assert denied.value.name == denial.error
    expected = denial.expected(outsider.address)
    if expected is not None:
        assert denied.value.args == expected


def _signature(entry: dict) -> str:
    return f"{entry['name']}({','.join(collapse_if_tuple(i) for i in entry['inputs'])})"
