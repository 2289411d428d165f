using System.Diagnostics;
using TypedJobs.Storage.Conformance;
using TypedJobs.Storage.Nats.Internal;

namespace TypedJobs.Storage.Nats.Tests;

/// <summary>
/// A server that fails to create a bucket's stream (error 500: it could not set up the stream's directory) is asked
/// again before the store reports it. Each test runs its own nats-server (eng/servers/nats.sh), whose store directory it
/// can spoil: a plain file where the stream's directory goes makes the server's create fail the way an I/O error does.
/// </summary>
public sealed class NatsCreateFailureTests : IAsyncLifetime
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), "typedjobs-nats-create-" + Guid.NewGuid().ToString("N"));
    private readonly string prefix = "tj" + Guid.NewGuid().ToString("N")[..12];
    private string? script;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string ServerDirectory => Path.Combine(directory, "nats");

    public ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(directory);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        if (script is not null)
        {
            await RunScriptAsync("stop");
        }

        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Initialize_WhenTheServerFailsToCreateTheResultsBucketOnce_TriesAgainAndStoresResults()
    {
        var url = await StartServerAsync();
        var blocker = BlockStream("KV_" + prefix + "_results");
        // The file goes once the store has seen the failure: the second attempt finds the way clear.
        var logger = new RecordingLogger(afterWarning: () => File.Delete(blocker));
        await using var store = new NatsStorage(new NatsStorageOptions { Url = url, BucketPrefix = prefix }, TimeProvider.System, logger);

        await store.InitializeAsync(Ct);

        var warning = Assert.Single(logger.Warnings);
        Assert.Contains($"prefix '{prefix}'", warning, StringComparison.Ordinal);
        Assert.Contains("error creating store for stream", warning, StringComparison.Ordinal);
        Assert.Contains($"attempt 1 of {NatsStorage.CreateAttempts}", warning, StringComparison.Ordinal);
        var (id, attempt) = (JobId.New(), Guid.NewGuid());
        await store.ResultsSetAsync(new ResultsSetParams([new ResultWrite(id, attempt, [42], TimeSpan.FromMinutes(5))]), Ct);
        Assert.Equal(new byte[] { 42 }, (await store.ResultsGetAsync(new ResultsGetParams(id, attempt), Ct)).Result!.Value);
    }

    [Fact]
    public async Task Initialize_WhenTheServerKeepsFailingToCreateABucket_ReportsItsErrorAfterEveryAttempt()
    {
        var url = await StartServerAsync();
        BlockStream("KV_" + prefix + "_schedules");
        var logger = new RecordingLogger();
        await using var store = new NatsStorage(new NatsStorageOptions { Url = url, BucketPrefix = prefix }, TimeProvider.System, logger);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () => await store.InitializeAsync(Ct));

        Assert.Contains($"could not create its buckets and stream (prefix '{prefix}')", error.Message, StringComparison.Ordinal);
        Assert.Contains("error creating store for stream (code 500", error.Message, StringComparison.Ordinal);
        Assert.Contains($"{NatsStorage.CreateAttempts} attempts", error.Message, StringComparison.Ordinal);
        Assert.Equal(NatsStorage.CreateAttempts - 1, logger.Warnings.Count);
    }

    /// <summary>Puts a plain file where the server keeps the directory of stream <paramref name="stream"/>.</summary>
    private string BlockStream(string stream)
    {
        var streams = Path.Combine(ServerDirectory, "js", "jetstream", "$G", "streams");
        Directory.CreateDirectory(streams);
        var path = Path.Combine(streams, stream);
        File.WriteAllText(path, "not a directory");
        return path;
    }

    private async Task<string> StartServerAsync()
    {
        script = TestServers.Require("TYPEDJOBS_TEST_NATS_SCRIPT", "nats-server (eng/servers/nats.sh)");
        var port = (await RunScriptAsync("start")).Trim();
        return $"nats://127.0.0.1:{port}";
    }

    private async Task<string> RunScriptAsync(string verb)
    {
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script!);
        start.ArgumentList.Add(verb);
        start.ArgumentList.Add(ServerDirectory);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var error = process.StandardError.ReadToEndAsync(CancellationToken.None);
        await process.WaitForExitAsync(CancellationToken.None);
        Assert.True(process.ExitCode == 0, $"nats.sh {verb} failed: {await error}");
        return await output;
    }
}
