"""Privacy's admin pages, one module per subject."""

from privacy.admin import (  # noqa: F401
    access_log,
    audit,
    consent,
    data_requests,
    retention,
)
