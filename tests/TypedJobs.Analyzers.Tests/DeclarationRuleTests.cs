using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>TJ1001-TJ1005 and TJ1008: the shape of a task method and its containing type.</summary>
public sealed class DeclarationRuleTests
{
    private static string InClass(string members, string modifiers = "public static") => $$"""
        using System;
        using System.Collections.Generic;
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop
        {
            {{modifiers}} class Jobs
            {
                {{members}}
            }
        }
        """;

    [Theory]
    [InlineData("[Task] public static Span<int> {|TJ1001:Slice|}() => default;")]
    [InlineData("[Task] public static ref int {|TJ1001:Counter|}() => ref Store[0]; private static readonly int[] Store = [1];")]
    [InlineData("[Task] public static unsafe int* {|TJ1001:Pointer|}() => null;")]
    public async Task UnsupportedReturnType_ReportsTJ1001OnTheMethodName(string member) =>
        await Verifier.VerifyAsync(InClass(member), unsafeCode: true);

    [Theory]
    [InlineData("[Task] public static void Run() { }")]
    [InlineData("[Task] public static Task RunAsync() => Task.CompletedTask;")]
    [InlineData("[Task] public static ValueTask Run() => default;")]
    [InlineData("[Task] public static Task<int> Count() => Task.FromResult(1);")]
    [InlineData("[Task] public static ValueTask<string> Name() => new(\"x\");")]
    [InlineData("[Task] public static List<int> Numbers() => [1];")]
    public async Task SupportedReturnTypes_ReportNothing(string member) => await Verifier.VerifyAsync(InClass(member));

    [Theory]
    [InlineData("[Task] public static void Run(ref int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static void Run(out int {|TJ1002:count|}) { count = 0; }")]
    [InlineData("[Task] public static void Run(in int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static void Run(ref readonly int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static unsafe void Run(int* {|TJ1002:pointer|}) { }")]
    [InlineData("[Task] public static void Run(int ok, ReadOnlySpan<byte> {|TJ1002:bytes|}) { }")]
    public async Task ByReferencePointerOrRefStructParameter_ReportsTJ1002OnTheParameter(string member) =>
        await Verifier.VerifyAsync(InClass(member), unsafeCode: true);

    [Fact]
    public async Task ServiceTokenAndContextParameters_ReportNothing() => await Verifier.VerifyAsync(InClass(
        "[Task] public static Task Run(string to, [FromServices] IServiceProvider services, JobContext context, CancellationToken ct) => Task.Delay(1, ct);"));

    [Fact]
    public async Task GenericMethod_ReportsTJ1003() =>
        await Verifier.VerifyAsync(InClass("[Task] public static void {|TJ1003:Run|}<T>(T value) { }"));

    [Fact]
    public async Task MethodOfAnOpenGenericType_ReportsTJ1003()
    {
        const string source = """
            using TypedJobs;

            public class Repository<T>
            {
                [Task] public static void {|TJ1003:Purge|}() { }
            }
            """;
        await Verifier.VerifyAsync(source);
    }

    [Theory]
    [InlineData("[Task] private static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] protected static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] private protected static void {|TJ1004:Run|}() { }")]
    public async Task InaccessibleMethod_ReportsTJ1004(string member) =>
        await Verifier.VerifyAsync(InClass(member, "public"));

    [Theory]
    [InlineData("[Task] public static void Run() { }")]
    [InlineData("[Task] internal static void Run() { }")]
    [InlineData("[Task] protected internal static void Run() { }")]
    public async Task AccessibleMethod_ReportsNothing(string member) => await Verifier.VerifyAsync(InClass(member, "public"));

    [Fact]
    public async Task PrivateContainingType_ReportsTJ1004NamingTheType()
    {
        const string source = """
            using TypedJobs;

            public static class Outer
            {
                private static class Hidden
                {
                    [Task] public static void {|TJ1004:Run|}() { }
                }
            }
            """;
        var analysis = await Verifier.VerifyAsync(source);
        Assert.Contains("containing type 'Hidden' is private", analysis.Ours[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("public abstract class Jobs { [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { private Jobs() { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { public Jobs(int a) { } public Jobs(string b) { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { public Jobs(ref int a) { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public interface IJobs { [Task] void {|TJ1005:Run|}(); }")]
    public async Task InstanceTaskWhoseTypeCannotBeCreated_ReportsTJ1005(string type) =>
        await Verifier.VerifyAsync("using TypedJobs;\n" + type);

    [Theory]
    [InlineData("public class Jobs { [Task] public void Run() { } }")]
    [InlineData("public sealed class Jobs(System.IServiceProvider services) { [Task] public void Run() => _ = services; }")]
    [InlineData("public class Jobs { public Jobs() { } public Jobs(System.IServiceProvider a, string b) { } [Task] public void Run() { } }")]
    [InlineData("public abstract class Jobs { [Task] public static void Run() { } }")]
    [InlineData("public struct Jobs { [Task] public void Run() { } }")]
    public async Task CreatableInstanceTaskOrStaticTask_ReportsNothing(string type) =>
        await Verifier.VerifyAsync("using TypedJobs;\n" + type);

    [Theory]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static void Run(string {|TJ1008:region|}) { }")]
    [InlineData("[Task(Interval = \"00:05:00\")] public static void Run(int {|TJ1008:a|}, string {|TJ1008:b|}) { }")]
    public async Task RecurringTaskWithRequiredPayloadParameters_ReportsTJ1008OnEach(string member) =>
        await Verifier.VerifyAsync(InClass(member));

    [Theory]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static Task Run(string region = \"eu\", [FromServices] IServiceProvider? sp = null, CancellationToken ct = default) => Task.Delay(1, ct);")]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static Task Run([FromServices] IServiceProvider sp, CancellationToken ct) => Task.Delay(1, ct);")]
    [InlineData("[Task] public static void Run(string region) { }")]
    public async Task RecurringTaskWithoutRequiredPayload_OrNotRecurring_ReportsNothing(string member) =>
        await Verifier.VerifyAsync(InClass(member));

    [Fact]
    public async Task MessagesNameTheMethodAndTheFix()
    {
        var analysis = await Verifier.VerifyAsync(InClass("[Task] public static Span<int> {|TJ1001:Slice|}() => default;"));

        var message = analysis.Ours[0].GetMessage(System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains("Shop.Jobs.Slice", message, StringComparison.Ordinal);
        Assert.Contains("Span<int>", message, StringComparison.Ordinal);
        Assert.Contains("return void, Task", message, StringComparison.Ordinal);
    }
}
