"""Delivery: the channels (handoff, smtp, cwc) and the worker that drains the outbox.

This package is the only code that makes outbound network calls. A message is claimed under a lease,
delivered outside any database transaction, and its outcome recorded through
`actiontool.services.outbox.set_status`.
"""
