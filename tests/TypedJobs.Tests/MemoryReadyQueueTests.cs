using TypedJobs.Storage.Memory;

namespace TypedJobs.Tests;

/// <summary>The in-memory store's ready set: claim order (priority, due time, sequence) and lazy deletion.</summary>
public class MemoryReadyQueueTests
{
    [Fact]
    public void InOrderItems_ComeOutInInsertionOrder_HighestPriorityFirst()
    {
        var queue = new ReadyQueue<Item>();
        var items = new[] { new Item(10, 1), new Item(10, 2), new Item(20, 3), new Item(30, 4) };
        var urgent = new Item(40, 5);
        foreach (var item in items)
        {
            queue.Enqueue(item, 0, 1);
        }

        queue.Enqueue(urgent, 0, 3);

        Assert.Equal([urgent, .. items], Drain(queue));
    }

    [Fact]
    public void OutOfOrderItem_DueEarlier_ComesBeforeTheTail_AndAfterEarlierItems()
    {
        var queue = new ReadyQueue<Item>();
        var first = new Item(10, 1);
        var late = new Item(50, 2);
        var later = new Item(60, 3);
        var promoted = new Item(20, 4);
        var sameDueLowerSequence = new Item(50, 0);
        foreach (var item in new[] { first, late, later, promoted, sameDueLowerSequence })
        {
            queue.Enqueue(item, 0, 1);
        }

        Assert.Equal([first, promoted, sameDueLowerSequence, late, later], Drain(queue));
    }

    [Fact]
    public void SupersededCopies_AreSkipped_InTheRingAndInTheHeap()
    {
        var queue = new ReadyQueue<Item>();
        var a = new Item(10, 1);
        var b = new Item(20, 2);
        var c = new Item(30, 3);
        var early = new Item(5, 4);
        foreach (var item in new[] { a, b, c, early })
        {
            queue.Enqueue(item, 0, 1);
        }

        b.Version = 1;
        early.Version = 1;

        Assert.Equal([a, c], Drain(queue));
    }

    [Fact]
    public void ItemEnqueuedAgain_UnderANewVersion_ComesOutOnce_AtItsNewKey()
    {
        var queue = new ReadyQueue<Item>();
        var a = new Item(10, 1);
        var b = new Item(20, 2);
        queue.Enqueue(a, 0, 1);
        queue.Enqueue(b, 0, 1);

        // a is superseded and re-enqueued later than b: its old copy's key must not matter any more.
        a.Version = 1;
        a.DueTicks = 30;
        queue.Enqueue(a, 1, 1);

        Assert.True(queue.TryDequeue(out var head, out var version));
        Assert.Same(b, head);
        Assert.Equal(0, version);
        Assert.True(queue.TryDequeue(out head, out version));
        Assert.Same(a, head);
        Assert.Equal(1, version);
        Assert.False(queue.TryPeek(out _));
    }

    [Fact]
    public void RandomOperations_MatchASortedReference()
    {
        // Mixed in-order and out-of-order arrivals, supersessions and partial drains, checked step by step against the
        // claim order computed from scratch.
        var random = new Random(12345);
        var queue = new ReadyQueue<Item>();
        var live = new List<Item>();
        long sequence = 0;
        long clock = 1000;
        for (var step = 0; step < 20_000; step++)
        {
            var op = random.Next(10);
            if (op < 5)
            {
                // Mostly due now, sometimes earlier (a promotion, a clock that went back) or later.
                clock += random.Next(3);
                var due = random.Next(4) switch
                {
                    0 => clock - random.Next(500),
                    1 => clock + random.Next(50),
                    _ => clock,
                };
                var item = new Item(due, ++sequence) { Priority = random.Next(5) == 0 ? random.Next(4) : 1 };
                queue.Enqueue(item, item.Version, item.Priority);
                live.Add(item);
            }
            else if (op < 6 && live.Count > 0)
            {
                var victim = live[random.Next(live.Count)];
                victim.Version++;
                live.Remove(victim);
                if (random.Next(2) == 0)
                {
                    // Back in with a new due time, as a job returned to Ready or retried.
                    victim.DueTicks = clock + random.Next(-100, 100);
                    queue.Enqueue(victim, victim.Version, victim.Priority);
                    live.Add(victim);
                }
            }
            else
            {
                var expected = live.OrderByDescending(i => i.Priority).ThenBy(i => i.DueTicks).ThenBy(i => i.Sequence).FirstOrDefault();
                if (expected is null)
                {
                    Assert.False(queue.TryDequeue(out _, out _));
                    continue;
                }

                Assert.True(queue.TryPeek(out var peeked));
                Assert.Same(expected, peeked);
                Assert.True(queue.TryDequeue(out var head, out var version));
                Assert.Same(expected, head);
                Assert.Equal(expected.Version, version);
                live.Remove(expected);
                expected.Version++;
            }
        }

        var rest = live.OrderByDescending(i => i.Priority).ThenBy(i => i.DueTicks).ThenBy(i => i.Sequence).ToList();
        Assert.Equal(rest, Drain(queue));
    }

    private static List<Item> Drain(ReadyQueue<Item> queue)
    {
        var list = new List<Item>();
        while (queue.TryDequeue(out var item, out _))
        {
            list.Add(item);
        }

        return list;
    }

    private sealed class Item(long due, long sequence) : IReadyItem
    {
        public long DueTicks { get; set; } = due;

        public long Sequence { get; } = sequence;

        public int Priority { get; init; } = 1;

        public int Version { get; set; }

        public bool IsCurrent(int version) => Version == version;

        public override string ToString() => $"(p{Priority}, due {DueTicks}, seq {Sequence}, v{Version})";
    }
}
