using System;
using System.Collections.Generic;
using System.Collections.Immutable;
using System.Globalization;
using System.Linq;
using System.Threading;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp.Syntax;
using TypedJobs.Generators.Diagnostics;
using TypedJobs.Generators.Model;
using TypedJobs.Generators.Parsing;

namespace TypedJobs.Generators.Rules;

/// <summary>
/// One broken rule of a <c>[Task]</c> declaration. The analyzers report it; the generator only reads
/// <see cref="SkipsTask"/> to leave the task out of the generated code.
/// </summary>
internal sealed class TaskProblem
{
    public TaskProblem(DiagnosticDescriptor descriptor, Location? location, bool skipsTask, params string[] arguments)
    {
        Descriptor = descriptor;
        Location = location;
        SkipsTask = skipsTask;
        Arguments = arguments;
    }

    public DiagnosticDescriptor Descriptor { get; }

    public Location? Location { get; }

    /// <summary>Whether no code can be generated for the task (its stub and handler are left out).</summary>
    public bool SkipsTask { get; }

    public string[] Arguments { get; }

    public ImmutableDictionary<string, string?> Properties { get; set; } = ImmutableDictionary<string, string?>.Empty;

    public Diagnostic ToDiagnostic(Location fallback) =>
        Diagnostic.Create(Descriptor, Location ?? fallback, Properties, Arguments.Cast<object>().ToArray());
}

/// <summary>
/// What a valid task is. The generator and the analyzers both call these checks (the file is linked into both
/// assemblies), so the generator skips exactly the tasks the analyzers report.
/// </summary>
internal static class TaskRules
{
    public const string TaskAttributeName = "TypedJobs.TaskAttribute";

    /// <summary>The key under which the generator lists an assembly's task names in <c>[assembly: AssemblyMetadata]</c>.</summary>
    public const string TaskNameMetadataKey = "TypedJobs.Task";

    /// <summary>The shortest interval the scheduler accepts (one second).</summary>
    public const long MinIntervalTicks = TimeSpan.TicksPerSecond;

    /// <summary>The method as shown in messages: <c>Namespace.Type.Method</c>.</summary>
    public static string Display(IMethodSymbol method) =>
        method.ContainingType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat) + "." + method.Name;

    /// <summary>The stored task name: the attribute's <c>Name</c>, else <c>Namespace.Type.Method</c>.</summary>
    public static string TaskName(IMethodSymbol method, AttributeData attribute) => ExplicitName(attribute) ?? DefaultTaskName(method);

    public static string DefaultTaskName(IMethodSymbol method) =>
        method.ContainingType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat
            .WithGlobalNamespaceStyle(SymbolDisplayGlobalNamespaceStyle.Omitted)
            .WithGenericsOptions(SymbolDisplayGenericsOptions.None)) + "." + method.Name;

    public static string? ExplicitName(AttributeData attribute)
    {
        foreach (var pair in attribute.NamedArguments)
        {
            if (pair.Key == "Name" && pair.Value.Value is string { Length: > 0 } name)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>
    /// The declaration rules: return type (TJ1001), parameters (TJ1002), generics (TJ1003), accessibility (TJ1004),
    /// instance creation (TJ1005) and parameters of recurring tasks (TJ1008).
    /// </summary>
    public static void CheckDeclaration(IMethodSymbol method, AttributeData attribute, List<TaskProblem> problems, CancellationToken cancellationToken)
    {
        var location = method.Locations.FirstOrDefault();
        var display = Display(method);
        var type = method.ContainingType;

        if (method.IsGenericMethod || IsInGenericType(type))
        {
            problems.Add(new TaskProblem(DiagnosticDescriptors.GenericTask, location, true, display));
        }

        if (FirstInaccessible(method) is { } hidden)
        {
            var what = SymbolEqualityComparer.Default.Equals(hidden, method) ? "the method" : "containing type '" + hidden.Name + "'";
            problems.Add(new TaskProblem(DiagnosticDescriptors.InaccessibleTask, location, true,
                display, what, AccessibilityText(hidden)));
        }

        if (method.IsAsync && method.ReturnsVoid)
        {
            problems.Add(new TaskProblem(DiagnosticDescriptors.AsyncVoidTask, location, true, display));
        }
        else if (ClassifyReturn(method).Kind is null)
        {
            problems.Add(new TaskProblem(DiagnosticDescriptors.UnsupportedReturnType, location, true,
                display, method.ReturnType.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat)));
        }

        foreach (var parameter in method.Parameters)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (ParameterProblem(parameter) is { } problem)
            {
                problems.Add(new TaskProblem(DiagnosticDescriptors.UnsupportedParameter, parameter.Locations.FirstOrDefault() ?? location, true,
                    parameter.Name, display, problem));
            }
        }

        // A contract's task is created by its implementation, which the contract rules check.
        if (!method.IsStatic && !ContractRules.IsContract(type) && ConstructorProblem(type, out _) is { } why)
        {
            problems.Add(new TaskProblem(DiagnosticDescriptors.NoConstructor, location, true,
                display, type.ToDisplayString(SymbolDisplayFormat.CSharpErrorMessageFormat), why));
        }

        if (IsRecurring(attribute))
        {
            foreach (var parameter in method.Parameters)
            {
                if (!parameter.HasExplicitDefaultValue && !parameter.IsParams && ParameterProblem(parameter) is null
                    && IsPayload(parameter))
                {
                    problems.Add(new TaskProblem(DiagnosticDescriptors.RecurringTaskParameter, parameter.Locations.FirstOrDefault() ?? location, false,
                        parameter.Name, display));
                }
            }
        }
    }

    /// <summary>Whether the attribute declares a schedule (<c>Cron</c> or <c>Interval</c>).</summary>
    public static bool IsRecurring(AttributeData attribute) =>
        attribute.NamedArguments.Any(static p => p.Key is "Cron" or "Interval" && p.Value.Value is string { Length: > 0 });

    public static bool IsInGenericType(INamedTypeSymbol? type)
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

    /// <summary>The method or the innermost containing type that generated code in the same assembly cannot name.</summary>
    public static ISymbol? FirstInaccessible(IMethodSymbol method)
    {
        for (ISymbol? current = method; current is not null and not INamespaceSymbol; current = current.ContainingSymbol)
        {
            if (current.DeclaredAccessibility is not (Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
                || current is INamedTypeSymbol { IsFileLocal: true })
            {
                return current;
            }
        }

        return null;
    }

    private static string AccessibilityText(ISymbol symbol) => symbol is INamedTypeSymbol { IsFileLocal: true } ? "file-local" : symbol.DeclaredAccessibility switch
    {
        Accessibility.Private => "private",
        Accessibility.Protected => "protected",
        Accessibility.ProtectedAndInternal => "private protected",
        _ => "not accessible",
    };

    public static (ReturnKind? Kind, ITypeSymbol? Result) ClassifyReturn(IMethodSymbol method)
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

    /// <summary>Why a parameter cannot be part of a task (by-reference, pointer, ref struct), or <see langword="null"/>.</summary>
    public static string? ParameterProblem(IParameterSymbol parameter) => parameter.RefKind switch
    {
        RefKind.Ref => "passed by ref",
        RefKind.Out => "an out parameter",
        RefKind.In => "passed by in",
        RefKind.RefReadOnlyParameter => "passed by ref readonly",
        _ => parameter.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer || parameter.Type.IsRefLikeType
            ? "a pointer or ref struct"
            : null,
    };

    public static bool HasFromServices(IParameterSymbol parameter) =>
        parameter.GetAttributes().Any(static a => a.AttributeClass?.Name == "FromServicesAttribute");

    /// <summary>The <c>[FromKeyedServices]</c> attribute of <paramref name="parameter"/> (any attribute of that name), or <see langword="null"/>.</summary>
    public static AttributeData? KeyedServices(IParameterSymbol parameter) =>
        parameter.GetAttributes().FirstOrDefault(static a => a.AttributeClass?.Name == "FromKeyedServicesAttribute");

    /// <summary>Whether a task method's parameter is part of the payload.</summary>
    public static bool IsPayload(IParameterSymbol parameter) => ClassifyArgument(parameter, isConstructor: false) == ArgumentSource.Payload;

    /// <summary>
    /// Where the generated handler gets a task method's (<paramref name="isConstructor"/> <see langword="false"/>) or an
    /// instance task constructor's parameter from. Method parameters are payload unless they are a
    /// <c>CancellationToken</c>, the <c>JobContext</c>, or marked <c>[FromServices]</c> or <c>[FromKeyedServices]</c>;
    /// constructor parameters are always services.
    /// </summary>
    public static ArgumentSource ClassifyArgument(IParameterSymbol parameter, bool isConstructor)
    {
        var type = parameter.Type;
        var keyed = KeyedServices(parameter) is not null;
        var service = isConstructor || keyed || HasFromServices(parameter);
        switch (type.MetadataName())
        {
            case "System.Threading.CancellationToken":
                return ArgumentSource.CancellationToken;
            case "TypedJobs.JobContext":
                return ArgumentSource.Context;
            case "System.IServiceProvider" when service && !keyed:
                return ArgumentSource.ServiceProvider;
        }

        if (!service)
        {
            return ArgumentSource.Payload;
        }

        var optional = type.NullableAnnotation == NullableAnnotation.Annotated
            || type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T
            || parameter.HasExplicitDefaultValue;
        return keyed
            ? optional ? ArgumentSource.OptionalKeyedService : ArgumentSource.KeyedService
            : optional ? ArgumentSource.OptionalService : ArgumentSource.Service;
    }

    /// <summary>The service key of a <c>[FromKeyedServices(key)]</c> parameter as a C# expression (<c>null</c> when the attribute has none).</summary>
    public static string? ServiceKey(IParameterSymbol parameter)
    {
        if (KeyedServices(parameter) is not { } attribute)
        {
            return null;
        }

        if (attribute.ConstructorArguments.Length == 0 || attribute.ConstructorArguments[0] is not { IsNull: false } key)
        {
            return "null";
        }

        return key.Kind switch
        {
            TypedConstantKind.Type when key.Value is ITypeSymbol keyType => "typeof(" + keyType.ToDisplayString(SymbolDisplayFormat.FullyQualifiedFormat) + ")",
            TypedConstantKind.Enum or TypedConstantKind.Primitive when key.Type is not null => ConstantFormatter.Format(key.Type, key.Value),
            _ => "null",
        };
    }

    /// <summary>
    /// Why generated code cannot create <paramref name="type"/> for an instance task, or <see langword="null"/> with the
    /// constructor it uses: the public or internal one with the most parameters, which must be unique.
    /// </summary>
    public static string? ConstructorProblem(INamedTypeSymbol type, out IMethodSymbol? constructor)
    {
        var candidates = type.InstanceConstructors
            .Where(static c => c.DeclaredAccessibility is Accessibility.Public or Accessibility.Internal or Accessibility.ProtectedOrInternal)
            .OrderByDescending(static c => c.Parameters.Length)
            .ToList();
        constructor = candidates.FirstOrDefault();
        if (type.IsAbstract || type.IsStatic)
        {
            return type.IsStatic ? "is static" : "is abstract";
        }

        if (type.TypeKind is not (TypeKind.Class or TypeKind.Struct))
        {
            return "is not a class or struct";
        }

        if (constructor is null)
        {
            return "has no public or internal constructor";
        }

        if (candidates.Count > 1 && candidates[1].Parameters.Length == constructor.Parameters.Length && !constructor.IsImplicitlyDeclared && !candidates[1].IsImplicitlyDeclared)
        {
            return "has more than one constructor with " + constructor.Parameters.Length.ToString(CultureInfo.InvariantCulture) + " parameters, so the one to call is ambiguous";
        }

        if (constructor.Parameters.Any(static p => p.RefKind != RefKind.None || p.Type.TypeKind is TypeKind.Pointer or TypeKind.FunctionPointer || p.Type.IsRefLikeType))
        {
            return "has a constructor with ref, out, in, pointer or ref struct parameters";
        }

        if (HasRequiredMembers(type) && !constructor.GetAttributes().Any(static a => a.AttributeClass?.Name == "SetsRequiredMembersAttribute"))
        {
            return "has required members, which generated code cannot set (remove 'required' or mark the constructor [SetsRequiredMembers])";
        }

        return null;
    }

    private static bool HasRequiredMembers(INamedTypeSymbol type)
    {
        for (var current = type; current is not null; current = current.BaseType)
        {
            if (current.GetMembers().Any(static m => m is IPropertySymbol { IsRequired: true } or IFieldSymbol { IsRequired: true }))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Parses a time span setting: the invariant <c>TimeSpan</c> format with at least hours and minutes
    /// (<c>[-][d.]hh:mm[:ss[.fffffff]]</c>). A bare number such as <c>"5"</c>, which <c>TimeSpan</c> reads as days, is
    /// refused as ambiguous.
    /// </summary>
    public static bool TryParseTimeSpan(string text, out TimeSpan span)
    {
        span = default;
        return text.IndexOf(':') >= 0 && TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out span);
    }

    /// <summary>
    /// Reads the attribute's settings into the model the emitter uses; reports TJ3001 (time spans), TJ3002 (Unique),
    /// TJ3003 (numbers), TJ3006 (queue) and TJ3007 (schedule combinations) to <paramref name="problems"/> when given.
    /// Invalid values are left out of the model.
    /// </summary>
    public static SettingsModel ReadSettings(IMethodSymbol method, AttributeData attribute, List<TaskProblem>? problems, CancellationToken cancellationToken)
    {
        string? queue = null, priority = null, cron = null, timeZone = null, intervalText = null;
        int? maxRetries = null;
        long? retryDelay = null, maxRetryDelay = null, timeout = null, uniqueWindow = null, interval = null;
        var uniqueByPayload = false;
        var maxConcurrency = 0;
        var display = problems is null ? string.Empty : Display(method);

        void Report(DiagnosticDescriptor descriptor, string setting, params string[] arguments) =>
            problems?.Add(new TaskProblem(descriptor, ArgumentLocation(attribute, setting, cancellationToken) ?? method.Locations.FirstOrDefault(), false, arguments));

        long? Span(string setting, TypedConstant value, bool allowZero)
        {
            if (value.Value is not string text || text.Length == 0)
            {
                return null;
            }

            if (TryParseTimeSpan(text, out var span) && (span > TimeSpan.Zero || (allowZero && span == TimeSpan.Zero)))
            {
                return span.Ticks;
            }

            Report(DiagnosticDescriptors.InvalidTimeSpan, setting, setting, text, display, allowZero ? "non-negative" : "positive");
            return null;
        }

        foreach (var pair in attribute.NamedArguments)
        {
            var value = pair.Value;
            switch (pair.Key)
            {
                case "Queue":
                    queue = value.Value as string;
                    if (queue is not null && !IsValidQueueName(queue))
                    {
                        Report(DiagnosticDescriptors.InvalidQueueName, "Queue", queue, display);
                        queue = null;
                    }

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
                        Report(DiagnosticDescriptors.InvalidNumber, "MaxRetries", "MaxRetries", retries.ToString(CultureInfo.InvariantCulture), display, "use 0 or more, or -1 for the host default");
                    }

                    maxRetries = retries >= 0 ? retries : null;
                    break;
                case "MaxConcurrency":
                    maxConcurrency = value.Value is int c ? c : 0;
                    if (maxConcurrency < 0)
                    {
                        Report(DiagnosticDescriptors.InvalidNumber, "MaxConcurrency", "MaxConcurrency", maxConcurrency.ToString(CultureInfo.InvariantCulture), display, "use 0 (no limit) or more");
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
                    intervalText = value.Value as string is { Length: > 0 } i ? i : null;
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
                        else if (TryParseTimeSpan(unique, out var window) && window > TimeSpan.Zero)
                        {
                            uniqueByPayload = true;
                            uniqueWindow = window.Ticks;
                        }
                        else
                        {
                            Report(DiagnosticDescriptors.InvalidUnique, "Unique", unique, display);
                        }
                    }

                    break;
            }
        }

        if (interval is { } ticks && ticks < MinIntervalTicks)
        {
            Report(DiagnosticDescriptors.InvalidSchedule, "Interval", display, "Interval \"" + intervalText + "\" is shorter than the minimum of one second");
            interval = null;
        }

        if (cron is not null && intervalText is not null)
        {
            Report(DiagnosticDescriptors.InvalidSchedule, "Interval", display, "it sets both Cron and Interval; keep one of them");
        }
        else if (timeZone is not null && cron is null)
        {
            Report(DiagnosticDescriptors.InvalidSchedule, "TimeZone", display, intervalText is null
                ? "TimeZone is set without Cron; add a Cron expression or remove TimeZone"
                : "TimeZone applies to Cron only, not to Interval; remove TimeZone");
        }

        return new SettingsModel(queue, priority, maxRetries, retryDelay, maxRetryDelay, timeout, uniqueByPayload, uniqueWindow, maxConcurrency, cron, timeZone, interval);
    }

    /// <summary>The runtime's queue name rule: 1-100 characters of ASCII letters, digits, '-', '_', '.' or ':'.</summary>
    public static bool IsValidQueueName(string name)
    {
        if (name.Length == 0 || name.Length > 100)
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c is '-' or '_' or '.' or ':'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The location of the value of the named attribute argument <paramref name="name"/>, when written in source.</summary>
    public static Location? ArgumentLocation(AttributeData attribute, string name, CancellationToken cancellationToken)
    {
        if (attribute.ApplicationSyntaxReference?.GetSyntax(cancellationToken) is AttributeSyntax { ArgumentList: { } arguments } syntax)
        {
            foreach (var argument in arguments.Arguments)
            {
                if (argument.NameEquals?.Name.Identifier.ValueText == name)
                {
                    return argument.Expression.GetLocation();
                }
            }

            return syntax.GetLocation();
        }

        return null;
    }
}
