"""``engine.memory.gc_paused``: no cyclic collection inside, the collector's state as
found afterwards, even when the block raises or nests."""

import gc

import pytest

from engine.memory import gc_paused


@pytest.fixture(autouse=True)
def _collector_restored():
    was = gc.isenabled()
    yield
    gc.enable() if was else gc.disable()


def test_paused_inside_and_enabled_again_after():
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner block leaves it paused
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_enabled_again_when_the_block_raises():
    gc.enable()
    with pytest.raises(ValueError), gc_paused():
        raise ValueError("boom")
    assert gc.isenabled()


def test_a_collector_disabled_by_the_process_stays_disabled():
    gc.disable()
    with gc_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()


def test_cycles_made_while_paused_are_collected_afterwards():
    import weakref

    class Node:
        pass

    gc.enable()
    with gc_paused():
        a, b = Node(), Node()
        a.other, b.other = b, a  # a reference cycle: only the collector frees it
        ref = weakref.ref(a)
        del a, b
        assert ref() is not None
    gc.collect()
    assert ref() is None
