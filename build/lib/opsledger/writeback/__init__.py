"""Write-back with governance: users and roles, form submissions into a durable
append-only inbox, approvals, export as contract events, audit.

Nothing here writes the published warehouse: approved submissions become landing
files that the next `opsledger refresh` ingests like any other source."""

from opsledger.writeback.audit import approval_chains, audit_log
from opsledger.writeback.inbox import applied_at, apply_pending, export_pending, submission_status
from opsledger.writeback.submissions import (
    FormSession,
    StaleForm,
    Submission,
    approve,
    decide,
    open_form,
    reject,
    submit_adjustment,
    submit_disposition,
)
from opsledger.writeback.users import (
    PermissionDenied,
    User,
    WritebackError,
    authenticate,
    get_user,
    users_add,
    users_disable,
    users_list,
)

__all__ = [
    "FormSession",
    "PermissionDenied",
    "StaleForm",
    "Submission",
    "User",
    "WritebackError",
    "applied_at",
    "apply_pending",
    "approval_chains",
    "approve",
    "audit_log",
    "authenticate",
    "decide",
    "export_pending",
    "get_user",
    "open_form",
    "reject",
    "submission_status",
    "submit_adjustment",
    "submit_disposition",
    "users_add",
    "users_disable",
    "users_list",
]
