"""The update-id ledger (claim_update / finish_update) on both backends, seen from two
stores on one database as two bot processes would see it, and PostgreSQL's shared rate
counter."""

from __future__ import annotations

import asyncio

import pgkit
import pytest
from storekit import Clock, sample_game

from engine.step import Restart
from engine.store.open import open_store, upgrade

GAME = sample_game()


@pytest.fixture(params=["sqlite", "postgres"])
def target(request, tmp_path):
    if request.param == "sqlite":
        yield str(tmp_path / "players.sqlite3")
    else:
        with pgkit.scratch_database() as url:
            yield url


def test_copies_of_an_update_are_claimed_once_across_processes(target):
    clock = Clock()

    async def run() -> list:
        await upgrade(target)
        a = await open_store(target, GAME, clock=clock)
        b = await open_store(target, GAME, clock=clock)
        try:
            seen = [await a.claim_update(1, "a:1", 30), await b.claim_update(1, "b:2", 30)]
            # done: a copy arriving later, even after the lease, is not handled again
            await a.finish_update(1, "a:1")
            clock.now += 60
            seen.append(await b.claim_update(1, "b:2", 30))
            # a claim whose owner died (never finished) is taken over once its lease ends
            seen += [await a.claim_update(2, "a:1", 30), await b.claim_update(2, "b:2", 30)]
            clock.now += 31
            seen.append(await b.claim_update(2, "b:2", 30))
            # given up after a failure: the next copy is handled at once
            seen.append(await a.claim_update(3, "a:1", 30))
            await a.finish_update(3, "a:1", done=False)
            seen.append(await b.claim_update(3, "b:2", 30))
            # a worker that lost its claim to another cannot mark it done or give it up
            await a.finish_update(2, "a:1", done=False)
            seen.append(await a.claim_update(2, "a:1", 30))
            await b.finish_update(2, "b:2")
            clock.now += 31
            seen.append(await a.claim_update(2, "a:1", 30))
            return seen
        finally:
            await a.close()
            await b.close()

    assert asyncio.run(run()) == [True, False, False, True, False, True, True, True,
                                  False, False]


def test_concurrent_claims_of_one_update_give_it_to_exactly_one(target):
    async def run() -> list[int]:
        await upgrade(target)
        stores = [await open_store(target, GAME) for _ in range(3)]
        try:
            wins = []
            for update_id in range(100, 140):
                got = await asyncio.gather(*(s.claim_update(update_id, f"w:{i}", 30)
                                             for i, s in enumerate(stores)))
                wins.append(sum(got))
            return wins
        finally:
            for s in stores:
                await s.close()

    assert asyncio.run(run()) == [1] * 40


def test_the_shared_rate_counter_counts_across_stores_per_window():
    clock = Clock()
    with pgkit.scratch_database() as url:
        async def run() -> list[int]:
            a = await open_store(url, GAME, clock=clock)
            b = await open_store(url, GAME, clock=clock)
            try:
                counts = [await a.rate_hit("u1", 10), await b.rate_hit("u1", 10),
                          await a.rate_hit("u2", 10)]
                clock.now += 9
                counts.append(await b.rate_hit("u1", 10))
                clock.now += 1  # the window is over: a new one starts
                counts.append(await a.rate_hit("u1", 10))
                return counts
            finally:
                await a.close()
                await b.close()

        assert asyncio.run(run()) == [1, 2, 1, 3, 1]


def test_one_players_actions_twice_at_two_stores_and_out_of_order_apply_once(target):
    """Two processes' stores on one database get each action of one player at once, the
    same key at both, plus a double tap (another key, the same turn) and a late copy of
    the previous action: one of each turn's taps applies, once; the rest change nothing."""
    from storekit import next_action

    async def run() -> tuple[int, int, list[tuple[bool, bool]]]:
        await upgrade(target)
        a = await open_store(target, GAME)
        b = await open_store(target, GAME)
        try:
            await a.register("p")
            previous = None
            outcomes = []
            # the state from the action that applied (SQLite's stores may read their own
            # cached copy of a save the other one changed since)
            state = await a.state("p")
            for i in range(12):
                action = next_action(GAME, state, i)
                if isinstance(action, Restart):  # as the bot sends it: with its turn
                    action = Restart(action.day, state["turn"])
                jobs = [a.apply("p", action, f"k{i}"), b.apply("p", action, f"k{i}"),
                        b.apply("p", action, f"k{i}-double")]
                if previous is not None:
                    jobs.append(a.apply("p", previous, f"k{i}-late"))
                first, again, double, *late = await asyncio.gather(*jobs)
                assert first.summary == again.summary and first.replayed != again.replayed
                assert first.ok != double.ok  # one of the two taps of this turn
                assert all(not r.ok for r in late)
                outcomes.append((first.ok, double.ok))
                state = next(r.outcome.state for r in (first, again, double)
                             if r.ok and r.outcome is not None)
                previous = action
            turn = (await b.state("p"))["turn"]
            applied = sum(ok for pair in outcomes for ok in pair)
            return turn, applied, outcomes
        finally:
            await a.close()
            await b.close()

    turn, applied, outcomes = asyncio.run(run())
    assert turn == applied == 12, outcomes


def test_a_write_held_up_past_the_statement_timeout_fails_and_applies_once_later():
    """Another session holds the player's save locked: the write gives up after the
    statement timeout with StoreUnavailable (nothing applied); sent again with the same
    key once the lock is gone, it applies, once."""
    import asyncpg
    from storekit import next_action

    from engine.store import StoreUnavailable

    with pgkit.scratch_database() as url:
        async def run() -> tuple[str, bool, bool, int]:
            store = await open_store(url, GAME, statement_timeout=0.3)
            holder = await asyncpg.connect(url)
            try:
                await store.register("p")
                action = next_action(GAME, await store.state("p"))
                lock = holder.transaction()
                await lock.start()
                await holder.execute("SELECT 1 FROM saves FOR UPDATE")
                try:
                    await store.apply("p", action, "k1")
                    failed = "applied while locked"
                except StoreUnavailable as exc:
                    failed = str(exc)
                await lock.rollback()
                first = await store.apply("p", action, "k1")
                again = await store.apply("p", action, "k1")
                return failed, first.ok and not first.replayed, again.replayed, \
                    (await store.state("p"))["turn"]
            finally:
                await holder.close()
                await store.close()

        failed, applied, replayed, turn = asyncio.run(run())
        assert "try again in a moment" in failed and "statement timeout" in failed
        assert applied and replayed and turn == 1
