using System.Buffers;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs.Registration;
using TypedJobs.Storage;

namespace TypedJobs.Cli.Tests.Support;

/// <summary>A payload that is a JSON document, written as it is (the way generated JSON serializers write payloads).</summary>
public sealed class JsonTextSerializer : JobSerializer<string>
{
    public static readonly JsonTextSerializer Instance = new();

    public override void Serialize(string value, IBufferWriter<byte> destination) => destination.Write(Encoding.UTF8.GetBytes(value));

    public override string Deserialize(ReadOnlySpan<byte> data) => Encoding.UTF8.GetString(data);
}

/// <summary>
/// A TypedJobs host on a test store, the way an application would run one: it enqueues through the client and, when
/// asked, runs a worker. The CLI then looks at what it left in the store.
/// </summary>
public sealed class Seed : IAsyncDisposable
{
    /// <summary>Succeeds.</summary>
    public static readonly JobTask<string> Send = JobTask.Create("orders.send", JsonTextSerializer.Instance, (_, _) => ValueTask.CompletedTask);

    /// <summary>Always fails, with no retries: its jobs go dead.</summary>
    public static readonly JobTask<string> Broken = JobTask.Create("orders.broken", JsonTextSerializer.Instance,
        (_, _) => throw new InvalidOperationException("payment gateway said no"), new TaskSettings { MaxRetries = 0 });

    private readonly IHost host;

    private Seed(IHost host)
    {
        this.host = host;
        Client = host.Services.GetRequiredService<IJobClient>();
        Admin = host.Services.GetRequiredService<IJobAdmin>();
        Schedules = host.Services.GetRequiredService<IScheduleAdmin>();
    }

    public IJobClient Client { get; }

    public IJobAdmin Admin { get; }

    public IScheduleAdmin Schedules { get; }

    /// <summary>Starts a host on <paramref name="url"/>; with <paramref name="worker"/> it runs a worker on the given queues.</summary>
    public static Task<Seed> StartAsync(string url, bool worker = false, params string[] queues) =>
        StartAsync(o => o.UseStorage(url), null, worker, queues);

    /// <summary>Starts a host on the storage the environment-style <paramref name="variables"/> configure (<c>TypedJobs__Storage__Jobs</c> and so on).</summary>
    public static Task<Seed> StartAsync(IReadOnlyDictionary<string, string> variables, bool worker = false, params string[] queues) =>
        StartAsync(null, variables.ToDictionary(v => v.Key.Replace("__", ":", StringComparison.Ordinal), v => (string?)v.Value), worker, queues);

    private static async Task<Seed> StartAsync(Action<TypedJobsOptions>? storage, Dictionary<string, string?>? configuration, bool worker, string[] queues)
    {
        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Configuration.AddInMemoryCollection(configuration ?? []);
        var typedJobs = (configuration is null
                ? builder.Services.AddTypedJobs(o =>
                {
                    storage!(o);
                    o.RecordEvents = true;
                })
                : builder.Services.AddTypedJobs(builder.Configuration.GetSection("TypedJobs"), o => o.RecordEvents = true))
            .AddTask(Send)
            .AddTask(Broken);
        if (worker)
        {
            typedJobs.AddWorker(w =>
            {
                w.Queues = queues.Length > 0 ? queues : ["default"];
                w.PollInterval = TimeSpan.FromMilliseconds(50);
            });
        }

        var host = builder.Build();
        await host.StartAsync();
        return new Seed(host);
    }

    public async Task<JobRecord> WaitForStateAsync(JobId id, JobState state)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            var job = await Client.GetJobAsync(id);
            if (job?.State == state)
            {
                return job;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"job {id} did not reach {state}; last seen {job?.State.ToString() ?? "missing"}");
            }

            await Task.Delay(20);
        }
    }

    public async ValueTask DisposeAsync()
    {
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await host.StopAsync(stop.Token);
        host.Dispose();
    }
}
