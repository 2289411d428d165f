using System.Collections.Concurrent;
using Npgsql;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// Observes the commit of callers' transactions that enqueued jobs. Each transactional enqueue adds a NOTIFY with its own
/// token to the caller's transaction; PostgreSQL delivers it to the store's listener only if (and once) that transaction
/// commits, and then the callback runs. A rolled-back transaction delivers nothing. Should a notification be lost (the
/// listener was reconnecting at the moment of the commit), a sweep settles every entry whose transaction has ended for a
/// few seconds by looking the inserted job up: found means committed, missing means rolled back.
/// </summary>
internal sealed class PendingCommits : IDisposable
{
    public const string PayloadPrefix = "commit:";
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(3);
    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    private readonly Func<JobId, CancellationToken, Task<bool>> exists;
    private readonly TimeProvider time = TimeProvider.System;
    private readonly Timer timer;
    private int sweeping;

    public PendingCommits(Func<JobId, CancellationToken, Task<bool>> exists)
    {
        this.exists = exists;
        timer = new Timer(static state => _ = ((PendingCommits)state!).SweepAsync(), this, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public int Count => entries.Count;

    /// <summary>Registers a callback for the commit of <paramref name="transaction"/>; returns the NOTIFY payload to send in it.</summary>
    public string Add(NpgsqlTransaction transaction, JobId? inserted, Action callback)
    {
        var payload = PayloadPrefix + Guid.NewGuid().ToString("N");
        entries[payload] = new Entry(new WeakReference<NpgsqlTransaction>(transaction), inserted, callback);
        return payload;
    }

    /// <summary>Names the job whose existence proves the commit (the first one the insert really inserted), or none.</summary>
    public void SetProbe(string payload, JobId? inserted)
    {
        if (entries.TryGetValue(payload, out var entry))
        {
            entry.Inserted = inserted;
        }
    }

    /// <summary>Drops a registration whose insert failed.</summary>
    public void Forget(string payload) => entries.TryRemove(payload, out _);

    /// <summary>The notification of a committed transaction arrived.</summary>
    public void Committed(string payload)
    {
        if (entries.TryRemove(payload, out var entry))
        {
            ThreadPool.UnsafeQueueUserWorkItem(static c => c(), entry.Callback, preferLocal: false);
        }
    }

    /// <summary>After the listener reconnected, commits in between went unnoticed: settle ended transactions soon.</summary>
    public void ListenerReconnected() => _ = SweepAsync();

    private async Task SweepAsync()
    {
        if (entries.IsEmpty || Interlocked.Exchange(ref sweeping, 1) != 0)
        {
            return;
        }

        try
        {
            var now = time.GetUtcNow();
            foreach (var (payload, entry) in entries)
            {
                if (!entry.Ended(now, out var endedAt) || now - endedAt < Grace)
                {
                    continue;
                }

                bool committed;
                try
                {
                    committed = entry.Inserted is { } id && await exists(id, CancellationToken.None).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException)
                {
                    continue; // the server is away: try again at the next sweep
                }

                if (entries.TryRemove(payload, out _) && committed)
                {
                    entry.Callback();
                }
            }
        }
        finally
        {
            Volatile.Write(ref sweeping, 0);
        }
    }

    public void Dispose() => timer.Dispose();

    private sealed class Entry(WeakReference<NpgsqlTransaction> transaction, JobId? inserted, Action callback)
    {
        private DateTimeOffset? endedAt;

        public JobId? Inserted { get; set; } = inserted;

        public Action Callback { get; } = callback;

        /// <summary>Whether the transaction has committed or rolled back (or was collected), and since when it is known.</summary>
        public bool Ended(DateTimeOffset now, out DateTimeOffset since)
        {
            if (endedAt is null)
            {
                bool ended;
                try
                {
                    ended = !transaction.TryGetTarget(out var tx) || tx.Connection is null;
                }
                catch (ObjectDisposedException)
                {
                    ended = true;
                }

                if (ended)
                {
                    endedAt = now;
                }
            }

            since = endedAt ?? now;
            return endedAt is not null;
        }
    }
}
