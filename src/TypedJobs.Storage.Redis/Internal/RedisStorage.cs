using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;
using static TypedJobs.Storage.Redis.Internal.RedisCodec;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// The Redis backend for every storage role. Every state change of a queue's jobs is one Lua script on the queue's hash
/// slot; the clock is the server's (<c>TIME</c> inside the scripts). Tests may give a <see cref="TimeProvider"/> instead,
/// whose now is then passed to every script.
/// </summary>
internal sealed partial class RedisStorage : IJobStore, IJobAdminStore, ILockStore, IResultStore, IEventStore, IScheduleStore, IAsyncDisposable,
    IDisposable
{
    /// <summary>The data layout version this code writes and reads.</summary>
    public const int SchemaVersion = 1;


    private readonly RedisStorageOptions options;
    private readonly RedisConnection connection;
    private readonly TimeProvider? clock;
    private readonly ILogger logger;
    private readonly string configurationKey;
    private readonly RedisWakeUp wake;
    private readonly object initGate = new();
    private Task? initialized;
    private bool durable;
    private int disposed;

    /// <summary>Creates the store on <paramref name="connection"/>; <paramref name="clock"/> replaces the server's clock (tests only).</summary>
    public RedisStorage(RedisStorageOptions options, RedisConnection connection, ILogger? logger = null, TimeProvider? clock = null,
        string configurationKey = "TypedJobs:Storage")
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(connection);
        this.options = options.Clone();
        this.options.Validate();
        this.connection = connection;
        connection.CommandTimeout = this.options.CommandTimeout;
        this.clock = clock;
        this.logger = logger ?? NullLogger.Instance;
        this.configurationKey = configurationKey;
        Keys = new RedisKeys(this.options.KeyPrefix);
        wake = new RedisWakeUp(() => connection.Multiplexer, Keys.WakeChannel, this.options.WakeUpWindow);
    }

    public RedisKeys Keys { get; }

    public RedisConnection Connection => connection;

    /// <summary>
    /// Wake-up across processes and text search always; <see cref="StorageCapabilities.Durable"/> when, at initialization,
    /// every master keeps its data on disk (AOF or RDB snapshots are on).
    /// </summary>
    public StorageCapabilities Capabilities =>
        StorageCapabilities.CrossProcessWakeUp | StorageCapabilities.TextSearch | (durable ? StorageCapabilities.Durable : StorageCapabilities.None);

    public TimeSpan HotPathTimeout => options.CommandTimeout;

    private IDatabase Db => connection.Database;

    /// <summary>The now argument of a script: '' lets the script read the server's TIME.</summary>
    private RedisValue NowArg() => clock is null ? RedisValue.EmptyString : Text(Micros(clock.GetUtcNow()));

    public Task InitializeAsync(CancellationToken cancellationToken)
    {
        lock (initGate)
        {
            ObjectDisposedException.ThrowIf(Volatile.Read(ref disposed) != 0, this);
            if (initialized is null || initialized.IsFaulted || initialized.IsCanceled)
            {
                initialized = InitializeCoreAsync();
            }

            return initialized.WaitAsync(cancellationToken);
        }
    }

    ValueTask IStorageRole.InitializeAsync(CancellationToken cancellationToken) => new(InitializeAsync(cancellationToken));

    private async Task InitializeCoreAsync()
    {
        await connection.ConnectAsync(configurationKey).ConfigureAwait(false);
        await connection.LoadScriptsAsync().ConfigureAwait(false);
        await Db.HashSetAsync(Keys.Meta, "version", SchemaVersion, When.NotExists).ConfigureAwait(false);
        var stored = (int)(await Db.HashGetAsync(Keys.Meta, "version").ConfigureAwait(false));
        if (stored > SchemaVersion)
        {
            throw new RedisStorageException(
                $"The keys '{Keys.Prefix}*' at Redis {connection.Endpoints} hold TypedJobs data version {stored}, which needs a newer version of TypedJobs; this one understands up to version {SchemaVersion}. Upgrade TypedJobs.");
        }

        durable = await CheckServersAsync().ConfigureAwait(false);
    }

    /// <summary>Warns about settings that lose or evict jobs; returns whether every master persists its data.</summary>
    private async Task<bool> CheckServersAsync()
    {
        var persistent = true;
        var checkedAny = false;
        foreach (var server in connection.Masters())
        {
            string endpoint = Describe(server);
            Dictionary<string, string> config;
            try
            {
                config = await ReadConfigAsync(server).ConfigureAwait(false);
            }
            catch (RedisException ex)
            {
                LogConfigUnknown(logger, endpoint, ex.Message);
                persistent = false;
                continue;
            }

            checkedAny = true;
            var aof = string.Equals(config.GetValueOrDefault("appendonly"), "yes", StringComparison.OrdinalIgnoreCase);
            var rdb = !string.IsNullOrWhiteSpace(config.GetValueOrDefault("save"));
            if (config.ContainsKey("partial"))
            {
                // Without admin mode only AOF and the eviction policy are known: durable only with AOF.
                LogConfigPartial(logger, endpoint, aof ? "on" : "off");
                persistent &= aof;
            }
            else if (!aof && !rdb)
            {
                LogNoPersistence(logger, endpoint);
                persistent = false;
            }
            else if (!aof)
            {
                LogSnapshotsOnly(logger, endpoint, config.GetValueOrDefault("save") ?? "");
            }
            else if (!string.Equals(config.GetValueOrDefault("appendfsync"), "always", StringComparison.OrdinalIgnoreCase))
            {
                LogFsyncNotAlways(logger, endpoint, config.GetValueOrDefault("appendfsync") ?? "?");
            }

            var policy = config.GetValueOrDefault("maxmemory-policy") ?? "?";
            if (!string.Equals(policy, "noeviction", StringComparison.OrdinalIgnoreCase))
            {
                LogEviction(logger, endpoint, policy);
            }
        }

        return persistent && checkedAny;
    }

    /// <summary>
    /// The persistence and eviction settings of a server: by CONFIG GET when the connection allows administrative commands
    /// (connections the store opens do), else from INFO, which tells whether AOF is on and the eviction policy but not
    /// the fsync policy or the RDB save points (reported as unknown).
    /// </summary>
    private static async Task<Dictionary<string, string>> ReadConfigAsync(IServer server)
    {
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        try
        {
            foreach (var (name, value) in await server.ConfigGetAsync("*").ConfigureAwait(false))
            {
                values[name] = value;
            }

            return values;
        }
        catch (RedisCommandException)
        {
            // Not in admin mode: read what INFO tells.
        }

        // INFO is an admin command for StackExchange.Redis too, but a script may call it on the server it runs on.
        var info = (string?)await server.ExecuteAsync("EVAL", [RedisScripts.ServerInfo, 0]).ConfigureAwait(false) ?? "";
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                values["info:" + line[..colon]] = line[(colon + 1)..];
            }
        }

        values["appendonly"] = values.GetValueOrDefault("info:aof_enabled") == "1" ? "yes" : "no";
        values["maxmemory-policy"] = values.GetValueOrDefault("info:maxmemory_policy") ?? "unknown";
        values["partial"] = "yes";
        return values;
    }

    private static string Describe(IServer server) => server.EndPoint switch
    {
        System.Net.DnsEndPoint dns => $"{dns.Host}:{dns.Port}",
        var other => other.ToString() ?? "?",
    };

    public async ValueTask<DateTimeOffset> ClockNowAsync(CancellationToken cancellationToken)
    {
        if (clock is not null)
        {
            return clock.GetUtcNow();
        }

        await InitializeAsync(cancellationToken).ConfigureAwait(false);
        var result = await connection.EvalAsync(Lua.Clock, [Keys.Meta], [RedisValue.EmptyString]).ConfigureAwait(false);
        return Time((RedisValue)result);
    }

    /// <summary>Waits for initialization (started by the first call of any operation if nobody called it).</summary>
    private Task ReadyAsync(CancellationToken cancellationToken)
    {
        var task = Volatile.Read(ref initialized);
        return task is { IsCompletedSuccessfully: true } ? Task.CompletedTask : InitializeAsync(cancellationToken);
    }

    private async Task<string[]> QueueNamesAsync()
    {
        var members = await Db.SetMembersAsync(Keys.Queues, ReadFlags).ConfigureAwait(false);
        var names = members.Select(m => (string)m!).ToArray();
        Array.Sort(names, StringComparer.Ordinal);
        return names;
    }

    private CommandFlags ReadFlags => connection.ReadFromReplicas ? CommandFlags.PreferReplica : CommandFlags.None;

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0)
        {
            return;
        }

        await wake.DisposeAsync().ConfigureAwait(false);
        await connection.DisposeAsync().ConfigureAwait(false);
    }

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    [LoggerMessage(EventId = 4000, Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} keeps TypedJobs data in memory only (appendonly no, no RDB save points): a restart of the server loses every job. Turn on appendonly yes with appendfsync always")]
    private static partial void LogNoPersistence(ILogger logger, string endpoint);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} persists only RDB snapshots (save '{Save}'): a crash loses every job enqueued or finished since the last snapshot. Turn on appendonly yes with appendfsync always")]
    private static partial void LogSnapshotsOnly(ILogger logger, string endpoint, string save);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} has appendfsync {Fsync}, not always: a crash of the server or its machine can lose acknowledged enqueues and completions of about the last second (everysec) or more (no). Set appendfsync always for no loss")]
    private static partial void LogFsyncNotAlways(ILogger logger, string endpoint, string fsync);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Warning,
        Message = "Redis at {Endpoint} has maxmemory-policy {Policy}, not noeviction: when memory runs out Redis deletes keys, which silently loses jobs. Set maxmemory-policy noeviction")]
    private static partial void LogEviction(ILogger logger, string endpoint, string policy);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information,
        Message = "The connection to Redis at {Endpoint} is not in admin mode, so CONFIG GET is refused: from INFO, AOF is {Aof}; appendfsync and the RDB save points are unknown. Check that appendonly is yes with appendfsync always, or open the connection with allowAdmin=true")]
    private static partial void LogConfigPartial(ILogger logger, string endpoint, string aof);

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information,
        Message = "Could not read the persistence settings of Redis at {Endpoint} (CONFIG GET: {Reason}); the store does not declare itself durable")]
    private static partial void LogConfigUnknown(ILogger logger, string endpoint, string reason);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Warning,
        Message = "Claiming from queue '{Queue}' failed ({ErrorType}: {Error}); the claim hands out the jobs of the other queues")]
    private static partial void LogClaimQueueFailed(ILogger logger, string queue, string errorType, string error);

    [LoggerMessage(EventId = 4007, Level = LogLevel.Information,
        Message = "Put {Count} job(s) of queue '{Queue}' back to waiting: a claim that failed or was abandoned had leased them, and no worker received them")]
    private static partial void LogClaimReleased(ILogger logger, int count, string queue);

    [LoggerMessage(EventId = 4008, Level = LogLevel.Warning,
        Message = "Could not put back the jobs that a failed or abandoned claim of queue '{Queue}' may have leased ({ErrorType}: {Error}); rescue returns them once their leases expire")]
    private static partial void LogClaimReleaseFailed(ILogger logger, string queue, string errorType, string error);

    [LoggerMessage(EventId = 4009, Level = LogLevel.Warning,
        Message = "Rescuing the expired leases of queue '{Queue}' failed ({ErrorType}: {Error}); the rescue reports the jobs of the other queues, and the next one tries this queue again")]
    private static partial void LogRescueQueueFailed(ILogger logger, string queue, string errorType, string error);
}
