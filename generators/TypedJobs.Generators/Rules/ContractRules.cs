using System.Collections.Generic;
using System.Linq;
using Microsoft.CodeAnalysis;

namespace TypedJobs.Generators.Rules;

/// <summary>
/// What task contracts are: a <c>[TaskContract]</c> interface declares tasks with its <c>[Task]</c> methods, and the
/// first concrete class (or struct) in a hierarchy that implements such an interface is their handler. Compiled into the
/// generator and the analyzers (linked), like <see cref="TaskRules"/>.
/// </summary>
internal static class ContractRules
{
    public const string ContractAttributeName = "TypedJobs.TaskContractAttribute";

    /// <summary>The key under which an assembly lists the tasks of its contracts: <c>[assembly: AssemblyMetadata("TypedJobs.ContractTask", "Interface|name")]</c>.</summary>
    public const string ContractTaskMetadataKey = "TypedJobs.ContractTask";

    /// <summary>The key under which an assembly lists the contract tasks it implements: <c>[assembly: AssemblyMetadata("TypedJobs.Implements", "name")]</c>.</summary>
    public const string ImplementsMetadataKey = "TypedJobs.Implements";

    /// <summary>The key of the assembly's contract baseline text: <c>[assembly: AssemblyMetadata("TypedJobs.Contract", json)]</c>, read by the <c>UpdateTaskContract</c> build target.</summary>
    public const string ContractMetadataKey = "TypedJobs.Contract";

    /// <summary>The <c>[Task]</c> settings an implementation may set; every other one belongs to the contract.</summary>
    public static readonly string[] RuntimeSettings = ["Timeout", "MaxConcurrency"];

    /// <summary>Whether <paramref name="type"/> is an interface marked <c>[TaskContract]</c>.</summary>
    public static bool IsContract(INamedTypeSymbol? type) =>
        type is { TypeKind: TypeKind.Interface } && type.GetAttributes().Any(static a => a.AttributeClass?.ToDisplayString() == ContractAttributeName);

    /// <summary>The <c>[Task]</c> attribute of <paramref name="method"/>, or <see langword="null"/>.</summary>
    public static AttributeData? TaskAttribute(IMethodSymbol method) =>
        method.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.ToDisplayString() == TaskRules.TaskAttributeName);

    /// <summary>Whether <paramref name="method"/> is a task of a contract: a <c>[Task]</c> instance method of a <c>[TaskContract]</c> interface.</summary>
    public static bool IsContractTask(IMethodSymbol method) =>
        !method.IsStatic && IsContract(method.ContainingType) && TaskAttribute(method) is not null;

    /// <summary>The tasks of a contract interface: its <c>[Task]</c> instance methods with their attributes, in declaration order.</summary>
    public static IEnumerable<(IMethodSymbol Method, AttributeData Attribute)> Tasks(INamedTypeSymbol contract)
    {
        foreach (var member in contract.GetMembers())
        {
            if (member is IMethodSymbol { IsStatic: false, MethodKind: MethodKind.Ordinary } method && TaskAttribute(method) is { } attribute)
            {
                yield return (method, attribute);
            }
        }
    }

    /// <summary>
    /// The contracts <paramref name="type"/> is the handler of: the <c>[TaskContract]</c> interfaces it implements, when it is
    /// a class or struct that can be instantiated and no concrete base type implements them already (so a hierarchy has
    /// one handler per contract).
    /// </summary>
    public static List<INamedTypeSymbol> ImplementedContracts(INamedTypeSymbol type)
    {
        var contracts = new List<INamedTypeSymbol>();
        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct) || type.IsAbstract || type.IsStatic)
        {
            return contracts;
        }

        foreach (var contract in type.AllInterfaces)
        {
            if (!IsContract(contract))
            {
                continue;
            }

            var inherited = false;
            for (var baseType = type.BaseType; baseType is not null; baseType = baseType.BaseType)
            {
                if (!baseType.IsAbstract && baseType.AllInterfaces.Contains(contract, SymbolEqualityComparer.Default))
                {
                    inherited = true;
                    break;
                }
            }

            if (!inherited)
            {
                contracts.Add(contract);
            }
        }

        return contracts;
    }

    /// <summary>The contract task that <paramref name="method"/> (of a class or struct) implements, or <see langword="null"/>.</summary>
    public static IMethodSymbol? ImplementedContractTask(IMethodSymbol method)
    {
        var type = method.ContainingType;
        if (type is null || type.TypeKind == TypeKind.Interface || method.IsStatic)
        {
            return null;
        }

        foreach (var contract in type.AllInterfaces)
        {
            if (!IsContract(contract))
            {
                continue;
            }

            foreach (var (task, _) in Tasks(contract))
            {
                if (SymbolEqualityComparer.Default.Equals(type.FindImplementationForInterfaceMember(task), method))
                {
                    return task;
                }
            }
        }

        return null;
    }
}
