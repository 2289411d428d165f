// Cron and time-zone validation shared by the runtime and the compile-time analyzers. The analyzers compile this
// file as a linked source into a netstandard2.0 assembly (with Cronos.dll next to them), so it must use only
// netstandard2.0 APIs and Cronos, and must not refer to any TypedJobs type but IanaTimeZones.
#nullable enable

using System;
using System.Collections.Generic;
using System.Globalization;
using Cronos;

namespace TypedJobs.Scheduling;

/// <summary>
/// A cron expression that Cronos accepted. Five fields are <c>minute hour day-of-month month day-of-week</c>; six
/// fields put <c>second</c> first. When both the day-of-month and the day-of-week field are restricted (neither is
/// <c>*</c> nor <c>?</c>), a day matches when either matches, as in the classic cron daemons: the expression is then
/// evaluated as two Cronos expressions, one per day field, and the earlier occurrence wins.
/// </summary>
internal sealed class CronFields
{
    internal CronFields(string expression, bool hasSeconds, CronExpression canonical, CronExpression[] expressions,
        bool dayOfMonthRestricted, bool dayOfWeekRestricted)
    {
        Expression = expression;
        HasSeconds = hasSeconds;
        Canonical = canonical;
        Expressions = expressions;
        DayOfMonthRestricted = dayOfMonthRestricted;
        DayOfWeekRestricted = dayOfWeekRestricted;
    }

    /// <summary>The expression as written (trimmed).</summary>
    public string Expression { get; }

    /// <summary>Whether the expression has a seconds field (six fields, or a macro such as <c>@every_second</c>).</summary>
    public bool HasSeconds { get; }

    /// <summary>The whole expression as Cronos parsed it.</summary>
    public CronExpression Canonical { get; }

    /// <summary>The expressions whose earliest occurrence is the next one (two when both day fields are restricted).</summary>
    public CronExpression[] Expressions { get; }

    /// <summary>Whether the day-of-month field is anything but <c>*</c> or <c>?</c>.</summary>
    public bool DayOfMonthRestricted { get; }

    /// <summary>Whether the day-of-week field is anything but <c>*</c> or <c>?</c>.</summary>
    public bool DayOfWeekRestricted { get; }

    /// <summary>The expression in Cronos' canonical form (numbers and lists, <c>*</c> for a full field).</summary>
    public string ToCanonicalString() => Canonical.ToString();

    /// <summary>The first occurrence strictly after <paramref name="after"/> in <paramref name="zone"/>, in UTC.</summary>
    public DateTimeOffset? Next(DateTimeOffset after, TimeZoneInfo zone)
    {
        DateTimeOffset? best = null;
        foreach (var expression in Expressions)
        {
            if (expression.GetNextOccurrence(after, zone) is { } next && (best is null || next < best))
            {
                best = next;
            }
        }

        return best?.ToUniversalTime();
    }

    /// <inheritdoc />
    public override string ToString() => Expression;
}

/// <summary>
/// Parses cron expressions with Cronos and validates time-zone ids. Cronos decides what is valid; when it rejects an
/// expression, the message is rewritten to name the field and the bad value, e.g.
/// <c>cron field 'hour' value 25 is out of range 0-23</c> or <c>unknown time zone 'Europe/Berln'; did you mean
/// 'Europe/Berlin'?</c>.
/// </summary>
/// <remarks>
/// Syntax (Cronos): per field a comma list of <c>*</c>, values, ranges <c>a-b</c> (a range may wrap, <c>22-2</c>),
/// each optionally with <c>/step</c>; <c>?</c> for "any"; month names <c>JAN</c>-<c>DEC</c>, day names
/// <c>SUN</c>-<c>SAT</c>, 7 for Sunday; <c>L</c>, <c>W</c> and <c>LW</c> in the day-of-month field; <c>L</c> and
/// <c>#</c> in the day-of-week field. Macros: <c>@every_second @every_minute @hourly @daily @midnight @weekly
/// @monthly @yearly @annually</c>. Expressions that can never fire (such as <c>0 0 30 2 *</c>) are rejected.
/// </remarks>
internal static class CronParser
{
    private static readonly char[] Whitespace = { ' ', '\t', '\r', '\n' };
    private static readonly DateTimeOffset Epoch = new(2000, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly Lazy<HashSet<string>> KnownZones = new(() => new HashSet<string>(IanaTimeZones.Ids, StringComparer.Ordinal));

    /// <summary>The macros Cronos accepts.</summary>
    public static IReadOnlyList<string> Macros { get; } = new[]
    {
        "@every_second", "@every_minute", "@hourly", "@daily", "@midnight", "@weekly", "@monthly", "@yearly", "@annually",
    };

    /// <summary>Parses <paramref name="expression"/>; returns <see langword="null"/> and a message when it is invalid.</summary>
    public static CronFields? TryParse(string? expression, out string? error)
    {
        error = null;
        if (expression is null || expression.Trim().Length == 0)
        {
            error = "cron expression is empty: use five fields (minute hour day-of-month month day-of-week), six with seconds first, or a macro such as @daily";
            return null;
        }

        var trimmed = expression.Trim();
        if (trimmed[0] == '@')
        {
            if (!CronExpression.TryParse(trimmed, CronFormat.Standard, out var macro))
            {
                error = "unknown cron macro '" + trimmed + "': use one of " + string.Join(", ", Macros);
                return null;
            }

            var macroFields = macro.ToString().Split(Whitespace, StringSplitOptions.RemoveEmptyEntries);
            return Complete(trimmed, macroFields.Length == 6, macro, new[] { macro }, out error);
        }

        var parts = trimmed.Split(Whitespace, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5 && parts.Length != 6)
        {
            error = "cron expression '" + trimmed + "' has " + parts.Length.ToString(CultureInfo.InvariantCulture)
                    + (parts.Length == 1 ? " field" : " fields")
                    + ": use five (minute hour day-of-month month day-of-week) or six (second first)";
            return null;
        }

        var hasSeconds = parts.Length == 6;
        var format = hasSeconds ? CronFormat.IncludeSeconds : CronFormat.Standard;
        var normalized = string.Join(" ", parts);
        if (!TryCronos(normalized, format, out var whole, out var cronosError))
        {
            error = Explain(parts, cronosError);
            return null;
        }

        var dayOfMonth = parts.Length - 3;
        var dayOfWeek = parts.Length - 1;
        var dayOfMonthRestricted = !IsAny(parts[dayOfMonth]);
        var dayOfWeekRestricted = !IsAny(parts[dayOfWeek]);
        var expressions = new[] { whole! };
        if (dayOfMonthRestricted && dayOfWeekRestricted)
        {
            // Classic cron: either day field may match. Cronos requires both, so evaluate each day field on its own.
            expressions = new[]
            {
                CronExpression.Parse(With(parts, dayOfWeek, "*"), format),
                CronExpression.Parse(With(parts, dayOfMonth, "*"), format),
            };
        }

        return Complete(trimmed, hasSeconds, whole!, expressions, out error, dayOfMonthRestricted, dayOfWeekRestricted);
    }

    /// <summary>Parses <paramref name="expression"/> or throws a <see cref="FormatException"/> with the validation message.</summary>
    public static CronFields Parse(string? expression) =>
        TryParse(expression, out var error) ?? throw new FormatException(error);

    /// <summary>
    /// Whether <paramref name="id"/> is an id of the IANA tz database (the list compiled into this assembly, not the
    /// machine's tz data); <see langword="null"/> means UTC. Otherwise returns <see langword="false"/> and a message
    /// such as <c>unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?</c>.
    /// </summary>
    public static bool IsKnownTimeZone(string? id, out string? error)
    {
        error = null;
        if (id is null)
        {
            return true;
        }

        if (id.Trim().Length == 0)
        {
            error = "time zone is empty: use an IANA id such as 'Europe/Berlin', or leave it unset for UTC";
            return false;
        }

        if (KnownZones.Value.Contains(id))
        {
            return true;
        }

        error = UnknownZone(id);
        return false;
    }

    /// <summary>
    /// Finds a time zone by IANA id in the machine's tz data; <see langword="null"/> means UTC. Returns
    /// <see langword="null"/> and the message of <see cref="IsKnownTimeZone"/> when it does not exist.
    /// </summary>
    public static TimeZoneInfo? TryFindTimeZone(string? id, out string? error)
    {
        if (id is null)
        {
            error = null;
            return TimeZoneInfo.Utc;
        }

        if (!IsKnownTimeZone(id, out error))
        {
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
            error = "time zone '" + id + "' is not in this machine's tz data (install the tzdata package)";
        }
        catch (InvalidTimeZoneException ex)
        {
            error = "time zone '" + id + "' could not be loaded: " + ex.Message;
        }

        return null;
    }

    private static CronFields? Complete(string expression, bool hasSeconds, CronExpression whole, CronExpression[] expressions, out string? error,
        bool dayOfMonthRestricted = false, bool dayOfWeekRestricted = false)
    {
        var fields = new CronFields(expression, hasSeconds, whole, expressions, dayOfMonthRestricted, dayOfWeekRestricted);
        if (fields.Next(Epoch, TimeZoneInfo.Utc) is null)
        {
            error = "cron expression '" + expression + "' never fires: its "
                    + (dayOfWeekRestricted ? "day-of-month, month and day-of-week fields" : "day-of-month and month fields")
                    + " select no real date";
            return null;
        }

        error = null;
        return fields;
    }

    private static bool IsAny(string field) => field is "*" or "?";

    private static string With(string[] parts, int index, string value)
    {
        var copy = (string[])parts.Clone();
        copy[index] = value;
        return string.Join(" ", copy);
    }

    private static bool TryCronos(string expression, CronFormat format, out CronExpression? parsed, out string message)
    {
        try
        {
            parsed = CronExpression.Parse(expression, format);
            message = string.Empty;
            return true;
        }
        catch (CronFormatException ex)
        {
            parsed = null;
            message = ex.Message;
            return false;
        }
    }

    /// <summary>A message naming the field Cronos rejected and, where it can be told, the item and the value.</summary>
    private static string Explain(string[] parts, string cronosError)
    {
        var offset = parts.Length == 6 ? 0 : 1;
        var format = parts.Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard;
        for (var i = 0; i < parts.Length; i++)
        {
            var field = Field.All[i + offset];
            var probe = new string[parts.Length];
            for (var j = 0; j < probe.Length; j++)
            {
                probe[j] = "*";
            }

            probe[i] = parts[i];
            if (TryCronos(string.Join(" ", probe), format, out _, out _))
            {
                continue;
            }

            foreach (var item in parts[i].Split(','))
            {
                probe[i] = item.Length == 0 ? "*" : item;
                if (item.Length == 0)
                {
                    return "cron field '" + field.Name + "' has an empty list item in '" + parts[i] + "'";
                }

                if (!TryCronos(string.Join(" ", probe), format, out _, out _))
                {
                    return field.Describe(item);
                }
            }

            return "cron field '" + field.Name + "' value '" + parts[i] + "' is invalid";
        }

        // Cronos rejected the expression but no single field: keep its own words without its generic prefix.
        const string prefix = "The given cron expression has an invalid format. ";
        return "cron expression '" + string.Join(" ", parts) + "' is invalid: "
               + (cronosError.StartsWith(prefix, StringComparison.Ordinal) ? cronosError.Substring(prefix.Length) : cronosError);
    }

    private static string UnknownZone(string id)
    {
        var error = "unknown time zone '" + id + "'";
        var suggestion = Closest(id);
        return suggestion is not null
            ? error + "; did you mean '" + suggestion + "'?"
            : error + ": use an IANA id such as 'Europe/Berlin' or 'America/New_York'";
    }

    private static string? Closest(string id)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        var upper = id.ToUpperInvariant();
        foreach (var zone in IanaTimeZones.Ids)
        {
            var distance = Distance(upper, zone.ToUpperInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = zone;
            }
        }

        return bestDistance <= Math.Max(2, id.Length / 5) ? best : null;
    }

    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            var swap = previous;
            previous = current;
            current = swap;
        }

        return previous[b.Length];
    }

    /// <summary>A cron field, to describe what is wrong with one of its items.</summary>
    private sealed class Field
    {
        public static readonly Field[] All =
        {
            new("second", 0, 59, null),
            new("minute", 0, 59, null),
            new("hour", 0, 23, null),
            new("day-of-month", 1, 31, null),
            new("month", 1, 12, new[] { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" }),
            new("day-of-week", 0, 7, new[] { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" }),
        };

        private readonly int min;
        private readonly int max;
        private readonly string[]? names;

        private Field(string name, int min, int max, string[]? names)
        {
            Name = name;
            this.min = min;
            this.max = max;
            this.names = names;
        }

        public string Name { get; }

        /// <summary>What is wrong with <paramref name="item"/>, which Cronos rejected.</summary>
        public string Describe(string item)
        {
            var range = item;
            var slash = item.IndexOf('/');
            if (slash >= 0)
            {
                var stepText = item.Substring(slash + 1);
                if (!TryNumber(stepText, out var step))
                {
                    return "cron field '" + Name + "' has an invalid step '" + stepText + "' in '" + item + "'";
                }

                if (step < 1)
                {
                    return "cron field '" + Name + "' step " + step.ToString(CultureInfo.InvariantCulture) + " in '" + item + "' must be at least 1";
                }

                if (step > max)
                {
                    return "cron field '" + Name + "' step " + step.ToString(CultureInfo.InvariantCulture) + " in '" + item + "' is larger than " + max.ToString(CultureInfo.InvariantCulture);
                }

                range = item.Substring(0, slash);
            }

            if (range.IndexOf('#') > 0)
            {
                return "cron field '" + Name + "' item '" + item + "' is invalid: use DAY#N with a day 0-7 or SUN-SAT and N from 1 to 5";
            }

            var dash = range.IndexOf('-', 1);
            var values = dash > 0 ? new[] { range.Substring(0, dash), range.Substring(dash + 1) } : new[] { range };
            foreach (var value in values)
            {
                if (value is "*" or "?")
                {
                    continue;
                }

                if (TryNumber(value, out var number))
                {
                    if (number < min || number > max)
                    {
                        return "cron field '" + Name + "' value " + number.ToString(CultureInfo.InvariantCulture) + " is out of range "
                               + min.ToString(CultureInfo.InvariantCulture) + "-" + max.ToString(CultureInfo.InvariantCulture);
                    }

                    continue;
                }

                if (names is not null && Array.IndexOf(names, value.ToUpperInvariant()) >= 0)
                {
                    continue;
                }

                return "cron field '" + Name + "' has an invalid value '" + value + "': expected a number "
                       + min.ToString(CultureInfo.InvariantCulture) + "-" + max.ToString(CultureInfo.InvariantCulture)
                       + (names is null ? string.Empty : " or a name " + names[0] + "-" + names[names.Length - 1]);
            }

            return "cron field '" + Name + "' item '" + item + "' is invalid";
        }

        private static bool TryNumber(string text, out int value)
        {
            value = 0;
            if (text.Length == 0 || text.Length > 6)
            {
                return false;
            }

            foreach (var c in text)
            {
                if (c < '0' || c > '9')
                {
                    return false;
                }

                value = (value * 10) + (c - '0');
            }

            return true;
        }
    }
}
