using TypedJobs.Analyzers.Tests.Support;
using static TypedJobs.Analyzers.Tests.Support.TypedJobsTest;

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
        await TypedJobsTest.VerifyAsync(InClass(member), [], true);

    [Theory]
    [InlineData("[Task] public static void Run() { }")]
    [InlineData("[Task] public static Task RunAsync() => Task.CompletedTask;")]
    [InlineData("[Task] public static ValueTask Run() => default;")]
    [InlineData("[Task] public static Task<int> Count() => Task.FromResult(1);")]
    [InlineData("[Task] public static ValueTask<string> Name() => new(\"x\");")]
    [InlineData("[Task] public static List<int> Numbers() => [1];")]
    public async Task SupportedReturnTypes_ReportNothing(string member) => await TypedJobsTest.VerifyAsync(InClass(member));

    [Theory]
    [InlineData("[Task] public static void Run(ref int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static void Run(out int {|TJ1002:count|}) { count = 0; }")]
    [InlineData("[Task] public static void Run(in int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static void Run(ref readonly int {|TJ1002:count|}) { }")]
    [InlineData("[Task] public static unsafe void Run(int* {|TJ1002:pointer|}) { }")]
    [InlineData("[Task] public static void Run(int ok, ReadOnlySpan<byte> {|TJ1002:bytes|}) { }")]
    public async Task ByReferencePointerOrRefStructParameter_ReportsTJ1002OnTheParameter(string member) =>
        await TypedJobsTest.VerifyAsync(InClass(member), [], true);

    [Fact]
    public async Task ServiceTokenAndContextParameters_ReportNothing() => await TypedJobsTest.VerifyAsync(InClass(
        "[Task] public static Task Run(string to, [FromServices] IServiceProvider services, JobContext context, CancellationToken ct) => Task.Delay(1, ct);"));

    [Fact]
    public async Task KeyedServiceParameter_IsNotPayload() => await TypedJobsTest.VerifyAsync(InClass(
        "[Task] public static void Run(string to, [Microsoft.Extensions.DependencyInjection.FromKeyedServices(\"mail\")] System.IO.Stream store, [Microsoft.Extensions.DependencyInjection.FromKeyedServices(null)] System.IO.Stream? other = null) { }"));

    [Fact]
    public async Task GenericMethod_ReportsTJ1003() =>
        await TypedJobsTest.VerifyAsync(InClass("[Task] public static void {|TJ1003:Run|}<T>(T value) { }"));

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
        await TypedJobsTest.VerifyAsync(source);
    }

    [Theory]
    [InlineData("[Task] private static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] protected static void {|TJ1004:Run|}() { }")]
    [InlineData("[Task] private protected static void {|TJ1004:Run|}() { }")]
    public async Task InaccessibleMethod_ReportsTJ1004(string member) =>
        await TypedJobsTest.VerifyAsync(InClass(member, "public"));

    [Theory]
    [InlineData("[Task] public static void Run() { }")]
    [InlineData("[Task] internal static void Run() { }")]
    [InlineData("[Task] protected internal static void Run() { }")]
    public async Task AccessibleMethod_ReportsNothing(string member) => await TypedJobsTest.VerifyAsync(InClass(member, "public"));

    [Fact]
    public async Task PrivateContainingType_ReportsTJ1004NamingTheType()
    {
        const string source = """
            using TypedJobs;

            public static class Outer
            {
                private static class Hidden
                {
                    [Task] public static void {|#0:Run|}() { }
                }
            }
            """;
        await VerifyMessagesAsync(source, Expect("TJ1004", 0,
            "Task method 'Outer.Hidden.Run' cannot be called by generated code because containing type 'Hidden' is private; make it public or internal"));
    }

    [Fact]
    public async Task FileLocalContainingType_ReportsTJ1004() =>
        await VerifyMessagesAsync("""
            using TypedJobs;

            file static class Local
            {
                [Task] public static void {|#0:Run|}() { }
            }
            """, Expect("TJ1004", 0, "Task method 'Local.Run' cannot be called by generated code because containing type 'Local' is file-local; make it public or internal"));

    [Fact]
    public async Task AsyncVoidTask_ReportsTJ1011() =>
        await VerifyMessagesAsync(InClass("[Task] public static async void {|#0:Fire|}() => await Task.Yield();"), Expect("TJ1011", 0,
            "Task method 'Shop.Jobs.Fire' is async void: the job would succeed before its work ends, and an exception would escape the worker; return Task instead"));

    [Theory]
    [InlineData("public abstract class Jobs { [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { private Jobs() { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { public Jobs(int a) { } public Jobs(string b) { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public class Jobs { public Jobs(ref int a) { } [Task] public void {|TJ1005:Run|}() { } }")]
    [InlineData("public interface IJobs { [Task] void {|TJ1005:Run|}(); }")]
    [InlineData("public class Jobs { public required string Name { get; init; } [Task] public void {|TJ1005:Run|}() { } }")]
    public async Task InstanceTaskWhoseTypeCannotBeCreated_ReportsTJ1005(string type) =>
        await TypedJobsTest.VerifyAsync("using TypedJobs;\n" + type);

    [Theory]
    [InlineData("public class Jobs { [Task] public void Run() { } }")]
    [InlineData("public sealed class Jobs(System.IServiceProvider services) { [Task] public void Run() => _ = services; }")]
    [InlineData("public class Jobs { public Jobs() { } public Jobs(System.IServiceProvider a, string b) { } [Task] public void Run() { } }")]
    [InlineData("public abstract class Jobs { [Task] public static void Run() { } }")]
    [InlineData("public struct Jobs { [Task] public void Run() { } }")]
    [InlineData("public class Jobs { [System.Diagnostics.CodeAnalysis.SetsRequiredMembers] public Jobs() { Name = \"\"; } public required string Name { get; init; } [Task] public void Run() { } }")]
    [InlineData("public sealed class Jobs([Microsoft.Extensions.DependencyInjection.FromKeyedServices(\"a\")] System.IServiceProvider keyed) { [Task] public void Run() => _ = keyed; }")]
    public async Task CreatableInstanceTaskOrStaticTask_ReportsNothing(string type) =>
        await TypedJobsTest.VerifyAsync("using TypedJobs;\n" + type);

    [Theory]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static void Run(string {|TJ1008:region|}) { }")]
    [InlineData("[Task(Interval = \"00:05:00\")] public static void Run(int {|TJ1008:a|}, string {|TJ1008:b|}) { }")]
    public async Task RecurringTaskWithRequiredPayloadParameters_ReportsTJ1008OnEach(string member) =>
        await TypedJobsTest.VerifyAsync(InClass(member));

    [Theory]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static Task Run(string region = \"eu\", [FromServices] IServiceProvider? sp = null, CancellationToken ct = default) => Task.Delay(1, ct);")]
    [InlineData("[Task(Cron = \"0 2 * * *\")] public static Task Run([FromServices] IServiceProvider sp, CancellationToken ct) => Task.Delay(1, ct);")]
    [InlineData("[Task] public static void Run(string region) { }")]
    public async Task RecurringTaskWithoutRequiredPayload_OrNotRecurring_ReportsNothing(string member) =>
        await TypedJobsTest.VerifyAsync(InClass(member));

    [Fact]
    public async Task MessagesNameTheMethodAndTheFix() =>
        await VerifyMessagesAsync(InClass("[Task] public static Span<int> {|#0:Slice|}() => default;"), Expect("TJ1001", 0,
            "Task method 'Shop.Jobs.Slice' returns 'System.Span<int>'; return void, Task, ValueTask, Task<T>, ValueTask<T> or a serializable value"));
}
