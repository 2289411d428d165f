using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>
/// Runs callbacks after a caller's transaction commits, and never after one that rolled back, through SQLite's commit
/// hook. The hook is installed once per native connection (pooled connections keep it). When it fires, it takes the
/// callbacks of the transaction that is committing (still open at that moment) and drops those of transactions that
/// already ended, which rolled back. A hook must not use its connection, and the commit is not finished while it runs,
/// so the callbacks go to the thread pool and wait there until the caller's commit has returned (the transaction lets go
/// of its connection) before they run: what they read then includes the commit. A part of the transaction rolled back
/// to a savepoint still commits, so a callback that matters for particular rows checks that they are there.
/// </summary>
internal static class SqliteCommitHooks
{
    private static readonly ConditionalWeakTable<sqlite3, Pending> Connections = new();

    /// <summary>Queues <paramref name="callback"/> for the commit of <paramref name="transaction"/>; returns whether the hook is installed.</summary>
    public static bool AfterCommit(SqliteTransaction transaction, Action callback)
    {
        if (transaction.Connection?.Handle is not { } handle)
        {
            return false;
        }

        var pending = Connections.GetValue(handle, static h =>
        {
            var state = new Pending();
            raw.sqlite3_commit_hook(h, static s => ((Pending)s).Committed(), state);
            return state;
        });
        pending.Add(transaction, callback);
        return true;
    }

    private sealed class Pending
    {
        private readonly List<(WeakReference<SqliteTransaction> Transaction, Action Callback)> callbacks = [];

        public void Add(SqliteTransaction transaction, Action callback)
        {
            lock (callbacks)
            {
                callbacks.Add((new WeakReference<SqliteTransaction>(transaction), callback));
            }
        }

        public int Committed()
        {
            List<(SqliteTransaction Transaction, Action Callback)>? ready = null;
            lock (callbacks)
            {
                foreach (var (reference, callback) in callbacks)
                {
                    // The committing transaction is still open here; one that ended before was rolled back.
                    if (reference.TryGetTarget(out var transaction) && transaction.Connection is not null)
                    {
                        (ready ??= []).Add((transaction, callback));
                    }
                }

                callbacks.Clear();
            }

            if (ready is not null)
            {
                _ = RunAfterCommitReturnsAsync(ready);
            }

            return 0; // 0 lets the commit proceed
        }

        private static async Task RunAfterCommitReturnsAsync(List<(SqliteTransaction Transaction, Action Callback)> ready)
        {
            await Task.Yield();
            var transaction = ready[0].Transaction;
            // The transaction lets go of its connection when Commit returns. A caller that ended it with its own COMMIT
            // statement keeps the object open until it is disposed; past the limit, the callbacks run anyway.
            var waited = System.Diagnostics.Stopwatch.StartNew();
            while (transaction.Connection is not null && waited.Elapsed < CommitReturnLimit)
            {
                await Task.Delay(1).ConfigureAwait(false);
            }

            foreach (var (_, callback) in ready)
            {
                callback();
            }
        }
    }

    /// <summary>How long callbacks wait for the caller's Commit to return before they run anyway.</summary>
    private static readonly TimeSpan CommitReturnLimit = TimeSpan.FromSeconds(5);
}
