using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>
/// Runs callbacks after a caller's transaction commits, and never after one that rolled back, through SQLite's commit
/// hook. The hook is installed once per native connection (pooled connections keep it). When it fires, it runs the
/// callbacks of the transaction that is committing (still open at that moment) and drops those of transactions that
/// already ended, which rolled back; the callbacks go to the thread pool, since a hook must not use its connection.
/// The hook fires as SQLite commits; should the commit still fail at the very end (an I/O error), the callbacks have
/// already run — they only publish events and wake workers, who then find nothing.
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
            List<Action>? ready = null;
            lock (callbacks)
            {
                foreach (var (reference, callback) in callbacks)
                {
                    // The committing transaction is still open here; one that ended before was rolled back.
                    if (reference.TryGetTarget(out var transaction) && transaction.Connection is not null)
                    {
                        (ready ??= []).Add(callback);
                    }
                }

                callbacks.Clear();
            }

            if (ready is not null)
            {
                ThreadPool.UnsafeQueueUserWorkItem(static list =>
                {
                    foreach (var callback in list)
                    {
                        callback();
                    }
                }, ready, preferLocal: false);
            }

            return 0; // 0 lets the commit proceed
        }
    }
}
