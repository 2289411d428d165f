using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Shop.Contracts;
using TypedJobs;

// The producer: it knows the order tasks only through the contract project, enqueues through the generated stubs and
// awaits what the worker (another process, on the same SQLite file) computes. It runs no worker and has no handler code.
var database = args.Length > 0 ? args[0] : "shop.db";
var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Services.AddTypedJobs(o => o.UseSqlite(database));
using var host = builder.Build();
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobClient>();

var order = new Order("A-1001", "ada@example.com", [new OrderLine("book", 2, 12.50m), new OrderLine("pen", 3, 1.20m)]);
var confirm = await jobs.EnqueueConfirmOrderAsync(order);
var price = await jobs.EnqueuePriceOrderAsync(order, discountPercent: 10);
var other = await jobs.EnqueueConfirmOrderAsync(order with { Id = "A-1002", Customer = "bob@example.com" });
Console.WriteLine("enqueued 3 jobs");

using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
var total = await price.GetResultAsync(timeout.Token);
Console.WriteLine("total of A-1001: " + total.ToString("0.00", CultureInfo.InvariantCulture));
foreach (var id in new[] { confirm, other })
{
    var job = await jobs.WaitForCompletionAsync(id, timeout.Token);
    Console.WriteLine(job.TaskName + " in " + job.Queue + ": " + job.State);
}

await host.StopAsync();
