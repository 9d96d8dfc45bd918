"""Member keys: an encrypted keystore per member, or keys from the environment for CI."""

from __future__ import annotations

import json
import stat

import pytest
from eth_account import Account

from chain.errors import (
    InvalidMemberNameError,
    KeystoreError,
    MemberKeyExistsError,
    UnknownMemberKeyError,
)
from chain.keys import EnvironmentKeys, Keystore, MemberKeys, env_var_for

FAST_SCRYPT = 2**4  # tests only: a real keystore uses the standard cost


@pytest.fixture
def keystore(tmp_path):
    return Keystore(tmp_path / "keys", password="correct horse", scrypt_n=FAST_SCRYPT)


def test_generated_key_is_stored_encrypted_and_loads_back(keystore):
    created = keystore.generate("gov-a")

    loaded = keystore.load("gov-a")
    document = json.loads(keystore.path_for("gov-a").read_text())
    assert loaded.address == created.address
    assert loaded.account.key == created.account.key
    assert document["crypto"]["kdf"] == "scrypt"
    assert created.account.key.hex() not in keystore.path_for("gov-a").read_text()
    assert stat.S_IMODE(keystore.path_for("gov-a").stat().st_mode) == 0o600


def test_keystore_files_are_standard_v3_files(keystore):
    created = keystore.generate("bureau")

    document = json.loads(keystore.path_for("bureau").read_text())
    assert Account.decrypt(document, "correct horse") == created.account.key  # any v3 reader can use it


def test_listing_members_needs_no_password(tmp_path, keystore):
    keystore.generate("gov-a")
    keystore.generate("financier")
    locked = Keystore(tmp_path / "keys", password=None, scrypt_n=FAST_SCRYPT)

    assert locked.names() == ["financier", "gov-a"]
    assert locked.addresses()["gov-a"] == keystore.load("gov-a").address


def test_wrong_password_is_refused_without_leaking_the_key(tmp_path, keystore):
    keystore.generate("gov-a")
    wrong = Keystore(tmp_path / "keys", password="battery staple", scrypt_n=FAST_SCRYPT)

    with pytest.raises(KeystoreError, match="wrong keystore password"):
        wrong.load("gov-a")


def test_password_comes_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ABS_KEYSTORE_PASSWORD", "from-env")
    store = Keystore(tmp_path / "keys", scrypt_n=FAST_SCRYPT)
    created = store.generate("scorer")

    assert Keystore(tmp_path / "keys", password="from-env").load("scorer").address == created.address


def test_missing_password_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("ABS_KEYSTORE_PASSWORD", raising=False)

    with pytest.raises(KeystoreError, match="ABS_KEYSTORE_PASSWORD"):
        Keystore(tmp_path / "keys", scrypt_n=FAST_SCRYPT).generate("scorer")


def test_existing_keys_are_never_overwritten(keystore):
    first = keystore.generate("gov-a")

    with pytest.raises(MemberKeyExistsError):
        keystore.generate("gov-a")
    assert keystore.load("gov-a").address == first.address


def test_unknown_member_is_a_lookup_error(keystore):
    with pytest.raises(UnknownMemberKeyError) as missing:
        keystore.load("nobody")

    assert isinstance(missing.value, LookupError)


@pytest.mark.parametrize("name", ["Gov-A", "gov_a", "-gov", "gov--a", "", "a" * 65])
def test_member_names_are_lowercase_words_joined_by_hyphens(keystore, name):
    with pytest.raises(InvalidMemberNameError):
        keystore.generate(name)


def test_environment_keys_follow_the_naming_rule():
    key = Account.create()
    keys = EnvironmentKeys({"ABS_KEY_IOT_GATEWAY": key.key.hex(), "OTHER": "x"})

    assert env_var_for("iot-gateway") == "ABS_KEY_IOT_GATEWAY"
    assert keys.names() == ["iot-gateway"]
    assert keys.load("iot-gateway").address == key.address


def test_a_malformed_environment_key_is_refused_without_echoing_it():
    secret = "0x" + "zz" * 32

    with pytest.raises(KeystoreError) as refused:
        EnvironmentKeys({"ABS_KEY_GOV_A": secret}).load("gov-a")

    assert secret not in str(refused.value)
    assert "ABS_KEY_GOV_A" in str(refused.value)


def test_environment_keys_take_precedence_over_the_keystore(keystore):
    keystore.generate("gov-a")
    ci_key = Account.create()
    keys = MemberKeys(keystore, EnvironmentKeys({"ABS_KEY_GOV_A": ci_key.key.hex()}))

    assert keys.load("gov-a").address == ci_key.address
    assert keys.names() == ["gov-a"]


def test_ensure_generates_once_then_reuses(keystore):
    keys = MemberKeys(keystore, EnvironmentKeys({}))

    first = keys.ensure("auditor")

    assert keys.ensure("auditor").address == first.address
    assert keystore.names() == ["auditor"]


def test_member_key_repr_hides_the_private_key(keystore):
    created = keystore.generate("exchange")

    assert created.account.key.hex() not in repr(created)
    assert created.address in repr(created)
