using System.Diagnostics;
using System.Text;

namespace TypedJobs.Storage.Conformance;

/// <summary>A running worker process (a .NET app launched with <c>dotnet app.dll</c>), with its output collected.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();
    private readonly HashSet<string> lines = new(StringComparer.Ordinal);
    private readonly Dictionary<string, TaskCompletionSource> awaited = new(StringComparer.Ordinal);

    private WorkerProcess(Process process)
    {
        this.process = process;
        process.OutputDataReceived += (_, e) => OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
    }

    public int Id => process.Id;

    public string Output
    {
        get
        {
            lock (output)
            {
                return output.ToString();
            }
        }
    }

    public static WorkerProcess Start(string workerDll, params string[] arguments)
    {
        Assert.True(File.Exists(workerDll), $"The worker app was not built: {workerDll}");
        var start = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(workerDll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["DOTNET_gcServer"] = "0";
        return new WorkerProcess(Process.Start(start)!);
    }

    /// <summary>Waits until the worker printed "ready" (its host started).</summary>
    public Task WaitReadyAsync(TimeSpan timeout) => WaitForLineAsync("ready", timeout);

    /// <summary>
    /// Waits until the worker printed <paramref name="line"/> (e.g. "enqueued"); fails with its output if it exits first or
    /// the timeout passes.
    /// </summary>
    public async Task WaitForLineAsync(string line, TimeSpan timeout)
    {
        Task printed;
        lock (output)
        {
            if (lines.Contains(line))
            {
                return;
            }

            if (!awaited.TryGetValue(line, out var source))
            {
                awaited[line] = source = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }

            printed = source.Task;
        }

        var exited = process.WaitForExitAsync();
        var finished = await Task.WhenAny(printed, exited, Task.Delay(timeout, TestContext.Current.CancellationToken));
        if (!printed.IsCompleted)
        {
            Assert.Fail(finished == exited
                ? $"Worker {process.Id} exited with code {process.ExitCode} before it printed '{line}'. Output:\n{Output}"
                : $"Worker {process.Id} did not print '{line}' within {timeout}. Output:\n{Output}");
        }
    }

    /// <summary>Waits for the process to exit on its own and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            Assert.Fail($"Worker {process.Id} did not finish within {timeout}. Output:\n{Output}");
        }

        process.WaitForExit();
        return process.ExitCode;
    }

    /// <summary>Kills the process with SIGKILL: no shutdown code runs, leases stay behind.</summary>
    public async Task KillAsync()
    {
        process.Kill(entireProcessTree: true);
        await process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    public void Dispose()
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
        }

        process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        TaskCompletionSource? waiter;
        lock (output)
        {
            output.AppendLine(line);
            lines.Add(line);
            awaited.Remove(line, out waiter);
        }

        waiter?.TrySetResult();
    }
}
