using TypedJobs.Analyzers.Tests.Support;
using static TypedJobs.Analyzers.Tests.Support.TypedJobsTest;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ1007: payload and result types need a built-in shape or a JsonSerializerContext entry.</summary>
public sealed class SerializerRuleTests
{
    private const string Types = """
        namespace Shop
        {
            public sealed class Holder
            {
                public System.IO.Stream? Content { get; set; }
            }

            public sealed record Customer(string Name, int Age, System.Collections.Generic.IReadOnlyList<string> Tags);

            public sealed class Version2
            {
                public Version2(int major) { Major = major; }
                public int Major { get; }
                public string Label { get; }
            }
        }
        """;

    private static string Task(string member) => """
        using System.Collections.Generic;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop
        {
            public static class Jobs
            {
                
        """ + member + """

            }
        }
        """;

    [Theory]
    [InlineData("[Task] public static void Run(System.IO.Stream {|TJ1007:content|}) { }")]
    [InlineData("[Task] public static void Run(int id, object {|TJ1007:any|}) { }")]
    [InlineData("[Task] public static void Run(Holder {|TJ1007:holder|}) { }")]
    [InlineData("[Task] public static void Run(List<Holder> {|TJ1007:holders|}) { }")]
    [InlineData("[Task] public static void Run(Dictionary<int, string> {|TJ1007:byId|}) { }")]
    [InlineData("[Task] public static void Run(int[,] {|TJ1007:grid|}) { }")]
    [InlineData("[Task] public static Task<{|TJ1007:System.Action|}> Run() => Task.FromResult<System.Action>(() => { });")]
    [InlineData("[Task] public static {|TJ1007:System.IO.Stream|} Run(System.IO.Stream {|TJ1007:input|}) => input;")]
    public async Task UnserializableType_ReportsTJ1007WhereTheTypeIsUsed(string member) =>
        await TypedJobsTest.VerifyAsync(Task(member), Types);

    [Theory]
    [InlineData("[Task] public static void Run(Customer customer, List<Customer> many, Dictionary<string, int[]> map, System.Guid id, System.DateOnly day, System.Uri? link, byte[] data, int? n) { }")]
    [InlineData("[Task] public static Task<Customer> Run() => Task.FromResult(new Customer(\"a\", 1, []));")]
    [InlineData("[Task] public static void Run(Version2 version) { }")]
    public async Task SupportedTypes_ReportNothing(string member) => await TypedJobsTest.VerifyAsync(Task(member), Types);

    [Fact]
    public async Task TypeDeclaredOnAJsonSerializerContext_ReportsNothing()
    {
        const string context = """
            using System.Text.Json.Serialization;

            namespace Shop
            {
                [JsonSerializable(typeof(Holder))]
                [JsonSerializable(typeof(System.Version))]
                internal sealed partial class ShopJson : JsonSerializerContext
                {
                }
            }
            """;

        await TypedJobsTest.VerifyAsync(Task("[Task] public static void Run(Holder holder, System.Version version) { }"), Types, context);
    }

    [Fact]
    public async Task Message_NamesTheNestedTypeTheTaskAndTheFix()
    {
        var test = new TypedJobsTest { TestCode = Task("[Task] public static void Run(Holder {|#0:holder|}) { }") };
        test.TestState.Sources.Add(Types);
        test.ExpectedDiagnostics.Add(Expect("TJ1007", 0, "Type 'System.IO.Stream' used by task 'Shop.Jobs.Run' cannot be serialized: it is abstract, static, open generic or a built-in type without a JSON form; "
            + "add [JsonSerializable(typeof(System.IO.Stream))] to a JsonSerializerContext in this assembly, or use a supported type"));
        await test.RunAsync();
    }

    [Fact]
    public async Task PropertyWithAPrivateSetter_ReportsTJ1007InsteadOfDroppingIt()
    {
        const string types = """
            namespace Shop
            {
                public sealed class Counter
                {
                    public string Name { get; private set; } = "";
                    public int Total { get; }
                    public int Twice => Total * 2;
                }

                public sealed class Fields
                {
                    public int Count;
                    public readonly string Kind = "k";
                }
            }
            """;
        var test = new TypedJobsTest { TestCode = Task("[Task] public static void Run(Counter {|#0:counter|}, Fields fields) { }") };
        test.TestState.Sources.Add(types);
        test.ExpectedDiagnostics.Add(Expect("TJ1007", 0, "Type 'Shop.Counter' used by task 'Shop.Jobs.Run' cannot be serialized: property 'Name' has a setter generated code cannot call "
            + "and no matching constructor parameter, so it would not round-trip; add [JsonSerializable(typeof(Shop.Counter))] to a JsonSerializerContext in this assembly, or use a supported type"));
        await test.RunAsync();
    }
}
