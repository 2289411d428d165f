using StackExchange.Redis;

namespace TypedJobs.Storage.Redis.Internal;

/// <summary>
/// Key names under one prefix. Each queue's keys share the hash tag <c>{PREFIXq:NAME}</c>, so a queue lives in one
/// cluster slot and every multi-key step of a queue is one script. Data that is not per queue has its own tags: the id
/// index and the results written by the results role are split into 16 shards by job id, so they spread over a cluster;
/// schedules, locks, events and the registry of queues and workers each sit in one slot.
/// </summary>
internal sealed class RedisKeys
{
    /// <summary>How many shards the id index and the results role use.</summary>
    public const int Shards = 16;

    private readonly string prefix;
    private readonly RedisKey[] indexShards = new RedisKey[Shards];
    private readonly string[] resultBases = new string[Shards];

    public RedisKeys(string prefix)
    {
        this.prefix = prefix;
        Queues = "{" + prefix + "g}:queues";
        Meta = "{" + prefix + "g}:meta";
        Workers = "{" + prefix + "g}:workers";
        EventsBase = "{" + prefix + "e}";
        SchedulesBase = "{" + prefix + "s}";
        WakeChannel = RedisChannel.Literal(prefix + "wake");
        for (var i = 0; i < Shards; i++)
        {
            indexShards[i] = "{" + prefix + "i:" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "}";
            resultBases[i] = "{" + prefix + "r:" + i.ToString("x", System.Globalization.CultureInfo.InvariantCulture) + "}";
        }
    }

    public string Prefix => prefix;

    /// <summary>The set of queue names that ever had a job or a pause.</summary>
    public RedisKey Queues { get; }

    /// <summary>The store's metadata (schema version).</summary>
    public RedisKey Meta { get; }

    /// <summary>The worker registry.</summary>
    public RedisKey Workers { get; }

    public string EventsBase { get; }

    public string SchedulesBase { get; }

    public RedisChannel WakeChannel { get; }

    /// <summary>The key base (hash tag) of a queue: every key of the queue starts with it.</summary>
    public string QueueBase(string queue) => "{" + prefix + "q:" + queue + "}";

    public static RedisKey Job(string queueBase, string id) => queueBase + ":j:" + id;

    /// <summary>A key of the queue that scripts are routed by (the queue's list of every job).</summary>
    public static RedisKey Route(string queueBase) => queueBase + ":a";

    public RedisKey Lock(string name) => "{" + prefix + "l}:" + name;

    public static int Shard(string idHex) => Convert.ToInt32(idHex[^1].ToString(), 16);

    public RedisKey IndexShard(int shard) => indexShards[shard];

    public string ResultBase(int shard) => resultBases[shard];
}
