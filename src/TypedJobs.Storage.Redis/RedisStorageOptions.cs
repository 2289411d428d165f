using StackExchange.Redis;

namespace TypedJobs.Storage.Redis;

/// <summary>
/// Settings of the Redis store (configuration section <c>TypedJobs:Redis</c>, or the query of a <c>redis://</c> URL).
/// Validated when the store is created: a bad value fails with a message naming the setting and the valid values.
/// </summary>
public sealed class RedisStorageOptions
{
    /// <summary>The default <see cref="KeyPrefix"/>.</summary>
    public const string DefaultKeyPrefix = "typedjobs:";

    /// <summary>
    /// A StackExchange.Redis configuration string (<c>localhost:6379,password=…,ssl=true</c>) or a storage URL
    /// (<c>redis://user:password@host:6379/0?prefix=app:</c>, <c>rediss://…</c> for TLS). Leave it empty to use
    /// <see cref="Multiplexer"/> or the application's <see cref="IConnectionMultiplexer"/> from dependency injection.
    /// </summary>
    public string? Configuration { get; set; }

    /// <summary>
    /// A connection the application already has. The store uses it and never opens a second one, and it does not dispose
    /// it. When both this and <see cref="Configuration"/> are empty, the store takes the <see cref="IConnectionMultiplexer"/>
    /// registered in dependency injection.
    /// </summary>
    public IConnectionMultiplexer? Multiplexer { get; set; }

    /// <summary>
    /// The start of every key (default <c>typedjobs:</c>): 1-64 characters without braces, spaces or control
    /// characters. Several applications (or test runs) can share a server with different prefixes.
    /// </summary>
    public string KeyPrefix { get; set; } = DefaultKeyPrefix;

    /// <summary>The database number on a standalone server; -1 takes the connection's default (a cluster has only 0).</summary>
    public int Database { get; set; } = -1;

    /// <summary>
    /// Send administrative reads (job lists, counts, queue statistics) to replicas when there are any
    /// (<see cref="CommandFlags.PreferReplica"/>); they may then lag behind the master by the replication delay. Writes
    /// and everything on the workers' hot path always go to masters. Default <see langword="false"/>.
    /// </summary>
    public bool ReadFromReplicas { get; set; }

    /// <summary>
    /// How long a command may take before it fails (the hot-path timeout the workers check their lease against, and
    /// StackExchange.Redis's async timeout for connections the store opens itself). Default 5 seconds.
    /// </summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long connecting may take for connections the store opens itself. Default 5 seconds.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The approximate most events kept in the events stream (<c>XADD MAXLEN ~</c>); older ones are trimmed even before
    /// they are pruned by age. Default 1,000,000.
    /// </summary>
    public int EventStreamMaxLength { get; set; } = 1_000_000;

    /// <summary>
    /// Wake-up signals to workers in other processes are coalesced per queue: the first insert after a quiet spell
    /// publishes at once, later ones within this window publish once at its end. Default 2 ms; zero publishes every insert.
    /// </summary>
    public TimeSpan WakeUpWindow { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting and the valid values.</summary>
    public void Validate()
    {
        static Exception Fail(string key, object? value, string rule) =>
            new InvalidOperationException($"Invalid setting TypedJobs:Redis:{key} = '{value}': {rule}.");

        if (!IsValidPrefix(KeyPrefix))
        {
            throw Fail(nameof(KeyPrefix), KeyPrefix, "use 1-64 characters without '{', '}', spaces or control characters");
        }

        if (Database < -1 || Database > 10_000)
        {
            throw Fail(nameof(Database), Database, "use -1 (the connection's default) or a database number from 0");
        }

        if (CommandTimeout <= TimeSpan.Zero || CommandTimeout > TimeSpan.FromMinutes(10))
        {
            throw Fail(nameof(CommandTimeout), CommandTimeout, "must be more than 00:00:00 and at most 00:10:00");
        }

        if (ConnectTimeout <= TimeSpan.Zero || ConnectTimeout > TimeSpan.FromMinutes(10))
        {
            throw Fail(nameof(ConnectTimeout), ConnectTimeout, "must be more than 00:00:00 and at most 00:10:00");
        }

        if (EventStreamMaxLength < 1)
        {
            throw Fail(nameof(EventStreamMaxLength), EventStreamMaxLength, "must be at least 1");
        }

        if (WakeUpWindow < TimeSpan.Zero || WakeUpWindow > TimeSpan.FromSeconds(1))
        {
            throw Fail(nameof(WakeUpWindow), WakeUpWindow, "must be between 00:00:00 and 00:00:01");
        }
    }

    internal static bool IsValidPrefix(string? prefix)
    {
        if (string.IsNullOrEmpty(prefix) || prefix.Length > 64)
        {
            return false;
        }

        foreach (var c in prefix)
        {
            if (c is '{' or '}' || char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }

    internal RedisStorageOptions Clone() => (RedisStorageOptions)MemberwiseClone();
}
