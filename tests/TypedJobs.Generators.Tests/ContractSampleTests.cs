using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using TypedJobs.Contracts;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>
/// samples/Contracts built as a user builds it: TypedJobs and TypedJobs.Storage.Sqlite are packed, the three projects
/// are copied out of the repository and built against the packages. The API (which references only the contract
/// project) and the worker (which implements it) run as two processes on one SQLite file; the API's output holds no
/// handler code; the drift rules fail the build on edits of the code and of the committed baseline, and the
/// UpdateTaskContract target writes the baseline anew.
/// </summary>
[Collection("Packing")] // both pack src/TypedJobs, which two builds must not write at once
public sealed class ContractSampleTests
{
    private static readonly TimeSpan BuildTimeout = TimeSpan.FromMinutes(8);

    [Fact]
    public async Task ContractSample_BuiltFromThePackages_EnqueuesInTheApiAndRunsInTheWorker_AndTheBuildGuardsTheContract()
    {
        var repository = typeof(ContractSampleTests).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().Single(static a => a.Key == "RepositoryRoot").Value!;
        var root = Directory.CreateTempSubdirectory("typedjobs-contract-sample-").FullName;
        var version = "0.0.0-contracts" + DateTime.UtcNow.ToString("yyyyMMddHHmmssfff", System.Globalization.CultureInfo.InvariantCulture);
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        try
        {
            var feed = Path.Combine(root, "feed");
            foreach (var project in new[] { "TypedJobs", "TypedJobs.Storage.Sqlite" })
            {
                var pack = await ProcessRunner.RunAsync("dotnet",
                    ["pack", Path.Combine(repository, "src", project), "-c", "Release", "-o", feed, "-p:PackageVersion=" + version, "--disable-build-servers", "-nologo"],
                    repository, BuildTimeout);
                Assert.True(pack.ExitCode == 0, "dotnet pack " + project + " failed:\n" + pack.Output);
            }

            var app = Path.Combine(root, "app");
            CopyDirectory(Path.Combine(repository, "samples", "Contracts"), app);
            File.WriteAllText(Path.Combine(app, "Directory.Build.props"), $"""
                <Project>
                  <PropertyGroup>
                    <TypedJobsPackageVersion>{version}</TypedJobsPackageVersion>
                    <Nullable>enable</Nullable>
                    <ImplicitUsings>enable</ImplicitUsings>
                    <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
                    <NuGetAudit>false</NuGetAudit>
                  </PropertyGroup>
                </Project>
                """);
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
            var contracts = Path.Combine(app, "Shop.Contracts");
            var baseline = Path.Combine(contracts, "TypedJobs.contract.json");
            var committed = File.ReadAllText(baseline);

            // The committed baseline is what the target writes for the sample as it is.
            var update = await BuildAsync(contracts, "-t:UpdateTaskContract");
            Assert.True(update.ExitCode == 0, "UpdateTaskContract failed:\n" + update.Output);
            Assert.Contains("is up to date", update.Output, StringComparison.Ordinal);
            Assert.Equal(committed, File.ReadAllText(baseline));

            foreach (var project in new[] { "Shop.Api", "Shop.Worker" })
            {
                var build = await BuildAsync(Path.Combine(app, project));
                Assert.True(build.ExitCode == 0, "dotnet build " + project + " failed:\n" + build.Output);
                Assert.Contains(" 0 Warning(s)", build.Output, StringComparison.Ordinal);
            }

            // The API carries no handler code: no reference to the worker, no handler types, no implemented tasks.
            var apiOutput = Path.Combine(app, "Shop.Api", "bin", "Release", "net10.0");
            Assert.False(File.Exists(Path.Combine(apiOutput, "Shop.Worker.dll")));
            Assert.DoesNotContain("Shop.Worker", File.ReadAllText(Path.Combine(apiOutput, "Shop.Api.deps.json")), StringComparison.Ordinal);
            foreach (var assembly in new[] { "Shop.Api.dll", "Shop.Contracts.dll" })
            {
                var (references, types, metadata) = Inspect(Path.Combine(apiOutput, assembly));
                Assert.DoesNotContain("Shop.Worker", references);
                Assert.DoesNotContain(types, static t => t.EndsWith("TaskHandlers", StringComparison.Ordinal) || t == "OrderTasks");
                Assert.DoesNotContain(metadata, static m => m.Key is "TypedJobs.Implements" or "TypedJobs.Task");
            }

            var workerOutput = Path.Combine(app, "Shop.Worker", "bin", "Release", "net10.0");
            Assert.Contains(Inspect(Path.Combine(workerOutput, "Shop.Worker.dll")).Types, static t => t.EndsWith("TaskHandlers", StringComparison.Ordinal));

            // What a tool reads from the built assemblies: the contract declares both tasks, the worker runs them.
            var declared = DeployedContracts.FromAssembly(Path.Combine(apiOutput, "Shop.Contracts.dll"));
            var worker = DeployedContracts.FromAssembly(Path.Combine(workerOutput, "Shop.Worker.dll"));
            Assert.Equal(["orders.confirm", "orders.price"], declared.Tasks.Select(static t => t.Name));
            Assert.Equal(["orders", "orders"], declared.Tasks.Select(static t => t.Queue));
            Assert.False(declared.Runs("orders.confirm"));
            Assert.True(worker.Runs("orders.confirm") && worker.Runs("orders.price"));

            // Two processes on one SQLite file: the worker runs the three jobs the API enqueues and awaits.
            var database = Path.Combine(root, "shop.db");
            var workerRun = ProcessRunner.RunAsync("dotnet", [Path.Combine(workerOutput, "Shop.Worker.dll"), database, "3"], root, TimeSpan.FromMinutes(3));
            var apiRun = await ProcessRunner.RunAsync("dotnet", [Path.Combine(apiOutput, "Shop.Api.dll"), database], root, TimeSpan.FromMinutes(3));
            var workerResult = await workerRun;
            Assert.True(apiRun.ExitCode == 0, "the API failed:\n" + apiRun.Output + "\nworker:\n" + workerResult.Output);
            Assert.True(workerResult.ExitCode == 0, "the worker failed:\n" + workerResult.Output);
            Assert.Equal(["enqueued 3 jobs", "total of A-1001: 25.74", "orders.confirm in orders: Succeeded", "orders.confirm in orders: Succeeded"], Lines(apiRun.Output));
            Assert.Equal(["confirmed A-1001 to ada@example.com", "confirmed A-1002 to bob@example.com", "priced A-1001 at 25.74", "worker started"],
                Lines(workerResult.Output).Order(StringComparer.Ordinal));

            // A breaking change of the contract fails the build of the contract project (TJ4002), naming the parameter.
            var source = Path.Combine(contracts, "OrderTasks.cs");
            var original = File.ReadAllText(source);
            File.WriteAllText(source, original
                .Replace("Task<decimal> PriceOrder(Order order, int discountPercent = 0);", "Task<decimal> PriceOrder(Order order, string currency, int discountPercent = 0);", StringComparison.Ordinal)
                .Replace("/// <param name=\"discountPercent\">", "/// <param name=\"currency\">The currency.</param>\n    /// <param name=\"discountPercent\">", StringComparison.Ordinal));
            var broken = await BuildAsync(contracts);
            Assert.True(broken.ExitCode != 0, "a new parameter without a default built:\n" + broken.Output);
            Assert.Contains("error TJ4002: Parameter 'currency' of task 'orders.price' is new and has no default value", broken.Output, StringComparison.Ordinal);
            Assert.DoesNotContain("error CS", broken.Output, StringComparison.Ordinal);
            File.WriteAllText(source, original);

            // So does a baseline edited to record what the code no longer has: a removed task (TJ4001) and another enum value (none here: a queue, TJ4006).
            File.WriteAllText(baseline, committed
                .Replace("\"tasks\": {", "\"tasks\": {\n    \"orders.cancel\": {\n      \"parameters\": []\n    },", StringComparison.Ordinal)
                .Replace("\"queue\": \"orders\"", "\"queue\": \"checkout\"", StringComparison.Ordinal));
            var edited = await BuildAsync(contracts);
            Assert.True(edited.ExitCode != 0, "an edited baseline built:\n" + edited.Output);
            Assert.Contains("TypedJobs.contract.json(4,5): error TJ4001: Task 'orders.cancel' of the contract baseline no longer exists", edited.Output, StringComparison.Ordinal);
            Assert.Contains("error TJ4006: Task 'orders.confirm' moved from queue 'checkout' to 'orders'", edited.Output, StringComparison.Ordinal);

            // The target accepts the code as it is: it writes the baseline anew, and the build passes again.
            var rewrite = await BuildAsync(contracts, "-t:UpdateTaskContract");
            Assert.True(rewrite.ExitCode == 0, "UpdateTaskContract failed:\n" + rewrite.Output);
            Assert.Contains("wrote the task contract baseline", rewrite.Output, StringComparison.Ordinal);
            Assert.Equal(committed, File.ReadAllText(baseline));
            var again = await BuildAsync(contracts);
            Assert.True(again.ExitCode == 0, "the build after UpdateTaskContract failed:\n" + again.Output);
        }
        finally
        {
            Directory.Delete(root, recursive: true);
            foreach (var package in new[] { "typedjobs", "typedjobs.storage.sqlite" })
            {
                var cached = Path.Combine(packages, package, version);
                if (Directory.Exists(cached))
                {
                    Directory.Delete(cached, recursive: true);
                }
            }
        }
    }

    private static Task<(int ExitCode, string Output)> BuildAsync(string project, params string[] extra) =>
        ProcessRunner.RunAsync("dotnet", ["build", "-c", "Release", "--disable-build-servers", "-nologo", .. extra], project, BuildTimeout);

    private static List<string> Lines(string output) =>
        [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];

    /// <summary>The assembly references, type names and <c>AssemblyMetadata</c> pairs of an assembly, read without loading it.</summary>
    private static (List<string> References, List<string> Types, List<KeyValuePair<string, string>> Metadata) Inspect(string path)
    {
        using var pe = new PEReader(File.OpenRead(path));
        var reader = pe.GetMetadataReader();
        var references = reader.AssemblyReferences.Select(h => reader.GetString(reader.GetAssemblyReference(h).Name)).ToList();
        var types = reader.TypeDefinitions.Select(h => reader.GetString(reader.GetTypeDefinition(h).Name)).ToList();
        var metadata = new List<KeyValuePair<string, string>>();
        foreach (var handle in reader.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = reader.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference
                || reader.GetMemberReference((MemberReferenceHandle)attribute.Constructor).Parent is not { Kind: HandleKind.TypeReference } parent
                || reader.GetString(reader.GetTypeReference((TypeReferenceHandle)parent).Name) != "AssemblyMetadataAttribute")
            {
                continue;
            }

            var blob = reader.GetBlobReader(attribute.Value);
            blob.ReadUInt16();
            metadata.Add(new KeyValuePair<string, string>(blob.ReadSerializedString()!, blob.ReadSerializedString()!));
        }

        return (references, types, metadata);
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(from, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(static part => part is "bin" or "obj"))
            {
                continue;
            }

            var target = Path.Combine(to, relative);
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }
}
