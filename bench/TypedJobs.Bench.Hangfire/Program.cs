// Hangfire.PostgreSql 1.21 on PostgreSQL, measured beside TypedJobs by bench/peers.sh: enqueues N no-op jobs, then times
// their processing with W workers. Hangfire has no batch enqueue in its free edition, so jobs are created one at a time
// from 8 concurrent producers.
// Usage: dotnet run -c Release --project bench/TypedJobs.Bench.Hangfire -- <connection-string> <jobs> <workers> <max-seconds>
// Prints one JSON line: {"peer":"Hangfire.PostgreSql …","enqueue":jobs/s,"process":jobs/s}
using System.Diagnostics;
using System.Globalization;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

var connection = args[0];
var jobs = int.Parse(args[1], CultureInfo.InvariantCulture);
var workers = int.Parse(args[2], CultureInfo.InvariantCulture);
var maxSeconds = int.Parse(args[3], CultureInfo.InvariantCulture);

var storage = new PostgreSqlStorage(new NpgsqlConnectionFactory(connection, new PostgreSqlStorageOptions()), new PostgreSqlStorageOptions
{
    SchemaName = "hangfire_bench",
    PrepareSchemaIfNecessary = true,
    QueuePollInterval = TimeSpan.FromMilliseconds(50),
});
GlobalConfiguration.Configuration.UseStorage(storage).UseIgnoredAssemblyVersionTypeResolver();
var client = new BackgroundJobClient(storage);

var sw = Stopwatch.StartNew();
var next = -1;
await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() =>
{
    while (Interlocked.Increment(ref next) < jobs)
    {
        client.Enqueue(() => Noop.Run());
    }
})));
var enqueue = jobs / sw.Elapsed.TotalSeconds;

using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers, ServerName = "bench" }, storage))
{
    var deadline = Stopwatch.StartNew();
    while (Volatile.Read(ref Noop.Done) < jobs && deadline.Elapsed < TimeSpan.FromSeconds(maxSeconds))
    {
        await Task.Delay(20);
    }
}

var elapsed = Stopwatch.GetElapsedTime(Noop.First, Noop.Last).TotalSeconds;
var process = Noop.Done <= 1 ? 0 : Noop.Done / elapsed;
Console.WriteLine(FormattableString.Invariant($$"""{"peer":"Hangfire.PostgreSql 1.21 (workers {{workers}})","enqueue":{{enqueue:0}},"process":{{process:0}}}"""));

public static class Noop
{
    public static int Done;
    public static long First;
    public static long Last;

    public static void Run()
    {
        var now = Stopwatch.GetTimestamp();
        Interlocked.CompareExchange(ref First, now, 0);
        Interlocked.Exchange(ref Last, now);
        Interlocked.Increment(ref Done);
    }
}
