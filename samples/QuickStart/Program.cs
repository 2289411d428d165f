using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Events;

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("TypedJobs", LogLevel.Error);

// The [Task] methods below are registered by generated code: no AddTask calls.
// Jobs persist in jobs.db (SQLite) in the working directory.
builder.Services.AddTypedJobs(o => o.UseSqlite("Data Source=jobs.db"))
    .AddObserver(new ConsoleObserver())
    .AddWorker(w => w.Queues = ["default", "emails"]);

using var host = builder.Build();
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobClient>();

Console.WriteLine("Enqueuing jobs...");
var welcomeId = await jobs.EnqueueSendWelcomeAsync(new Welcome("ada@example.com", "Ada"));
var remindId = await jobs.EnqueueRemindAsync("stand-up in two seconds", new JobOptions { Delay = TimeSpan.FromSeconds(2) });
var count = await jobs.EnqueueCountWordsAsync("the quick brown fox jumps over the lazy dog");

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var words = await count.GetResultAsync(timeout.Token);
var welcomeJob = await jobs.WaitForCompletionAsync(welcomeId, timeout.Token);
var remindJob = await jobs.WaitForCompletionAsync(remindId, timeout.Token);
var countJob = await jobs.WaitForCompletionAsync(count, timeout.Token);
while (Volatile.Read(ref SampleTasks.Heartbeats) == 0)
{
    await Task.Delay(50, timeout.Token); // the recurring task runs every second, on the second
}

Console.WriteLine();
Console.WriteLine("Summary");
Console.WriteLine($"  retried job  {welcomeJob.TaskName,-12} {welcomeJob.State} after {welcomeJob.Attempt} attempts");
Console.WriteLine($"  delayed job  {remindJob.TaskName,-12} {remindJob.State}, ran {(remindJob.StartedAt - remindJob.CreatedAt)?.TotalSeconds:0.0} s after enqueue");
Console.WriteLine($"  result job   {countJob.TaskName,-12} {countJob.State}, result = {words}");
Console.WriteLine($"  recurring    {"heartbeat",-12} ran {Volatile.Read(ref SampleTasks.Heartbeats)} times (every second)");
await host.StopAsync();

var ok = welcomeJob is { State: JobState.Succeeded, Attempt: 2 } && remindJob.State == JobState.Succeeded && words == 9;
return ok ? 0 : 1;

/// <summary>The payload of the welcome task.</summary>
internal sealed record Welcome(string Email, string Name);

/// <summary>
/// Four tasks, one of them recurring. The source generator gives each an <c>EnqueueXxxAsync</c> method on <see cref="IJobClient"/>, a
/// serializer for its parameters and its registration.
/// </summary>
internal static class SampleTasks
{
    [Task(Name = "send-welcome", Queue = "emails", MaxRetries = 3, RetryDelay = "00:00:00.5")]
    public static void SendWelcome(Welcome welcome, JobContext context)
    {
        // Fails on its first attempt (a flaky mail server), succeeds on the retry.
        if (context.Attempt == 1)
        {
            throw new InvalidOperationException("mail server busy");
        }

        Console.WriteLine($"  [run] welcome mail to {welcome.Email} (attempt {context.Attempt})");
    }

    [Task(Name = "remind")]
    public static void Remind(string text) => Console.WriteLine($"  [run] reminder: {text}");

    [Task(Name = "count-words")]
    public static int CountWords(string text) => text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;

    /// <summary>How often <see cref="Heartbeat"/> ran.</summary>
    public static int Heartbeats;

    [Task(Name = "heartbeat", Interval = "00:00:01")]
    public static void Heartbeat() => Interlocked.Increment(ref Heartbeats);
}

internal sealed class ConsoleObserver : IJobEventObserver
{
    public ValueTask OnEventAsync(JobEvent e, CancellationToken cancellationToken)
    {
        var detail = e.Kind switch
        {
            JobEventKind.Retried => $" (retry in {e.Delay?.TotalSeconds:0.0} s: {FirstLine(e.Error)})",
            JobEventKind.Dead => $" ({FirstLine(e.Error)})",
            _ => "",
        };
        Console.WriteLine($"  [event] {e.Kind,-9} {e.TaskName,-12} attempt {e.Attempt}{detail}");
        return ValueTask.CompletedTask;
    }

    private static string? FirstLine(string? text) => text?.Split('\n')[0].Trim();
}
