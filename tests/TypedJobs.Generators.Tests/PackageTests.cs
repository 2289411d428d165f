using System.Reflection;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>
/// Packs src/TypedJobs, then builds and runs a fresh console app outside the repository that uses only the package:
/// the generator must come with it and produce working stubs under strict build settings, and the analyzers must load
/// and fail the build on a misuse.
/// </summary>
[Collection("Packing")] // both pack src/TypedJobs, which two builds must not write at once
public sealed class PackageTests
{
    private const string ConsumerProject = """
        <Project Sdk="Microsoft.NET.Sdk">
          <PropertyGroup>
            <OutputType>Exe</OutputType>
            <TargetFramework>net10.0</TargetFramework>
            <Nullable>enable</Nullable>
            <ImplicitUsings>enable</ImplicitUsings>
            <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
            <AnalysisLevel>latest-all</AnalysisLevel>
            <GenerateDocumentationFile>true</GenerateDocumentationFile>
            <NuGetAudit>false</NuGetAudit>
            <!-- Rules about the sample's own top-level code, not about generated code. -->
            <NoWarn>$(NoWarn);CA1303;CA1515;CA1812;CA2007;CA1062;CA1707</NoWarn>
          </PropertyGroup>
          <ItemGroup>
            <PackageReference Include="TypedJobs" Version="$VERSION$" />
            <PackageReference Include="Microsoft.Extensions.Hosting" Version="10.0.14" />
          </ItemGroup>
        </Project>
        """;

    private const string ConsumerProgram = """
        using System.Globalization;
        using Consumer;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using TypedJobs;

        var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
        builder.Services.AddSingleton<Greeting>();
        builder.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker();
        using var host = builder.Build();
        await host.StartAsync();
        var jobs = host.Services.GetRequiredService<IJobClient>();

        var sum = await (await jobs.EnqueueAddAsync(2, 3)).GetResultAsync();
        Console.WriteLine("sum=" + sum.ToString(CultureInfo.InvariantCulture));
        Console.WriteLine(await (await jobs.EnqueueGreetAsync(new Person("Ada", 36, ["math"]))).GetResultAsync());
        var job = await jobs.WaitForCompletionAsync(await jobs.EnqueueNoteAsync("done"));
        Console.WriteLine("note=" + job.State);
        var ids = await jobs.EnqueueAddBatchAsync([(1, 1), (2, 2)]);
        Console.WriteLine("batch=" + ids.Count.ToString(CultureInfo.InvariantCulture));
        await host.StopAsync();

        namespace Consumer
        {
            /// <summary>A person.</summary>
            /// <param name="Name">The name.</param>
            /// <param name="Age">The age.</param>
            /// <param name="Topics">Interests.</param>
            public sealed record Person(string Name, int Age, IReadOnlyList<string> Topics);

            /// <summary>A service for the instance task.</summary>
            public sealed class Greeting
            {
                /// <summary>The greeting word.</summary>
                public string Prefix { get; } = "Hello";
            }

            /// <summary>Arithmetic tasks.</summary>
            public static class MathTasks
            {
                /// <summary>Adds two numbers.</summary>
                /// <param name="a">The first.</param>
                /// <param name="b">The second.</param>
                /// <returns>The sum.</returns>
                [Task(Queue = "default", MaxRetries = 2, Timeout = "00:00:30")]
                public static int Add(int a, int b) => a + b;

                /// <summary>Notes something.</summary>
                /// <param name="text">What to note.</param>
                /// <param name="greeting">A service.</param>
                /// <param name="ct">Cancels the note.</param>
                /// <returns>A task that completes when the note is written.</returns>
                [Task]
                public static Task Note(string text, [FromServices] Greeting greeting, CancellationToken ct) =>
                    Task.Delay(text.Length + greeting.Prefix.Length, ct);
            }

            /// <summary>An instance task built per job.</summary>
            /// <param name="greeting">The greeting service.</param>
            public sealed class Greeter(Greeting greeting)
            {
                /// <summary>Greets a person.</summary>
                /// <param name="person">Who to greet.</param>
                /// <returns>The greeting.</returns>
                [Task]
                public Task<string> Greet(Person person) =>
                    Task.FromResult($"{greeting.Prefix} {person.Name} ({person.Age.ToString(CultureInfo.InvariantCulture)}, {string.Join(",", person.Topics)})");
            }
        }
        """;

    private const string ConsumerMisuse = """
        using TypedJobs;

        namespace Consumer
        {
            /// <summary>Tasks with mistakes the analyzers catch.</summary>
            public static class Broken
            {
                /// <summary>Hour 25 does not exist.</summary>
                [Task(Cron = "0 25 * * *")]
                public static void Nightly() { }

                /// <summary>A stream cannot be stored in a payload.</summary>
                /// <param name="content">The content.</param>
                [Task]
                public static void Store(System.IO.Stream content) => content.Flush();
            }
        }
        """;

    private const string ConsumerSkipped = """
        using TypedJobs;

        namespace Consumer
        {
            /// <summary>A task the generator must skip.</summary>
            public static class Skipped
            {
                /// <summary>Async void cannot be awaited by the worker.</summary>
                [Task] public static async void Fire() => await Task.Yield();
            }
        }
        """;

    [Fact]
    public async Task PackedPackage_GivesAFreshProjectWorkingStubsAndFailsTheBuildOnMisuse()
    {
        var repository = typeof(PackageTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "RepositoryRoot").Value!;
        var root = Directory.CreateTempSubdirectory("typedjobs-package-test-").FullName;
        var version = "0.0.0-test" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var cachedPackage = Path.Combine(Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages"), "typedjobs", version);
        try
        {
            var feed = Path.Combine(root, "feed");
            var pack = await ProcessRunner.RunAsync("dotnet",
                ["pack", Path.Combine(repository, "src", "TypedJobs"), "-c", "Release", "-o", feed, "-p:PackageVersion=" + version, "--disable-build-servers", "-nologo"],
                repository, TimeSpan.FromMinutes(20));
            Assert.True(pack.ExitCode == 0, "dotnet pack failed:\n" + pack.Output);
            using (var archive = System.IO.Compression.ZipFile.OpenRead(Path.Combine(feed, $"TypedJobs.{version}.nupkg")))
            {
                Assert.Contains(archive.Entries, static e => e.FullName == "analyzers/dotnet/cs/TypedJobs.Generators.dll");
                Assert.Contains(archive.Entries, static e => e.FullName == "analyzers/dotnet/cs/TypedJobs.Analyzers.dll");
                Assert.Contains(archive.Entries, static e => e.FullName == "analyzers/dotnet/cs/TypedJobs.CodeFixes.dll");
                Assert.Contains(archive.Entries, static e => e.FullName == "analyzers/dotnet/cs/Cronos.dll");
                Assert.Contains(archive.Entries, static e => e.FullName == "build/TypedJobs.props");
                Assert.Contains(archive.Entries, static e => e.FullName == "buildTransitive/TypedJobs.props");
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
            File.WriteAllText(Path.Combine(app, "Consumer.csproj"), ConsumerProject.Replace("$VERSION$", version, StringComparison.Ordinal));
            File.WriteAllText(Path.Combine(app, "Program.cs"), ConsumerProgram);

            var build = await ProcessRunner.RunAsync("dotnet", ["build", "-c", "Release", "--disable-build-servers", "-nologo"], app, TimeSpan.FromMinutes(20));
            Assert.True(build.ExitCode == 0, "dotnet build of the consumer failed:\n" + build.Output);
            Assert.Contains(" 0 Warning(s)", build.Output, StringComparison.Ordinal);

            var run = await ProcessRunner.RunAsync("dotnet", ["run", "-c", "Release", "--no-build"], app, TimeSpan.FromMinutes(10));
            Assert.True(run.ExitCode == 0, "the consumer failed:\n" + run.Output);
            Assert.Equal(["sum=5", "Hello Ada (36, math)", "note=Succeeded", "batch=2"], run.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));

            // A misuse fails the build with the analyzers' IDs (so they load from the package), and nothing else.
            File.WriteAllText(Path.Combine(app, "Misuse.cs"), ConsumerMisuse);
            var broken = await ProcessRunner.RunAsync("dotnet", ["build", "-c", "Release", "--disable-build-servers", "-nologo"], app, TimeSpan.FromMinutes(20));
            Assert.True(broken.ExitCode != 0, "the build with a misuse succeeded:\n" + broken.Output);
            Assert.Contains("Misuse.cs(9,22): error TJ3004", broken.Output, StringComparison.Ordinal);
            Assert.Contains("Misuse.cs(15,51): error TJ1007", broken.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("error CS", broken.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("AD0001", broken.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("CS8032", broken.Output, StringComparison.Ordinal);

            // With the analyzers off, the generator itself reports the task it skips (and only that one).
            File.WriteAllText(Path.Combine(app, "Misuse.cs"), ConsumerSkipped);
            var off = await ProcessRunner.RunAsync("dotnet", ["build", "-c", "Release", "--disable-build-servers", "-nologo", "-p:RunAnalyzers=false"], app, TimeSpan.FromMinutes(20));
            Assert.True(off.ExitCode != 0, "the build with analyzers off and a skipped task succeeded:\n" + off.Output);
            Assert.Contains("Misuse.cs(9,41): error TJ1011", off.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("error CS", off.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            if (Directory.Exists(cachedPackage))
            {
                Directory.Delete(cachedPackage, recursive: true);
            }
        }
    }
}
