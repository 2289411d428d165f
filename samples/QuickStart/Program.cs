using System.Text.Json.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using TypedJobs;
using TypedJobs.Events;
using TypedJobs.Registration;

// Three tasks, registered by hand with the low-level API.
var sendWelcome = JobTask.Create("send-welcome", JobSerializer.FromJsonTypeInfo(SampleJson.Default.Welcome),
    (welcome, ctx) =>
    {
        // Fails on its first attempt (a flaky mail server), succeeds on the retry.
        if (ctx.Attempt == 1)
        {
            throw new InvalidOperationException("mail server busy");
        }

        Console.WriteLine($"  [run] welcome mail to {welcome.Email} (attempt {ctx.Attempt})");
        return ValueTask.CompletedTask;
    },
    new TaskSettings { Queue = "emails", MaxRetries = 3, RetryDelay = TimeSpan.FromMilliseconds(500) });

var remind = JobTask.Create("remind", JobSerializer.FromJsonTypeInfo(SampleJson.Default.String),
    (text, _) =>
    {
        Console.WriteLine($"  [run] reminder: {text}");
        return ValueTask.CompletedTask;
    });

var countWords = JobTask.Create("count-words", JobSerializer.FromJsonTypeInfo(SampleJson.Default.String),
    JobSerializer.FromJsonTypeInfo(SampleJson.Default.Int32),
    (text, _) => ValueTask.FromResult(text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length));

var builder = Host.CreateApplicationBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning).AddFilter("TypedJobs", LogLevel.Error);
builder.Services.AddTypedJobs(o => o.UseInMemory())
    .AddTask(sendWelcome)
    .AddTask(remind)
    .AddTask(countWords)
    .AddObserver(new ConsoleObserver())
    .AddWorker(w => w.Queues = ["default", "emails"]);

using var host = builder.Build();
await host.StartAsync();
var jobs = host.Services.GetRequiredService<IJobClient>();

Console.WriteLine("Enqueuing jobs...");
var welcomeId = await jobs.EnqueueAsync(sendWelcome, new Welcome("ada@example.com", "Ada"));
var remindId = await jobs.EnqueueAsync(remind, "stand-up in two seconds", new JobOptions { Delay = TimeSpan.FromSeconds(2) });
var count = await jobs.EnqueueAsync(countWords, "the quick brown fox jumps over the lazy dog");

using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
var words = await count.GetResultAsync(timeout.Token);
var welcomeJob = await jobs.WaitForCompletionAsync(welcomeId, timeout.Token);
var remindJob = await jobs.WaitForCompletionAsync(remindId, timeout.Token);

Console.WriteLine();
Console.WriteLine("Summary");
Console.WriteLine($"  retried job  {welcomeJob.TaskName,-12} {welcomeJob.State} after {welcomeJob.Attempt} attempts");
Console.WriteLine($"  delayed job  {remindJob.TaskName,-12} {remindJob.State}, ran {(remindJob.StartedAt - remindJob.CreatedAt)?.TotalSeconds:0.0} s after enqueue");
Console.WriteLine($"  result job   {countWords.Name,-12} Succeeded, result = {words}");
await host.StopAsync();

var ok = welcomeJob is { State: JobState.Succeeded, Attempt: 2 } && remindJob.State == JobState.Succeeded && words == 9;
return ok ? 0 : 1;

/// <summary>The payload of the welcome task.</summary>
internal sealed record Welcome(string Email, string Name);

[JsonSerializable(typeof(Welcome))]
[JsonSerializable(typeof(string))]
[JsonSerializable(typeof(int))]
internal sealed partial class SampleJson : JsonSerializerContext;

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
