using Microsoft.Extensions.DependencyInjection;
using Shop;
using TypedJobs.Testing;

namespace TypedJobs.Testing.Tests;

public sealed class EnqueueAssertionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AssertEnqueued_FindsTheJobByTypedArguments_QueueAndDueTime()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueueSendWelcomeAsync("a@b.c", "Ada", new JobOptions { Delay = TimeSpan.FromHours(2) }, Ct);

        var job = await kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendWelcomeArguments("a@b.c", "Ada"), queue: "emails",
            dueIn: TimeSpan.FromHours(2), cancellationToken: Ct);
        Assert.Equal("a@b.c", job.Arguments.To);
        Assert.Equal(JobState.Scheduled, job.State);
        Assert.Equal(kit.Time.GetUtcNow() + TimeSpan.FromHours(2), job.DueAt);

        var byPredicate = await kit.AssertEnqueuedAsync<EmailTasksJobClientExtensions.SendWelcomeArguments>(a => a.To == "a@b.c", cancellationToken: Ct);
        Assert.Equal(job.Id, byPredicate.Id);
        await kit.AssertNothingElseEnqueuedAsync(Ct);
    }

    [Fact]
    public async Task AssertEnqueued_ComparesCollectionsByContent()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueueSendDigestAsync("a@b.c", ["jobs", "dotnet"], cancellationToken: Ct);

        await kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendDigestArguments("a@b.c", new List<string> { "jobs", "dotnet" }), cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendDigestArguments("a@b.c", ["dotnet", "jobs"]), cancellationToken: Ct));
        Assert.Contains("\"dotnet\"", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task FailedAssertion_NamesTheTask_TheExpectedAndTheActualPayloads()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueueSendWelcomeAsync("someone@else.org", "Bob", cancellationToken: Ct);

        var error = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendWelcomeArguments("a@b.c", "Ada"), cancellationToken: Ct));
        Assert.Contains("'Shop.EmailTasks.SendWelcome'", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"a@b.c\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"Ada\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"someone@else.org\"", error.Message, StringComparison.Ordinal);
        Assert.Contains("\"Bob\"", error.Message, StringComparison.Ordinal);

        var predicate = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertEnqueuedAsync<EmailTasksJobClientExtensions.SendWelcomeArguments>(a => a.To.EndsWith("@b.c", StringComparison.Ordinal), cancellationToken: Ct));
        Assert.Contains("a => a.To.EndsWith(\"@b.c\", StringComparison.Ordinal)", predicate.Message, StringComparison.Ordinal);
        Assert.Contains("\"someone@else.org\"", predicate.Message, StringComparison.Ordinal);

        var wrongQueue = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertEnqueuedAsync(new EmailTasksJobClientExtensions.SendWelcomeArguments("someone@else.org", "Bob"), queue: "default", cancellationToken: Ct));
        Assert.Contains("default", wrongQueue.Message, StringComparison.Ordinal);
        Assert.Contains("emails", wrongQueue.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NothingElseEnqueued_ListsTheJobsNoAssertionFound()
    {
        await using var kit = await Kits.StartAsync();
        await kit.Client.EnqueueSendWelcomeAsync("a@b.c", "Ada", cancellationToken: Ct);
        await kit.Client.EnqueueAddAsync(2, 3, cancellationToken: Ct);

        await kit.AssertEnqueuedAsync<EmailTasksJobClientExtensions.SendWelcomeArguments>(cancellationToken: Ct);
        var error = await Assert.ThrowsAsync<JobAssertionException>(() => kit.AssertNothingElseEnqueuedAsync(Ct));
        Assert.Contains("Shop.MathTasks.Add", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("SendWelcome", error.Message, StringComparison.Ordinal);

        await kit.AssertEnqueuedAsync(new MathTasksJobClientExtensions.AddArguments(2, 3), cancellationToken: Ct);
        await kit.AssertNothingElseEnqueuedAsync(Ct);
    }

    [Fact]
    public async Task CountsNotEnqueuedAndForget()
    {
        await using var kit = await Kits.StartAsync();
        await kit.AssertNothingEnqueuedAsync(Ct);
        await kit.Client.EnqueueAddAsync(1, 1, cancellationToken: Ct);
        await kit.ForgetEnqueuedAsync(Ct);
        await kit.AssertNothingEnqueuedAsync(Ct);

        await kit.Client.EnqueueAddBatchAsync([(1, 2), (3, 4), (5, 6)], cancellationToken: Ct);
        var jobs = await kit.AssertEnqueuedAsync<MathTasksJobClientExtensions.AddArguments>(2, a => a.A > 1, cancellationToken: Ct);
        Assert.Equal([3, 5], jobs.Select(j => j.Arguments.A));
        await kit.AssertNotEnqueuedAsync<MathTasksJobClientExtensions.AddArguments>(a => a.A == 1 && a.B == 1, Ct);
        var error = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertNotEnqueuedAsync<MathTasksJobClientExtensions.AddArguments>(a => a.B == 4, Ct));
        Assert.Contains("a => a.B == 4", error.Message, StringComparison.Ordinal);
        var wrongCount = await Assert.ThrowsAsync<JobAssertionException>(() =>
            kit.AssertEnqueuedAsync<MathTasksJobClientExtensions.AddArguments>(1, cancellationToken: Ct));
        Assert.Contains("3", wrongCount.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreadablePayload_IsReportedByTheTypedQuery()
    {
        await using var kit = await Kits.StartAsync();
        await StoreRawAsync(kit, MathTasksJobClientExtensions.AddArguments.TaskName, "{\"a\":\"x\"}");
        var error = await Assert.ThrowsAsync<JobAssertionException>(() => kit.GetEnqueuedAsync<MathTasksJobClientExtensions.AddArguments>(Ct));
        Assert.Contains("{\"a\":\"x\"}", error.Message, StringComparison.Ordinal);
    }

    /// <summary>Writes a payload straight to the store, as an older version of a task would have left it (the client refuses it).</summary>
    internal static async Task<JobId> StoreRawAsync(JobTestKit kit, string taskName, string json, string queue = "default")
    {
        var id = JobId.New();
        var store = kit.Services.GetRequiredService<TypedJobs.Storage.IJobStore>();
        await store.JobsInsertAsync(new TypedJobs.Storage.JobsInsertParams([new TypedJobs.Storage.JobInsert
        {
            Id = id,
            TaskName = taskName,
            Queue = queue,
            Payload = System.Text.Encoding.UTF8.GetBytes(json),
        }]), Ct);
        return id;
    }
}
