using TypedJobs.Generators.Tests.Support;

namespace TypedJobs.Generators.Tests;

/// <summary>
/// Compiles user code with the generated stubs, loads it, and runs jobs through the stubs on a real host with the
/// in-memory store and a worker.
/// </summary>
public sealed class RunTests
{
    [Fact]
    public async Task Scalars_RoundTripThroughThePayload()
    {
        const string source = """
            using System;
            using System.Globalization;
            using System.Threading.Tasks;
            using TypedJobs;
            using Kinds;

            namespace Kinds
            {
                public static class Scalars
                {
                    [Task]
                    public static string Numbers(bool b, byte u8, sbyte i8, short i16, ushort u16, int i32, uint u32, long i64, ulong u64,
                        float f, double d, decimal m, char c, string s) =>
                        string.Join("|", b, u8, i8, i16, u16, i32, u32, i64, u64, f.ToString("R", CultureInfo.InvariantCulture),
                            d.ToString("R", CultureInfo.InvariantCulture), m.ToString(CultureInfo.InvariantCulture), c, s);

                    [Task]
                    public static string Times(Guid id, DateTime at, DateTimeOffset atOffset, DateOnly day, TimeOnly time, TimeSpan span, Uri uri, Uri relative) =>
                        string.Join("|", id, at.ToString("O", CultureInfo.InvariantCulture), at.Kind, atOffset.ToString("O", CultureInfo.InvariantCulture),
                            day.ToString("O", CultureInfo.InvariantCulture), time.ToString("O", CultureInfo.InvariantCulture), span.ToString("c"), uri, relative);
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var h1 = await client.EnqueueNumbersAsync(true, 255, -128, short.MinValue, ushort.MaxValue, int.MinValue, uint.MaxValue, long.MinValue, ulong.MaxValue,
                        1.5f, Math.PI, 79228162514264337593543950335m, 'é', "quote \" and \u2603");
                    Harness.Record(await h1.GetResultAsync());
                    var h2 = await client.EnqueueTimesAsync(Guid.Parse("0b8f5a4e-3f4c-4b53-9d55-2a8b5d2b9f01"), new DateTime(2030, 1, 2, 3, 4, 5, 678, DateTimeKind.Utc),
                        new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2)), new DateOnly(2031, 12, 31), new TimeOnly(23, 59, 58, 123),
                        new TimeSpan(1, 2, 3, 4, 5), new Uri("https://example.com/a?b=c"), new Uri("relative/path", UriKind.Relative));
                    Harness.Record(await h2.GetResultAsync());
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            "True|255|-128|-32768|65535|-2147483648|4294967295|-9223372036854775808|18446744073709551615|1.5|3.141592653589793|79228162514264337593543950335|é|quote \" and \u2603\n"
            + "0b8f5a4e-3f4c-4b53-9d55-2a8b5d2b9f01|2030-01-02T03:04:05.6780000Z|Utc|2030-01-02T03:04:05.0000000+02:00|2031-12-31|23:59:58.1230000|1.02:03:04.0050000|https://example.com/a?b=c|relative/path",
            output);
    }

    [Fact]
    public async Task RecordsCollectionsNullablesAndEnums_RoundTrip()
    {
        const string source = """
            using System;
            using System.Collections.Generic;
            using System.Linq;
            using System.Threading.Tasks;
            using TypedJobs;
            using Shop;

            namespace Shop
            {
                public enum Color { Red = 1, Green = 2, Blue = 4 }

                [Flags]
                public enum Access : ulong { None = 0, Read = 1, Write = 1UL << 63 }

                public sealed record Address(string Street, string? City, int Zip);

                public sealed record Customer(string Name, Address Address, List<string> Tags, Color Favorite)
                {
                    public Dictionary<string, int> Scores { get; init; } = new();
                    public string? Note { get; set; }
                    public Customer? Referrer { get; set; }
                }

                public struct Point
                {
                    public int X { get; set; }
                    public int Y { get; set; }
                }

                public sealed class Box
                {
                    public Box(int width, int height) { Width = width; Height = height; }
                    public int Width { get; }
                    public int Height { get; }
                    public int Area => Width * Height;
                }

                public static class Orders
                {
                    [Task]
                    public static ValueTask<Customer> Echo(Customer customer) =>
                        ValueTask.FromResult(customer with { Note = customer.Note + "!" });

                    [Task]
                    public static Task<string> Collections(int[] numbers, List<string> names, IReadOnlyList<Point> points, IEnumerable<long> longs,
                        Dictionary<string, Address> book, IReadOnlyDictionary<string, int?> sparse, byte[] bytes, IList<Color?> colors, Box[][] boxes,
                        ICollection<Access> access, IReadOnlyCollection<string?> maybe, IDictionary<string, long[]> arrays) =>
                        Task.FromResult(string.Join("|",
                            string.Join(",", numbers), string.Join(",", names), string.Join(",", points.Select(p => $"{p.X}:{p.Y}")),
                            string.Join(",", longs), string.Join(",", book.Select(kv => $"{kv.Key}={kv.Value}")),
                            string.Join(",", sparse.Select(kv => $"{kv.Key}={kv.Value?.ToString() ?? "null"}")), Convert.ToBase64String(bytes),
                            string.Join(",", colors.Select(c => c?.ToString() ?? "null")),
                            string.Join(",", boxes.Select(r => string.Join("+", r.Select(b => b.Area)))),
                            string.Join(",", access), string.Join(",", maybe.Select(m => m ?? "null")),
                            string.Join(",", arrays.Select(kv => kv.Key + "=" + string.Join("+", kv.Value)))));

                    [Task]
                    public static string Nullables(int? some, int? none, string? text, string? missing, Color? color, Guid? id, Point? point, Address? address) =>
                        $"{some}|{none?.ToString() ?? "null"}|{text}|{missing ?? "null"}|{color}|{id}|{point?.X}|{address?.City ?? "null"}";

                    [Task]
                    public static Color? NullResult(bool give) => give ? Color.Blue : null;

                    [Task]
                    public static List<Address>? ListResult(int count) => count < 0 ? null : Enumerable.Range(0, count).Select(i => new Address("s" + i, null, i)).ToList();
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var customer = new Customer("Ann", new Address("Main 1", null, 12345), ["a", "b"], Color.Green)
                    {
                        Scores = new() { ["x"] = 1, ["y"] = 2 },
                        Note = "vip",
                        Referrer = new Customer("Bob", new Address("Side 2", "Town", 1), [], Color.Red),
                    };
                    var echoed = await (await client.EnqueueEchoAsync(customer)).GetResultAsync();
                    Harness.Record($"{echoed.Name}|{echoed.Address}|{string.Join(",", echoed.Tags)}|{echoed.Favorite}|{echoed.Scores["y"]}|{echoed.Note}|{echoed.Referrer!.Name}|{echoed.Referrer.Address.City}|{echoed.Referrer.Referrer is null}");

                    var collections = await client.EnqueueCollectionsAsync([1, 2], ["x"], [new Point { X = 1, Y = 2 }], [long.MaxValue],
                        new() { ["home"] = new Address("H", "C", 9) }, new Dictionary<string, int?> { ["a"] = 1, ["b"] = null }, [1, 2, 255],
                        [Color.Red, null], [[new Box(2, 3), new Box(1, 1)], []], [Access.Read, Access.Write | Access.Read], ["m", null], new Dictionary<string, long[]> { ["k"] = [1, 2] });
                    Harness.Record(await collections.GetResultAsync());

                    var nullables = await client.EnqueueNullablesAsync(5, null, "t", null, Color.Blue, Guid.Empty, new Point { X = 7 }, null);
                    Harness.Record(await nullables.GetResultAsync());

                    Harness.Record(((await (await client.EnqueueNullResultAsync(true)).GetResultAsync())?.ToString() ?? "null") + "|"
                        + ((await (await client.EnqueueNullResultAsync(false)).GetResultAsync())?.ToString() ?? "null"));
                    var list = await (await client.EnqueueListResultAsync(2)).GetResultAsync();
                    var none = await (await client.EnqueueListResultAsync(-1)).GetResultAsync();
                    Harness.Record($"{list!.Count}|{list[1]}|{none is null}");
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            """
            Ann|Address { Street = Main 1, City = , Zip = 12345 }|a,b|Green|2|vip!|Bob|Town|True
            1,2|x|1:2|9223372036854775807|home=Address { Street = H, City = C, Zip = 9 }|a=1,b=null|AQL/|Red,null|6+1,|Read,Read, Write|m,null|k=1+2
            5|null|t|null|Blue|00000000-0000-0000-0000-000000000000|7|null
            Blue|null
            2|Address { Street = s1, City = , Zip = 1 }|True
            """.Replace("\r\n", "\n"),
            output);
    }

    [Fact]
    public async Task DefaultsServicesContextAndKeywords_AreBoundWhenTheJobRuns()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using Binding;

            namespace Binding
            {
                public enum Mode { Fast, Slow }

                public sealed class Counter
                {
                    public int Value;
                }

                public interface IMissing
                {
                }

                public static class Tasks
                {
                    [Task]
                    public static string Defaults(int a, int b = 5, string c = "x\"y", Mode mode = Mode.Slow, double? d = null, decimal m = 1.5m,
                        string? s = null, char ch = 'q', float f = 0.25f, long big = long.MaxValue) =>
                        $"{a}|{b}|{c}|{mode}|{d?.ToString() ?? "null"}|{m}|{s ?? "null"}|{ch}|{f}|{big}";

                    [Task]
                    public static void Keywords(string @class, int @event, bool @params, CancellationToken cancellationToken) =>
                        Harness.Record($"{@class}|{@event}|{@params}|{cancellationToken.CanBeCanceled}");

                    [Task(Name = "binding.services", Queue = "default")]
                    public static async Task Services(string what, JobContext context, [FromServices] Counter counter,
                        [FromServices] IMissing? missing, [FromServices] IServiceProvider provider, CancellationToken ct)
                    {
                        await Task.Yield();
                        counter.Value++;
                        Harness.Record($"{what}|{context.TaskName}|{context.Attempt}|{counter.Value}|{missing is null}|{provider.GetService<Counter>() == counter}|{ct == context.CancellationToken}");
                    }
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record(await (await client.EnqueueDefaultsAsync(1)).GetResultAsync());
                    Harness.Record(await (await client.EnqueueDefaultsAsync(1, 2, "c", Mode.Fast, 0.5, 2m, "s", 'z', 1f, 7)).GetResultAsync());
                    await Harness.SucceedAsync(client, await client.EnqueueKeywordsAsync("k", 3, @params: true));
                    await Harness.SucceedAsync(client, await client.EnqueueServicesAsync("svc"));
                    await Harness.SucceedAsync(client, await client.EnqueueServicesAsync("again"));
                }, services => services.AddSingleton<Counter>());
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            """
            1|5|x"y|Slow|null|1.5|null|q|0.25|9223372036854775807
            1|2|c|Fast|0.5|2|s|z|1|7
            k|3|True|True
            svc|binding.services|1|1|True|True|True
            again|binding.services|1|2|True|True|True
            """.Replace("\r\n", "\n"),
            output);
    }

    [Fact]
    public async Task InstanceTasks_AreBuiltPerJobFromServicesAndDisposed()
    {
        const string source = """
            using System;
            using System.Threading;
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using Greetings;

            namespace Greetings
            {
                public sealed class Counter
                {
                    public int Value;
                }

                public sealed class Greeter(Counter counter, IServiceProvider services) : IDisposable
                {
                    private readonly Guid instance = Guid.NewGuid();

                    [Task]
                    public async Task<string> Greet(string name, CancellationToken ct)
                    {
                        await Task.Delay(1, ct);
                        counter.Value++;
                        return $"hello {name} #{counter.Value} {services.GetService<Counter>() == counter}";
                    }

                    [Task]
                    public void Remember(string what) => Harness.Record("remember " + what + " " + instance.ToString().Length);

                    public void Dispose() => Harness.Record("disposed");
                }

                public sealed class AsyncWorker : IAsyncDisposable
                {
                    [Task]
                    public ValueTask<int> Twice(int value) => ValueTask.FromResult(value * 2);

                    public ValueTask DisposeAsync()
                    {
                        Harness.Record("async disposed");
                        return ValueTask.CompletedTask;
                    }
                }

                public class Plain
                {
                    [Task]
                    public int Length(string text) => text.Length;
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record(await (await client.EnqueueGreetAsync("a")).GetResultAsync());
                    Harness.Record(await (await client.EnqueueGreetAsync("b")).GetResultAsync());
                    await Harness.SucceedAsync(client, await client.EnqueueRememberAsync("x"));
                    Harness.Record((await (await client.EnqueueTwiceAsync(21)).GetResultAsync()).ToString());
                    Harness.Record((await (await client.EnqueueLengthAsync("four")).GetResultAsync()).ToString());
                }, services => services.AddSingleton<Counter>());
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            """
            disposed
            hello a #1 True
            disposed
            hello b #2 True
            remember x 36
            disposed
            async disposed
            42
            4
            """.Replace("\r\n", "\n"),
            output);
    }

    [Fact]
    public async Task TasksInNestedClassesAndSeveralNamespaces_GetDistinctStubs()
    {
        const string source = """
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Alpha
            {
                public static class Outer
                {
                    public static class Inner
                    {
                        [Task]
                        public static string Ping(string text) => "alpha.inner:" + text;
                    }

                    [Task]
                    public static string Pong(string text) => "alpha.outer:" + text;
                }
            }

            namespace Beta
            {
                public static class Tasks
                {
                    [Task]
                    public static string Ping(string text) => "beta.tasks:" + text;
                }

                public static class Other
                {
                    [Task]
                    public static string Ping(string text) => "beta.other:" + text;

                    [Task]
                    public static Task<string> PongAsync(int count) => Task.FromResult("beta.pong:" + count);
                }
            }

            public static class GlobalTasks
            {
                [Task]
                public static string Hello() => "global";
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record(await (await Alpha.Outer_InnerJobClientExtensions.EnqueuePingAsync(client, "1")).GetResultAsync());
                    Harness.Record(await (await Alpha.OuterJobClientExtensions.EnqueuePongAsync(client, "2")).GetResultAsync());
                    Harness.Record(await (await Beta.TasksJobClientExtensions.EnqueuePingAsync(client, "3")).GetResultAsync());
                    Harness.Record(await (await Beta.OtherJobClientExtensions.EnqueuePingAsync(client, "4")).GetResultAsync());
                    Harness.Record(await (await Beta.OtherJobClientExtensions.EnqueuePongAsync(client, 5)).GetResultAsync());
                    Harness.Record(await (await client.EnqueueHelloAsync()).GetResultAsync());
                    var ids = await Beta.OtherJobClientExtensions.EnqueuePongBatchAsync(client, [1, 2, 3]);
                    foreach (var id in ids)
                    {
                        await Harness.SucceedAsync(client, id);
                    }

                    var none = await client.EnqueueHelloBatchAsync(2);
                    Harness.Record($"batches {ids.Count} {none.Count}");
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            """
            alpha.inner:1
            alpha.outer:2
            beta.tasks:3
            beta.other:4
            beta.pong:5
            global
            batches 3 2
            """.Replace("\r\n", "\n"),
            output);
    }

    [Fact]
    public async Task BatchStubs_EnqueueOneJobPerItem()
    {
        const string source = """
            using System.Threading.Tasks;
            using TypedJobs;
            using Batches;

            namespace Batches
            {
                public static class Mail
                {
                    [Task]
                    public static void Send(string to, int times, string @class = "c") => Harness.Record($"{to}:{times}:{@class}");
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var ids = await client.EnqueueSendBatchAsync([("a", 1, "x"), ("b", 2, "y")]);
                    foreach (var id in ids)
                    {
                        await Harness.SucceedAsync(client, id);
                    }
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(["a:1:x", "b:2:y"], output.Split('\n').Order());
    }

    [Fact]
    public async Task TasksOfReferencedAssemblies_AreRegisteredByTheHostWithoutTouchingThem()
    {
        const string library = """
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Lib
            {
                public sealed record Shout(string Text, int Times);

                public static class LibTasks
                {
                    [Task]
                    public static string Loud(Shout shout) => string.Concat(System.Linq.Enumerable.Repeat(shout.Text.ToUpperInvariant(), shout.Times));
                }
            }
            """;
        const string secondLibrary = """
            using TypedJobs;

            namespace Lib2
            {
                public static class More
                {
                    [Task]
                    public static int Square(int x) => x * x;
                }
            }
            """;
        const string host = """
            using System.Threading.Tasks;
            using TypedJobs;
            using Lib;
            using Lib2;

            namespace App
            {
                public static class AppTasks
                {
                    [Task]
                    public static string Own(string x) => "own:" + x;
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    Harness.Record(await (await client.EnqueueLoudAsync(new Shout("hi", 2))).GetResultAsync());
                    Harness.Record((await (await client.EnqueueSquareAsync(7)).GetResultAsync()).ToString());
                    Harness.Record(await (await App.AppTasksJobClientExtensions.EnqueueOwnAsync(client, "x")).GetResultAsync());
                });
            }
            """;

        var lib = JobProgram.CompileLibrary("TaskLibrary", library);
        var lib2 = JobProgram.CompileLibrary("TaskLibrary.Two", secondLibrary);

        var output = await JobProgram.RunAsync(host, [lib, lib2]);

        Assert.Equal("HIHI\n49\nown:x", output);
    }

    [Fact]
    public async Task HostWithoutOwnTasks_RegistersTheTasksOfItsReferences()
    {
        const string library = """
            using TypedJobs;

            namespace Lib
            {
                public static class Work
                {
                    [Task]
                    public static void Note(string text) => System.Console.Out.Flush();
                }
            }
            """;
        const string host = """
            using System.Threading.Tasks;
            using Lib;

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var job = await Harness.FinishAsync(client, await client.EnqueueNoteAsync("n"));
                    Harness.Record(job.TaskName + " " + job.State);
                });
            }
            """;

        var lib = JobProgram.CompileLibrary("NoteLibrary", library);

        var output = await JobProgram.RunAsync(host, [lib]);

        Assert.Equal("Lib.Work.Note Succeeded", output);
    }

    [Fact]
    public async Task PayloadEvolution_OldPayloadsRunAndUnknownKeysAreIgnored()
    {
        const string source = """
            using System.Text;
            using System.Threading.Tasks;
            using TypedJobs;

            namespace Evolve
            {
                public sealed record Item(string Name, int Count = 1)
                {
                    public string? Added { get; set; }
                }

                public static class Tasks
                {
                    [Task(Name = "evolve.add")]
                    public static void Add(int a, int b = 10, Item? item = null) => Harness.Record($"{a + b} {item?.Name ?? "none"} {item?.Added ?? "-"}");
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    // Written by an older version of the task that only had 'a', plus a key nobody knows.
                    var old = await client.EnqueueSerializedAsync("evolve.add", Encoding.UTF8.GetBytes("{\"zzz\":{\"deep\":[1,2,{\"x\":null}]},\"a\":1,\"other\":\"x\"}"));
                    await Harness.SucceedAsync(client, old);
                    var nested = await client.EnqueueSerializedAsync("evolve.add", Encoding.UTF8.GetBytes("{\"a\":2,\"b\":3,\"item\":{\"Name\":\"n\",\"Count\":2,\"Unknown\":true}}"));
                    await Harness.SucceedAsync(client, nested);
                    var broken = await Harness.FinishAsync(client, await Harness.StoreAsync("evolve.add", "{\"b\":3}"));
                    Harness.Record(broken.State + " " + (broken.LastError?.Contains("required parameter 'a'") ?? false));
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal("11 none -\n5 n -\nDead True", output);
    }

    [Fact]
    public async Task TypesFromAJsonSerializerContext_UseItsTypeInfo()
    {
        const string source = """
            using System.Collections.Generic;
            using System.Linq;
            using System.Text;
            using System.Text.Json.Serialization;
            using System.Threading.Tasks;
            using TypedJobs;
            using Contexts;

            namespace Contexts
            {
                public sealed class Tagged
                {
                    [JsonPropertyName("t")]
                    public string Text { get; set; } = "";
                }

                [JsonSerializable(typeof(Tagged))]
                [JsonSerializable(typeof(HashSet<string>))]
                internal sealed partial class AppJson : JsonSerializerContext
                {
                }

                public static class Tasks
                {
                    [Task]
                    public static Tagged Tag(HashSet<string> set, Tagged tagged) => new() { Text = tagged.Text + ":" + string.Join(",", set.Order()) };
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var handle = await client.EnqueueTagAsync(["b", "a"], new Tagged { Text = "x" });
                    var result = await handle.GetResultAsync();
                    var job = await client.GetJobAsync(handle.Id);
                    Harness.Record(result.Text);
                    Harness.Record(Encoding.UTF8.GetString(job!.Payload).Contains("\"t\":\"x\"").ToString());
                });
            }
            """;

        var output = await JobProgram.RunAsync(source, withJson: true);

        Assert.Equal("x:a,b\nTrue", output);
    }

    [Fact]
    public async Task AttributeSettings_ReachTheStoredJob()
    {
        const string source = """
            using System.Threading.Tasks;
            using Microsoft.Extensions.DependencyInjection;
            using TypedJobs;
            using TypedJobs.Registration;

            namespace Settings
            {
                public static class Tasks
                {
                    [Task(Name = "settings.configured", Queue = "default", Priority = Priority.High, MaxRetries = 3, Timeout = "00:01:00", RetryDelay = "00:00:01")]
                    public static void Configured() { }

                    [Task(Name = "settings.cron", Cron = "0 2 * * *", TimeZone = "Europe/Berlin", Unique = "00:05:00",
                        MaxRetryDelay = "00:10:00", MaxConcurrency = 2, MaxRetries = 0)]
                    public static void Nightly() { }

                    [Task(Name = "settings.interval", Interval = "1.00:00:00")]
                    public static void Daily() { }

                    [Task(Name = "settings.unique", Unique = "true")]
                    public static void UniqueJob() { }
                }
            }

            public static class Program
            {
                public static Task<string> Run() => Harness.RunAsync(async client =>
                {
                    var job = await Harness.FinishAsync(client, await Settings.TasksJobClientExtensions.EnqueueConfiguredAsync(client));
                    Harness.Record($"{job.TaskName}|{job.Queue}|{job.Priority}|{job.MaxRetries}|{job.State}");
                    var registry = Harness.Services.GetRequiredService<TaskRegistry>();
                    foreach (var name in new[] { "settings.configured", "settings.cron", "settings.interval", "settings.unique" })
                    {
                        registry.TryGet(name, out var task);
                        var s = task!.Settings;
                        Harness.Record($"{name}|{s.Queue}|{s.Priority}|{s.MaxRetries}|{s.RetryDelay}|{s.MaxRetryDelay}|{s.Timeout}|{s.UniqueByPayload}|{s.UniqueWindow}|{s.MaxConcurrency}|{s.Cron}|{s.TimeZone}|{s.Interval}");
                    }
                });
            }
            """;

        var output = await JobProgram.RunAsync(source);

        Assert.Equal(
            """
            settings.configured|default|High|3|Succeeded
            settings.configured|default|High|3|00:00:01||00:01:00|False||0|||
            settings.cron||Normal|0||00:10:00||True|00:05:00|2|0 2 * * *|Europe/Berlin|
            settings.interval||Normal|||||False||0|||1.00:00:00
            settings.unique||Normal|||||True||0|||
            """.Replace("\r\n", "\n"),
            output);
    }
}
