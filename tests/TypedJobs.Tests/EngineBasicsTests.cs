using TypedJobs.Registration;
using TypedJobs.Tests.Support;

namespace TypedJobs.Tests;

public class EngineBasicsTests
{
    [Fact]
    public async Task EnqueuedJob_RunsAndSucceeds_WithResult()
    {
        var doubled = JobTask.Create("double", TestHost.IntSerializer, TestHost.IntSerializer,
            (n, _) => ValueTask.FromResult(n * 2));
        await using var host = await TestHost.StartAsync(b => b.AddTask(doubled));

        var handle = await host.Client.EnqueueAsync(doubled, 21);
        var result = await handle.GetResultAsync(TestContext.Current.CancellationToken);

        Assert.Equal(42, result);
        var job = await host.Client.GetJobAsync(handle.Id, TestContext.Current.CancellationToken);
        Assert.Equal(JobState.Succeeded, job!.State);
        Assert.Equal(1, job.Attempt);
    }
}
