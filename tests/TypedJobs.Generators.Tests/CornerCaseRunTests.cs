using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>Corner cases of binding and serialization, compiled with the generated code (warnings fail) and run on a real host.</summary>
public sealed class CornerCaseRunTests
{
    [Fact]
    public async Task KeyedServices_AreResolvedByKey_ForConstructorsAndMethods()
    {
        const string source = """
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using Keyed;

            namespace Keyed
            {
                public interface IStore
                {
                    string Name { get; }
                }

                public sealed class Store(string name) : IStore
                {
                    public string Name => name;
                }

                public enum Region { Eu, Us }

                public sealed class Sync([FromKeyedServices("primary")] IStore primary, [FromKeyedServices(Region.Us)] IStore? regional)
                {
                    [Task]
                    public string Copy(string what, [FromKeyedServices("backup")] IStore backup, [FromKeyedServices("missing")] IStore? missing = null) =>
                        $"{what}: {primary.Name} -> {backup.Name} ({regional?.Name ?? "none"}, {missing is null})";
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record(await (await client.EnqueueCopyAsync("orders")).GetResultAsync());
                }, services => services
                    .AddKeyedSingleton<IStore>("primary", new Store("db1"))
                    .AddKeyedSingleton<IStore>("backup", new Store("db2"))
                    .AddKeyedSingleton<IStore>(Region.Us, new Store("us")));
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("orders: db1 -> db2 (us, True)", output);
    }

    [Fact]
    public async Task NestedPayloadEvolution_KeepsConstructorDefaultsAndInitializers()
    {
        const string source = """
            using System.Collections.Generic;
            using System.Text;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Evolve
            {
                public sealed record Line(string Sku, int Qty = 1, string Unit = "pcs")
                {
                    public string Note { get; init; } = "none";
                    public int Priority { get; set; } = 5;
                }

                public sealed class Options
                {
                    public string Mode { get; init; } = "standard";
                    public int Retries { get; init; } = 3;
                    public required string Owner { get; init; }
                }

                public struct Window
                {
                    public Window() { }
                    public int From { get; init; } = 8;
                    public int To { get; init; } = 18;
                }

                public static class Tasks
                {
                    [Task(Name = "evolve.order")]
                    public static void Order(List<Line> lines, Options options, Window window) => Harness.Record(
                        string.Join(";", lines.ConvertAll(l => $"{l.Sku}x{l.Qty}{l.Unit}/{l.Note}/{l.Priority}")) + $"|{options.Mode},{options.Retries},{options.Owner}|{window.From}-{window.To}");
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    // An older version wrote lines without Qty, Unit, Note and Priority, options without Mode or Retries,
                    // and a window without To.
                    var old = "{\"lines\":[{\"Sku\":\"a\"},{\"Sku\":\"b\",\"Qty\":3,\"Note\":\"gift\",\"Priority\":1}],\"options\":{\"Owner\":\"ann\",\"Retries\":7},\"window\":{\"From\":9}}";
                    var job = await Harness.FinishAsync(client, await client.EnqueueSerializedAsync("evolve.order", Encoding.UTF8.GetBytes(old)));
                    Harness.Record(job.State.ToString());

                    // A required member must be present.
                    var missing = await Harness.FinishAsync(client, await Harness.StoreAsync("evolve.order",
                        "{\"lines\":[],\"options\":{},\"window\":{}}"));
                    Harness.Record(missing.State + " " + (missing.LastError?.Contains("member 'Owner' of Evolve.Options") ?? false));
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("ax1pcs/none/5;bx3pcs/gift/1|standard,7,ann|9-18\nSucceeded\nDead True", output);
    }

    [Fact]
    public async Task NullForANonNullableMember_FailsTheJob_NullForANullableOneIsKept()
    {
        const string source = """
            using System.Text;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Nulls
            {
                public sealed record Person(string Name, string? Nick);

                public static class Tasks
                {
                    [Task(Name = "nulls.greet")]
                    public static void Greet(string greeting, Person person) => Harness.Record($"{greeting} {person.Name} {person.Nick ?? "-"}");
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    foreach (var json in new[]
                    {
                        "{\"greeting\":\"hi\",\"person\":{\"Name\":\"ann\",\"Nick\":null}}",
                        "{\"greeting\":null,\"person\":{\"Name\":\"ann\"}}",
                        "{\"greeting\":\"hi\",\"person\":{\"Name\":null}}",
                        "{\"greeting\":\"hi\",\"person\":null}",
                        "{\"greeting\":\"hi\",\"person\":{\"Nick\":\"x\"}}",
                    })
                    {
                        var job = await Harness.FinishAsync(client, await Harness.StoreAsync("nulls.greet", json));
                        var error = job.LastError ?? string.Empty;
                        Harness.Record(job.State + " " + (job.State == JobState.Succeeded ? "ok" : error.Contains("parameter 'greeting'") ? "greeting"
                            : error.Contains("member 'Name' of Nulls.Person") ? "name" : error.Contains("parameter 'person'") ? "person" : error));
                    }
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("hi ann -\nSucceeded ok\nDead greeting\nDead name\nDead person\nDead name", output);
    }

    [Fact]
    public async Task NonFiniteDoubles_PublicFieldsAndParams_RoundTrip()
    {
        const string source = """
            using System.Globalization;
            using System.Text;
            using System.Threading.Tasks;
            using TypedJobs;
            using Values;

            namespace Values
            {
                public sealed class Reading
                {
                    public double Value;
                    public readonly string Kind = "raw";
                    public float Scale = 1f;
                }

                public static class Tasks
                {
                    [Task(Name = "values.measure")]
                    public static void Measure(Reading reading, double limit = double.NaN, float floor = float.NegativeInfinity, params int[] extra) => Harness.Record(
                        string.Join("|", reading.Value.ToString(CultureInfo.InvariantCulture), reading.Kind, reading.Scale.ToString(CultureInfo.InvariantCulture),
                            limit.ToString(CultureInfo.InvariantCulture), floor.ToString(CultureInfo.InvariantCulture), extra.Length));
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    await Harness.SucceedAsync(client, await client.EnqueueMeasureAsync(new Reading { Value = double.PositiveInfinity, Scale = float.NaN }, extra: [1, 2]));
                    await Harness.SucceedAsync(client, await client.EnqueueMeasureAsync(new Reading { Value = 2.5 }, 1, 0));
                    await Harness.SucceedAsync(client, await client.EnqueueSerializedAsync("values.measure", Encoding.UTF8.GetBytes("{\"reading\":{\"Value\":-1}}")));
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("Infinity|raw|NaN|NaN|-Infinity|2\n2.5|raw|1|1|0|0\n-1|raw|1|NaN|-Infinity|0", output);
    }

    [Fact]
    public async Task PayloadTooDeepToRead_IsRefusedAtEnqueue()
    {
        const string source = """
            using System;
            using System.Text.Json;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Deep
            {
                public sealed class Node
                {
                    public Node? Next { get; set; }
                }

                public static class Tasks
                {
                    [Task]
                    public static int Depth(Node node)
                    {
                        var depth = 0;
                        for (var n = node; n is not null; n = n.Next)
                        {
                            depth++;
                        }

                        return depth;
                    }
                }
            }

            public static class Program
            {
                private static Deep.Node Chain(int length)
                {
                    var node = new Deep.Node();
                    for (var i = 1; i < length; i++)
                    {
                        node = new Deep.Node { Next = node };
                    }

                    return node;
                }

                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record((await (await Deep.TasksJobClientExtensions.EnqueueDepthAsync(client, Chain(60))).GetResultAsync()).ToString());
                    try
                    {
                        await Deep.TasksJobClientExtensions.EnqueueDepthAsync(client, Chain(100));
                        Harness.Record("enqueued");
                    }
                    catch (InvalidOperationException ex) when (ex.Message.Contains("64"))
                    {
                        Harness.Record("refused");
                    }
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("60\nrefused", output);
    }
}
