using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage.Memory;

namespace TypedJobs.Tests.Support;

[JsonSerializable(typeof(int))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(TestPayload))]
public sealed partial class TestJson : JsonSerializerContext;

public sealed record TestPayload(string Name, int Number = 0);

/// <summary>A host with the in-memory store on fake time, built per test.</summary>
public sealed class TestHost : IAsyncDisposable
{
    private TestHost(IHost host, FakeTimeProvider time, MemoryStorage storage)
    {
        Host = host;
        Time = time;
        Storage = storage;
    }

    public IHost Host { get; }

    public FakeTimeProvider Time { get; }

    public MemoryStorage Storage { get; }

    public IServiceProvider Services => Host.Services;

    public IJobClient Client => Services.GetRequiredService<IJobClient>();

    public IJobAdmin Admin => Services.GetRequiredService<IJobAdmin>();

    public static JobSerializer<TestPayload> PayloadSerializer { get; } = JobSerializer.FromJsonTypeInfo(TestJson.Default.TestPayload);

    public static JobSerializer<int> IntSerializer { get; } = JobSerializer.FromJsonTypeInfo(TestJson.Default.Int32);

    public static async Task<TestHost> StartAsync(Action<TypedJobsBuilder> configure, Action<WorkerOptions>? worker = null,
        bool startWorker = true, Action<TypedJobsOptions>? options = null, FakeTimeProvider? time = null, MemoryStorage? storage = null,
        TimeProvider? clock = null, Action<HostApplicationBuilder>? host = null)
    {
        time ??= new FakeTimeProvider(new DateTimeOffset(2026, 1, 5, 12, 0, 0, TimeSpan.Zero));
        clock ??= time;
        storage ??= new MemoryStorage(clock);
        var builder = Microsoft.Extensions.Hosting.Host.CreateApplicationBuilder();
        builder.Services.AddSingleton(clock);
        var jobs = builder.Services.AddTypedJobs(o =>
        {
            o.UseStorage(_ => storage);
            options?.Invoke(o);
        });
        configure(jobs);
        if (startWorker)
        {
            jobs.AddWorker(w =>
            {
                w.WorkerId = "test-worker";
                worker?.Invoke(w);
            });
        }

        host?.Invoke(builder);
        var built = builder.Build();
        await built.StartAsync();
        return new TestHost(built, time, storage);
    }

    public async ValueTask DisposeAsync()
    {
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var stop = Host.StopAsync(cts.Token);
        // Shutdown waits on fake-time delays: keep the clock moving until it finishes.
        while (!stop.IsCompleted)
        {
            Time.Advance(TimeSpan.FromSeconds(1));
            await Task.WhenAny(stop, Task.Delay(5));
        }

        await stop;
        Host.Dispose();
    }
}
