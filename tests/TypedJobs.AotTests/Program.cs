using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Registration;

// Runs a few jobs with hand-written registrations; exits 0 when every one succeeded with the right result.
var square = JobTask.Create("square", JobSerializer.FromJsonTypeInfo(AotJson.Default.Int32), JobSerializer.FromJsonTypeInfo(AotJson.Default.Int32),
    (n, _) => ValueTask.FromResult(n * n));

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.ClearProviders();
builder.Services.AddTypedJobs(o => o.UseInMemory()).AddTask(square).AddWorker();
using var host = builder.Build();
await host.StartAsync();
var client = host.Services.GetRequiredService<IJobClient>();

var handles = new List<JobHandle<int>>();
for (var i = 0; i < 100; i++)
{
    handles.Add(await client.EnqueueAsync(square, i));
}

var sum = 0;
foreach (var handle in handles)
{
    sum += await handle.GetResultAsync();
}

await host.StopAsync();
var expected = Enumerable.Range(0, 100).Sum(i => i * i);
Console.WriteLine($"aot: {handles.Count} jobs, sum of results {sum} (expected {expected})");
return sum == expected ? 0 : 1;

[JsonSerializable(typeof(int))]
internal sealed partial class AotJson : JsonSerializerContext;
