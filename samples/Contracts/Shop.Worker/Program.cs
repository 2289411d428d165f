using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Worker;
using TypedJobs;

// The worker: runs the jobs of the order contract from the SQLite file the API writes to. With a count, it stops after
// running that many jobs; without, it runs until stopped.
var database = args.Length > 0 ? args[0] : "shop.db";
var progress = new Progress { Target = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 0 };
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddSingleton(progress);
builder.Services.AddTypedJobs(o => o.UseSqlite(database)).AddWorker(w => w.Queues = ["orders"]);
using var host = builder.Build();
await host.StartAsync();
Console.WriteLine("worker started");
if (progress.Target > 0)
{
    await progress.Finished.Task.WaitAsync(TimeSpan.FromMinutes(2));
}
else
{
    await host.WaitForShutdownAsync();
}

await host.StopAsync();
