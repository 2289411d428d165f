// Cron and time-zone validation shared by the runtime and the compile-time analyzers. The analyzers compile this
// file as a linked source into a netstandard2.0 assembly, so it must use only netstandard2.0 APIs and must not
// refer to any other TypedJobs type.
#nullable enable

using System;
using System.Collections.Generic;
using System.Globalization;
using System.Text;

namespace TypedJobs.Scheduling;

/// <summary>
/// A validated cron expression: the set of values each field selects. Five fields are
/// <c>minute hour day-of-month month day-of-week</c>; six fields put <c>second</c> first. When both the day-of-month
/// and the day-of-week field are restricted, a day matches when either matches (as in the classic cron daemons).
/// </summary>
internal sealed class CronFields
{
    internal CronFields(string expression, bool hasSeconds, ulong seconds, ulong minutes, ulong hours, ulong daysOfMonth,
        ulong months, ulong daysOfWeek, bool dayOfMonthRestricted, bool dayOfWeekRestricted)
    {
        Expression = expression;
        HasSeconds = hasSeconds;
        Seconds = seconds;
        Minutes = minutes;
        Hours = hours;
        DaysOfMonth = daysOfMonth;
        Months = months;
        DaysOfWeek = daysOfWeek;
        DayOfMonthRestricted = dayOfMonthRestricted;
        DayOfWeekRestricted = dayOfWeekRestricted;
    }

    /// <summary>The expression as written (trimmed).</summary>
    public string Expression { get; }

    /// <summary>Whether the expression has a seconds field (six fields).</summary>
    public bool HasSeconds { get; }

    /// <summary>Bit <c>n</c> set: second <c>n</c> is selected (only bit 0 for five-field expressions).</summary>
    public ulong Seconds { get; }

    /// <summary>Bit <c>n</c> set: minute <c>n</c> is selected.</summary>
    public ulong Minutes { get; }

    /// <summary>Bit <c>n</c> set: hour <c>n</c> is selected.</summary>
    public ulong Hours { get; }

    /// <summary>Bit <c>n</c> set: day <c>n</c> (1-31) of the month is selected.</summary>
    public ulong DaysOfMonth { get; }

    /// <summary>Bit <c>n</c> set: month <c>n</c> (1-12) is selected.</summary>
    public ulong Months { get; }

    /// <summary>Bit <c>n</c> set: day of week <c>n</c> (0 = Sunday … 6 = Saturday) is selected.</summary>
    public ulong DaysOfWeek { get; }

    /// <summary>Whether the day-of-month field is anything but <c>*</c> or <c>?</c>.</summary>
    public bool DayOfMonthRestricted { get; }

    /// <summary>Whether the day-of-week field is anything but <c>*</c> or <c>?</c>.</summary>
    public bool DayOfWeekRestricted { get; }

    /// <summary>
    /// The expression in a canonical form (numbers and comma lists only, <c>*</c> for a full field, six fields when
    /// <see cref="HasSeconds"/>), optionally with the day-of-month or the day-of-week field opened to <c>*</c>.
    /// </summary>
    public string ToCanonicalString(bool anyDayOfMonth = false, bool anyDayOfWeek = false)
    {
        var text = new StringBuilder();
        if (HasSeconds)
        {
            Append(text, Seconds, 0, 59).Append(' ');
        }

        Append(text, Minutes, 0, 59).Append(' ');
        Append(text, Hours, 0, 23).Append(' ');
        Append(text, anyDayOfMonth ? CronParser.Mask(1, 31) : DaysOfMonth, 1, 31).Append(' ');
        Append(text, Months, 1, 12).Append(' ');
        Append(text, anyDayOfWeek ? CronParser.Mask(0, 6) : DaysOfWeek, 0, 6);
        return text.ToString();
    }

    /// <inheritdoc />
    public override string ToString() => Expression;

    private static StringBuilder Append(StringBuilder text, ulong bits, int min, int max)
    {
        if (bits == CronParser.Mask(min, max))
        {
            return text.Append('*');
        }

        var first = true;
        for (var value = min; value <= max; value++)
        {
            if ((bits & (1UL << value)) != 0)
            {
                if (!first)
                {
                    text.Append(',');
                }

                text.Append(value.ToString(CultureInfo.InvariantCulture));
                first = false;
            }
        }

        return text;
    }
}

/// <summary>
/// Parses and validates cron expressions and time-zone ids. Error messages name the field and the bad value, e.g.
/// <c>cron field 'hour' value 25 is out of range 0-23</c> or <c>unknown time zone 'Europe/Berln'</c>.
/// </summary>
/// <remarks>
/// Grammar per field: a comma list of items; an item is <c>*</c>, a value, or a range <c>a-b</c>, each optionally
/// followed by <c>/step</c> (<c>a/step</c> means <c>a-max/step</c>). Months accept <c>JAN</c>-<c>DEC</c>, days of
/// week <c>SUN</c>-<c>SAT</c> (any case) and 7 for Sunday. <c>?</c> means "any" in the two day fields. Macros:
/// <c>@hourly @daily @midnight @weekly @monthly @yearly @annually</c>. Reversed ranges, zero steps and expressions
/// that can never fire (such as <c>0 0 30 2 *</c>) are rejected.
/// </remarks>
internal static class CronParser
{
    private static readonly string[] MonthNames = { "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC" };
    private static readonly string[] DayNames = { "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT" };
    private static readonly int[] DaysInMonth = { 0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    private static readonly char[] Whitespace = { ' ', '\t', '\r', '\n' };

    /// <summary>The supported macros and their five-field equivalents.</summary>
    public static IReadOnlyDictionary<string, string> Macros { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["@hourly"] = "0 * * * *",
        ["@daily"] = "0 0 * * *",
        ["@midnight"] = "0 0 * * *",
        ["@weekly"] = "0 0 * * 0",
        ["@monthly"] = "0 0 1 * *",
        ["@yearly"] = "0 0 1 1 *",
        ["@annually"] = "0 0 1 1 *",
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
        var text = trimmed;
        if (text[0] == '@')
        {
            if (!Macros.TryGetValue(text, out var expanded))
            {
                error = "unknown cron macro '" + text + "': use one of @hourly, @daily, @midnight, @weekly, @monthly, @yearly, @annually";
                return null;
            }

            text = expanded;
        }

        var parts = text.Split(Whitespace, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length != 5 && parts.Length != 6)
        {
            error = "cron expression '" + trimmed + "' has " + parts.Length.ToString(CultureInfo.InvariantCulture)
                    + (parts.Length == 1 ? " field" : " fields")
                    + ": use five (minute hour day-of-month month day-of-week) or six (second first)";
            return null;
        }

        var hasSeconds = parts.Length == 6;
        var index = 0;
        ulong seconds = 1;
        if (hasSeconds && !TryParseField(parts[index++], "second", 0, 59, null, false, out seconds, out _, out error))
        {
            return null;
        }

        if (!TryParseField(parts[index++], "minute", 0, 59, null, false, out var minutes, out _, out error)
            || !TryParseField(parts[index++], "hour", 0, 23, null, false, out var hours, out _, out error)
            || !TryParseField(parts[index++], "day-of-month", 1, 31, null, true, out var days, out var daysAny, out error)
            || !TryParseField(parts[index++], "month", 1, 12, MonthNames, false, out var months, out _, out error)
            || !TryParseField(parts[index], "day-of-week", 0, 7, DayNames, true, out var weekDays, out var weekDaysAny, out error))
        {
            return null;
        }

        // 7 is another name for Sunday.
        if ((weekDays & (1UL << 7)) != 0)
        {
            weekDays = (weekDays & ~(1UL << 7)) | 1UL;
        }

        var dayOfMonthRestricted = !daysAny;
        var dayOfWeekRestricted = !weekDaysAny;
        if (!(dayOfMonthRestricted && dayOfWeekRestricted) && !AnyRealDate(days, months))
        {
            error = "cron expression '" + trimmed + "' never fires: the fields 'day-of-month' and 'month' select no real date (for example "
                    + FirstSet(days, 1, 31).ToString(CultureInfo.InvariantCulture) + " " + MonthNames[FirstSet(months, 1, 12) - 1] + ")";
            return null;
        }

        return new CronFields(trimmed, hasSeconds, seconds, minutes, hours, days, months, weekDays, dayOfMonthRestricted, dayOfWeekRestricted);
    }

    /// <summary>Parses <paramref name="expression"/> or throws a <see cref="FormatException"/> with the validation message.</summary>
    public static CronFields Parse(string? expression) =>
        TryParse(expression, out var error) ?? throw new FormatException(error);

    /// <summary>
    /// Finds a time zone by IANA id (or any id the system knows); <see langword="null"/> means UTC. Returns
    /// <see langword="null"/> and a message such as <c>unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?</c>
    /// when it does not exist.
    /// </summary>
    public static TimeZoneInfo? TryFindTimeZone(string? id, out string? error)
    {
        error = null;
        if (id is null)
        {
            return TimeZoneInfo.Utc;
        }

        if (id.Trim().Length == 0)
        {
            error = "time zone is empty: use an IANA id such as 'Europe/Berlin', or leave it unset for UTC";
            return null;
        }

        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(id);
        }
        catch (TimeZoneNotFoundException)
        {
        }
        catch (InvalidTimeZoneException ex)
        {
            error = "time zone '" + id + "' could not be loaded: " + ex.Message;
            return null;
        }

        error = "unknown time zone '" + id + "'";
        var suggestion = Closest(id);
        if (suggestion is not null)
        {
            error += "; did you mean '" + suggestion + "'?";
        }
        else
        {
            error += ": use an IANA id such as 'Europe/Berlin' or 'America/New_York'";
        }

        return null;
    }

    /// <summary>A mask with bits <paramref name="min"/> to <paramref name="max"/> set.</summary>
    internal static ulong Mask(int min, int max)
    {
        var bits = 0UL;
        for (var value = min; value <= max; value++)
        {
            bits |= 1UL << value;
        }

        return bits;
    }

    private static bool TryParseField(string field, string name, int min, int max, string[]? names, bool allowQuestionMark,
        out ulong bits, out bool any, out string? error)
    {
        bits = 0;
        any = false;
        error = null;
        if (field == "?")
        {
            if (!allowQuestionMark)
            {
                error = "cron field '" + name + "' does not allow '?': only the day-of-month and day-of-week fields do";
                return false;
            }

            any = true;
            bits = Mask(min, name == "day-of-week" ? 6 : max);
            return true;
        }

        if (field == "*")
        {
            any = true;
        }

        foreach (var item in field.Split(','))
        {
            if (item.Length == 0)
            {
                error = "cron field '" + name + "' has an empty list item in '" + field + "'";
                return false;
            }

            var range = item;
            var step = 1;
            var slash = item.IndexOf('/');
            if (slash >= 0)
            {
                var stepText = item.Substring(slash + 1);
                if (!TryParseNumber(stepText, out step))
                {
                    error = "cron field '" + name + "' has an invalid step '" + stepText + "' in '" + item + "'";
                    return false;
                }

                if (step < 1)
                {
                    error = "cron field '" + name + "' step " + step.ToString(CultureInfo.InvariantCulture) + " in '" + item + "' must be at least 1";
                    return false;
                }

                range = item.Substring(0, slash);
            }

            int low, high;
            if (range == "*")
            {
                low = min;
                high = name == "day-of-week" ? 6 : max;
            }
            else
            {
                var dash = range.IndexOf('-', 1);
                var lowText = dash > 0 ? range.Substring(0, dash) : range;
                if (!TryParseValue(lowText, name, min, max, names, out low, out error))
                {
                    return false;
                }

                if (dash > 0)
                {
                    if (!TryParseValue(range.Substring(dash + 1), name, min, max, names, out high, out error))
                    {
                        return false;
                    }

                    if (high < low)
                    {
                        error = "cron field '" + name + "' range '" + range + "' is reversed: its start is after its end";
                        return false;
                    }
                }
                else
                {
                    // "a/step" runs from a to the end of the field; a plain value selects only itself.
                    high = slash >= 0 ? (name == "day-of-week" ? 6 : max) : low;
                }
            }

            for (var value = low; value <= high; value += step)
            {
                bits |= 1UL << value;
            }
        }

        return true;
    }

    private static bool TryParseValue(string text, string name, int min, int max, string[]? names, out int value, out string? error)
    {
        error = null;
        if (TryParseNumber(text, out value))
        {
            if (value < min || value > max)
            {
                error = "cron field '" + name + "' value " + value.ToString(CultureInfo.InvariantCulture) + " is out of range "
                        + min.ToString(CultureInfo.InvariantCulture) + "-" + max.ToString(CultureInfo.InvariantCulture);
                return false;
            }

            return true;
        }

        if (names is not null)
        {
            for (var i = 0; i < names.Length; i++)
            {
                if (string.Equals(text, names[i], StringComparison.OrdinalIgnoreCase))
                {
                    value = i + (names == MonthNames ? 1 : 0);
                    return true;
                }
            }
        }

        error = "cron field '" + name + "' has an invalid value '" + text + "': expected a number "
                + min.ToString(CultureInfo.InvariantCulture) + "-" + max.ToString(CultureInfo.InvariantCulture)
                + (names is null ? "" : " or a name " + names[0] + "-" + names[names.Length - 1]);
        return false;
    }

    private static bool TryParseNumber(string text, out int value)
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

    private static bool AnyRealDate(ulong days, ulong months)
    {
        for (var month = 1; month <= 12; month++)
        {
            if ((months & (1UL << month)) != 0 && (days & Mask(1, DaysInMonth[month])) != 0)
            {
                return true;
            }
        }

        return false;
    }

    private static int FirstSet(ulong bits, int min, int max)
    {
        for (var value = min; value <= max; value++)
        {
            if ((bits & (1UL << value)) != 0)
            {
                return value;
            }
        }

        return min;
    }

    private static string? Closest(string id)
    {
        string? best = null;
        var bestDistance = int.MaxValue;
        IEnumerable<TimeZoneInfo> zones;
        try
        {
            zones = TimeZoneInfo.GetSystemTimeZones();
        }
        catch (Exception)
        {
            return null;
        }

        foreach (var zone in zones)
        {
            var distance = Distance(id.ToUpperInvariant(), zone.Id.ToUpperInvariant());
            if (distance < bestDistance)
            {
                bestDistance = distance;
                best = zone.Id;
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
}
