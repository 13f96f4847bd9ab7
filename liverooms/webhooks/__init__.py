"""Webhooks: operators register HTTP endpoints; room events reach them as signed JSON POSTs.

The outbox listens to the rooms' stream (registered from `apps.WebhooksConfig.ready`) and records
each event in the transaction of the change it describes (nothing is sent from the request or the
socket); Celery tasks deliver it, in order per room and endpoint, with
retries (`delivery`). See docs/webhooks.md.
"""
