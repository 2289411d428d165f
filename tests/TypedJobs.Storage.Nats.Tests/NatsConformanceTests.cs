using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Nats.Internal;

namespace TypedJobs.Storage.Nats.Tests;

/// <summary>
/// The NATS store on the server <c>eng/servers/nats.sh</c> starts (<c>TYPEDJOBS_TEST_NATS</c>): one bucket prefix per
/// test; every open is another store with its own connection on the same buckets, as another process would see it.
/// Disposing deletes the buckets and the stream.
/// </summary>
public sealed class NatsStorageFactory : IStorageFactory
{
    private readonly List<NatsStorage> opened = [];

    public string Prefix { get; } = "tj" + Guid.NewGuid().ToString("N")[..12];

    public static string ServerUrl => TestServers.Require("TYPEDJOBS_TEST_NATS", "NATS with JetStream");

    public ValueTask<object> OpenAsync(TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        var storage = new NatsStorage(new NatsStorageOptions { Url = ServerUrl, BucketPrefix = Prefix }, timeProvider, null);
        lock (opened)
        {
            opened.Add(storage);
        }

        return ValueTask.FromResult<object>(storage);
    }

    public async ValueTask DisposeAsync()
    {
        NatsStorage[] stores;
        lock (opened)
        {
            stores = [.. opened];
        }

        if (stores.Length > 0 && Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_NATS") is { Length: > 0 })
        {
            await NatsTestSupport.DeleteAsync(stores[0]);
        }

        foreach (var store in stores)
        {
            await store.DisposeAsync();
        }
    }
}

public sealed class NatsResultTests : ResultTests<NatsStorageFactory>;

public sealed class NatsEventTests : EventTests<NatsStorageFactory>;

public sealed class NatsScheduleTests : ScheduleTests<NatsStorageFactory>;
