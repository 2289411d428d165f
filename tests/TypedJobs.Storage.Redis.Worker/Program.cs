// A TypedJobs worker on Redis, driven by the Redis store's fault tests.
//
//   --redis CONFIG     StackExchange.Redis configuration (host:port) (required)
//   --prefix P         the key prefix (required)
//   --log PATH         each run of the "record" task appends "<job id> <attempt> <process id>" here (required)
//   --enqueue N        also enqueue N "record" jobs in batches of 50, appending each acknowledged id to --ack; a batch
//                      that fails (the server is down, the connection was killed) is tried again with new ids
//   --ack PATH         where acknowledged ids go
//   --drain            exit once the own enqueues are done and nothing waits or runs
//   --job-ms N         how long each job takes (default 0)
//   --lease-ms N       WorkerOptions.LeaseDuration (default 30000); --rescue-ms N: RescueInterval (default 15000)
//   --timeout-ms N     the store's command timeout (default 1000)
//   --concurrency N    WorkerOptions.Concurrency (default 8)
//   --client-name N    the name of the worker's Redis connections (CLIENT SETNAME)
// Prints "ready" once the worker runs, "enqueued" after the last acknowledged batch and "done" before exiting.
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Registration;

var arguments = Arguments.Parse(args);
var log = new LineLog(arguments.Required("--log"));
var jobDelay = TimeSpan.FromMilliseconds(arguments.Int("--job-ms", 0));
var configuration = arguments.Required("--redis") + ",abortConnect=false"
                    + (arguments.Has("--client-name") ? ",name=" + arguments.Required("--client-name") : "");

var record = JobTask.Create("record", JobSerializer.FromJsonTypeInfo(WorkerJson.Default.Int32), async (n, ctx) =>
{
    if (jobDelay > TimeSpan.Zero)
    {
        await Task.Delay(jobDelay, ctx.CancellationToken);
    }

    log.Append($"{ctx.JobId} {ctx.Attempt.ToString(CultureInfo.InvariantCulture)} {Environment.ProcessId.ToString(CultureInfo.InvariantCulture)}");
}, new TaskSettings { MaxRetries = 1000, RetryDelay = TimeSpan.FromMilliseconds(50), MaxRetryDelay = TimeSpan.FromMilliseconds(200) });

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
builder.Services.AddTypedJobs(o => o.UseRedis(configuration, r =>
    {
        r.KeyPrefix = arguments.Required("--prefix");
        r.CommandTimeout = TimeSpan.FromMilliseconds(arguments.Int("--timeout-ms", 1000));
    }))
    .AddTask(record)
    .AddWorker(w =>
    {
        w.Concurrency = arguments.Int("--concurrency", 8);
        w.LeaseDuration = TimeSpan.FromMilliseconds(arguments.Int("--lease-ms", 30_000));
        w.RescueInterval = TimeSpan.FromMilliseconds(arguments.Int("--rescue-ms", 15_000));
        w.PollInterval = TimeSpan.FromMilliseconds(100);
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
        while (true)
        {
            try
            {
                var ids = await client.EnqueueBatchAsync(record, payloads);
                acks.Append(string.Join('\n', ids));
                break;
            }
            catch (Exception ex) when (ex is not OutOfMemoryException)
            {
                // Not acknowledged: the batch may or may not exist; the checker counts only acknowledged ids.
                Console.WriteLine($"enqueue failed, trying again: {ex.GetType().Name}");
                await Task.Delay(100);
            }
        }
    }

    Console.WriteLine("enqueued");
}

if (arguments.Has("--drain"))
{
    while (true)
    {
        try
        {
            var queues = await admin.GetQueuesAsync();
            if (queues.Sum(q => q.Length + q.Counts[JobState.Running]) == 0)
            {
                break;
            }
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            Console.WriteLine($"queue check failed: {ex.GetType().Name}");
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
