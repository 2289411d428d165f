using System.Reflection;
using System.Runtime.Loader;
using Microsoft.CodeAnalysis;

namespace TypedJobs.Generators.Tests.Support;

/// <summary>
/// Compiles user source (with the generated code) into assemblies, loads them with their own copy of TypedJobs into
/// a load context of their own (so each test has its own task registrations), and runs <c>Program.Run()</c>.
/// </summary>
/// <remarks>
/// The contexts are not collectible: they stay loaded until the test process ends (a few dozen small assemblies). A
/// test process that unloaded one per test crashed once with a segmentation fault in a loaded CI run; unloading is
/// the only thing these tests do that the library's users do not, so they no longer do it.
/// </remarks>
internal static class JobProgram
{
    /// <summary>Common code for test programs: a real host with the in-memory store and a worker.</summary>
    public const string Harness = """
        using System;
        using System.Collections.Concurrent;
        using System.Threading.Tasks;
        using Microsoft.Extensions.DependencyInjection;
        using Microsoft.Extensions.Hosting;
        using TypedJobs;

        public static class Harness
        {
            private static readonly ConcurrentQueue<string> Lines = new();

            public static IServiceProvider Services { get; private set; } = null!;

            public static void Record(string line) => Lines.Enqueue(line);

            public static async Task<string> RunAsync(Func<IJobClient, Task> body, Action<IServiceCollection>? services = null)
            {
                var builder = Host.CreateEmptyApplicationBuilder(new HostApplicationBuilderSettings());
                services?.Invoke(builder.Services);
                builder.Services.AddTypedJobs(o => o.UseInMemory()).AddWorker(w =>
                {
                    w.PollInterval = TimeSpan.FromMilliseconds(50);
                    w.Queues = ["default", "emails"]; // the samples' tasks use these two
                });
                using var host = builder.Build();
                Services = host.Services;
                await host.StartAsync();
                try
                {
                    await body(host.Services.GetRequiredService<IJobClient>()).WaitAsync(TimeSpan.FromSeconds(60));
                }
                finally
                {
                    await host.StopAsync();
                }

                return string.Join("\n", Lines);
            }

            /// <summary>
            /// Writes a payload straight to the store, as an older version of a task would have left it: the client
            /// refuses payloads the current task cannot read, but stored ones must still fail their job cleanly.
            /// </summary>
            public static async Task<JobId> StoreAsync(string taskName, string json, string queue = "default")
            {
                var id = JobId.New();
                var store = Services.GetRequiredService<TypedJobs.Storage.IJobStore>();
                await store.JobsInsertAsync(new TypedJobs.Storage.JobsInsertParams([new TypedJobs.Storage.JobInsert
                {
                    Id = id,
                    TaskName = taskName,
                    Queue = queue,
                    Payload = System.Text.Encoding.UTF8.GetBytes(json),
                }]), System.Threading.CancellationToken.None);
                return id;
            }

            public static async Task<TypedJobs.Storage.JobRecord> FinishAsync(IJobClient client, JobId id)
            {
                var job = await client.WaitForCompletionAsync(id).AsTask().WaitAsync(TimeSpan.FromSeconds(30));
                return job;
            }

            public static async Task SucceedAsync(IJobClient client, JobId id)
            {
                var job = await FinishAsync(client, id);
                if (job.State != JobState.Succeeded)
                {
                    throw new InvalidOperationException($"Job {job.TaskName} ended {job.State}: {job.LastError}");
                }
            }
        }
        """;

    /// <summary>A compiled library assembly to reference from a host program.</summary>
    public sealed record Library(string Name, byte[] Image)
    {
        public MetadataReference Reference => MetadataReference.CreateFromImage(Image);
    }

    public static Library CompileLibrary(string name, params string[] sources) =>
        new(name, TestCompiler.Build(name, sources).Image);

    /// <summary>Compiles the host program (sources + harness) against the libraries and runs it.</summary>
    public static async Task<string> RunAsync(string source, Library[]? libraries = null, bool withJson = false)
    {
        libraries ??= [];
        var (image, _) = TestCompiler.Build("Host" + Guid.NewGuid().ToString("N")[..8], [Harness, source],
            libraries.Select(static l => l.Reference), withJson);
        var context = new IsolatedContext(libraries);
        var assembly = context.LoadFromStream(new MemoryStream(image));
        var run = assembly.GetType("Program", throwOnError: true)!.GetMethod("Run", BindingFlags.Public | BindingFlags.Static)!;
        var task = (Task<string>)run.Invoke(null, null)!;
        return await task.WaitAsync(TimeSpan.FromSeconds(90));
    }

    private sealed class IsolatedContext(Library[] libraries) : AssemblyLoadContext("TypedJobsTest", isCollectible: false)
    {
        protected override Assembly? Load(AssemblyName assemblyName)
        {
            if (assemblyName.Name == "TypedJobs")
            {
                return LoadFromAssemblyPath(TestCompiler.TypedJobsPath);
            }

            var library = libraries.FirstOrDefault(l => l.Name == assemblyName.Name);
            return library is null ? null : LoadFromStream(new MemoryStream(library.Image));
        }
    }
}
