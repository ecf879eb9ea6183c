"""The EIP-712 typed data of a governance `Ballot` (`POST /tx/ballot`): what a wallet's `eth_signTypedData_v4`
takes, so the field names are EIP-712's own spelling (`primaryType`, `chainId`, `verifyingContract`, ...) and the
JSON keys come out in the order the wallet reads them."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from api.schemas.common import ALICE, GOVERNOR_1, Address, examples


class TypedField(BaseModel):
    """One member of an EIP-712 struct type."""

    name: str
    type: str


class BallotTypes(BaseModel):
    """The struct types the ballot uses: the domain's and the ballot's own."""

    EIP712Domain: list[TypedField]
    Ballot: list[TypedField]


class BallotDomain(BaseModel):
    """The governor's EIP-712 domain, as its `eip712Domain()` answers."""

    name: str = Field(description="The governor's name.")
    version: str
    chainId: int
    verifyingContract: Address = Field(description="The governor.")


class BallotMessage(BaseModel):
    """The ballot itself (`castVoteBySig`'s arguments)."""

    proposalId: str = Field(pattern=r"^[0-9]+$", description="The proposal id, a uint256 as a decimal string.")
    support: int = Field(ge=0, le=2, description="0 against, 1 for, 2 abstain.")
    voter: Address
    nonce: str = Field(pattern=r"^[0-9]+$", description="The voter's next nonce at the governor, a decimal string.")


class TypedBallot(BaseModel):
    """The typed data a voter signs for a gasless vote; send the signature to `POST /tx/relayVote`."""

    model_config = examples(
        {
            "types": {
                "EIP712Domain": [
                    {"name": "name", "type": "string"},
                    {"name": "version", "type": "string"},
                    {"name": "chainId", "type": "uint256"},
                    {"name": "verifyingContract", "type": "address"},
                ],
                "Ballot": [
                    {"name": "proposalId", "type": "uint256"},
                    {"name": "support", "type": "uint8"},
                    {"name": "voter", "type": "address"},
                    {"name": "nonce", "type": "uint256"},
                ],
            },
            "primaryType": "Ballot",
            "domain": {"name": "ThreadGovernor", "version": "1", "chainId": 31337, "verifyingContract": GOVERNOR_1},
            "message": {"proposalId": "1", "support": 1, "voter": ALICE, "nonce": "0"},
        }
    )

    types: BallotTypes
    primaryType: Literal["Ballot"]
    domain: BallotDomain
    message: BallotMessage
