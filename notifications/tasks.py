"""Celery tasks: thin wrappers over services; every one idempotent."""

from celery import shared_task


@shared_task(name="notifications.relay_outbox", acks_late=True)
def relay_outbox():
    from .relay import outbox_relay

    return outbox_relay()


@shared_task(name="notifications.send_reminders", acks_late=True, bind=True, max_retries=20)
def send_reminders(self, ids):
    from .reminders import reminders_send

    busy: list[int] = []
    sent = reminders_send(ids, busy=busy)
    if busy:  # held by another sender, or by a dead one the database has not released yet
        raise self.retry(args=[busy], countdown=5)
    return sent


@shared_task(name="notifications.periodic_sweep", acks_late=True)
def periodic_sweep():
    from engine.periodic import run_all

    return run_all()


@shared_task(name="notifications.daily_digest", acks_late=True)
def daily_digest():
    from .digest import digests_daily

    return digests_daily()


@shared_task(name="notifications.weekly_digest", acks_late=True)
def weekly_digest():
    from .digest import digests_weekly

    return digests_weekly()
