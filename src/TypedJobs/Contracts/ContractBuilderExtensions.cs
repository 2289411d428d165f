using TypedJobs.Contracts;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Declares task contracts to a TypedJobs registration.</summary>
public static class TypedJobsContractBuilderExtensions
{
    /// <summary>
    /// Declares the contract of a task this process knows: generated code calls it for every task and task contract of
    /// an assembly, so <see cref="DeployedContracts"/> lists what the process was built with. A contract registers no
    /// handler: a worker runs only the tasks added with <see cref="TypedJobsBuilder.AddTask"/>.
    /// </summary>
    public static TypedJobsBuilder AddContract(this TypedJobsBuilder builder, TaskContractInfo contract)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(contract);
        builder.Services.AddSingleton(contract);
        return builder;
    }
}
