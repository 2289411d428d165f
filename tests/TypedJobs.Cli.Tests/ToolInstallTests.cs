using System.Diagnostics;
using TypedJobs.Cli.Tests.Support;

namespace TypedJobs.Cli.Tests;

/// <summary>The tool as a user gets it: packed, installed from a feed with <c>dotnet tool install</c>, and run.</summary>
public sealed class ToolInstallTests
{
    [Fact]
    public async Task PackedTool_InstallsFromALocalFeed_AndRunsQueuesAgainstSqlite()
    {
        var root = RepositoryRoot();
        var work = Directory.CreateTempSubdirectory("typedjobs-tool-").FullName;
        try
        {
            var feed = Path.Combine(work, "feed");
            var tools = Path.Combine(work, "tools");
            var project = Path.Combine(root, "src", "TypedJobs.Cli", "TypedJobs.Cli.csproj");
            // The tool was built in Release as a reference of this project; pack those binaries as they are.
            await RunAsync(root, "dotnet", "pack", project, "-c", "Release", "--no-build", "-o", feed, "-nologo");
            var package = Assert.Single(Directory.GetFiles(feed, "TypedJobs.Cli.*.nupkg"));
            var version = Path.GetFileNameWithoutExtension(package)["TypedJobs.Cli.".Length..];

            // Only the local feed: installing the tool needs nothing else.
            var config = Path.Combine(work, "nuget.config");
            await File.WriteAllTextAsync(config, $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            await RunAsync(work, "dotnet", "tool", "install", "TypedJobs.Cli", "--version", version, "--tool-path", tools, "--configfile", config);

            var typedjobs = Path.Combine(tools, "typedjobs");
            Assert.True(File.Exists(typedjobs), "the tool's command is typedjobs");
            var db = Path.Combine(work, "jobs.db");
            await RunAsync(work, typedjobs, "migrate", "--storage", "sqlite:" + db);
            await using (var seed = await Seed.StartAsync("sqlite:" + db))
            {
                await seed.Client.EnqueueBatchAsync(Seed.Send, ["{}", "{}", "{}"], new JobOptions { Queue = "emails" });
            }

            var (code, output, error) = await RunAsync(work, typedjobs, "queues", "--storage", "sqlite:" + db);
            Assert.Equal(0, code);
            Assert.Empty(error);
            var row = output.Split('\n').Single(l => l.Contains("| emails ", StringComparison.Ordinal));
            Assert.Matches(@"\|\s+0 \|\s+3 \|", row);
            Assert.DoesNotContain("\u001b[", output);

            var gate = await RunAsync(work, typedjobs, ["validate", "--storage", "sqlite:" + Path.Combine(work, "fresh.db")], check: false);
            Assert.Equal(3, gate.Code);
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(work, recursive: true);
        }
    }

    private static Task<(int Code, string Out, string Error)> RunAsync(string directory, string file, params string[] args) =>
        RunAsync(directory, file, args, check: true);

    private static async Task<(int Code, string Out, string Error)> RunAsync(string directory, string file, string[] args, bool check)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        start.Environment.Remove("TypedJobs__Storage");
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} did not finish");
        }

        var result = (process.ExitCode, await output, await error);
        if (check && result.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited with {result.ExitCode}:\n{result.Item2}\n{result.Item3}");
        }

        return result;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "TypedJobs.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"no TypedJobs.sln above {AppContext.BaseDirectory}");
    }
}
