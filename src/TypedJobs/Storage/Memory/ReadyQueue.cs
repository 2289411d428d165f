namespace TypedJobs.Storage.Memory;

/// <summary>An element of a <see cref="ReadyQueue{T}"/>: its claim key, and whether an enqueued copy is still current.</summary>
internal interface IReadyItem
{
    /// <summary>The due time in UTC ticks; must not change while a version it was enqueued with is current.</summary>
    long DueTicks { get; }

    /// <summary>The insertion sequence, the last tie-breaker of the claim order; never changes.</summary>
    long Sequence { get; }

    /// <summary>Whether the copy enqueued with <paramref name="version"/> still stands for the item (lazy deletion).</summary>
    bool IsCurrent(int version);
}

/// <summary>
/// The ready jobs of one queue in claim order: priority (highest first), then due time, then sequence. Per priority, a
/// ring buffer holds the items that arrive in key order (the common case: a job due now, inserted after the previous
/// one), so enqueue and dequeue are O(1) and touch two neighbouring slots however deep the backlog; a binary heap holds
/// the few that arrive out of order (promoted scheduled or retried jobs due earlier than the ring's tail, a clock that
/// went backwards). The head is the smaller of the two heads. Superseded copies (see <see cref="IReadyItem.IsCurrent"/>)
/// are dropped when they reach a head.
/// </summary>
internal sealed class ReadyQueue<T>
    where T : class, IReadyItem
{
    // Highest priority first; rarely more than the four named priorities.
    private readonly List<Lane> lanes = [];

    /// <summary>Adds <paramref name="item"/> as of <paramref name="version"/>, with its current key.</summary>
    public void Enqueue(T item, int version, int priority)
    {
        GetLane(priority).Enqueue(item, version);
    }

    /// <summary>The first current item in claim order, without removing it; drops superseded copies on the way.</summary>
    public bool TryPeek(out T item)
    {
        foreach (var lane in lanes)
        {
            if (lane.TryPeek(out item, out _))
            {
                return true;
            }
        }

        item = null!;
        return false;
    }

    /// <summary>Removes and returns the first current item in claim order.</summary>
    public bool TryDequeue(out T item, out int version)
    {
        foreach (var lane in lanes)
        {
            if (lane.TryPeek(out item, out var fromHeap))
            {
                version = lane.Dequeue(fromHeap);
                return true;
            }
        }

        item = null!;
        version = 0;
        return false;
    }

    private Lane GetLane(int priority)
    {
        var i = 0;
        for (; i < lanes.Count; i++)
        {
            if (lanes[i].Priority == priority)
            {
                return lanes[i];
            }

            if (lanes[i].Priority < priority)
            {
                break;
            }
        }

        var lane = new Lane(priority);
        lanes.Insert(i, lane);
        return lane;
    }

    private static int CompareKeys(long dueA, long seqA, long dueB, long seqB) =>
        dueA != dueB ? dueA.CompareTo(dueB) : seqA.CompareTo(seqB);

    private sealed class Lane(int priority)
    {
        // Powers of two, so an index wraps with a mask.
        private const int MinRing = 16;
        private const int ShrinkAbove = 4096;

        // The heap stores each copy's key: a superseded copy's item may since have changed its due time, and the heap's
        // order must not depend on that. The ring needs no keys: it is sorted by insertion, and only current items are
        // compared, whose key is the one they were enqueued with.
        private readonly PriorityQueue<(T Item, int Version), (long Due, long Seq)> heap = new();
        private (T Item, int Version)[] ring = [];
        private int head;
        private int count;
        private long lastDue;
        private long lastSeq;

        public int Priority { get; } = priority;

        public void Enqueue(T item, int version)
        {
            var due = item.DueTicks;
            var seq = item.Sequence;
            if (count > 0 && CompareKeys(due, seq, lastDue, lastSeq) < 0)
            {
                heap.Enqueue((item, version), (due, seq));
                return;
            }

            if (count == ring.Length)
            {
                Grow();
            }

            ring[(head + count) & (ring.Length - 1)] = (item, version);
            count++;
            lastDue = due;
            lastSeq = seq;
        }

        public bool TryPeek(out T item, out bool fromHeap)
        {
            while (count > 0 && !ring[head].Item.IsCurrent(ring[head].Version))
            {
                PopRing();
            }

            while (heap.TryPeek(out var h, out _) && !h.Item.IsCurrent(h.Version))
            {
                heap.Dequeue();
            }

            if (heap.TryPeek(out var top, out var key)
                && (count == 0 || CompareKeys(key.Due, key.Seq, ring[head].Item.DueTicks, ring[head].Item.Sequence) < 0))
            {
                item = top.Item;
                fromHeap = true;
                return true;
            }

            if (count > 0)
            {
                item = ring[head].Item;
                fromHeap = false;
                return true;
            }

            item = null!;
            fromHeap = false;
            return false;
        }

        public int Dequeue(bool fromHeap)
        {
            if (fromHeap)
            {
                return heap.Dequeue().Version;
            }

            var version = ring[head].Version;
            PopRing();
            return version;
        }

        private void PopRing()
        {
            ring[head] = default;
            head = (head + 1) & (ring.Length - 1);
            count--;
            if (count == 0)
            {
                head = 0;
                if (ring.Length > ShrinkAbove)
                {
                    // A drained backlog gives its memory back.
                    ring = new (T, int)[MinRing];
                }
            }
        }

        private void Grow()
        {
            var bigger = new (T, int)[Math.Max(MinRing, ring.Length * 2)];
            for (var i = 0; i < count; i++)
            {
                bigger[i] = ring[(head + i) & (ring.Length - 1)];
            }

            ring = bigger;
            head = 0;
        }
    }
}
