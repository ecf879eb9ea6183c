"""Signing keys for services and deployments: an Ape keystore account or a private key in an environment
variable, never a file in the repository; and the rule that the public development mnemonic's accounts are for
the devnet (chain id 31337) only.

An Ape keystore account is the JSON file ``<alias>.json`` (Ethereum keystore v3, as ``ape accounts generate`` or
``ape accounts import`` write it) in Ape's data folder: ``$APE_DATA_FOLDER/accounts``, default
``~/.ape/accounts``. Its passphrase comes from ``APE_ACCOUNTS_<alias>_PASSPHRASE`` (the variable Ape itself
reads to unlock an account without a prompt) or, on a terminal, from a prompt.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from functools import cache
from pathlib import Path

from eth_account import Account
from eth_account.hdaccount import key_from_seed, seed_from_mnemonic
from eth_account.signers.local import LocalAccount
from eth_utils import to_checksum_address

from choir_chain.devnet import DEV_MNEMONIC, DEVNET_CHAIN_ID
from choir_chain.paths import PROJECT_ROOT

DEV_ACCOUNT_COUNT = 20
"""How many accounts of the development mnemonic count as development accounts (anvil and Ape use the first 10,
Hardhat the first 20)."""


class SignerError(RuntimeError):
    """No usable key: missing, unreadable, wrong passphrase, or a development key off the devnet. The message never
    contains the key or the passphrase."""


@cache
def dev_addresses() -> frozenset[str]:
    """Checksummed addresses of the first `DEV_ACCOUNT_COUNT` accounts of the public development mnemonic."""
    seed = seed_from_mnemonic(DEV_MNEMONIC, passphrase="")
    return frozenset(
        Account.from_key(key_from_seed(seed, f"m/44'/60'/0'/0/{i}")).address for i in range(DEV_ACCOUNT_COUNT)
    )


def is_dev_address(address: str) -> bool:
    """Whether `address` belongs to the public development mnemonic (anyone can sign for it)."""
    return to_checksum_address(address) in dev_addresses()


def refuse_dev_address(address: str, chain_id: int, what: str = "account") -> None:
    """Raise `SignerError` if `address` is a development account and the chain is not the devnet."""
    if chain_id != DEVNET_CHAIN_ID and is_dev_address(address):
        raise SignerError(
            f"{what} {to_checksum_address(address)} is an account of the public development mnemonic "
            f"(test test ... junk), which anyone can sign for: refused on chain {chain_id} "
            f"(allowed only on the devnet, chain {DEVNET_CHAIN_ID})"
        )


def ape_data_folder() -> Path:
    """Ape's data folder: ``$APE_DATA_FOLDER`` or ``~/.ape``."""
    folder = os.environ.get("APE_DATA_FOLDER")
    return Path(folder) if folder else Path.home() / ".ape"


def keystore_path(alias: str) -> Path:
    """Where Ape keeps the keystore of account `alias`."""
    return ape_data_folder() / "accounts" / f"{alias}.json"


def passphrase_variable(alias: str) -> str:
    """The environment variable Ape reads the passphrase of account `alias` from."""
    return f"APE_ACCOUNTS_{alias}_PASSPHRASE"


def load_signer(alias: str | None, env_var: str, *, chain_id: int | None = None, prompt: bool = True) -> LocalAccount:
    """The signing account: from the Ape keystore `alias` if given, else from the private key (hex) in `env_var`.

    The keystore's passphrase comes from ``APE_ACCOUNTS_<alias>_PASSPHRASE``, or (with `prompt`, on a terminal)
    from a prompt. With `chain_id`, a key of the development mnemonic is refused unless the chain is the devnet.
    Raises `SignerError`.
    """
    account = _from_keystore(alias, prompt) if alias else _from_env(env_var)
    if chain_id is not None:
        refuse_dev_address(account.address, chain_id, "signer")
    return account


def _from_keystore(alias: str, prompt: bool) -> LocalAccount:
    path = keystore_path(alias)
    if not path.is_file():
        raise SignerError(
            f"no Ape account {alias!r} (looked for {path}): create it with `ape accounts generate {alias}` or "
            f"`ape accounts import {alias}`"
        )
    if path.resolve().is_relative_to(PROJECT_ROOT):
        raise SignerError(f"keystore {path} is inside the repository; keep keystores in Ape's data folder")
    try:
        keystore = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise SignerError(f"cannot read keystore {path}: {err}") from None
    variable = passphrase_variable(alias)
    passphrase = os.environ.get(variable)
    if passphrase is None:
        if not (prompt and sys.stdin.isatty()):
            raise SignerError(f"no passphrase for Ape account {alias!r}: set {variable}")
        passphrase = getpass.getpass(f"Passphrase of Ape account {alias!r}: ")
    try:
        key = Account.decrypt(keystore, passphrase)
    except ValueError:
        raise SignerError(f"wrong passphrase for Ape account {alias!r} ({path})") from None
    except (KeyError, TypeError):
        raise SignerError(f"{path} is not an Ethereum keystore") from None
    return Account.from_key(key)


def _from_env(env_var: str) -> LocalAccount:
    key = os.environ.get(env_var, "").strip()
    if not key:
        raise SignerError(f"no key: set {env_var} to a private key (hex), or name an Ape keystore account")
    try:
        return Account.from_key(key)
    except (ValueError, TypeError):
        raise SignerError(f"{env_var} does not hold a valid private key (64 hex digits)") from None
