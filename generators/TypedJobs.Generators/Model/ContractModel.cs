namespace TypedJobs.Generators.Model;

/// <summary>
/// The contract shape of one task: what a contract baseline (<c>TypedJobs.contract.json</c>) records and what jobs
/// already stored depend on — the name, the queue, the payload parameters and the object and enum types they use.
/// </summary>
/// <param name="Name">The stable task name.</param>
/// <param name="Queue">The declared queue, or <see langword="null"/> for the host default.</param>
/// <param name="Parameters">The payload parameters, in declaration order.</param>
/// <param name="Result">The result type, or <see langword="null"/> without a result.</param>
/// <param name="Types">The object and enum types the parameters and result use, directly or nested, by name.</param>
internal sealed record ContractTask(
    string Name,
    string? Queue,
    EquatableArray<ContractParameter> Parameters,
    string? Result,
    EquatableArray<ContractType> Types);

/// <summary>A payload parameter of a task contract.</summary>
/// <param name="Name">The parameter name (the payload's JSON key).</param>
/// <param name="Type">The type, fully qualified without <c>global::</c> and without nullable reference annotations.</param>
/// <param name="HasDefault">Whether a payload without the key can be read (a default value or <c>params</c>).</param>
internal sealed record ContractParameter(string Name, string Type, bool HasDefault);

/// <summary>An object or enum type used by a task contract.</summary>
/// <param name="Name">The type, written as in <see cref="ContractParameter.Type"/>.</param>
/// <param name="IsEnum">Whether it is an enum (written as numbers).</param>
/// <param name="Members">For objects: the serialized members (<see cref="ContractMember"/>).</param>
/// <param name="Values">For enums: the members and their numeric values, in declaration order.</param>
internal sealed record ContractType(string Name, bool IsEnum, EquatableArray<ContractMember> Members, EquatableArray<ContractEnumValue> Values);

/// <summary>A serialized member of an object type.</summary>
/// <param name="Name">The member name (its JSON key).</param>
/// <param name="Type">The member type.</param>
/// <param name="Optional">Whether an object without the key can be read.</param>
internal sealed record ContractMember(string Name, string Type, bool Optional);

/// <summary>An enum member and its value (as written in C#, in invariant digits).</summary>
internal sealed record ContractEnumValue(string Name, string Value);

/// <summary>The contract of a task declared by a <c>[TaskContract]</c> interface, with the interface's metadata name.</summary>
internal sealed record ContractDeclaration(string Interface, ContractTask Task);

/// <summary>Everything the assembly's contract file needs.</summary>
/// <param name="AssemblyName">The assembly.</param>
/// <param name="Declared">The tasks the assembly declares (its <c>[Task]</c> methods and the tasks of its contracts), by name: its baseline.</param>
/// <param name="Contracts">The tasks of the assembly's <c>[TaskContract]</c> interfaces.</param>
/// <param name="Implemented">The contract tasks the assembly implements, by name.</param>
internal sealed record AssemblyContractModel(
    string AssemblyName,
    EquatableArray<ContractTask> Declared,
    EquatableArray<ContractDeclaration> Contracts,
    EquatableArray<ContractTask> Implemented);

/// <summary>A task of a <c>[TaskContract]</c> interface: its model (for the stubs and the payload) and its contract.</summary>
internal sealed record ContractTaskModel(TaskModel Task, ContractDeclaration Declaration);

/// <summary>
/// A class or struct that implements <c>[TaskContract]</c> interfaces: the models of the tasks it handles (containing type
/// the implementation, everything else from the contract) and their contracts.
/// </summary>
/// <param name="TypeName">The implementing type, fully qualified.</param>
/// <param name="TypePath">The implementing type with its namespace, for the generated class's name.</param>
/// <param name="Tasks">The handled tasks, in contract declaration order.</param>
/// <param name="Contracts">Their contracts, in the same order.</param>
internal sealed record ImplementationModel(string TypeName, string TypePath, EquatableArray<TaskModel> Tasks, EquatableArray<ContractTask> Contracts);
