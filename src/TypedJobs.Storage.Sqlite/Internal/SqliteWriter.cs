using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;

namespace TypedJobs.Storage.Sqlite.Internal;

/// <summary>The connection and transaction a write operation runs in, with prepared commands cached per SQL text.</summary>
internal sealed class WriteContext(SqliteConnection connection) : IDisposable
{
    private const int MaxKeptJson = 256 * 1024;
    private readonly Dictionary<string, SqliteCommand> commands = new(StringComparer.Ordinal);
    private ArrayBufferWriter<byte> completionJson = new();
    private Utf8JsonWriter? json;

    public SqliteConnection Connection { get; } = connection;

    /// <summary>The transaction the commands run in; <see langword="null"/> when the writer began it with its own statements.</summary>
    public SqliteTransaction? Transaction { get; set; }

    /// <summary>Runs a parameterless control statement (BEGIN, SAVEPOINT, COMMIT …) through its kept prepared command.</summary>
    public void Run(string sql) => Command(sql).ExecuteNonQuery();

    /// <summary>Whether an operation of the current group made jobs ready (wakes in-process workers after commit).</summary>
    public bool Wake { get; set; }

    /// <summary>
    /// The kept command for <paramref name="sql"/> in the current transaction. Its parameters stay from its last use and
    /// are set again by name (<see cref="SqliteJobs.Add"/> reuses a parameter of the same name), so a statement run per
    /// job allocates no parameter objects; every call site sets every parameter its SQL uses, on every use.
    /// </summary>
    public SqliteCommand Command(string sql)
    {
        if (!commands.TryGetValue(sql, out var command))
        {
            command = Connection.CreateCommand();
            command.CommandText = sql;
            commands.Add(sql, command);
        }

        command.Transaction = Transaction;
        return command;
    }

    /// <summary>A claim's chosen jobs (by sequence), kept from claim to claim (the writer runs one operation at a time).</summary>
    public List<long> ClaimChosen { get; } = [];

    /// <summary>A claim's candidates of one round, kept from claim to claim.</summary>
    public List<(long Seq, string? Task, int Queue, int Priority, long Due)> ClaimCandidates { get; } = [];

    /// <summary>A claim's claimed jobs with their sequence, kept from claim to claim (cleared once handed over).</summary>
    public List<(JobRecord Job, long Seq)> ClaimedJobs { get; } = [];

    /// <summary>
    /// A batched completion's position of each job, kept from batch to batch (the writer runs one operation at a time;
    /// the caller clears it).
    /// </summary>
    public Dictionary<Guid, int> CompletionIndex { get; } = [];

    /// <summary>
    /// A batched completion's JSON, kept from batch to batch (the caller resets it), unless a batch of long error texts
    /// grew it beyond <see cref="MaxKeptJson"/> bytes: then the next batch starts a new one.
    /// </summary>
    public ArrayBufferWriter<byte> CompletionJson
    {
        get
        {
            if (completionJson.Capacity > MaxKeptJson)
            {
                completionJson = new ArrayBufferWriter<byte>();
            }

            return completionJson;
        }
    }

    /// <summary>The one JSON writer, reset to write into <paramref name="buffer"/>.</summary>
    public Utf8JsonWriter JsonWriter(ArrayBufferWriter<byte> buffer)
    {
        if (json is null)
        {
            json = new Utf8JsonWriter(buffer);
        }
        else
        {
            json.Reset(buffer);
        }

        return json;
    }

    public void Dispose()
    {
        foreach (var command in commands.Values)
        {
            command.Dispose();
        }

        commands.Clear();
        json?.Dispose();
    }
}

/// <summary>A write queued for the writer; completes after the transaction holding it commits.</summary>
internal abstract class WriteOperation
{
    protected WriteOperation(CancellationToken cancellationToken)
    {
        CancellationToken = cancellationToken;
    }

    public CancellationToken CancellationToken { get; }

    public abstract void Execute(WriteContext context);

    public abstract void Commit();

    public abstract void Fail(Exception exception);

    public abstract void Cancel();
}

internal sealed class WriteOperation<T>(Func<WriteContext, T> body, CancellationToken cancellationToken) : WriteOperation(cancellationToken)
{
    private readonly TaskCompletionSource<T> completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private T? result;

    public Task<T> Task => completion.Task;

    public override void Execute(WriteContext context) => result = body(context);

    public override void Commit() => completion.TrySetResult(result!);

    public override void Fail(Exception exception) => completion.TrySetException(exception);

    public override void Cancel() => completion.TrySetCanceled(CancellationToken);
}

/// <summary>
/// The single writer of one store: a dedicated thread drains a queue of write operations and runs as many as are
/// waiting (up to a limit) in one <c>BEGIN IMMEDIATE … COMMIT</c> (group commit). Each operation runs inside its own
/// savepoint, so one failing operation is rolled back alone; every caller's task completes only after the commit, so
/// an acknowledged write is durable to the level of the <c>synchronous</c> pragma.
/// </summary>
internal sealed partial class SqliteWriter : IDisposable
{
    private readonly Channel<WriteOperation> queue = Channel.CreateUnbounded<WriteOperation>(new UnboundedChannelOptions { SingleReader = true });
    private readonly WriteContext context;
    private readonly int maxBatch;
    private readonly Action wake;
    private readonly ILogger logger;
    private readonly Thread thread;

    private readonly TimeSpan stopWait;

    /// <param name="connection">The writer's own connection; the writer closes it when its thread ends.</param>
    /// <param name="maxBatch">The most operations in one transaction.</param>
    /// <param name="wake">Called after a transaction that made jobs ready committed.</param>
    /// <param name="logger">The store's logger.</param>
    /// <param name="stopWait">How long <see cref="Dispose"/> waits for the write in progress (default 30 seconds).</param>
    public SqliteWriter(SqliteConnection connection, int maxBatch, Action wake, ILogger logger, TimeSpan? stopWait = null)
    {
        context = new WriteContext(connection);
        this.maxBatch = maxBatch;
        this.wake = wake;
        this.logger = logger;
        this.stopWait = stopWait ?? TimeSpan.FromSeconds(30);
        thread = new Thread(Run) { IsBackground = true, Name = "TypedJobs SQLite writer" };
        thread.Start();
    }

    /// <summary>Queues <paramref name="body"/> and completes with its result once its transaction committed.</summary>
    public Task<T> WriteAsync<T>(Func<WriteContext, T> body, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var operation = new WriteOperation<T>(body, cancellationToken);
        if (!queue.Writer.TryWrite(operation))
        {
            throw new ObjectDisposedException(nameof(SqliteWriter), "The SQLite store was disposed.");
        }

        return operation.Task;
    }

    /// <summary>
    /// Lets the queued writes finish and waits for them up to the stop wait. The writer's thread closes the connection
    /// when it ends: a write still waiting for another process's lock past the stop wait (the busy timeout can be up to
    /// an hour) keeps its connection until it is done, rather than having it closed under it.
    /// </summary>
    public void Dispose()
    {
        queue.Writer.TryComplete();
        if (Thread.CurrentThread != thread && !thread.Join(stopWait))
        {
            LogStillWriting(logger, stopWait);
        }
    }

    private void Run()
    {
        try
        {
            RunGroups();
        }
        finally
        {
            context.Dispose();
            context.Connection.Dispose();
        }
    }

    private void RunGroups()
    {
        var reader = queue.Reader;
        var batch = new List<WriteOperation>(maxBatch);
        while (true)
        {
            while (batch.Count < maxBatch && reader.TryRead(out var operation))
            {
                if (operation.CancellationToken.IsCancellationRequested)
                {
                    operation.Cancel();
                }
                else
                {
                    batch.Add(operation);
                }
            }

            if (batch.Count > 0)
            {
                ExecuteGroup(batch);
                batch.Clear();
                continue;
            }

            var more = reader.WaitToReadAsync();
            if (!(more.IsCompleted ? more.Result : more.AsTask().GetAwaiter().GetResult()))
            {
                return;
            }
        }
    }

    // The group's transaction control runs through kept prepared statements: SqliteTransaction prepares a new
    // statement for every BEGIN, SAVEPOINT, RELEASE and COMMIT, which costs more than many of the operations.
    private const string Begin = "BEGIN IMMEDIATE";
    private const string Savepoint = "SAVEPOINT op";
    private const string ReleaseSavepoint = "RELEASE op";
    private const string RollbackToSavepoint = "ROLLBACK TO op";
    private const string CommitGroup = "COMMIT";
    private const string RollbackGroup = "ROLLBACK";

    private void ExecuteGroup(List<WriteOperation> batch)
    {
        var failed = new bool[batch.Count];
        context.Wake = false;
        context.Transaction = null;
        try
        {
            context.Run(Begin);
        }
        catch (Exception ex)
        {
            LogGroupFailed(logger, ex, batch.Count);
            foreach (var operation in batch)
            {
                operation.Fail(ex);
            }

            return;
        }

        try
        {
            for (var i = 0; i < batch.Count; i++)
            {
                context.Run(Savepoint);
                try
                {
                    batch[i].Execute(context);
                    context.Run(ReleaseSavepoint);
                }
                catch (Exception ex)
                {
                    // Fail the caller first: the savepoint rollback can itself throw when SQLite already rolled back
                    // the whole transaction (disk full, I/O error), and the caller must never be left waiting.
                    failed[i] = true;
                    batch[i].Fail(ex);
                    context.Run(RollbackToSavepoint);
                    context.Run(ReleaseSavepoint);
                }
            }

            context.Run(CommitGroup);
        }
        catch (Exception ex)
        {
            LogGroupFailed(logger, ex, batch.Count);
            try
            {
                // SQLite may have rolled the transaction back already (disk full, I/O error); then there is nothing to undo.
                if (SQLitePCL.raw.sqlite3_get_autocommit(context.Connection.Handle) == 0)
                {
                    context.Run(RollbackGroup);
                }
            }
            catch (Exception rollbackError)
            {
                LogRollbackFailed(logger, rollbackError);
            }

            for (var i = 0; i < batch.Count; i++)
            {
                if (!failed[i])
                {
                    batch[i].Fail(ex);
                }
            }

            return;
        }

        for (var i = 0; i < batch.Count; i++)
        {
            if (!failed[i])
            {
                batch[i].Commit();
            }
        }

        if (context.Wake)
        {
            wake();
        }
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Error, Message = "A SQLite write transaction of {Operations} operations failed; each caller receives the error")]
    private static partial void LogGroupFailed(ILogger logger, Exception exception, int operations);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Warning, Message = "The SQLite store was disposed while a write was still in progress after {Wait}; the write goes on and closes its connection when it ends")]
    private static partial void LogStillWriting(ILogger logger, TimeSpan wait);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Warning, Message = "Rolling back a failed SQLite write transaction failed")]
    private static partial void LogRollbackFailed(ILogger logger, Exception exception);
}
