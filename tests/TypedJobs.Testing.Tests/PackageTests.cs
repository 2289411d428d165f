using System.Globalization;
using System.Reflection;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Testing.Tests;

/// <summary>
/// Packs src/TypedJobs and src/TypedJobs.Testing, then runs <c>dotnet test</c> on a fresh xUnit project outside the
/// repository that uses only the packages: an application task, an enqueue assertion through the generated arguments
/// record, a drain over a retry's backoff and a failing assertion's message.
/// </summary>
public sealed class PackageTests
{
    private const string ConsumerProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <TargetFramework>net10.0</TargetFramework>
            <OutputType>Exe</OutputType>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <NuGetAudit>false</NuGetAudit>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="TypedJobs" Version="$VERSION$" />
            <PackageReference Include="TypedJobs.Testing" Version="$VERSION$" />
            <PackageReference Include="xunit.v3" Version="3.2.2" />
            <PackageReference Include="xunit.runner.visualstudio" Version="3.1.5" />
            <PackageReference Include="Microsoft.NET.Test.Sdk" Version="18.0.1" />
          </ItemGroup>
          <ItemGroup>
            <Using Include="Xunit" />
          </ItemGroup>
        </Project>
        """;

    private const string ConsumerTests = """
        using Microsoft.Extensions.DependencyInjection;
        using TypedJobs;
        using TypedJobs.Testing;

        namespace Consumer;

        public sealed class Inbox
        {
            public List<string> Received { get; } = [];
            public int Failures { get; set; }
        }

        public static class Notifications
        {
            [Task(Queue = "notify", MaxRetries = 2)]
            public static void Notify(string user, int count, [FromServices] Inbox inbox)
            {
                if (inbox.Failures-- > 0)
                {
                    throw new InvalidOperationException("The push service is down.");
                }

                inbox.Received.Add(user + ":" + count);
            }
        }

        public sealed class KitTests
        {
            [Fact]
            public async Task EnqueueIsAsserted_AndARetryRunsAfterItsBackoff()
            {
                var ct = TestContext.Current.CancellationToken;
                var inbox = new Inbox { Failures = 1 };
                await using var kit = await JobTestKit.StartAsync(services: s => s.AddSingleton(inbox), cancellationToken: ct);
                await kit.Client.EnqueueNotifyAsync("ada", 3, new JobOptions { Delay = TimeSpan.FromMinutes(5) }, ct);

                await kit.AssertEnqueuedAsync(new NotificationsJobClientExtensions.NotifyArguments("ada", 3), queue: "notify", dueIn: TimeSpan.FromMinutes(5),
                    cancellationToken: ct);
                await kit.AssertNothingElseEnqueuedAsync(ct);

                var runs = await kit.DrainAsync(TimeSpan.FromHours(1), ct);
                Assert.Equal([JobRunOutcome.Retrying, JobRunOutcome.Succeeded], runs.Select(r => r.Outcome));
                Assert.Equal(["ada:3"], inbox.Received);
            }

            [Fact]
            public async Task AFailedAssertion_ShowsBothPayloads()
            {
                var ct = TestContext.Current.CancellationToken;
                await using var kit = await JobTestKit.StartAsync(services: s => s.AddSingleton(new Inbox()), cancellationToken: ct);
                await kit.Client.EnqueueNotifyAsync("bob", 1, cancellationToken: ct);
                var error = await Assert.ThrowsAsync<JobAssertionException>(() =>
                    kit.AssertEnqueuedAsync(new NotificationsJobClientExtensions.NotifyArguments("ada", 3), cancellationToken: ct));
                Assert.Contains("\"bob\"", error.Message, StringComparison.Ordinal);
                Assert.Contains("\"ada\"", error.Message, StringComparison.Ordinal);
            }
        }
        """;

    [Fact]
    public async Task PackedPackages_TestAFreshProjectsJobs()
    {
        var repository = typeof(PackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "RepositoryRoot").Value!;
        var root = Directory.CreateTempSubdirectory("typedjobs-testing-package-").FullName;
        var version = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", CultureInfo.InvariantCulture);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try
        {
            var feed = Path.Combine(root, "feed");
            foreach (var project in new[] { "TypedJobs", "TypedJobs.Testing" })
            {
                var pack = await ProcessRunner.RunAsync("dotnet",
                    ["pack", Path.Combine(repository, "src", project), "-c", "Release", "-o", feed, "-p:PackageVersion=" + version, "--disable-build-servers", "-nologo"],
                    repository, TimeSpan.FromMinutes(20));
                Assert.True(pack.ExitCode == 0, $"dotnet pack {project} failed:\n" + pack.Output);
            }

            var app = Path.Combine(root, "app");
            Directory.CreateDirectory(app);
            File.WriteAllText(Path.Combine(app, "Directory.Build.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(app, "Directory.Build.targets"), "<Project />\n");
            File.WriteAllText(Path.Combine(app, "Directory.Packages.props"), "<Project />\n");
            File.WriteAllText(Path.Combine(app, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <add key="typedjobs-local" value="{feed}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(app, "Consumer.Tests.csproj"), ConsumerProject.Replace("$VERSION$", version, StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(app, "KitTests.cs"), ConsumerTests);

            var test = await ProcessRunner.RunAsync("dotnet", ["test", "-c", "Release", "--disable-build-servers", "-nologo"], app, TimeSpan.FromMinutes(30));
            Assert.True(test.ExitCode == 0, "dotnet test of the consumer failed:\n" + test.Output);
            Assert.Contains("Passed:     2", test.Output, StringComparison.Ordinal);
            Assert.Contains("Failed:     0", test.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            foreach (var id in new[] { "typedjobs", "typedjobs.testing" })
            {
                var cached = Path.Combine(packages, id, version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }
}
