using System.Diagnostics;
using AotWorker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using TypedJobs;

// A TypedJobs worker published with Native AOT. Settings come from appsettings.json, environment variables
// (TypedJobs__Storage, TypedJobs__Worker__Concurrency, AotWorker__Jobs, …) and the command line
// (--AotWorker:Jobs=3000), bound with the configuration-binding source generator.
//
// With AotWorker:Jobs = 0 it runs as a plain worker until stopped. With AotWorker:Jobs = N it enqueues N orders
// and N/10 order-total jobs, runs them, checks every job ran and every result round-tripped, prints figures and
// exits 0 (or 1 on any mismatch).
// appsettings.json is read from the binary's folder, wherever the worker is started from.
var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = args, ContentRootPath = AppContext.BaseDirectory });
var typedJobs = builder.Configuration.GetSection("TypedJobs");
var settings = builder.Configuration.GetSection("AotWorker").Get<AotWorkerSettings>() ?? new AotWorkerSettings();
// Storage comes from TypedJobs:Storage alone (a relative sqlite: path resolves against the content root); the SQLite
// provider is found through the package reference, with no code.
builder.Services.AddTypedJobs(typedJobs)
    .AddWorker(typedJobs.GetSection("Worker"));

using var host = builder.Build();
if (settings.Jobs <= 0)
{
    await host.RunAsync();
    return 0;
}

var started = Environment.TickCount64;
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobClient>();
var clock = Stopwatch.StartNew();

var orders = Enumerable.Range(0, settings.Jobs).Select(i => MakeOrder(i)).ToList();
var before = OrderTasks.Processed;
foreach (var chunk in orders.Chunk(500))
{
    await jobs.EnqueueProcessOrderBatchAsync(chunk.Select(o => (o, o.Lines.Count > 2 ? "high" : "normal")));
}

var totals = new List<(JobHandle<decimal> Handle, decimal Expected)>();
foreach (var order in orders.Take(Math.Max(1, settings.Jobs / 10)))
{
    totals.Add((await jobs.EnqueueOrderTotalAsync(order), order.Lines.Sum(l => l.Quantity * l.UnitPrice)));
}

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(settings.TimeoutSeconds));
var mismatches = 0;
foreach (var (handle, expected) in totals)
{
    if (await handle.GetResultAsync(timeout.Token) != expected)
    {
        mismatches++;
    }
}

while (OrderTasks.Processed - before < settings.Jobs || OrderTasks.Ticks == 0)
{
    await Task.Delay(20, timeout.Token);
}

var elapsed = clock.Elapsed;
await host.StopAsync();
Console.WriteLine($"aotworker: processed {OrderTasks.Processed - before} of {settings.Jobs} orders, {totals.Count} totals ({mismatches} mismatches), cron ticks {OrderTasks.Ticks}");
Console.WriteLine($"aotworker: {settings.Jobs + totals.Count} jobs in {elapsed.TotalSeconds:0.00} s ({(settings.Jobs + totals.Count) / elapsed.TotalSeconds:N0} jobs/s)");
Console.WriteLine($"aotworker: startup to first job {OrderTasks.FirstJobAt - started} ms (from Main; process start adds the runtime's own start-up)");
return mismatches == 0 && OrderTasks.Processed - before == settings.Jobs ? 0 : 1;

static Order MakeOrder(int i) => new(
    Guid.NewGuid(),
    $"customer-{i % 97}",
    Enumerable.Range(1, 1 + (i % 4)).Select(n => new OrderLine($"sku-{n}", n, 1.25m * n + i % 7)).ToList(),
    new Dictionary<string, string> { ["channel"] = i % 2 == 0 ? "web" : "store", ["region"] = "eu" },
    DateTimeOffset.UnixEpoch.AddSeconds(1_700_000_000 + i));

/// <summary>Settings of this sample (section <c>AotWorker</c>).</summary>
internal sealed class AotWorkerSettings
{
    /// <summary>Orders to enqueue and run before exiting; 0 runs as a plain worker.</summary>
    public int Jobs { get; set; }

    /// <summary>How long the self-test may take.</summary>
    public int TimeoutSeconds { get; set; } = 120;
}
