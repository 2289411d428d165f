using StackExchange.Redis;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Redis.Internal;

namespace TypedJobs.Storage.Redis.Tests;

/// <summary>
/// A store per open on the Redis server (or cluster) that ./test.sh started, under a key prefix of its own per test;
/// every open is another store instance on the same keys, as another process would see them. Stores on
/// <see cref="TimeProvider.System"/> use the server's clock (TIME inside the scripts); others pass the test's clock.
/// </summary>
public abstract class RedisStorageFactory : IStorageFactory
{
    private readonly List<RedisStorage> opened = [];

    protected abstract string Variable { get; }

    protected abstract string Server { get; }

    /// <summary>This test's key prefix.</summary>
    public string Prefix { get; } = "tjt:" + Guid.NewGuid().ToString("N")[..12] + ":";

    public async Task<IConnectionMultiplexer> MultiplexerAsync() =>
        await SharedConnections.GetAsync(TestServers.Require(Variable, Server));

    public async ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var multiplexer = await MultiplexerAsync();
        // A short hot-path timeout, so the engine tests may use short leases (a worker's lease must outlast two timeouts).
        var options = new RedisStorageOptions { KeyPrefix = Prefix, CommandTimeout = TimeSpan.FromMilliseconds(500) };
        var storage = new RedisStorage(options, new RedisConnection(multiplexer, -1, false), null,
            ReferenceEquals(timeProvider, TimeProvider.System) ? null : timeProvider);
        lock (opened)
        {
            opened.Add(storage);
        }

        return storage;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var storage in opened)
        {
            await storage.DisposeAsync();
        }

        if (opened.Count > 0)
        {
            await SharedConnections.DeleteKeysAsync(await MultiplexerAsync(), "{" + Prefix + "*");
        }

        GC.SuppressFinalize(this);
    }
}

/// <summary>The standalone server (TYPEDJOBS_TEST_REDIS).</summary>
public sealed class StandaloneRedisFactory : RedisStorageFactory
{
    protected override string Variable => "TYPEDJOBS_TEST_REDIS";

    protected override string Server => "Redis";
}

/// <summary>The Redis Cluster of three masters (TYPEDJOBS_TEST_REDIS_CLUSTER).</summary>
public sealed class ClusterRedisFactory : RedisStorageFactory
{
    protected override string Variable => "TYPEDJOBS_TEST_REDIS_CLUSTER";

    protected override string Server => "Redis Cluster";
}

/// <summary>One connection per server for the whole test run, as an application would have.</summary>
public static class SharedConnections
{
    private static readonly Dictionary<string, Lazy<Task<ConnectionMultiplexer>>> Connections = new(StringComparer.Ordinal);

    public static Task<ConnectionMultiplexer> GetAsync(string endpoints)
    {
        Lazy<Task<ConnectionMultiplexer>> connection;
        lock (Connections)
        {
            if (!Connections.TryGetValue(endpoints, out connection!))
            {
                connection = new Lazy<Task<ConnectionMultiplexer>>(() => ConnectionMultiplexer.ConnectAsync(endpoints + ",allowAdmin=true"));
                Connections.Add(endpoints, connection);
            }
        }

        return connection.Value;
    }

    /// <summary>Deletes every key matching <paramref name="pattern"/> on every master.</summary>
    public static async Task DeleteKeysAsync(IConnectionMultiplexer multiplexer, string pattern)
    {
        var db = multiplexer.GetDatabase();
        foreach (var server in multiplexer.GetServers().Where(s => !s.IsReplica))
        {
            var batch = new List<Task>();
            await foreach (var key in server.KeysAsync(pattern: pattern, pageSize: 1000))
            {
                batch.Add(db.KeyDeleteAsync(key, CommandFlags.FireAndForget));
            }

            await Task.WhenAll(batch);
        }
    }
}

public sealed class RedisInsertTests : InsertTests<StandaloneRedisFactory>;

public sealed class RedisClaimTests : ClaimTests<StandaloneRedisFactory>;

public sealed class RedisLeaseTests : LeaseTests<StandaloneRedisFactory>;

public sealed class RedisRescueTests : RescueTests<StandaloneRedisFactory>;

public sealed class RedisCompletionTests : CompletionTests<StandaloneRedisFactory>;

public sealed class RedisQueueTests : QueueTests<StandaloneRedisFactory>;

public sealed class RedisAdminQueryTests : AdminQueryTests<StandaloneRedisFactory>;

public sealed class RedisPruneTests : PruneTests<StandaloneRedisFactory>;

public sealed class RedisLockTests : LockTests<StandaloneRedisFactory>;

public sealed class RedisScheduleTests : ScheduleTests<StandaloneRedisFactory>;

public sealed class RedisResultTests : ResultTests<StandaloneRedisFactory>;

public sealed class RedisEventTests : EventTests<StandaloneRedisFactory>;

public sealed class RedisMigrationTests : MigrationTests<StandaloneRedisFactory>;

public sealed class RedisBadDataTests : BadDataTests<StandaloneRedisFactory>;

public sealed class RedisConcurrencyTests : ConcurrencyTests<StandaloneRedisFactory>;

public sealed class RedisAdminActionTests : AdminActionTests<StandaloneRedisFactory>;

public sealed class RedisEngineTests : EngineTests<StandaloneRedisFactory>;

public sealed class RedisClusterInsertTests : InsertTests<ClusterRedisFactory>;

public sealed class RedisClusterClaimTests : ClaimTests<ClusterRedisFactory>;

public sealed class RedisClusterLeaseTests : LeaseTests<ClusterRedisFactory>;

public sealed class RedisClusterRescueTests : RescueTests<ClusterRedisFactory>;

public sealed class RedisClusterCompletionTests : CompletionTests<ClusterRedisFactory>;

public sealed class RedisClusterQueueTests : QueueTests<ClusterRedisFactory>;

public sealed class RedisClusterAdminQueryTests : AdminQueryTests<ClusterRedisFactory>;

public sealed class RedisClusterPruneTests : PruneTests<ClusterRedisFactory>;

public sealed class RedisClusterLockTests : LockTests<ClusterRedisFactory>;

public sealed class RedisClusterScheduleTests : ScheduleTests<ClusterRedisFactory>;

public sealed class RedisClusterResultTests : ResultTests<ClusterRedisFactory>;

public sealed class RedisClusterEventTests : EventTests<ClusterRedisFactory>;

public sealed class RedisClusterMigrationTests : MigrationTests<ClusterRedisFactory>;

public sealed class RedisClusterBadDataTests : BadDataTests<ClusterRedisFactory>;

public sealed class RedisClusterConcurrencyTests : ConcurrencyTests<ClusterRedisFactory>;

public sealed class RedisClusterAdminActionTests : AdminActionTests<ClusterRedisFactory>;

public sealed class RedisClusterEngineTests : EngineTests<ClusterRedisFactory>;
