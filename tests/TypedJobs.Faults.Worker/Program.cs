// A TypedJobs worker for the fault harness, on any store given by URL.
//
//   --storage URL      the store (required), opened through the storage providers; wrapped in a FaultyStorage
//   --log PATH         each run of a job appends "<job id> <attempt> <process id>" here (required)
//   --enqueue N        also enqueue N "record" jobs in batches of 50, appending each acknowledged id to --ack (a batch
//                      that fails is sent again)
//   --ack PATH         where acknowledged ids go
//   --expect N         exit once N jobs succeeded and nothing waits or runs
//   --drain            exit once nothing waits or runs (after the own enqueues)
//   --job-ms N         how long each job takes (default 0)
//   --lease-ms N       WorkerOptions.LeaseDuration (default 30000); --rescue-ms N: RescueInterval (default 15000)
//   --concurrency N    WorkerOptions.Concurrency (default 8)
//   --max-retries N    the task's MaxRetries (default 100)
//   --fault SPEC       a FaultPlan schedule, e.g. "JobsCompleteAsync:delay=1500" (repeatable as --fault2, --fault3)
//   --results URL      put the results role there (the "record" task then returns its payload as its result)
//   --events URL       put the events role there and record lifecycle events
// Prints "ready" once the worker runs, "enqueued" after the last acknowledged batch and "done" before exiting.
using System.Globalization;
using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Registration;
using TypedJobs.Storage;
using TypedJobs.Storage.Conformance;

var arguments = Arguments.Parse(args);
var url = arguments.Required("--storage");
var log = new LineLog(arguments.Required("--log"));
var jobDelay = TimeSpan.FromMilliseconds(arguments.Int("--job-ms", 0));
var plan = new FaultPlan();
foreach (var key in new[] { "--fault", "--fault2", "--fault3" })
{
    if (arguments.Has(key))
    {
        plan.Schedule(arguments.Required(key));
    }
}

var record = JobTask.Create("record", JobSerializer.FromJsonTypeInfo(WorkerJson.Default.Int32), async (n, ctx) =>
{
    if (jobDelay > TimeSpan.Zero)
    {
        await Task.Delay(jobDelay, ctx.CancellationToken);
    }

    log.Append(string.Create(CultureInfo.InvariantCulture, $"{ctx.JobId} {ctx.Attempt} {Environment.ProcessId}"));
}, new TaskSettings
{
    MaxRetries = arguments.Int("--max-retries", 100),
    RetryDelay = TimeSpan.FromMilliseconds(50),
    MaxRetryDelay = TimeSpan.FromMilliseconds(200),
});

// With a results role of its own, "record" returns its payload, so every completion carries a result to write there.
var recordWithResult = JobTask.Create("record", JobSerializer.FromJsonTypeInfo(WorkerJson.Default.Int32), JobSerializer.FromJsonTypeInfo(WorkerJson.Default.Int32),
    async (n, ctx) =>
    {
        if (jobDelay > TimeSpan.Zero)
        {
            await Task.Delay(jobDelay, ctx.CancellationToken);
        }

        log.Append(string.Create(CultureInfo.InvariantCulture, $"{ctx.JobId} {ctx.Attempt} {Environment.ProcessId}"));
        return n;
    }, record.Settings);
var resultsUrl = arguments.Has("--results") ? arguments.Required("--results") : null;
var eventsUrl = arguments.Has("--events") ? arguments.Required("--events") : null;

var builder = Host.CreateApplicationBuilder();
builder.Logging.ClearProviders();
builder.Logging.AddSimpleConsole().SetMinimumLevel(LogLevel.Warning);
builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
var typedJobs = builder.Services.AddTypedJobs(o =>
{
    o.UseStorage(sp => new FaultyStorage(StorageProviders.Open(url, services: sp), plan));
    if (resultsUrl is not null)
    {
        o.UseStorage(resultsUrl, StorageRoles.Results);
    }

    if (eventsUrl is not null)
    {
        o.UseStorage(eventsUrl, StorageRoles.Events);
        o.RecordEvents = true;
    }
});
typedJobs.AddTask(resultsUrl is null ? record : recordWithResult)
    .AddWorker(w =>
    {
        w.Concurrency = arguments.Int("--concurrency", 8);
        w.LeaseDuration = TimeSpan.FromMilliseconds(arguments.Int("--lease-ms", 30_000));
        w.RescueInterval = TimeSpan.FromMilliseconds(arguments.Int("--rescue-ms", 15_000));
        w.PollInterval = TimeSpan.FromMilliseconds(100);
        w.ShutdownTimeout = TimeSpan.FromSeconds(5);
        w.AbandonGrace = TimeSpan.FromSeconds(2);
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
        IReadOnlyList<JobId> ids;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                ids = await client.EnqueueBatchAsync(resultsUrl is null ? record : recordWithResult, payloads);
                break;
            }
            catch (Exception ex) when (attempt < 20 && ex is not (OutOfMemoryException or ArgumentException))
            {
                // As a careful client does: a batch that failed (a timeout on a loaded machine, a server restart) is sent again. Only
                // acknowledged ids count; a timed-out batch that committed anyway runs as jobs nobody acknowledged.
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"enqueue attempt {attempt} failed, retrying: {ex.GetType().Name}: {ex.Message}"));
                await Task.Delay(200);
            }
        }

        acks.Append(string.Join('\n', ids));
    }

    Console.WriteLine("enqueued");
}

var expect = arguments.Int("--expect", -1);
if (expect >= 0 || arguments.Has("--drain"))
{
    // A run that stops making progress says what it sees (every 30 s without a change), so a hang is diagnosable from
    // the output alone: the counts per state, or the error the progress check keeps getting.
    var lastStatus = "";
    var lastChange = DateTime.UtcNow;
    while (true)
    {
        string status;
        var finished = false;
        try
        {
            var queues = await admin.GetQueuesAsync();
            var waitingOrRunning = queues.Sum(q => q.Length + q.Counts[JobState.Running]);
            var succeeded = queues.Sum(q => q.Counts[JobState.Succeeded]);
            finished = waitingOrRunning == 0 && (expect < 0 || succeeded >= expect);
            status = string.Join("; ", queues.Select(q => q.Name + ": " + string.Join(", ", q.Counts.Where(c => c.Value > 0).Select(c => $"{c.Key} {c.Value}"))));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // A server restart or a terminated connection: the engine recovers on its own, and so does this progress check.
            status = "progress check failed: " + ex.GetType().Name + ": " + ex.Message;
        }

        if (finished)
        {
            break;
        }

        if (status != lastStatus)
        {
            lastStatus = status;
            lastChange = DateTime.UtcNow;
        }
        else if (DateTime.UtcNow - lastChange > TimeSpan.FromSeconds(30))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"no progress for 30 s (expecting {expect} succeeded): {status}"));
            lastChange = DateTime.UtcNow;
        }

        await Task.Delay(100);
    }

    Console.WriteLine("stopping");
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
