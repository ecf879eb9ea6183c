"""Signing keys: an Ape keystore account (passphrase from the environment) or a private key in an environment
variable; the development mnemonic's accounts only on the devnet; nothing secret in messages."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
from eth_account import Account

from choir_chain.chain import dev_accounts
from choir_chain.devnet import DEV_MNEMONIC
from choir_chain.keys import (
    SignerError,
    is_dev_address,
    keystore_path,
    load_signer,
    passphrase_variable,
    refuse_dev_address,
)
from choir_chain.paths import PROJECT_ROOT

SEPOLIA = 11155111
PASSPHRASE = "correct horse battery staple"
KDF_ITERATIONS = 1 << 12


def write_keystore(folder: Path, alias: str, key: bytes, passphrase: str = PASSPHRASE) -> Path:
    """An account in Ape's keystore format (what `ape accounts import` writes; a cheaper scrypt cost than its
    default, which takes a second or more per encryption or decryption)."""
    path = folder / "accounts" / f"{alias}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(Account.encrypt(key, passphrase, iterations=KDF_ITERATIONS)))
    return path


@pytest.fixture
def ape_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "ape"
    monkeypatch.setenv("APE_DATA_FOLDER", str(folder))
    return folder


def test_a_keystore_account_unlocks_with_the_passphrase_from_the_environment(
    ape_folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = Account.create()
    path = write_keystore(ape_folder, "pricer", bytes(own.key))
    assert keystore_path("pricer") == path
    monkeypatch.setenv(passphrase_variable("pricer"), PASSPHRASE)
    assert passphrase_variable("pricer") == "APE_ACCOUNTS_pricer_PASSPHRASE"  # the variable Ape itself reads
    assert load_signer("pricer", "UNUSED_KEY", chain_id=SEPOLIA).key == own.key

    monkeypatch.setenv(passphrase_variable("pricer"), "wrong")
    with pytest.raises(SignerError, match="wrong passphrase") as caught:
        load_signer("pricer", "UNUSED_KEY")
    assert "wrong" not in str(caught.value).replace("wrong passphrase", "")
    monkeypatch.delenv(passphrase_variable("pricer"))
    with pytest.raises(SignerError, match="set APE_ACCOUNTS_pricer_PASSPHRASE"):
        load_signer("pricer", "UNUSED_KEY", prompt=False)
    with pytest.raises(SignerError, match="ape accounts generate nobody"):
        load_signer("nobody", "UNUSED_KEY")


def test_a_key_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    own = Account.create()
    secret = "0x" + bytes(own.key).hex()
    monkeypatch.setenv("SOME_KEY", secret)
    assert load_signer(None, "SOME_KEY", chain_id=SEPOLIA).address == own.address
    monkeypatch.setenv("SOME_KEY", secret[:-2])
    with pytest.raises(SignerError) as caught:
        load_signer(None, "SOME_KEY")
    assert secret[:-2] not in str(caught.value)
    monkeypatch.delenv("SOME_KEY")
    with pytest.raises(SignerError, match="set SOME_KEY"):
        load_signer(None, "SOME_KEY")


def test_development_keys_only_on_the_devnet(ape_folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dev = dev_accounts(DEV_MNEMONIC, 20)
    assert all(is_dev_address(a.address.lower()) for a in dev)
    assert not is_dev_address(Account.create().address)
    refuse_dev_address(dev[0].address, 31337)
    with pytest.raises(SignerError, match="development mnemonic"):
        refuse_dev_address(dev[19].address, SEPOLIA, "admin")

    monkeypatch.setenv("SOME_KEY", "0x" + bytes(dev[1].key).hex())
    assert load_signer(None, "SOME_KEY", chain_id=31337).address == dev[1].address
    with pytest.raises(SignerError, match=f"refused on chain {SEPOLIA}"):
        load_signer(None, "SOME_KEY", chain_id=SEPOLIA)
    write_keystore(ape_folder, "imported-dev", bytes(dev[0].key))  # an imported development key is no better
    monkeypatch.setenv(passphrase_variable("imported-dev"), PASSPHRASE)
    with pytest.raises(SignerError, match="development mnemonic"):
        load_signer("imported-dev", "UNUSED_KEY", chain_id=SEPOLIA)


def test_no_keystore_inside_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    (PROJECT_ROOT / ".run").mkdir(exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix="ape-in-repo-", dir=PROJECT_ROOT / ".run"))
    try:
        write_keystore(folder, "inrepo", bytes(Account.create().key))
        monkeypatch.setenv("APE_DATA_FOLDER", str(folder))
        monkeypatch.setenv(passphrase_variable("inrepo"), PASSPHRASE)
        with pytest.raises(SignerError, match="inside the repository"):
            load_signer("inrepo", "UNUSED_KEY")
    finally:
        shutil.rmtree(folder)
