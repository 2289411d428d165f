using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.Testing;
using TypedJobs.Analyzers.Tests.Support;

namespace TypedJobs.Analyzers.Tests;

/// <summary>
/// The worker side of task contracts: an implementation matches its contract (TJ1012) and sets only run-time settings
/// (TJ1013), each with a code fix; a host that runs a worker implements every contract it knows (TJ2002).
/// </summary>
public sealed class ContractRuleTests
{
    private const string ContractSource = """
        using System.Threading;
        using System.Threading.Tasks;
        using TypedJobs;

        namespace Shop.Contracts
        {
            [TaskContract]
            public interface IMail
            {
                [Task(Name = "mail.send", Queue = "emails", MaxRetries = 5)]
                Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default);
            }
        }
        """;

    [Fact]
    public async Task MatchingImplementation_WithRunTimeSettings_ReportsNothing()
    {
        const string worker = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                [Task(Timeout = "00:01:00", MaxConcurrency = 4)]
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
            }
            """;

        await TypedJobsTest.VerifyAsync(worker, [Library.Compile("Shop.Contracts", ContractSource)], false);
        await TypedJobsTest.VerifyAsync(worker, ContractSource);
    }

    [Fact]
    public async Task RenamedPayloadParameter_ReportsTJ1012_AndTheFixRenamesItAsInTheContract()
    {
        const string worker = """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task Send(string {|#0:address|}, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(address.Length + attempts, cancellationToken);
            }
            """;
        const string fixedWorker = """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(to.Length + attempts, cancellationToken);
            }
            """;

        await VerifyFixAsync(worker, fixedWorker,
            Expect(0, "'Mail.Send' does not match the contract task 'Shop.Contracts.IMail.Send': its parameter 'address' is 'to' in the contract, the name payloads store it under"));
    }

    [Fact]
    public async Task OtherDefaultValue_ReportsTJ1012_AndTheFixUsesTheContractsDefaults()
    {
        const string worker = """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task Send(string to, int {|#0:attempts|} = 1, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
            }
            """;
        const string fixedWorker = """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
            }
            """;

        await VerifyFixAsync(worker, fixedWorker,
            Expect(0, "'Mail.Send' does not match the contract task 'Shop.Contracts.IMail.Send': its parameter 'attempts' has the default value 1, the contract's 3; enqueued jobs get the contract's"));
    }

    [Fact]
    public async Task MethodWithAnotherSignature_ReportsTJ1012_AndTheFixMatchesTheContract()
    {
        const string worker = """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task {|#0:Send|}(string to, long attempts) => Task.Delay((int)attempts);
            }
            """;

        var test = new TypedJobsTest { TestCode = worker, CodeFixTestBehaviors = CodeFixTestBehaviors.SkipFixAllCheck };
        test.TestState.AdditionalReferences.Add(Library.Compile("Shop.Contracts", ContractSource));
        test.ExpectedDiagnostics.Add(DiagnosticResult.CompilerError("CS0535").WithSpan(5, 28, 5, 33).WithArguments("Mail", "Shop.Contracts.IMail.Send(string, int, System.Threading.CancellationToken)"));
        test.ExpectedDiagnostics.Add(Expect(0, "'Mail.Send' does not match the contract task 'Shop.Contracts.IMail.Send': its parameters are (string to, long attempts), "
            + "the contract's are (string to, int attempts, System.Threading.CancellationToken cancellationToken)"));
        // The fixed state declares its own sources, references and (no) diagnostics: the CS0535 above is gone. The fix
        // rewrites the signature only, so the body keeps its (now redundant) cast.
        test.FixedState.InheritanceMode = StateInheritanceMode.Explicit;
        test.FixedState.AdditionalReferences.AddRange(TypedJobsTest.References);
        test.FixedState.AdditionalReferences.Add(Library.Compile("Shop.Contracts", ContractSource));
        test.FixedState.Sources.Add("""
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay((int)attempts);
            }
            """);
        await test.RunAsync();
    }

    [Fact]
    public async Task ContractSettingOnTheImplementation_ReportsTJ1013_AndTheFixRemovesIt()
    {
        const string worker = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                [Task(Queue = {|#0:"other"|}, Timeout = "00:01:00")]
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
            }
            """;
        const string fixedWorker = """
            using System.Threading;
            using System.Threading.Tasks;
            using TypedJobs;
            using Shop.Contracts;

            public sealed class Mail : IMail
            {
                [Task(Timeout = "00:01:00")]
                public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
            }
            """;

        await VerifyFixAsync(worker, fixedWorker,
            new DiagnosticResult(Generators.Diagnostics.DiagnosticDescriptors.ContractSettingOnImplementation).WithLocation(0)
                .WithMessage("[Task] Queue on 'Mail.Send' belongs to the contract task 'mail.send'; an implementation may set only Timeout and MaxConcurrency: declare it on the contract"));
    }

    [Fact]
    public async Task WorkerHostWithoutAnImplementation_ReportsTJ2002AtAddWorker()
    {
        const string host = """
            using Microsoft.Extensions.DependencyInjection;

            public static class Startup
            {
                public static void Configure(IServiceCollection services) =>
                    {|#0:services.AddTypedJobs(o => o.UseInMemory()).AddWorker()|};
            }
            """;

        var test = new TypedJobsTest { TestCode = host };
        test.TestState.AdditionalReferences.Add(Library.Compile("Shop.Contracts", ContractSource));
        test.ExpectedDiagnostics.Add(new DiagnosticResult(Generators.Diagnostics.DiagnosticDescriptors.UnimplementedContract).WithLocation(0)
            .WithMessage("This host runs a worker, but nothing in it or its references implements the task contract 'Shop.Contracts.IMail' (task 'mail.send'), so no worker here "
                + "runs its jobs; implement the interface, reference the assembly that does, or suppress TJ2002 where another deployment runs it"));
        await test.RunAsync();
    }

    [Fact]
    public async Task WorkerHostReferencingAnImplementation_OrAProducerWithoutWorker_ReportsNothing()
    {
        var contracts = Library.Compile("Shop.Contracts", ContractSource);
        var implementation = Library.Compile("Shop.Worker", """
            using System.Threading;
            using System.Threading.Tasks;
            using Shop.Contracts;

            namespace Shop.Worker
            {
                public sealed class Mail : IMail
                {
                    public Task Send(string to, int attempts = 3, CancellationToken cancellationToken = default) => Task.Delay(attempts, cancellationToken);
                }
            }
            """, contracts);
        const string workerHost = """
            using Microsoft.Extensions.DependencyInjection;

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddTypedJobs(o => o.UseInMemory()).AddWorker();
            }
            """;
        const string producer = """
            using Microsoft.Extensions.DependencyInjection;

            public static class Startup
            {
                public static void Configure(IServiceCollection services) => services.AddTypedJobs(o => o.UseInMemory());
            }
            """;

        await TypedJobsTest.VerifyAsync(workerHost, [contracts, implementation], false);
        await TypedJobsTest.VerifyAsync(producer, [contracts], false);
    }

    private static DiagnosticResult Expect(int index, string message) =>
        new DiagnosticResult(Generators.Diagnostics.DiagnosticDescriptors.ContractMismatch).WithLocation(index).WithMessage(message);

    private static async Task VerifyFixAsync(string worker, string fixedWorker, params DiagnosticResult[] expected)
    {
        var test = new TypedJobsTest { TestCode = worker, FixedCode = fixedWorker, CodeFixTestBehaviors = CodeFixTestBehaviors.SkipFixAllCheck };
        test.TestState.AdditionalReferences.Add(Library.Compile("Shop.Contracts", ContractSource));
        test.ExpectedDiagnostics.AddRange(expected);
        await test.RunAsync();
    }
}
