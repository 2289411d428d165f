using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Npgsql;

namespace TypedJobs.Storage.Postgres.Internal;

/// <summary>
/// LISTEN on one dedicated connection (borrowed from the store's data source for as long as the store lives). A lost
/// connection is reopened with a growing pause (0.2 s up to 5 s); meanwhile workers keep polling, and after every
/// (re)connect the store wakes its workers once, since notifications sent in between are gone. An idle connection is
/// probed every few seconds, so a dead one is noticed even when nothing is sent.
/// </summary>
internal sealed partial class PostgresNotifier : IAsyncDisposable
{
    private static readonly TimeSpan ProbeInterval = TimeSpan.FromSeconds(5);
    private readonly NpgsqlDataSource dataSource;
    private readonly string channel;
    private readonly Action<string> onNotification;
    private readonly Action onConnected;
    private readonly ILogger logger;
    private readonly CancellationTokenSource stopping = new();
    private Task? loop;
    private volatile NpgsqlConnection? connection;
    private int connects;

    public PostgresNotifier(NpgsqlDataSource dataSource, string channel, Action<string> onNotification, Action onConnected, ILogger logger)
    {
        this.dataSource = dataSource;
        this.channel = channel;
        this.onNotification = onNotification;
        this.onConnected = onConnected;
        this.logger = logger;
    }

    /// <summary>Whether the listener is connected and listening now.</summary>
    public bool IsListening => connection is not null;

    /// <summary>How many times the listener connected (tests watch reconnects).</summary>
    public int Connects => Volatile.Read(ref connects);

    /// <summary>The backend process id of the listening connection, or 0 (tests terminate it).</summary>
    public int ListenerProcessId => connection?.ProcessID ?? 0;

    public void Start()
    {
        lock (stopping)
        {
            if (loop is null && !stopping.IsCancellationRequested)
            {
                loop = Task.Run(() => RunAsync(stopping.Token));
            }
        }
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var pause = TimeSpan.FromMilliseconds(200);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var listener = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                listener.Notification += (_, e) => onNotification(e.Payload);
                await using (var listen = new NpgsqlCommand("LISTEN " + PostgresIdentifiers.Quote(channel), listener))
                {
                    await listen.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                connection = listener;
                Interlocked.Increment(ref connects);
                pause = TimeSpan.FromMilliseconds(200);
                LogListening(logger, channel);
                onConnected();
                var idle = Stopwatch.StartNew();
                while (!cancellationToken.IsCancellationRequested)
                {
                    if (await listener.WaitAsync(ProbeInterval, cancellationToken).ConfigureAwait(false))
                    {
                        idle.Restart();
                        continue;
                    }

                    // Nothing arrived for a while: make sure the connection is still alive.
                    await using var probe = new NpgsqlCommand("SELECT 1", listener) { CommandTimeout = (int)ProbeInterval.TotalSeconds };
                    await probe.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                    idle.Restart();
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is NpgsqlException or IOException or TimeoutException or InvalidOperationException or System.Net.Sockets.SocketException)
            {
                LogListenerLost(logger, channel, pause, ex);
            }
            finally
            {
                connection = null;
            }

            try
            {
                await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }

            pause = TimeSpan.FromTicks(Math.Min(pause.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Task? running;
        lock (stopping)
        {
            stopping.Cancel();
            running = loop;
        }

        if (running is not null)
        {
            try
            {
                await running.ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
            }
        }

        stopping.Dispose();
    }

    [LoggerMessage(EventId = 3110, Level = LogLevel.Debug, Message = "Listening for TypedJobs wake-ups on channel {Channel}")]
    private static partial void LogListening(ILogger logger, string channel);

    [LoggerMessage(EventId = 3111, Level = LogLevel.Warning, Message = "The TypedJobs LISTEN connection on channel {Channel} was lost; reconnecting in {Pause} (workers poll meanwhile)")]
    private static partial void LogListenerLost(ILogger logger, string channel, TimeSpan pause, Exception exception);
}
