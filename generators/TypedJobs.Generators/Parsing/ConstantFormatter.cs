using System;
using System.Globalization;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace TypedJobs.Generators.Parsing;

/// <summary>Writes a parameter's default value as a C# constant expression that keeps its type.</summary>
internal static class ConstantFormatter
{
    public static string Format(ITypeSymbol type, object? value)
    {
        var target = type is INamedTypeSymbol { OriginalDefinition.SpecialType: SpecialType.System_Nullable_T } nullable
            ? nullable.TypeArguments[0]
            : type;

        if (value is null)
        {
            return type.IsReferenceType || type.OriginalDefinition.SpecialType == SpecialType.System_Nullable_T
                ? "null"
                : "default";
        }

        if (target.TypeKind == TypeKind.Enum)
        {
            return "(" + target.ToDisplayString(SymbolNames.Plain) + ")(" + SymbolDisplay.FormatPrimitive(value, quoteStrings: true, useHexadecimalNumbers: false) + ")";
        }

        switch (value)
        {
            case bool b:
                return b ? "true" : "false";
            case string s:
                return SymbolDisplay.FormatLiteral(s, quote: true);
            case char c:
                return SymbolDisplay.FormatLiteral(c, quote: true);
            case float f:
                if (float.IsNaN(f))
                {
                    return "global::System.Single.NaN";
                }

                if (float.IsPositiveInfinity(f))
                {
                    return "global::System.Single.PositiveInfinity";
                }

                if (float.IsNegativeInfinity(f))
                {
                    return "global::System.Single.NegativeInfinity";
                }

                return f.ToString("R", CultureInfo.InvariantCulture) + "F";
            case double d:
                if (double.IsNaN(d))
                {
                    return "global::System.Double.NaN";
                }

                if (double.IsPositiveInfinity(d))
                {
                    return "global::System.Double.PositiveInfinity";
                }

                if (double.IsNegativeInfinity(d))
                {
                    return "global::System.Double.NegativeInfinity";
                }

                return d.ToString("R", CultureInfo.InvariantCulture) + "D";
            case decimal m:
                return m.ToString(CultureInfo.InvariantCulture) + "M";
            case long l:
                return l.ToString(CultureInfo.InvariantCulture) + "L";
            case ulong ul:
                return ul.ToString(CultureInfo.InvariantCulture) + "UL";
            case uint ui:
                return ui.ToString(CultureInfo.InvariantCulture) + "U";
            case IFormattable formattable:
                var text = formattable.ToString(null, CultureInfo.InvariantCulture);
                return target.SpecialType is SpecialType.System_Byte or SpecialType.System_SByte or SpecialType.System_Int16 or SpecialType.System_UInt16
                    ? "(" + target.ToDisplayString(SymbolNames.Plain) + ")(" + text + ")"
                    : text;
            default:
                return "default";
        }
    }
}
