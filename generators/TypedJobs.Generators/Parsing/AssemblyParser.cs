using System.Collections.Generic;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Parsing;

/// <summary>Reads the compilation's assembly name and the task registries of the assemblies it references.</summary>
internal static class AssemblyParser
{
    public const string RegistryAttributeName = "TypedJobs.Registration.TaskRegistryAttribute";

    public static AssemblyModel Parse(Compilation compilation, CancellationToken cancellationToken)
    {
        var registries = new SortedSet<string>(System.StringComparer.Ordinal);
        foreach (var assembly in compilation.SourceModule.ReferencedAssemblySymbols)
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var attribute in assembly.GetAttributes())
            {
                if (attribute.AttributeClass?.ToDisplayString() == RegistryAttributeName
                    && attribute.ConstructorArguments.Length == 1
                    && attribute.ConstructorArguments[0].Value is INamedTypeSymbol registry
                    && registry.DeclaredAccessibility == Accessibility.Public)
                {
                    registries.Add(registry.ToDisplayString(SymbolNames.Plain));
                }
            }
        }

        return new AssemblyModel(compilation.AssemblyName ?? "Assembly", new EquatableArray<string>(registries));
    }
}
