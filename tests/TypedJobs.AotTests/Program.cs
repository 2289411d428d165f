using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Registration;

// Runs a few jobs with hand-written registrations on the in-memory and the SQLite store (and on PostgreSQL when
// TYPEDJOBS_TEST_POSTGRES names a server); exits 0 when every one
// succeeded with the right result. The project roots every runtime library assembly, so the publish analyses all of it.
var square = JobTask.Create("square", JobSerializer.FromJsonTypeInfo(AotJson.Default.Int32), JobSerializer.FromJsonTypeInfo(AotJson.Default.Int32),
    (n, _) => ValueTask.FromResult(n * n));

var expected = Enumerable.Range(0, 100).Sum(i => i * i);
var failures = 0;
var database = Path.Combine(Path.GetTempPath(), $"typedjobs-aot-{Environment.ProcessId}.db");
var stores = new List<(string, Action<TypedJobsOptions>)>
{
    ("memory", o => o.UseInMemory()),
    ("sqlite", o => o.UseSqlite(database)),
};
if (Environment.GetEnvironmentVariable("TYPEDJOBS_TEST_POSTGRES") is { Length: > 0 } postgres)
{
    stores.Add(("postgres", o => o.UsePostgres(postgres, p => p.Schema = $"aot_{Environment.ProcessId}")));
}

foreach (var (name, use) in stores)
{
    var builder = Host.CreateApplicationBuilder(args);
    builder.Logging.ClearProviders();
    builder.Services.AddTypedJobs(use).AddTask(square).AddWorker();
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
    Console.WriteLine($"aot {name}: {handles.Count} jobs, sum of results {sum} (expected {expected})");
    failures += sum == expected ? 0 : 1;
}

foreach (var file in Directory.GetFiles(Path.GetTempPath(), Path.GetFileName(database) + "*"))
{
    File.Delete(file);
}

return failures == 0 ? 0 : 1;

[JsonSerializable(typeof(int))]
internal sealed partial class AotJson : JsonSerializerContext;
