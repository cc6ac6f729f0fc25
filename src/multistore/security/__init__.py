"""Security: role-based authorisation and the audit log's hash chain.

Examples:
    >>> from multistore.security import RoleBasedAuthorizer
    >>> "store_manager" in RoleBasedAuthorizer().roles
    True
"""

from multistore.security.audit_chain import (
    canonical_details,
    chain_entry,
    entry_hash,
    first_break,
    verify_chain,
)
from multistore.security.rbac import (
    DEFAULT_ROLES,
    AllowAllAuthorizer,
    AllowSystemAuthorizer,
    RoleBasedAuthorizer,
    matches,
)

__all__ = [
    "DEFAULT_ROLES",
    "AllowAllAuthorizer",
    "AllowSystemAuthorizer",
    "RoleBasedAuthorizer",
    "canonical_details",
    "chain_entry",
    "entry_hash",
    "first_break",
    "matches",
    "verify_chain",
]
