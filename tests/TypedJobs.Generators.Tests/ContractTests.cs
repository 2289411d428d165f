using System.Reflection;
using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>
/// Task contracts: a shared library gets stubs, payloads and task identities but no handler code; a worker library that
/// implements the contract gets the handlers under the contract's identity; a host enqueues through the stubs and runs the
/// jobs through the implementation.
/// </summary>
public sealed class ContractTests
{
    [Fact]
    public void ContractLibrary_MatchesSnapshots()
    {
        var generated = TestCompiler.Generate(TestCompiler.Create("Shop.Contracts", [ContractSamples.Shared]));
        Assert.Empty(TestCompiler.Problems(generated));
        foreach (var (hintName, text) in generated.Sources)
        {
            Snapshot.Verify(text, "Contract." + hintName.Replace(".g.cs", string.Empty, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void WorkerLibrary_MatchesSnapshots()
    {
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);
        var generated = TestCompiler.Generate(TestCompiler.Create("Shop.Worker", [ContractSamples.Worker], [shared.Reference]));
        Assert.Empty(TestCompiler.Problems(generated));
        foreach (var (hintName, text) in generated.Sources)
        {
            Snapshot.Verify(text, "Implementation." + hintName.Replace(".g.cs", string.Empty, StringComparison.Ordinal));
        }
    }

    [Fact]
    public void ContractLibrary_HasNoHandlerCode()
    {
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);

        using var pe = new PEReader(new MemoryStream(shared.Image));
        var metadata = pe.GetMetadataReader();
        var types = metadata.TypeDefinitions.Select(h => metadata.GetTypeDefinition(h)).ToList();
        var methods = types.SelectMany(t => t.GetMethods()).Select(h => metadata.GetString(metadata.GetMethodDefinition(h).Name)).ToList();
        Assert.DoesNotContain("Handler", methods);
        Assert.DoesNotContain(types, t => metadata.GetString(t.Name).EndsWith("TaskHandlers", StringComparison.Ordinal));
        Assert.Contains("EnqueueSendWelcomeAsync", methods);
        Assert.Contains("RegisterTasks", methods);
    }

    [Fact]
    public void ContractLibrary_RecordsItsBaselineAndContractTasksInMetadata()
    {
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);

        var metadata = AssemblyMetadata(shared.Image);

        Assert.Equal(["Shop.Contracts.IWelcomeTasks|Shop.Contracts.IWelcomeTasks.Score", "Shop.Contracts.IWelcomeTasks|welcome.send", "Shop.Contracts.IWelcomeTasks|welcome.tag"],
            metadata.Where(static m => m.Key == "TypedJobs.ContractTask").Select(static m => m.Value).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(metadata, static m => m.Key is "TypedJobs.Task" or "TypedJobs.Implements");
        var baseline = Assert.Single(metadata, static m => m.Key == "TypedJobs.Contract").Value;
        Snapshot.Verify(baseline, "Contract.Baseline");
    }

    [Fact]
    public void WorkerLibrary_RegistersTheContractTasksAndListsThemAsImplemented()
    {
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);
        var worker = TestCompiler.Build("Shop.Worker", [ContractSamples.Worker], [shared.Reference]).Image;

        var metadata = AssemblyMetadata(worker);

        Assert.Equal(["Shop.Contracts.IWelcomeTasks.Score", "welcome.send", "welcome.tag"],
            metadata.Where(static m => m.Key == "TypedJobs.Implements").Select(static m => m.Value).Order(StringComparer.Ordinal));
        Assert.Equal(["Shop.Contracts.IWelcomeTasks.Score", "welcome.send", "welcome.tag"],
            metadata.Where(static m => m.Key == "TypedJobs.Task").Select(static m => m.Value).Order(StringComparer.Ordinal));
        Assert.DoesNotContain(metadata, static m => m.Key is "TypedJobs.Contract" or "TypedJobs.ContractTask");
    }

    [Fact]
    public async Task HostWithTheImplementation_RunsContractJobsUnderTheContractsIdentity()
    {
        const string host = """
            using System;
            using System.Linq;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using TypedJobs.Contracts;
            using Shop.Contracts;
            using Shop.Worker;

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var id = await client.EnqueueSendWelcomeAsync("ada@example.com", new Customer("Ada", Tier.Gold));
                    await Harness.SucceedAsync(client, id);
                    var job = await client.GetJobAsync(id);
                    Harness.Record(job!.TaskName + " in " + job.Queue + " at " + job.Priority + ", " + job.MaxRetries + " retries");
                    Harness.Record("score " + await (await client.EnqueueScoreAsync(new Customer("Bob"))).GetResultAsync());
                    await Harness.SucceedAsync(client, await client.EnqueueTagAsync(["new", "eu"]));
                    foreach (var line in Harness.Services.GetRequiredService<Journal>().Lines)
                    {
                        Harness.Record(line);
                    }

                    var admin = Harness.Services.GetRequiredService<IJobAdmin>();
                    var send = admin.Tasks.Single(t => t.Name == "welcome.send");
                    Harness.Record("settings " + send.Settings.Queue + " " + send.Settings.Timeout + " " + send.Settings.MaxConcurrency + " " + send.Settings.MaxRetries);
                    var contracts = Harness.Services.GetRequiredService<DeployedContracts>();
                    Harness.Record("runs " + string.Join(",", contracts.Tasks.Where(t => contracts.Runs(t.Name)).Select(t => t.Name)) + "; conflicts " + contracts.Conflicts.Count
                        + "; hashes " + contracts.Tasks.Count(t => t.Hash is { Length: 16 }));
                }, services => services.AddSingleton<Journal>());
            }
            """;
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);
        var worker = new JobProgram.Library("Shop.Worker", TestCompiler.Build("Shop.Worker", [ContractSamples.Worker], [shared.Reference]).Image);

        var output = await JobProgram.RunAsync(host, [shared, worker]);

        Assert.Equal(
            "welcome.send in emails at High, 5 retries\n"
            + "score 13\n"
            + "sent ada@example.com to Ada (Gold)\n"
            + "tagged new,eu\n"
            + "settings emails 00:00:30 2 5\n"
            + "runs Shop.Contracts.IWelcomeTasks.Score,welcome.send,welcome.tag; conflicts 0; hashes 3",
            output);
    }

    [Fact]
    public async Task HostWithOnlyTheContract_EnqueuesButRunsNothing()
    {
        const string host = """
            using System;
            using System.Linq;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using TypedJobs.Contracts;
            using Shop.Contracts;

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var id = await client.EnqueueSendWelcomeAsync("ada@example.com", new Customer("Ada"));
                    var job = await client.GetJobAsync(id);
                    Harness.Record(job!.TaskName + " in " + job.Queue);
                    var contracts = Harness.Services.GetRequiredService<DeployedContracts>();
                    Harness.Record("knows " + string.Join(",", contracts.Tasks.Select(t => t.Name)) + "; runs " + contracts.Tasks.Count(t => contracts.Runs(t.Name)));
                    Harness.Record("registered " + Harness.Services.GetRequiredService<IJobAdmin>().Tasks.Count);
                });
            }
            """;
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);

        var output = await JobProgram.RunAsync(host, [shared]);

        Assert.Equal(
            "welcome.send in emails\n"
            + "knows Shop.Contracts.IWelcomeTasks.Score,welcome.send,welcome.tag; runs 0\n"
            + "registered 0",
            output);
    }

    [Fact]
    public void ContractAndImplementation_HaveTheSameShapeHash()
    {
        var shared = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared);
        var sharedSource = TestCompiler.Generate(TestCompiler.Create("Shop.Contracts", [ContractSamples.Shared])).Sources.Single(static s => s.HintName == "TypedJobs.Contract.g.cs").Text;
        var workerSource = TestCompiler.Generate(TestCompiler.Create("Shop.Worker", [ContractSamples.Worker], [shared.Reference])).Sources.Single(static s => s.HintName == "TypedJobs.Contract.g.cs").Text;

        static List<string> Hashes(string text) => [.. System.Text.RegularExpressions.Regex.Matches(text, "Hash = \"([0-9a-f]{16})\"").Select(static m => m.Groups[1].Value)];

        Assert.Equal(3, Hashes(sharedSource).Count);
        Assert.Equal(Hashes(sharedSource), Hashes(workerSource));
    }

    [Fact]
    public void ChangedPayload_ChangesTheShapeHash()
    {
        var before = TestCompiler.Generate(TestCompiler.Create("Shop.Contracts", [ContractSamples.Shared])).Sources.Single(static s => s.HintName == "TypedJobs.Contract.g.cs").Text;
        var after = TestCompiler.Generate(TestCompiler.Create("Shop.Contracts", [ContractSamples.Shared.Replace("Gold = 1", "Gold = 2", StringComparison.Ordinal)]))
            .Sources.Single(static s => s.HintName == "TypedJobs.Contract.g.cs").Text;

        Assert.NotEqual(before, after);
        Assert.Contains("\\\"Gold\\\": 2", after, StringComparison.Ordinal);
    }

    [Fact]
    public void AnalyzersOnContractAndWorker_ReportNothing()
    {
        var shared = TestCompiler.Generate(TestCompiler.Create("Shop.Contracts", [ContractSamples.Shared]));
        Assert.Empty(TestCompiler.Analyze(shared.Output));
        var reference = JobProgram.CompileLibrary("Shop.Contracts", ContractSamples.Shared).Reference;
        var worker = TestCompiler.Generate(TestCompiler.Create("Shop.Worker", [ContractSamples.Worker], [reference]));
        Assert.Empty(TestCompiler.Analyze(worker.Output));
    }

    private static List<KeyValuePair<string, string>> AssemblyMetadata(byte[] image)
    {
        using var pe = new PEReader(new MemoryStream(image));
        var metadata = pe.GetMetadataReader();
        var result = new List<KeyValuePair<string, string>>();
        foreach (var handle in metadata.GetAssemblyDefinition().GetCustomAttributes())
        {
            var attribute = metadata.GetCustomAttribute(handle);
            if (attribute.Constructor.Kind != HandleKind.MemberReference)
            {
                continue;
            }

            var constructor = metadata.GetMemberReference((MemberReferenceHandle)attribute.Constructor);
            var type = metadata.GetTypeReference((TypeReferenceHandle)constructor.Parent);
            if (metadata.GetString(type.Name) != "AssemblyMetadataAttribute")
            {
                continue;
            }

            var blob = metadata.GetBlobReader(attribute.Value);
            blob.ReadUInt16();
            result.Add(new KeyValuePair<string, string>(blob.ReadSerializedString()!, blob.ReadSerializedString()!));
        }

        return result;
    }
}
