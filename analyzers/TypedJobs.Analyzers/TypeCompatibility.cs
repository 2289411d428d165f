using System;
using System.Collections.Generic;
using System.Linq;
using TypedJobs.Generators.Model;

namespace TypedJobs.Analyzers;

/// <summary>
/// Whether a payload value written as one type reads as another, judged from the types' names as contracts write them
/// (<c>System.Collections.Generic.List&lt;Shop.Line&gt;</c>, <c>int?</c>, <c>Shop.Line[]</c>) and the object and enum types
/// of both contracts: the same type; a value type made nullable; a wider number; one list or dictionary form for another
/// with compatible elements; or a renamed object or enum type with the same members.
/// </summary>
internal static class TypeCompatibility
{
    private static readonly HashSet<string> Lists = new(StringComparer.Ordinal)
    {
        "System.Collections.Generic.List", "System.Collections.Generic.IList", "System.Collections.Generic.ICollection",
        "System.Collections.Generic.IEnumerable", "System.Collections.Generic.IReadOnlyList", "System.Collections.Generic.IReadOnlyCollection",
    };

    private static readonly HashSet<string> Dictionaries = new(StringComparer.Ordinal)
    {
        "System.Collections.Generic.Dictionary", "System.Collections.Generic.IDictionary", "System.Collections.Generic.IReadOnlyDictionary",
    };

    private static readonly Dictionary<string, string[]> Widening = new(StringComparer.Ordinal)
    {
        ["sbyte"] = ["short", "int", "long", "float", "double", "decimal"],
        ["byte"] = ["short", "ushort", "int", "uint", "long", "ulong", "float", "double", "decimal"],
        ["short"] = ["int", "long", "float", "double", "decimal"],
        ["ushort"] = ["int", "uint", "long", "ulong", "float", "double", "decimal"],
        ["int"] = ["long", "double", "decimal"],
        ["uint"] = ["long", "ulong", "double", "decimal"],
        ["long"] = ["decimal"],
        ["ulong"] = ["decimal"],
        ["float"] = ["double"],
    };

    public static bool Compatible(string from, string to, IReadOnlyDictionary<string, ContractType> fromTypes, IReadOnlyDictionary<string, ContractType> toTypes) =>
        from == to || Compatible(TypeName.Parse(from), TypeName.Parse(to), fromTypes, toTypes, new HashSet<string>(StringComparer.Ordinal));

    private static bool Compatible(TypeName from, TypeName to, IReadOnlyDictionary<string, ContractType> fromTypes, IReadOnlyDictionary<string, ContractType> toTypes, HashSet<string> visiting)
    {
        if (from.ToString() == to.ToString())
        {
            return true;
        }

        if (to.Nullable && !from.Nullable)
        {
            return Compatible(from, to.WithoutNullable(), fromTypes, toTypes, visiting);
        }

        if (from.Nullable != to.Nullable)
        {
            return false;
        }

        if (from.ListElement() is { } fromElement && to.ListElement() is { } toElement)
        {
            return Compatible(fromElement, toElement, fromTypes, toTypes, visiting);
        }

        if (from.DictionaryValue() is { } fromValue && to.DictionaryValue() is { } toValue)
        {
            return Compatible(fromValue, toValue, fromTypes, toTypes, visiting);
        }

        if (from.Arguments.Count == 0 && to.Arguments.Count == 0 && from.ArrayRank == 0 && to.ArrayRank == 0)
        {
            if (Widening.TryGetValue(from.Name, out var wider) && Array.IndexOf(wider, to.Name) >= 0)
            {
                return true;
            }

            // A renamed (or moved) type with the same members writes the same JSON.
            if (fromTypes.TryGetValue(from.Name, out var fromType) && toTypes.TryGetValue(to.Name, out var toType) && fromType.IsEnum == toType.IsEnum)
            {
                if (!visiting.Add(from.Name + "\n" + to.Name))
                {
                    return true;
                }

                return fromType.IsEnum
                    ? fromType.Values.Count == toType.Values.Count && fromType.Values.All(v => toType.Values.Any(w => w.Name == v.Name && w.Value == v.Value))
                    : fromType.Members.Count == toType.Members.Count && fromType.Members.All(m => toType.Members.FirstOrDefault(n => n.Name == m.Name) is { } n
                        && Compatible(TypeName.Parse(m.Type), TypeName.Parse(n.Type), fromTypes, toTypes, visiting));
            }
        }

        return false;
    }

    /// <summary>A parsed type name: <c>Name&lt;Arguments&gt;[]…?</c>.</summary>
    private sealed class TypeName
    {
        private TypeName(string name, List<TypeName> arguments, int arrayRank, bool nullable)
        {
            Name = name;
            Arguments = arguments;
            ArrayRank = arrayRank;
            Nullable = nullable;
        }

        public string Name { get; }

        public List<TypeName> Arguments { get; }

        /// <summary>How many <c>[]</c> follow the name (arrays of arrays count each).</summary>
        public int ArrayRank { get; }

        /// <summary>Whether a final <c>?</c> makes it a nullable value type.</summary>
        public bool Nullable { get; }

        public static TypeName Parse(string text)
        {
            var position = 0;
            var name = Read(text, ref position);
            return position == text.Length ? name : new TypeName(text, [], 0, false);
        }

        public TypeName WithoutNullable() => new(Name, Arguments, ArrayRank, false);

        /// <summary>The element of a list-like type (an array other than <c>byte[]</c>, <c>List&lt;T&gt;</c>, <c>IEnumerable&lt;T&gt;</c>…).</summary>
        public TypeName? ListElement()
        {
            if (Nullable)
            {
                return null;
            }

            if (ArrayRank > 0)
            {
                var element = new TypeName(Name, Arguments, ArrayRank - 1, false);
                return element.ToString() == "byte" ? null : element;
            }

            return Arguments.Count == 1 && Lists.Contains(Name) ? Arguments[0] : null;
        }

        /// <summary>The value of a dictionary with string keys.</summary>
        public TypeName? DictionaryValue() =>
            !Nullable && ArrayRank == 0 && Arguments.Count == 2 && Dictionaries.Contains(Name) && Arguments[0].ToString() == "string" ? Arguments[1] : null;

        public override string ToString() =>
            Name + (Arguments.Count > 0 ? "<" + string.Join(", ", Arguments) + ">" : string.Empty)
            + string.Concat(Enumerable.Repeat("[]", ArrayRank)) + (Nullable ? "?" : string.Empty);

        private static TypeName Read(string text, ref int position)
        {
            var start = position;
            while (position < text.Length && text[position] is not ('<' or '>' or ',' or '[' or '?'))
            {
                position++;
            }

            var name = text.Substring(start, position - start).Trim();
            var arguments = new List<TypeName>();
            if (position < text.Length && text[position] == '<')
            {
                do
                {
                    position++;
                    while (position < text.Length && text[position] == ' ')
                    {
                        position++;
                    }

                    arguments.Add(Read(text, ref position));
                }
                while (position < text.Length && text[position] == ',');

                if (position < text.Length && text[position] == '>')
                {
                    position++;
                }
            }

            var rank = 0;
            var nullable = false;
            while (position < text.Length)
            {
                if (text[position] == '[' && position + 1 < text.Length && text[position + 1] == ']')
                {
                    rank++;
                    position += 2;
                }
                else if (text[position] == '?')
                {
                    nullable = true;
                    position++;
                }
                else
                {
                    break;
                }
            }

            return new TypeName(name, arguments, rank, nullable);
        }
    }
}
