// A TypedJobs worker on PostgreSQL, driven by the PostgreSQL store's process and fault tests.
//
//   --connection CS    the Npgsql connection string (required)
//   --schema NAME      the schema of the store's tables (required)
//   --log PATH         each run of the "record" task appends "<job id> <payload> <process id>" here
//   --migrate-only     initialize the schema, print "migrated" and exit (several processes at once test the migration lock)
//   --enqueue N        also enqueue N "record" jobs in batches of 50, appending each acknowledged id to --ack
//   --ack PATH         where acknowledged ids go
//   --expect N         exit once N jobs succeeded and nothing waits or runs
//   --drain            exit once nothing waits or runs (after the own enqueues)
//   --job-ms N         how long each job takes (default 0)
//   --lease-ms N       WorkerOptions.LeaseDuration (default 30000); --rescue-ms N: RescueInterval (default 15000)
//   --hot-path-ms N    the store's hot-path timeout (default: a quarter of the lease, whole seconds from 1 to 5)
//   --concurrency N    WorkerOptions.Concurrency (default 8)
//   --poll-ms N        WorkerOptions.PollInterval (default 200)
// Prints "ready" once the worker runs, "enqueued" after the last acknowledged batch and "done" before exiting.
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Registration;

var arguments = Arguments.Parse(args);
var connection = arguments.Required("--connection");
var schema = arguments.Required("--schema");
var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
var leaseMs = arguments.Int("--lease-ms", 30_000);
var hotPathMs = arguments.Int("--hot-path-ms", Math.Clamp(leaseMs / 4 / 1000 * 1000, 1000, 5000));
var jobs = builder.Services.AddTypedJobs(o => o.UsePostgres(connection, p =>
{
    p.Schema = schema;
    p.HotPathTimeout = TimeSpan.FromMilliseconds(hotPathMs);
}));

if (arguments.Has("--migrate-only"))
{
    using var migrator = builder.Build();
    var store = migrator.Services.GetRequiredService<TypedJobs.Storage.IJobStore>();
    await store.InitializeAsync(CancellationToken.None);
    Console.WriteLine("migrated");
    return 0;
}

var log = new LineLog(arguments.Required("--log"));
var jobDelay = TimeSpan.FromMilliseconds(arguments.Int("--job-ms", 0));
var record = JobTask.Create("record", JobSerializer.FromJsonTypeInfo(WorkerJson.Default.Int32), async (n, ctx) =>
{
    if (jobDelay > TimeSpan.Zero)
    {
        await Task.Delay(jobDelay, ctx.CancellationToken);
    }

    log.Append($"{ctx.JobId} {n.ToString(CultureInfo.InvariantCulture)} {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
}, new TaskSettings { MaxRetries = 100, RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200) });

jobs.AddTask(record).AddWorker(w =>
{
    w.Concurrency = arguments.Int("--concurrency", 8);
    w.LeaseDuration = TimeSpan.FromMilliseconds(leaseMs);
    w.RescueInterval = TimeSpan.FromMilliseconds(arguments.Int("--rescue-ms", 15_000));
    w.PollInterval = TimeSpan.FromMilliseconds(arguments.Int("--poll-ms", 200));
    w.ShutdownTimeout = TimeSpan.FromSeconds(5);
});
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("ready");

var client = host.Services.GetRequiredService<IJobClient>();
var admin = host.Services.GetRequiredService<IJobAdmin>();
if (arguments.Int("--enqueue", 0) is var toEnqueue and > 0)
{
    var acks = new LineLog(arguments.Required("--ack"));
    for (var start = 0; start < toEnqueue; start += 50)
    {
        var payloads = Enumerable.Range(start, Math.Min(50, toEnqueue - start)).ToArray();
        var ids = await client.EnqueueBatchAsync(record, payloads);
        acks.Append(string.Join('\n', ids));
    }

    Console.WriteLine("enqueued");
}

var expect = arguments.Int("--expect", -1);
var drain = arguments.Has("--drain");
if (expect >= 0 || drain)
{
    while (true)
    {
        try
        {
            var queues = await admin.GetQueuesAsync();
            var waitingOrRunning = queues.Sum(q => q.Length + q.Counts[JobState.Running]);
            var succeeded = queues.Sum(q => q.Counts[JobState.Succeeded]);
            if (waitingOrRunning == 0 && (drain || succeeded >= expect))
            {
                break;
            }
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or IOException or TimeoutException or InvalidOperationException)
        {
            // The server restarts in some fault tests: keep asking.
        }

        await Task.Delay(100);
    }

    await host.StopAsync();
    Console.WriteLine("done");
    return 0;
}

await host.WaitForShutdownAsync();
return 0;

/// <summary>Appends whole lines to a file and flushes each, so a killed process leaves every written line behind.</summary>
internal sealed class LineLog(string path)
{
    private readonly StreamWriter writer = new(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite)) { AutoFlush = true };

    public void Append(string line)
    {
        lock (writer)
        {
            writer.Write(line + "\n");
        }
    }
}

internal sealed class Arguments(Dictionary<string, string> values)
{
    public static Arguments Parse(string[] args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Length; i++)
        {
            var key = args[i];
            values[key] = i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : "";
        }

        return new Arguments(values);
    }

    public bool Has(string name) => values.ContainsKey(name);

    public string Required(string name) => values.TryGetValue(name, out var v) && v.Length > 0 ? v : throw new ArgumentException($"{name} is required.");

    public int Int(string name, int fallback) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
}

[JsonSerializable(typeof(int))]
internal sealed partial class WorkerJson : JsonSerializerContext;
