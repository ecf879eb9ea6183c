"""The approval threshold of a thread (`ThreadDAO.approvalThreshold`, protocol section 3): basis points of the
votes cast a spec's approvals must reach to approve it. Every thread starts at unanimity (today's rule); its
governor may lower it down to a strict majority (`ThreadDAO.setApprovalThreshold`)."""

UNANIMOUS_BPS = 10_000
"""The threshold of unanimity, every thread's initial value: approved only when every vote cast approves."""

MIN_APPROVAL_THRESHOLD_BPS = 5_001
"""The lowest threshold a governor may set (`ThreadDAO.MIN_APPROVAL_THRESHOLD`): a strict majority of the votes."""


def is_valid_threshold(bps: int) -> bool:
    """Whether the contract accepts `bps` as a thread's approval threshold."""
    return MIN_APPROVAL_THRESHOLD_BPS <= bps <= UNANIMOUS_BPS
