using System;
using System.Collections.Generic;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Model;

namespace TypedJobs.Generators.Parsing;

/// <summary>Turns one <c>[Task]</c> method into a <see cref="TaskModel"/> and its diagnostics.</summary>
internal static class TaskParser
{
    public static TaskParseResult Parse(GeneratorAttributeSyntaxContext context, CancellationToken cancellationToken)
    {
        var diagnostics = new List<DiagnosticInfo>();
        if (context.TargetSymbol is not IMethodSymbol method || context.Attributes.Length == 0)
        {
            return new TaskParseResult(null, EquatableArray<DiagnosticInfo>.Empty);
        }

        var location = method.Locations.FirstOrDefault();
        var type = method.ContainingType;
        var display = type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "." + method.Name;
        var valid = true;

        if (method.IsGenericMethod || IsInGenericType(type))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.GenericTask, location, display));
            valid = false;
        }

        if (!SymbolNames.IsAccessibleFromAssembly(method))
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InaccessibleTask, location, display));
            valid = false;
        }

        // Return type.
        var (returnKind, resultType) = ClassifyReturn(method);
        if (returnKind is null)
        {
            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedReturnType, location, display, method.ReturnType.ToDisplayString()));
            valid = false;
        }

        var shapes = new TypeShapeBuilder(context.SemanticModel.Compilation.Assembly);
        var docs = DocumentationReader.Read(method, context.TargetNode);

        // Method parameters.
        var parameters = new List<ParameterModel>();
        foreach (var parameter in method.Parameters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var problem = parameter.RefKind switch
            {
                RefKind.Ref => "passed by ref",
                RefKind.Out => "an out parameter",
                RefKind.In => "passed by in",
                RefKind.RefReadOnlyParameter => "passed by ref readonly",
                _ => parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer || parameter.Type.IsRefLikeType
                    ? "a pointer or ref struct"
                    : null,
            };
            if (problem is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.UnsupportedParameter, parameter.Locations.FirstOrDefault() ?? location, parameter.Name, display, problem));
                valid = false;
                continue;
            }

            var source = ClassifyArgument(parameter, fromServicesAttribute: HasFromServices(parameter));
            var parameterType = parameter.Type;
            if (parameter.HasExplicitDefaultValue && parameter.ExplicitDefaultValue is null && parameterType.IsReferenceType)
            {
                // A null default needs a nullable type where the generated code is compiled with nullable enabled.
                parameterType = parameterType.WithNullableAnnotation(NullableAnnotation.Annotated);
            }

            var key = source == ArgumentSource.Payload ? shapes.Add(parameterType) : string.Empty;
            parameters.Add(new ParameterModel(
                parameter.Name,
                parameterType.ToAnnotated(),
                source,
                key,
                parameterType.IsValueType,
                parameter.HasExplicitDefaultValue ? ConstantFormatter.Format(parameterType, parameter.ExplicitDefaultValue) : null,
                docs.Parameter(parameter.Name)));
        }

        string? resultKey = null;
        if (resultType is not null)
        {
            resultKey = shapes.Add(resultType);
        }

        // Instance tasks: constructor and disposal.
        var constructorParameters = new List<ParameterModel>();
        var dispose = DisposeKind.None;
        if (!method.IsStatic)
        {
            var constructor = type.InstanceConstructors
                .Where(static c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
                .OrderByDescending(static c => c.Parameters.Length)
                .FirstOrDefault();
            string? why = type.IsAbstract || type.IsStatic ? "is abstract or static"
                : type.TypeKind is not (TypeKind.Class or TypeKind.Struct) ? "is not a class or struct"
                : constructor is null ? "has no public or internal constructor"
                : constructor.Parameters.Any(static p => p.RefKind != RefKind.None) ? "has a constructor with ref, out or in parameters"
                : null;
            if (why is not null)
            {
                diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.NoConstructor, location, display, type.ToDisplayString(), why));
                valid = false;
            }
            else
            {
                foreach (var parameter in constructor!.Parameters)
                {
                    var source = ClassifyArgument(parameter, fromServicesAttribute: true);
                    constructorParameters.Add(new ParameterModel(parameter.Name, parameter.Type.ToAnnotated(), source, string.Empty, parameter.Type.IsValueType, null, null));
                }

                if (type.AllInterfaces.Any(static i => i.MetadataName() == "System.IAsyncDisposable"))
                {
                    dispose = DisposeKind.AsyncDisposable;
                }
                else if (type.AllInterfaces.Any(static i => i.SpecialType == SpecialType.System_IDisposable))
                {
                    dispose = DisposeKind.Disposable;
                }
            }
        }

        var attribute = context.Attributes[0];
        var settings = ParseSettings(attribute, location, diagnostics, out var explicitName);
        var typeName = type.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat.WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted).WithGenericsOptions(SymbolDisplayGenericsOptions.None));
        var taskName = explicitName ?? typeName + "." + method.Name;

        if (!valid || returnKind is null)
        {
            return new TaskParseResult(null, diagnostics.ToEquatableArray());
        }

        var ns = type.ContainingNamespace is { IsGlobalNamespace: false } n ? n.ToDisplayString() : string.Empty;
        var path = new List<string>();
        for (var current = type; current is not null; current = current.ContainingType)
        {
            path.Insert(0, current.Name);
        }

        var model = new TaskModel(
            ns,
            type.ToDisplayString(SymbolNames.Plain),
            string.Join(".", path),
            method.Name,
            taskName,
            method.IsStatic,
            SymbolNames.IsPublicAllTheWay(method),
            returnKind.Value,
            resultType?.ToAnnotated(),
            resultKey,
            parameters.ToEquatableArray(),
            constructorParameters.ToEquatableArray(),
            dispose,
            settings,
            docs.Summary,
            shapes.Shapes,
            LocationInfo.From(location));
        return new TaskParseResult(model, diagnostics.ToEquatableArray());
    }

    private static bool IsInGenericType(INamedTypeSymbol? type)
    {
        for (var current = type; current is not null; current = current.ContainingType)
        {
            if (current.IsGenericType)
            {
                return true;
            }
        }

        return false;
    }

    private static (ReturnKind? Kind, ITypeSymbol? Result) ClassifyReturn(IMethodSymbol method)
    {
        if (method.ReturnsByRef || method.ReturnsByRefReadonly)
        {
            return (null, null);
        }

        var returnType = method.ReturnType;
        if (returnType.SpecialType == SpecialType.System_Void)
        {
            return (ReturnKind.Void, null);
        }

        switch (returnType.MetadataName())
        {
            case "System.Threading.Tasks.Task":
                return (ReturnKind.Task, null);
            case "System.Threading.Tasks.ValueTask":
                return (ReturnKind.ValueTask, null);
            case "System.Threading.Tasks.Task`1":
                return (ReturnKind.TaskOfT, ((INamedTypeSymbol)returnType).TypeArguments[0]);
            case "System.Threading.Tasks.ValueTask`1":
                return (ReturnKind.ValueTaskOfT, ((INamedTypeSymbol)returnType).TypeArguments[0]);
        }

        if (returnType.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer or TypeKind.TypeParameter || returnType.IsRefLikeType)
        {
            return (null, null);
        }

        return (ReturnKind.Value, returnType);
    }

    private static bool HasFromServices(IParameterSymbol parameter) =>
        parameter.GetAttributes().Any(static a => a.AttributeClass?.Name == "FromServicesAttribute");

    private static ArgumentSource ClassifyArgument(IParameterSymbol parameter, bool fromServicesAttribute)
    {
        var type = parameter.Type;
        switch (type.MetadataName())
        {
            case "System.Threading.CancellationToken":
                return ArgumentSource.CancellationToken;
            case "TypedJobs.JobContext":
                return ArgumentSource.Context;
            case "System.IServiceProvider" when fromServicesAttribute:
                return ArgumentSource.ServiceProvider;
        }

        if (!fromServicesAttribute)
        {
            return ArgumentSource.Payload;
        }

        var optional = type.NullableAnnotation == NullableAnnotation.Annotated
            || type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T
            || parameter.HasExplicitDefaultValue;
        return optional ? ArgumentSource.OptionalService : ArgumentSource.Service;
    }

    private static SettingsModel ParseSettings(AttributeData attribute, Location? location, List<DiagnosticInfo> diagnostics, out string? name)
    {
        name = null;
        string? queue = null, priority = null, cron = null, timeZone = null;
        int? maxRetries = null;
        long? retryDelay = null, maxRetryDelay = null, timeout = null, uniqueWindow = null, interval = null;
        var uniqueByPayload = false;
        var maxConcurrency = 0;
        var attributeLocation = attribute.ApplicationSyntaxReference?.GetSyntax().GetLocation() ?? location;

        long? Span(string setting, TypedConstant value, bool allowZero)
        {
            if (value.Value is not string text || text.Length == 0)
            {
                return null;
            }

            if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && (span > TimeSpan.Zero || (allowZero && span == TimeSpan.Zero)))
            {
                return span.Ticks;
            }

            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidTimeSpan, attributeLocation, setting, text, allowZero ? "non-negative" : "positive"));
            return null;
        }

        foreach (var pair in attribute.NamedArguments)
        {
            var value = pair.Value;
            switch (pair.Key)
            {
                case "Name":
                    name = value.Value as string is { Length: > 0 } n ? n : null;
                    break;
                case "Queue":
                    queue = value.Value as string;
                    break;
                case "Priority":
                    priority = value.Type is INamedTypeSymbol enumType
                        ? enumType.GetMembers().OfType<IFieldSymbol>().FirstOrDefault(f => f.HasConstantValue && Equals(f.ConstantValue, value.Value))?.Name is { } member
                            ? "global::TypedJobs.Priority." + member
                            : null
                        : null;
                    priority ??= "(global::TypedJobs.Priority)(" + Convert.ToString(value.Value, CultureInfo.InvariantCulture) + ")";
                    break;
                case "MaxRetries":
                    var retries = value.Value is int r ? r : -1;
                    if (retries < -1)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidNumber, attributeLocation, "MaxRetries", retries.ToString(CultureInfo.InvariantCulture), "use 0 or more, or -1 for the host default"));
                    }

                    maxRetries = retries >= 0 ? retries : null;
                    break;
                case "MaxConcurrency":
                    maxConcurrency = value.Value is int c ? c : 0;
                    if (maxConcurrency < 0)
                    {
                        diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidNumber, attributeLocation, "MaxConcurrency", maxConcurrency.ToString(CultureInfo.InvariantCulture), "use 0 (no limit) or more"));
                        maxConcurrency = 0;
                    }

                    break;
                case "RetryDelay":
                    retryDelay = Span("RetryDelay", value, allowZero: true);
                    break;
                case "MaxRetryDelay":
                    maxRetryDelay = Span("MaxRetryDelay", value, allowZero: true);
                    break;
                case "Timeout":
                    timeout = Span("Timeout", value, allowZero: false);
                    break;
                case "Interval":
                    interval = Span("Interval", value, allowZero: false);
                    break;
                case "Cron":
                    cron = value.Value as string;
                    break;
                case "TimeZone":
                    timeZone = value.Value as string;
                    break;
                case "Unique":
                    if (value.Value is string unique && unique.Length > 0)
                    {
                        if (string.Equals(unique, "true", StringComparison.OrdinalIgnoreCase))
                        {
                            uniqueByPayload = true;
                        }
                        else if (string.Equals(unique, "false", StringComparison.OrdinalIgnoreCase))
                        {
                            uniqueByPayload = false;
                        }
                        else if (TimeSpan.TryParse(unique, CultureInfo.InvariantCulture, out var window) && window > TimeSpan.Zero)
                        {
                            uniqueByPayload = true;
                            uniqueWindow = window.Ticks;
                        }
                        else
                        {
                            diagnostics.Add(DiagnosticInfo.Create(DiagnosticDescriptors.InvalidUnique, attributeLocation, unique));
                        }
                    }

                    break;
            }
        }

        return new SettingsModel(queue, priority, maxRetries, retryDelay, maxRetryDelay, timeout, uniqueByPayload, uniqueWindow, maxConcurrency, cron, timeZone, interval);
    }
}
