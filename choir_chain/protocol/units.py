"""Units of the protocol (section 1): CHOIR has 18 decimals like ether, and on-chain fractions (similarities,
weights) are 18-decimal fixed-point numbers."""

CHOIR = 10**18
"""Wei per CHOIR."""

WAD = 10**18
"""The fixed-point one of on-chain fractions (a similarity of 0.97 is `0.97 * WAD`)."""
