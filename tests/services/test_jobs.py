"""Jobs: idempotent enqueueing in the caller's transaction, claims, retries with backoff,
leases taken back from dead workers, periodic tasks, the heartbeat, the mail on the jobs."""
from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime, timedelta, timezone

import pytest
from tortoise.transactions import in_transaction

from ppas.domain.clock import FixedClock
from ppas.models import Job, JobState, OutboxMessage
from ppas.services.jobs import Worker, enqueue, job_handler, last_worker_heartbeat, run_due
from ppas.services.jobs.registry import HANDLERS
from ppas.services.jobs.schedule import PERIODIC, Periodic
from ppas.services.mail import queue_mail

START = datetime(2026, 12, 1, 8, 0, tzinfo=timezone.utc)
CALLS: list[tuple[str, dict, datetime, int]] = []
FAILURES: dict[str, int] = {}  # payload "tag" -> failures still to raise


@job_handler("test_jobs.record", label="Essai : enregistrer")
async def record(payload, context):
    CALLS.append(("record", payload, context.now(), context.attempt))


@job_handler("test_jobs.flaky", label="Essai : instable")
async def flaky(payload, context):
    CALLS.append(("flaky", payload, context.now(), context.attempt))
    if FAILURES.get(payload["tag"], 0) > 0:
        FAILURES[payload["tag"]] -= 1
        raise ConnectionError(f"serveur distant injoignable ({payload['tag']})")


KINDS = {"test_jobs.record", "test_jobs.flaky"}


def calls_tagged(tag: str) -> list:
    return [c for c in CALLS if c[1].get("tag") == tag]


@pytest.fixture
def settings_jobs(settings):
    return replace(settings, jobs_backoff_seconds=30, jobs_backoff_max_seconds=3600,
                   jobs_lease_seconds=300)


async def test_a_job_runs_once_with_the_clock_of_its_worker_and_is_done(db, settings_jobs):
    tag = uuid.uuid4().hex
    clock = FixedClock(START)
    async with in_transaction():
        job = await enqueue("test_jobs.record", {"tag": tag}, now=START)
    assert await run_due(settings_jobs, clock, kinds=KINDS) >= 1
    [(_, payload, now, attempt)] = calls_tagged(tag)
    assert payload == {"tag": tag} and now == START and attempt == 1
    await job.refresh_from_db()
    assert job.state == JobState.DONE and job.finished_at == START and job.locked_by is None
    await run_due(settings_jobs, clock, kinds=KINDS)
    assert len(calls_tagged(tag)) == 1  # done jobs are not run again


async def test_a_job_is_not_run_before_its_time(db, settings_jobs):
    tag = uuid.uuid4().hex
    clock = FixedClock(START)
    await enqueue("test_jobs.record", {"tag": tag}, run_at=START + timedelta(hours=48),
                  now=START)
    clock.advance(timedelta(hours=47, minutes=59))
    await run_due(settings_jobs, clock, kinds=KINDS)
    assert calls_tagged(tag) == []
    clock.advance(timedelta(minutes=1))
    await run_due(settings_jobs, clock, kinds=KINDS)
    assert len(calls_tagged(tag)) == 1


async def test_the_same_key_enqueues_one_job_even_from_two_transactions(db):
    key = f"essai:{uuid.uuid4().hex}"
    async with in_transaction():
        first = await enqueue("test_jobs.record", {"n": 1}, key=key, now=START)
    async with in_transaction():
        second = await enqueue("test_jobs.record", {"n": 2}, key=key, now=START)
        # the caller's transaction still works after the ignored duplicate
        await queue_mail(f"{key[6:]}@example.org", "test_message", name="X")
    assert second.id == first.id and second.payload == {"n": 1}
    assert await Job.filter(key=key).count() == 1
    assert await OutboxMessage.filter(recipient=f"{key[6:]}@example.org").count() == 1


async def test_a_rolled_back_use_case_enqueues_nothing(db):
    key = f"essai:{uuid.uuid4().hex}"
    with pytest.raises(RuntimeError):
        async with in_transaction():
            await enqueue("test_jobs.record", {}, key=key, now=START)
            raise RuntimeError("the use case failed after enqueueing")
    assert await Job.filter(key=key).count() == 0
    # the key is free again: a later use case may enqueue it
    assert (await enqueue("test_jobs.record", {}, key=key, now=START)).key == key


async def test_a_failure_is_retried_with_doubling_delays_then_given_up(db, settings_jobs):
    tag = uuid.uuid4().hex
    FAILURES[tag] = 10
    clock = FixedClock(START)
    job = await enqueue("test_jobs.flaky", {"tag": tag}, max_attempts=3, now=START)
    await run_due(settings_jobs, clock, kinds=KINDS)
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.QUEUED, 1)
    assert job.run_at == START + timedelta(seconds=30)
    assert job.last_error == f"ConnectionError: serveur distant injoignable ({tag})"
    clock.advance(timedelta(seconds=29))
    await run_due(settings_jobs, clock, kinds=KINDS)
    assert len(calls_tagged(tag)) == 1  # not yet
    clock.advance(timedelta(seconds=1))
    await run_due(settings_jobs, clock, kinds=KINDS)
    await job.refresh_from_db()
    assert (job.state, job.attempts) == (JobState.QUEUED, 2)
    assert job.run_at == clock.now() + timedelta(seconds=60)
    clock.advance(timedelta(seconds=60))
    await run_due(settings_jobs, clock, kinds=KINDS)
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.finished_at) == (JobState.FAILED, 3, clock.now())
    clock.advance(timedelta(days=1))
    await run_due(settings_jobs, clock, kinds=KINDS)
    assert [c[3] for c in calls_tagged(tag)] == [1, 2, 3]


async def test_a_retry_that_succeeds_clears_the_error(db, settings_jobs):
    tag = uuid.uuid4().hex
    FAILURES[tag] = 1
    clock = FixedClock(START)
    job = await enqueue("test_jobs.flaky", {"tag": tag}, now=START)
    await run_due(settings_jobs, clock, kinds=KINDS)
    clock.advance(timedelta(seconds=30))
    await run_due(settings_jobs, clock, kinds=KINDS)
    await job.refresh_from_db()
    assert (job.state, job.attempts, job.last_error) == (JobState.DONE, 2, "")


async def test_a_claimed_job_is_not_claimed_again_until_its_lease_runs_out(db, settings_jobs):
    tag = uuid.uuid4().hex
    clock = FixedClock(START + timedelta(days=3))
    job = await enqueue("test_jobs.record", {"tag": tag}, now=clock.now())
    dead = Worker(settings_jobs, clock, "dead-worker", kinds=KINDS)
    alive = Worker(settings_jobs, clock, "live-worker", kinds=KINDS)
    claimed = await dead.claim()
    assert claimed.id == job.id and claimed.locked_by == "dead-worker"
    assert await alive.claim() is None
    clock.advance(timedelta(seconds=300))
    assert await alive.claim() is None  # the lease is still running at its last second
    clock.advance(timedelta(seconds=1))
    taken = await alive.claim()
    assert (taken.id, taken.locked_by, taken.attempts) == (job.id, "live-worker", 2)
    await alive.run(taken)
    # the first worker comes back late: it cannot overwrite the job it lost
    await dead._failed(claimed, "trop tard")
    await job.refresh_from_db()
    assert (job.state, job.last_error) == (JobState.DONE, "")
    assert len(calls_tagged(tag)) == 1


async def test_a_job_that_kills_its_worker_every_time_is_given_up(db, settings_jobs):
    tag = uuid.uuid4().hex
    clock = FixedClock(START + timedelta(days=5))
    job = await enqueue("test_jobs.record", {"tag": tag}, max_attempts=2, now=clock.now())
    for n in range(2):
        assert (await Worker(settings_jobs, clock, f"dies-{n}", kinds=KINDS).claim()).id == job.id
        clock.advance(timedelta(seconds=301))
    assert await Worker(settings_jobs, clock, "third", kinds=KINDS).claim() is None
    await job.refresh_from_db()
    assert job.state == JobState.FAILED and "interrompu" in job.last_error
    assert calls_tagged(tag) == []


async def test_a_job_of_an_unknown_kind_fails_with_a_message(db, settings_jobs):
    kind = f"inconnu.{uuid.uuid4().hex[:8]}"
    clock = FixedClock(START)
    job = await enqueue(kind, {}, max_attempts=1, now=START)
    await run_due(settings_jobs, clock, kinds={kind})
    await job.refresh_from_db()
    assert job.state == JobState.FAILED and f"« {kind} »" in job.last_error


async def test_a_periodic_task_runs_again_after_its_interval_and_never_gives_up(
        db, settings_jobs, monkeypatch):
    kind = f"test_jobs.periodic_{uuid.uuid4().hex[:8]}"
    runs: list[datetime] = []
    failing = {"left": 0}

    @job_handler(kind, label="Essai périodique")
    async def tick(payload, context):
        runs.append(context.now())
        if failing["left"]:
            failing["left"] -= 1
            raise OSError("indisponible")

    monkeypatch.setattr("ppas.services.jobs.schedule.PERIODIC",
                        [*PERIODIC, Periodic(kind, 600, __name__)])
    monkeypatch.setattr("ppas.services.jobs.worker.PERIODIC",
                        [*PERIODIC, Periodic(kind, 600, __name__)])
    try:
        clock = FixedClock(START)
        assert await run_due(settings_jobs, clock, kinds={kind}) == 1
        assert await run_due(settings_jobs, clock, kinds={kind}) == 0
        [row] = await Job.filter(kind=kind)
        assert (row.state, row.run_at, row.key) == (JobState.QUEUED,
                                                    START + timedelta(minutes=10),
                                                    f"periodic:{kind}")
        failing["left"] = 7  # more than the default max attempts
        for _ in range(7):
            clock.set((await Job.get(kind=kind)).run_at)
            await run_due(settings_jobs, clock, kinds={kind})
        row = await Job.get(kind=kind)
        assert (row.state, row.attempts) == (JobState.QUEUED, 7) and row.last_error
        clock.set(row.run_at)
        await run_due(settings_jobs, clock, kinds={kind})
        row = await Job.get(kind=kind)
        assert (row.state, row.attempts, row.last_error) == (JobState.QUEUED, 0, "")
        assert row.run_at == clock.now() + timedelta(minutes=10)
        assert len(runs) == 9 and await Job.filter(kind=kind).count() == 1
    finally:
        HANDLERS.pop(kind, None)


async def test_a_periodic_task_last_run_later_than_now_is_due_at_once(db, settings_jobs,
                                                                        monkeypatch):
    kind = f"test_jobs.periodic_{uuid.uuid4().hex[:8]}"
    runs: list[datetime] = []

    @job_handler(kind, label="Essai périodique")
    async def tick(payload, context):
        runs.append(context.now())

    for module in ("schedule", "worker"):
        monkeypatch.setattr(f"ppas.services.jobs.{module}.PERIODIC",
                            [*PERIODIC, Periodic(kind, 3600, __name__)])
    try:
        later = FixedClock(START + timedelta(days=30))
        await run_due(settings_jobs, later, kinds={kind})
        earlier = FixedClock(START)  # another test, or an instance whose clock is behind
        await run_due(settings_jobs, earlier, kinds={kind})
        assert runs == [later.now(), START]
        earlier.advance(timedelta(minutes=59))
        await run_due(settings_jobs, earlier, kinds={kind})
        assert len(runs) == 2  # the interval holds again from there
    finally:
        HANDLERS.pop(kind, None)


async def test_the_heartbeat_tells_when_a_worker_last_ran(db, settings_jobs):
    future = datetime(2030, 1, 1, 12, 0, tzinfo=timezone.utc) + timedelta(
        seconds=uuid.uuid4().int % 100_000)
    await run_due(settings_jobs, FixedClock(future), kinds=KINDS)
    assert await last_worker_heartbeat() >= future


async def make_mail_job_due(clock: FixedClock) -> None:
    """The periodic row exists and is due now, without failures (other tests ran it)."""
    await enqueue("send_mail", {}, key="periodic:send_mail", now=clock.now())
    await Job.filter(key="periodic:send_mail").update(run_at=clock.now(), attempts=0,
                                                      state=JobState.QUEUED)


async def test_the_outbox_is_sent_by_the_periodic_mail_job(db, settings, smtp_server):
    box, port = smtp_server
    recipient = f"{uuid.uuid4().hex[:10]}@example.org"
    async with in_transaction():
        await queue_mail(recipient, "test_message", name="Lucie")
    smtp = replace(settings, smtp_host="127.0.0.1", smtp_port=port)
    clock = FixedClock(datetime.now(timezone.utc) + timedelta(days=400))
    await make_mail_job_due(clock)
    await run_due(smtp, clock, kinds={"send_mail"})
    assert len(box.to(recipient)) == 1
    row = await Job.get(key="periodic:send_mail")
    assert row.state == JobState.QUEUED and row.last_error == ""
    assert row.run_at == clock.now() + timedelta(seconds=settings.mail_interval_seconds)


async def test_an_unreachable_smtp_server_fails_the_mail_job_which_backs_off(db, settings,
                                                                              smtp_server):
    box, port = smtp_server
    recipient = f"{uuid.uuid4().hex[:10]}@example.org"
    async with in_transaction():
        message = await queue_mail(recipient, "test_message", name="Marc")
    down = replace(settings, smtp_host="127.0.0.1", smtp_port=1, jobs_backoff_seconds=30)
    clock = FixedClock(datetime.now(timezone.utc) + timedelta(days=800))
    await make_mail_job_due(clock)
    await run_due(down, clock, kinds={"send_mail"})
    row = await Job.get(key="periodic:send_mail")
    assert row.state == JobState.QUEUED and row.attempts == 1
    assert row.last_error.startswith("MailNotDelivered: 1 courriel(s) non remis")
    assert row.run_at == clock.now() + timedelta(seconds=30)
    await message.refresh_from_db()
    assert message.sent_at is None and message.attempts == 1
    clock.advance(timedelta(seconds=30))
    await run_due(replace(settings, smtp_host="127.0.0.1", smtp_port=port), clock,
                  kinds={"send_mail"})
    assert len(box.to(recipient)) == 1
    row = await Job.get(key="periodic:send_mail")
    assert (row.attempts, row.last_error) == (0, "")


async def test_a_long_job_renews_its_lease_and_the_heartbeat(db, settings, monkeypatch):
    import asyncio

    from ppas.models import WorkerHeartbeat
    from ppas.services.jobs import worker as worker_module

    monkeypatch.setattr(worker_module, "HEARTBEAT_DURING_JOB", 0.05)
    clock = FixedClock(START + timedelta(days=9))
    kind = f"test_jobs.long_{uuid.uuid4().hex[:8]}"
    seen: list[tuple] = []

    @job_handler(kind, label="Essai long")
    async def long_one(payload, context):
        start = clock.now()
        clock.advance(timedelta(seconds=200))  # the work takes time...
        await asyncio.sleep(0.3)  # ...during which the worker renews and beats
        row = await Job.get(id=context.job_id)
        beat = await WorkerHeartbeat.get(worker=context.worker)
        seen.append((row.locked_at > start, beat.beat_at == clock.now()))

    try:
        job = await enqueue(kind, {}, now=clock.now())
        await run_due(settings, clock, kinds={kind})
        assert seen == [(True, True)]
        await job.refresh_from_db()
        assert job.state == JobState.DONE
    finally:
        HANDLERS.pop(kind, None)


async def test_an_agent_sees_the_portal_s_jobs_and_their_caisse_s_never_another_s(db):
    import secrets

    from ppas.models import Caisse, Role, User
    from ppas.services.errors import NotFound
    from ppas.services.jobs.admin import list_jobs, retry_job

    async def agent(code: str) -> User:
        caisse, _ = await Caisse.get_or_create(code=code, defaults={"name": f"Caisse {code}"})
        return await User.create(login=f"jb{secrets.token_hex(5)}", password_hash="x",
                                 role=Role.CAISSE_AGENT, caisse=caisse)

    mine, theirs = await agent("03"), await agent("04")
    tag = uuid.uuid4().hex[:8]
    async with in_transaction():
        portal = await enqueue(f"essai_{tag}", {}, now=START)
        own = await enqueue(f"essai_{tag}", {}, now=START, caisse_id=mine.caisse_id)
        other = await enqueue(f"essai_{tag}", {}, now=START, caisse_id=theirs.caisse_id)
    await Job.filter(id__in=[portal.id, own.id, other.id]).update(state=JobState.FAILED)
    rows, total = await list_jobs(mine, 0, 100, kind=f"essai_{tag}")
    assert sorted(j.id for j in rows) == sorted([portal.id, own.id]) and total == 2
    rows, _ = await list_jobs(theirs, 0, 100, kind=f"essai_{tag}")
    assert sorted(j.id for j in rows) == sorted([portal.id, other.id])
    with pytest.raises(NotFound):
        await retry_job(mine, other.id, now=START)
    assert (await Job.get(id=other.id)).state == JobState.FAILED
    for job in (portal, own):
        assert (await retry_job(mine, job.id, now=START)).state == JobState.QUEUED
